"""Vector search over segments: exact small segments, HNSW large ones, deleted sentences never returned."""

import numpy as np

from retrieval.vectors import FlatVectors, HnswVectors, VectorIndex


def _unit(rows: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_segments_search_like_one_exact_index_with_deletions_masked():
    vectors = _unit(300)
    query = vectors[7] + 0.1 * _unit(1, seed=9)[0]
    split = VectorIndex([FlatVectors(vectors[:200]), FlatVectors(vectors[200:])], deleted=[[7], [5]])
    scores = vectors @ query
    scores[[7, 205]] = -np.inf
    expected = np.argsort(-scores)[:10]
    ids, found = split.search(query, 10)
    assert ids.tolist() == expected.tolist()
    assert np.allclose(found, (vectors @ query)[expected], atol=1e-5)


def test_scores_for_reads_each_sentence_from_its_own_segment():
    vectors = _unit(50)
    index = VectorIndex([FlatVectors(vectors[:20]), FlatVectors(vectors[20:])])
    ids = np.array([45, 3, 20, 19])
    assert np.allclose(index.scores_for(vectors[0], ids), vectors[ids] @ vectors[0], atol=1e-6)


def test_hnsw_over_8_bit_codes_finds_the_near_neighbours_and_skips_deleted():
    centres = _unit(20, seed=1)
    rng = np.random.default_rng(2)
    vectors = centres[rng.integers(0, 20, 2000)] + 0.2 * _unit(2000, seed=3)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    part = HnswVectors.build(vectors, m=16, ef_search=64)
    query = vectors[11]
    truth = set(np.argsort(-(vectors @ query))[:10].tolist())
    found, _ = part.search(query, 10, None)
    assert len(truth & set(found.tolist())) >= 8
    mask = np.zeros(len(vectors), dtype=bool)
    mask[11] = True
    found, _ = part.search(query, 10, mask)
    assert 11 not in found.tolist()
    assert abs(float(part.reconstruct(np.array([11]))[0] @ query) - 1.0) < 0.01


def test_hnsw_segment_survives_a_save_and_load(tmp_path):
    vectors = _unit(500, seed=4)
    HnswVectors.build(vectors, m=8).save(tmp_path)
    loaded = HnswVectors.load(tmp_path)
    assert len(loaded) == 500 and loaded.search(vectors[3], 1, None)[0].tolist() == [3]


def test_the_search_breadth_setting_applies_to_hnsw_segments_built_with_another(tmp_path, tiny_corpus):
    """[retrieval] hnsw_ef_search is read when the index is loaded, for questions and for a
    live reload alike, so changing it needs no rebuild."""
    from retrieval.answer import open_answerer
    from retrieval.config import Settings
    from retrieval.indexer import Indexer
    from retrieval.live import LiveAnswerer

    def settings(ef_search: int) -> Settings:
        retrieval = {"vector_index": "hnsw", "hnsw_ef_search": ef_search}
        return Settings.load(
            overrides={"index": {"dir": str(tmp_path / "index")}, "model": {"name": "hashing"}, "retrieval": retrieval}
        )

    Indexer(settings(200), progress=False).index_paths([tiny_corpus])
    answerer = open_answerer(settings(24))
    (part,) = answerer.index.vectors.parts
    assert isinstance(part, HnswVectors) and part.index.hnsw.efSearch == 24
    assert "12,000 homes" in answerer.ask("how many homes lost power in the storm?").evidence[0].text
    live = LiveAnswerer(answerer, tmp_path / "index", every=0)
    Indexer(settings(200), progress=False).index_paths([tiny_corpus], rebuild=True)
    assert live.check()
    assert all(p.index.hnsw.efSearch == 24 for p in live.index.vectors.parts)
