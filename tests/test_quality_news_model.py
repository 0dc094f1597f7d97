"""The real model over the held-out news articles: wire copy shown once, figures that change
as a timeline, no answer when the archive has none, and rank-1 quality above the naive floor."""

from pathlib import Path

import pytest

from retrieval.config import Settings
from retrieval.evaluation.gold import load_gold
from retrieval.evaluation.metrics import hit_at_k, mrr_at_k
from retrieval.evaluation.normalize import matches_any

pytestmark = pytest.mark.model

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def news_answerer(tmp_path_factory):
    from retrieval.answer import open_answerer
    from retrieval.indexer import Indexer

    index_dir = tmp_path_factory.mktemp("news-index")
    settings = Settings.load(overrides={"index": {"dir": str(index_dir)}, "model": {"name": "minilm"}})
    Indexer(settings, index_dir, progress=False).index_paths([DATA / "news_articles.jsonl"])
    return open_answerer(settings)


def test_a_wire_sentence_carried_by_two_outlets_is_shown_once_with_the_first_date(news_answerer):
    top = news_answerer.ask("How did the monetary policy committee vote on the rate cut?").evidence[0]
    assert "five to two" in top.text
    assert (top.also_in, top.date, top.source) == (1, "2024-06-20", "Continental Press")


def test_case_counts_that_grew_are_shown_as_a_timeline_newest_first(news_answerer):
    answer = news_answerer.ask("How many measles cases have been confirmed in Brannock County?")
    assert [(t.date, t.figure) for t in answer.timeline][:2] == [("2024-02-16", "87 cases"), ("2024-02-02", "42 cases")]
    assert "differ" in answer.note


def test_questions_the_archive_cannot_answer_say_so(news_answerer):
    answer = news_answerer.ask("Who won the 2022 FIFA World Cup?")
    assert answer.answered is False and answer.evidence


def test_the_first_sentence_answers_most_held_out_news_questions(news_answerer):
    ranks = []
    for gold in load_gold(DATA / "news_gold.jsonl").questions:
        if gold.answers:
            evidence = news_answerer.ask(gold.question, k=10).evidence
            ranks.append(next((i for i, e in enumerate(evidence, 1) if matches_any(e.text, gold.answers)), None))
    # The naive hybrid (regex split, rank-bm25, MiniLM, RRF) scores 0.647 / 0.740 here.
    assert hit_at_k(ranks, 1) >= 0.75
    assert mrr_at_k(ranks, 10) >= 0.82
