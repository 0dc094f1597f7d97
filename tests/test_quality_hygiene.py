"""Evidence is statements: headlines are titles, datelines are metadata, questions rank last."""

import pytest
from conftest import write_article, write_jsonl

from retrieval.answer import open_answerer
from retrieval.indexer import Indexer
from retrieval.ingest import read_paths
from retrieval.lead import split_dateline, split_headline
from retrieval.statements import is_statement
from retrieval.types import Article


@pytest.mark.parametrize(
    ("text", "dateline", "rest"),
    [
        ("WASHINGTON (Reuters) - The U.S. said on Monday.", "WASHINGTON (Reuters)", "The U.S. said on Monday."),
        ("Colombo, Sri Lanka CNN — The country ran out of fuel.", "Colombo, Sri Lanka CNN", "The country ran out"),
        ("WASHINGTON/KYIV, Feb 14 (Reuters) - Russia has massed", "WASHINGTON/KYIV, Feb 14 (Reuters)", "Russia has"),
        ("New York (CNN Business) — Elon Musk said Friday", "New York (CNN Business)", "Elon Musk said"),
        ("LONDON — Rishi Sunak became prime minister.", "LONDON", "Rishi Sunak became"),
        ("COLOMBO: Sri Lanka deployed soldiers.", "COLOMBO", "Sri Lanka deployed"),
        ("Doha, Qatar – Morocco have become the first.", "Doha, Qatar", "Morocco have become"),
    ],
)
def test_a_dateline_is_read_off_the_sentence_it_opens(text, dateline, rest):
    found, after = split_dateline(text)
    assert found == dateline and after.startswith(rest)


@pytest.mark.parametrize(
    "text",
    [
        "Defense Secretary Lloyd Austin on Thursday ordered troops.",
        "The US, UK, EU and Canada have agreed to act.",
        "US - China talks resumed on Monday.",
        "Boris Johnson - the prime minister - resigned.",
    ],
)
def test_an_ordinary_first_sentence_has_no_dateline(text):
    assert split_dateline(text) == ("", text)


def test_a_headline_line_becomes_the_title_not_a_sentence(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_article(folder, "a.txt", "Storm Cuts Power To 12,000 Homes\nThe storm cut power to 12,000 homes on Monday.")
    write_jsonl(
        tmp_path / "b.jsonl",
        [{"id": "b", "title": "Bridge opens", "text": "Bridge opens\n\nThe new bridge opened on Friday morning."}],
    )
    articles = {a.id: a for a in read_paths([folder, tmp_path / "b.jsonl"]).articles}
    assert (articles["a"].title, articles["a"].text) == (
        "Storm Cuts Power To 12,000 Homes",
        "The storm cut power to 12,000 homes on Monday.",
    )
    assert articles["b"].text == "The new bridge opened on Friday morning."
    assert split_headline("", "One sentence only, no headline.") == ("", "One sentence only, no headline.")


@pytest.mark.parametrize(
    ("text", "statement"),
    [
        ("Argentina has been crowned the 2022 World Cup champion.", True),
        ('"Why now?" he asked the crowd.', True),
        ("Who has won the most World Cups?", False),
        ("Who has won the most World Cups?”", False),
        ("Photos: the flood.", False),
        ("Russia Attacks Ukraine as Putin Warns Other Nations", False),
    ],
)
def test_questions_and_fragments_are_not_statements(text, statement):
    assert is_statement(text) is statement


def test_the_dateline_is_kept_apart_and_a_question_ranks_after_the_statement(fake_settings):
    Indexer(fake_settings, progress=False).index_articles(
        [
            Article(
                id="q",
                text="Who has won the most World Cups? Pundits argue every year.",
                date="2022-12-01",
                source="Quiz",
            ),
            Article(
                id="a",
                text="LUSAIL, Qatar (AP) — Argentina has won the most World Cups this century, fans said.",
                date="2022-12-18",
                source="AP",
            ),
        ]
    )
    answerer = open_answerer(fake_settings)
    evidence = answerer.ask("Who has won the most World Cups?").evidence
    assert evidence[0].text == "Argentina has won the most World Cups this century, fans said."
    assert evidence[0].dateline == "LUSAIL, Qatar (AP)"
    assert "Who has won the most World Cups?" in [e.text for e in evidence[1:]]


def test_a_question_is_still_shown_when_nothing_else_matches(fake_settings):
    Indexer(fake_settings, progress=False).index_articles(
        [Article(id="q", text="Who has won the most World Cups?", date="2022-12-01", source="Quiz")]
    )
    evidence = open_answerer(fake_settings).ask("Who has won the most World Cups?").evidence
    assert [e.text for e in evidence] == ["Who has won the most World Cups?"]
