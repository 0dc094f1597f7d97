"""The answering core on a tiny corpus with the fake encoder."""

import pytest

from retrieval.answer import open_answerer
from retrieval.indexer import Indexer
from retrieval.types import Article, QuestionError


@pytest.fixture
def answerer(fake_settings, tiny_corpus):
    Indexer(fake_settings, progress=False).index_paths([tiny_corpus])
    return open_answerer(fake_settings)


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_every_mode_finds_the_sentence_that_answers(answerer, mode):
    answer = answerer.ask("how many homes lost power in the storm?", mode=mode)
    assert "12,000 homes" in answer.evidence[0].text
    assert answer.mode == mode


def test_evidence_carries_date_source_and_article(answerer):
    top = answerer.ask("when does the harbour bridge open?").evidence[0]
    assert (top.date, top.source, top.article_id) == ("2024-03-01", "harbour", "harbour")
    assert "2026" in top.text


def test_k_limits_the_evidence(answerer):
    assert len(answerer.ask("bridge", k=2).evidence) == 2


def test_quantity_questions_highlight_the_figure(answerer):
    top = answerer.ask("how many teachers will the district hire?").evidence[0]
    assert [top.text[a:b] for a, b in top.highlights] == ["300"]


@pytest.mark.parametrize("question", ["", "   \n\t ", "x" * 10_000])
def test_empty_or_huge_questions_get_a_clear_error(answerer, question):
    with pytest.raises(QuestionError):
        answerer.ask(question)


def test_unknown_mode_lists_the_valid_ones(answerer):
    with pytest.raises(ValueError, match="bm25, dense, hybrid"):
        answerer.ask("bridge", mode="magic")


def test_identical_sentences_from_several_articles_show_once_with_the_earliest_date(fake_settings):
    wire = "Officials confirmed the border crossing will reopen on Monday morning."
    Indexer(fake_settings, progress=False).index_articles(
        [
            Article(id="a", text=f"{wire} Traffic is expected.", date="2024-05-03", source="Daily A"),
            Article(id="b", text=f"{wire} Queues formed early.", date="2024-05-01", source="Wire B"),
            Article(id="c", text=f"Local news first. {wire}", date="2024-05-02", source="Paper C"),
        ]
    )
    evidence = open_answerer(fake_settings).ask("when will the border crossing reopen?").evidence
    copies = [e for e in evidence if e.text == wire]
    assert len(copies) == 1
    assert (copies[0].date, copies[0].source, copies[0].also_in) == ("2024-05-01", "Wire B", 2)


def test_figures_that_change_over_time_make_a_timeline_newest_first(fake_settings):
    Indexer(fake_settings, progress=False).index_articles(
        [
            Article(
                id="a", text="The city sent 200 workers to clear the flood damage.", date="2024-01-01", source="Early"
            ),
            Article(
                id="b", text="The city sent 450 workers to clear the flood damage.", date="2024-01-09", source="Later"
            ),
        ]
    )
    answer = open_answerer(fake_settings).ask("how many workers did the city send to clear the flood damage?")
    assert [(t.date, t.figure) for t in answer.timeline] == [
        ("2024-01-09", "450 workers"),
        ("2024-01-01", "200 workers"),
    ]
    assert "differ" in answer.note


def test_answer_serialises_to_the_json_contract(answerer):
    data = answerer.ask("storm power").to_dict()
    assert {"question", "evidence", "answered", "timeline"} <= set(data)
    assert {"text", "date", "source", "title", "url", "score", "highlights"} <= set(data["evidence"][0])


def test_cli_shows_syndicated_copies_as_reported_by_n_sources_first_on_date():
    from bot.format import render_text
    from retrieval.types import Answer, Evidence

    copy = Evidence(
        text="Border reopens Monday.",
        article_id="b",
        title="",
        date="2024-05-01",
        source="Wire B",
        url="",
        score=1.0,
        also_in=2,
    )
    assert "reported by 3 sources, first on 2024-05-01" in render_text(Answer("q", [copy]))


def test_the_question_is_encoded_beside_the_lexical_search_and_its_errors_reach_the_caller(answerer):
    """Encoding runs on the worker thread (retrieval/question_vector.py): the answer is the one a
    vector encoded in line gives, and an encoder that fails makes ``ask`` fail with its error."""
    import threading

    import numpy as np

    from retrieval.question_vector import encode_soon

    question = "how many troops to Poland?"
    want = answerer.encoder.encode([question])[0]
    assert np.array_equal(encode_soon(answerer.encoder, question).result(), want)

    seen_on: list[str] = []
    real = answerer.encoder

    class Recording:
        dim = real.dim

        def encode(self, texts, progress=None):
            seen_on.append(threading.current_thread().name)
            return real.encode(texts)

    before = answerer.ask(question)
    answerer.encoder = Recording()
    after = answerer.ask(question)
    assert seen_on and seen_on[0].startswith("newsdesk-encode")
    assert [e.sentence_id for e in after.evidence] == [e.sentence_id for e in before.evidence]

    class Broken:
        dim = real.dim

        def encode(self, texts, progress=None):
            raise RuntimeError("encoder down")

    answerer.encoder = Broken()
    with pytest.raises(RuntimeError, match="encoder down"):
        answerer.ask(question)


def test_the_dense_search_runs_on_the_worker_after_encoding_and_its_errors_reach_the_caller(answerer):
    """The dense search waits for the vector on the same worker thread (jobs run in the order
    handed in, so it never waits on itself); the answer is unchanged and a failing search makes
    ``ask`` fail with its error."""
    import threading

    question = "how many troops to Poland?"
    before = answerer.ask(question)
    index = answerer.index
    searched_on: list[str] = []

    class Recording:
        def __getattr__(self, name):
            return getattr(index, name)

        def dense_top(self, vector, n, allowed=None):
            searched_on.append(threading.current_thread().name)
            return index.dense_top(vector, n, allowed)

    answerer.index = Recording()
    after = answerer.ask(question)
    assert searched_on and searched_on[0].startswith("newsdesk-encode")
    assert [(e.sentence_id, e.score) for e in after.evidence] == [(e.sentence_id, e.score) for e in before.evidence]

    class Broken(Recording):
        def dense_top(self, vector, n, allowed=None):
            raise RuntimeError("vector search down")

    answerer.index = Broken()
    with pytest.raises(RuntimeError, match="vector search down"):
        answerer.ask(question)
