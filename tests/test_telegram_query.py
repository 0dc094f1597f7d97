"""Filter words typed into a Telegram message."""

import pytest

from bot.telegram_query import split_filters
from retrieval.filters import FilterError
from retrieval.types import Filters


@pytest.mark.parametrize(
    "text, question, filters",
    [
        (
            "since:2022-02-15 source:reuters how many US troops?",
            "how many US troops?",
            Filters(since="2022-02-15", sources=("reuters",)),
        ),
        (
            'how many troops? source:"the guardian" SOURCE:ap,bbc until:2022-03-01',
            "how many troops?",
            Filters(until="2022-03-01", sources=("the guardian", "ap", "bbc")),
        ),
        ("what is the ratio 3:2 about?", "what is the ratio 3:2 about?", Filters()),
        ("  who said  it?  ", "  who said  it?  ", Filters()),  # untouched without filter words
    ],
)
def test_filter_words_are_taken_out_of_the_question(text, question, filters):
    assert split_filters(text) == (question, filters)


def test_a_bad_date_names_the_word_and_the_format():
    with pytest.raises(FilterError, match="since '2022-2-15' is not a date: write it as YYYY-MM-DD"):
        split_filters("since:2022-2-15 how many?")
