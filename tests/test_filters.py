"""Date and source filters applied inside retrieval, on small inline corpora (hashing encoder)."""

import numpy as np
import pytest

from retrieval import vectors as vectors_module
from retrieval.answer import open_answerer
from retrieval.answer_types import question_type
from retrieval.filters import FilterError, make_filters, source_matches
from retrieval.fusion import Mode
from retrieval.indexer import Indexer
from retrieval.types import Article, Filters
from retrieval.vectors import HnswVectors, VectorIndex

QUESTION = "how many homes lost power in the valley storm?"


@pytest.fixture
def crowded(fake_settings):
    """Sixty January reports that match the question well and one June report that matches it
    less well: the June one is never in an unfiltered top 50."""
    articles = [
        Article(
            id=f"jan-{i:02d}",
            date=f"2024-01-{1 + i % 28:02d}",
            source="Valley Times" if i % 2 else "Reuters",
            text=f"The valley storm left {1000 + i * 37} homes without power in district {i}, the valley utility said.",
        )
        for i in range(60)
    ]
    articles.append(
        Article(
            id="june",
            date="2024-06-15",
            source="Mountain Herald",
            text="Crews said 85 homes had no power after a storm.",
        )
    )
    articles.append(
        Article(id="undated", date=None, source="Reuters", text="Some homes in the valley lost power in a storm.")
    )
    Indexer(fake_settings, progress=False).index_articles(articles)
    return open_answerer(fake_settings)


def test_a_narrow_period_gets_its_own_best_sentence_that_a_post_filter_would_miss(crowded):
    vector = crowded.encoder.encode([QUESTION])[0]
    unfiltered = crowded._rank(QUESTION, vector, Mode.HYBRID, question_type(QUESTION))
    top50 = {crowded.index.article_of(i)["id"] for i, _ in unfiltered[:50]}
    assert "june" not in top50  # a post-filter of the top 50 would find nothing

    june = Filters(since="2024-06-01", until="2024-06-30")
    for mode in ("hybrid", "bm25", "dense"):
        answer = crowded.ask(QUESTION, mode=mode, filters=june)
        assert [e.article_id for e in answer.evidence] == ["june"], mode
        assert answer.filters == june


def test_every_evidence_sentence_respects_the_range_and_source(crowded):
    filters = Filters(since="2024-01-10", until="2024-01-20", sources=("reuters",))
    answer = crowded.ask(QUESTION, k=10, filters=filters)
    assert answer.evidence
    for evidence in answer.evidence:
        assert "2024-01-10" <= evidence.date <= "2024-01-20"
        assert evidence.source == "Reuters"
    assert answer.to_dict()["filters"] == {"since": "2024-01-10", "until": "2024-01-20", "sources": ["reuters"]}


def test_a_source_filter_alone_keeps_undated_articles_and_a_date_filter_drops_them(crowded):
    by_source = crowded.ask("valley homes lost power in a storm", k=40, filters=Filters(sources=("REUTERS",)))
    assert "undated" in {e.article_id for e in by_source.evidence}
    by_date = crowded.ask("valley homes lost power in a storm", k=40, filters=Filters(until="2030-01-01"))
    assert "undated" not in {e.article_id for e in by_date.evidence}


def test_a_filter_that_matches_nothing_says_so_and_is_not_an_answer(crowded):
    answer = crowded.ask(QUESTION, filters=Filters(since="2030-01-01"))
    assert (answer.answered, answer.evidence) == (False, [])
    assert "No article matches since 2030-01-01" in answer.note
    assert "2024-01-01 to 2024-06-15" in answer.note and "Reuters" in answer.note
    nobody = crowded.ask(QUESTION, filters=Filters(sources=("bbc",)))
    assert not nobody.answered and "source bbc" in nobody.note


def test_the_reading_stage_reads_only_filtered_candidates(fake_settings):
    from retrieval.answer import Answerer
    from retrieval.reading import ReadingReranker, ReadingSettings
    from retrieval.search_index import load_search_index
    from retrieval.store import IndexStore

    Indexer(fake_settings, progress=False).index_articles(
        [
            Article(
                id=f"a{i}",
                date=f"2024-02-{i + 1:02d}",
                source="Wire",
                text=f"The ferry carried {100 + i} passengers across the bay.",
            )
            for i in range(12)
        ]
    )
    read = []

    class Recorder:
        def score(self, question, sentences):
            read.extend(sentences)
            return np.arange(len(sentences), dtype=float)  # prefers the last it is shown

    base = open_answerer(fake_settings)
    answerer = Answerer(
        load_search_index(IndexStore(fake_settings.index_dir), model="hashing"),
        base.encoder,
        fake_settings,
        scorer=Recorder(),
    )
    assert isinstance(answerer.reader, ReadingReranker) and isinstance(answerer.reader.settings, ReadingSettings)
    answer = answerer.ask("how many passengers did the ferry carry?", filters=Filters(until="2024-02-03"))
    assert read and all(
        text in {f"The ferry carried {100 + i} passengers across the bay." for i in range(3)} for text in read
    )
    assert {e.date for e in answer.evidence} <= {"2024-02-01", "2024-02-02", "2024-02-03"}


def test_filter_values_are_checked_with_advice():
    assert make_filters("2022-02-15", None, ["reuters,ap", "Reuters", ""]) == Filters(
        "2022-02-15", None, ("reuters", "ap")
    )
    with pytest.raises(FilterError, match="YYYY-MM-DD"):
        make_filters("15/02/2022")
    with pytest.raises(FilterError, match="YYYY-MM-DD"):
        make_filters(until="2022-02-30")
    with pytest.raises(FilterError, match="swap them"):
        make_filters("2022-03-01", "2022-02-01")


@pytest.mark.parametrize(
    "name, source, matches",
    [
        ("reuters", "Reuters", True),
        ("guardian", "The Guardian", True),
        ("the guardian", "The  Guardian", True),
        ("ap", "AP", True),
        ("ap", "Al Jazeera", False),
        ("reuter", "Reuters", False),
        ("times", "Valley Times", True),
    ],
)
def test_source_names_match_whole_words_case_folded(name, source, matches):
    assert source_matches(name, source) is matches


@pytest.mark.parametrize("exact_limit", [10_000, 10])
def test_filtered_dense_search_over_an_hnsw_segment_returns_the_exact_best_allowed(monkeypatch, exact_limit):
    monkeypatch.setattr(vectors_module, "EXACT_FILTERED", exact_limit)  # 10: the id-selector path
    rng = np.random.default_rng(7)
    data = rng.normal(size=(1500, 16)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    index = VectorIndex([HnswVectors.build(data, m=16, ef_construction=80, ef_search=200)])
    allowed = np.zeros(len(data), dtype=bool)
    allowed[rng.choice(len(data), 60, replace=False)] = True
    query = data[3]
    ids, scores = index.search(query, 5, allowed)
    exact = np.flatnonzero(allowed)[np.argsort(-(data[allowed] @ query))[:5]]
    assert set(ids.tolist()) <= set(np.flatnonzero(allowed).tolist())
    assert len(set(ids.tolist()) & set(exact.tolist())) >= 4  # 8-bit codes can swap near-equal neighbours
    assert np.all(np.diff(scores) <= 1e-6)
