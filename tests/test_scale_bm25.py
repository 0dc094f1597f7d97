"""Segmented BM25: scores like bm25s, and a base plus deltas with deletions scores like a rebuild."""

import random

import bm25s
import numpy as np
import pytest

from retrieval.bm25 import BM25Index, Postings


def _corpus(n: int, seed: int = 0) -> list[list[str]]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(200)] + ["é", "x"]
    return [[rng.choice(words[: rng.randint(3, len(words))]) for _ in range(rng.randint(1, 15))] for _ in range(n)]


def test_scores_equal_bm25s_lucene_scores():
    corpus = _corpus(500)
    reference = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    reference.index(corpus, show_progress=False)
    ours = BM25Index.build(corpus)
    for query in (["w1", "w7", "é"], ["w3", "w3"], ["w150"]):
        expected = np.asarray(reference.get_scores(query))
        assert np.allclose(ours.scores(query), expected, atol=1e-5)


def test_base_and_delta_with_deletions_score_like_a_rebuild_of_the_live_documents():
    corpus = _corpus(400, seed=1)
    deleted = [3, 17, 250]
    segmented = BM25Index([Postings.build(corpus[:300]), Postings.build(corpus[300:])], deleted=[deleted, None])
    live = [doc for i, doc in enumerate(corpus) if i not in deleted]
    rebuilt = BM25Index.build(live)
    query = ["w1", "w2", "w40"]
    assert np.allclose(np.delete(segmented.scores(query), deleted), rebuilt.scores(query), atol=1e-6)
    assert segmented.idf("w1") == pytest.approx(rebuilt.idf("w1"))
    assert segmented.scores(query)[deleted].tolist() == [0.0, 0.0, 0.0]


def test_top_never_returns_a_deleted_document():
    index = BM25Index(
        [Postings.build([["storm"], ["storm", "power"]]), Postings.build([["storm"]])], deleted=[[1], None]
    )
    ids, scores = index.top(["storm", "power"], 5)
    assert sorted(ids.tolist()) == [0, 2] and (scores > 0).all()


def test_postings_survive_a_save_and_load(tmp_path):
    corpus = _corpus(50, seed=2)
    Postings.build(corpus).save(tmp_path / "bm25")
    loaded, built = BM25Index.load(tmp_path / "bm25"), BM25Index.build(corpus)
    assert np.array_equal(loaded.scores(["w1", "é"]), built.scores(["w1", "é"]))


def test_tokens_the_index_never_saw_score_nothing():
    index = BM25Index.build([["a1"], ["b2"]])
    assert index.idf("zebra") == 0.0 and not index.scores(["zebra"]).any()
    assert BM25Index.build([]).scores(["a1"]).size == 0


def test_scores_for_chosen_documents_equal_the_full_scores_and_presence_matches_the_text():
    corpus = _corpus(300, seed=3)
    index = BM25Index([Postings.build(corpus[:100]), Postings.build(corpus[100:])], deleted=[[5], None])
    ids = np.array([0, 5, 99, 100, 150, 299])
    query = ["w1", "w2", "w9"]
    assert np.allclose(index.scores_for(query, ids), index.scores(query)[ids], atol=1e-6)
    presence = index.term_presence(query, ids)
    assert presence.tolist() == [[t in corpus[i] for t in query] for i in ids]
