"""The sentence splitter survives news text: abbreviations, initials, decimals, quotes."""

import pytest

from retrieval.split import SentenceSplitter, chunk_ids

split = SentenceSplitter().split_text


def test_embassy_sentence_from_the_brief_stays_whole():
    text = ("Russia has expelled Bart Gorman, the Deputy Chief of Mission at the U.S. Embassy in Moscow, "
            "the State Department confirmed Thursday morning.")
    assert split(text) == [text]


@pytest.mark.parametrize("text, expected", [
    ("Mr. Smith met Gen. Milley on Jan. 5 in the U.K. capital. The talks ended late.",
     ["Mr. Smith met Gen. Milley on Jan. 5 in the U.K. capital.", "The talks ended late."]),
    ("The author J. K. Rowling spoke first. Then the mayor answered.",
     ["The author J. K. Rowling spoke first.", "Then the mayor answered."]),
    ("Inflation rose 3.5 percent in March. Prices of fuel fell sharply.",
     ["Inflation rose 3.5 percent in March.", "Prices of fuel fell sharply."]),
    ('"We will not leave," she said. "Nobody asked us to go."',
     ['"We will not leave," she said.', '"Nobody asked us to go."']),
    ("Is the war over? Officials say it is not over yet.",
     ["Is the war over?", "Officials say it is not over yet."]),
    ("He moved to the U.S. The next year he returned home.",
     ["He moved to the U.S.", "The next year he returned home."]),
    ("No. 10 Downing St. said the vote is on Friday. Lawmakers agreed to it.",
     ["No. 10 Downing St. said the vote is on Friday.", "Lawmakers agreed to it."]),
])
def test_news_text_splits_where_a_reader_would(text, expected):
    assert split(text) == expected


def test_paragraph_breaks_always_end_a_sentence():
    assert split("First paragraph without a stop\n\nSecond paragraph here.") == [
        "First paragraph without a stop", "Second paragraph here."]


def test_short_fragments_join_their_neighbour():
    assert split("The vote passed narrowly on Tuesday. Yes.") == ["The vote passed narrowly on Tuesday. Yes."]


def test_empty_and_whitespace_text_give_no_sentences():
    assert split("") == [] and split("   \n\n  ") == []


def test_passages_follow_paragraphs_and_cap_their_length():
    sentences = SentenceSplitter().split("A one is here. B two is here.\n\n" + " ".join(f"S{i} is a sentence." for i in range(7)))
    ids = chunk_ids(sentences, max_sentences=5)
    assert ids[:2] == [0, 0]
    assert ids[2:] == [1, 1, 1, 1, 1, 2, 2]
