"""The sentence splitter survives news text: abbreviations, initials, decimals, quotes."""

import pytest

from retrieval.split import SentenceSplitter, chunk_ids

split = SentenceSplitter().split_text


def test_embassy_sentence_from_the_brief_stays_whole():
    text = (
        "Russia has expelled Bart Gorman, the Deputy Chief of Mission at the U.S. Embassy in Moscow, "
        "the State Department confirmed Thursday morning."
    )
    assert split(text) == [text]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Mr. Smith met Gen. Milley on Jan. 5 in the U.K. capital. The talks ended late.",
            ["Mr. Smith met Gen. Milley on Jan. 5 in the U.K. capital.", "The talks ended late."],
        ),
        (
            "The author J. K. Rowling spoke first. Then the mayor answered.",
            ["The author J. K. Rowling spoke first.", "Then the mayor answered."],
        ),
        (
            "Inflation rose 3.5 percent in March. Prices of fuel fell sharply.",
            ["Inflation rose 3.5 percent in March.", "Prices of fuel fell sharply."],
        ),
        (
            '"We will not leave," she said. "Nobody asked us to go."',
            ['"We will not leave," she said.', '"Nobody asked us to go."'],
        ),
        (
            "Is the war over? Officials say it is not over yet.",
            ["Is the war over?", "Officials say it is not over yet."],
        ),
        (
            "He moved to the U.S. The next year he returned home.",
            ["He moved to the U.S.", "The next year he returned home."],
        ),
        (
            "No. 10 Downing St. said the vote is on Friday. Lawmakers agreed to it.",
            ["No. 10 Downing St. said the vote is on Friday.", "Lawmakers agreed to it."],
        ),
    ],
)
def test_news_text_splits_where_a_reader_would(text, expected):
    assert split(text) == expected


def test_paragraph_breaks_always_end_a_sentence():
    assert split("First paragraph without a stop\n\nSecond paragraph here.") == [
        "First paragraph without a stop",
        "Second paragraph here.",
    ]


def test_short_fragments_join_their_neighbour():
    assert split("The vote passed narrowly on Tuesday. Yes.") == ["The vote passed narrowly on Tuesday. Yes."]


def test_empty_and_whitespace_text_give_no_sentences():
    assert split("") == [] and split("   \n\n  ") == []


def test_passages_follow_paragraphs_and_cap_their_length():
    sentences = SentenceSplitter().split(
        "A one is here. B two is here.\n\n" + " ".join(f"S{i} is a sentence." for i in range(7))
    )
    ids = chunk_ids(sentences, max_sentences=5)
    assert ids[:2] == [0, 0]
    assert ids[2:] == [1, 1, 1, 1, 1, 2, 2]


def test_text_without_sentence_punctuation_is_cut_into_readable_sentences():
    words = " ".join(f"word{i}" for i in range(2000))  # ~15,000 characters, no full stop
    parts = SentenceSplitter(max_chars=1000).split_text(words)
    assert len(parts) > 10
    assert all(500 <= len(p) <= 1000 for p in parts[:-1]) and len(parts[-1]) <= 1000
    assert " ".join(parts) == words  # cut only at spaces: no word is lost or broken


def test_an_over_long_sentence_is_cut_at_a_clause_break_first():
    clause = "the council voted on the budget for the coming year"
    text = "; ".join([clause] * 30) + "."
    parts = SentenceSplitter(max_chars=300).split_text(text)
    assert all(len(p) <= 300 for p in parts)
    assert all(p.endswith(";") for p in parts[:-1])
    assert parts[-1].endswith("year.")


def test_one_long_word_is_cut_mid_word_rather_than_left_whole():
    parts = SentenceSplitter(max_chars=100).split_text("x" * 450)
    assert [len(p) for p in parts] == [100, 100, 100, 100, 50]


def test_sentences_under_the_limit_are_untouched():
    text = "A" + "b" * 900 + " ends here. Then a short one follows."
    assert split(text) == ["A" + "b" * 900 + " ends here.", "Then a short one follows."]


def test_limit_must_leave_room_for_the_shortest_sentence():
    with pytest.raises(ValueError, match="twice min_chars"):
        SentenceSplitter(min_chars=100, max_chars=150)


def test_a_long_run_of_short_sentences_does_not_grow_one_sentence_without_end():
    parts = SentenceSplitter(max_chars=200).split_text("Ok. " * 500)
    assert len(parts) > 5 and all(len(p) <= 200 for p in parts)
