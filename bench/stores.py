"""Build the benchmark's index stores through the real Indexer, cached under bench/cache by content."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from bench import synthetic_vectors
from bench.corpus import content_key
from bench.measure import settings_for
from retrieval.embed import EmbeddingCache, encode_with_cache
from retrieval.indexer import Indexer
from retrieval.segment_builder import embedding_text
from retrieval.split import SentenceSplitter
from retrieval.store import FORMAT_VERSION, IndexStore, StoreError


def embed_texts(articles) -> list[str]:
    """What the indexer hands the model for these articles, in index order."""
    splitter = SentenceSplitter()
    return [embedding_text({"title": a.title}, s.text) for a in articles for s in splitter.split(a.text)]


class TableEncoder:
    """Vectors looked up by text from a table computed beforehand (real or synthetic)."""

    def __init__(self, texts: list[str], vectors: np.ndarray, name: str = "minilm"):
        self.name = name
        self.dim = int(vectors.shape[1])
        self._rows = {t: i for i, t in enumerate(texts)}
        self._vectors = vectors

    def encode(self, texts, progress=None) -> np.ndarray:
        out = self._vectors[[self._rows[t] for t in texts]] if len(texts) else np.zeros((0, self.dim), np.float32)
        if progress:
            progress(len(texts))
        return out


def _cached(folder: Path) -> bool:
    try:
        IndexStore(folder).current()
        return True
    except StoreError:
        return False


def cache_folder(cache: Path, articles, extra: str) -> Path:
    from retrieval.tokenize import Tokenizer
    from retrieval.vectors import EF_CONSTRUCTION, HNSW_M

    # Everything that decides a store's contents: the articles, the store format, the HNSW
    # recipe and how text becomes sentences and tokens (a cached store split by an older
    # splitter would not line up with today's sentence list, and its recall would be nonsense),
    # and the stored word pieces (a store without them is timed on the slower fallback).
    recipe = f"f{FORMAT_VERSION}-m{HNSW_M}e{EF_CONSTRUCTION}-{SentenceSplitter.version}-{Tokenizer.version}-wp"
    return cache / f"store-{len(articles)}a-{content_key(articles)}-{recipe}-{extra}"


def real_store(articles, encoder, cache: Path, embeddings: Path) -> tuple[Path, float | None]:
    """A store of these articles with real model vectors (the embedding cache keeps them between runs)."""
    folder = cache_folder(cache, articles, "real")
    if _cached(folder):
        return folder, None
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    Indexer(settings_for(folder), folder, progress=True, encoder=encoder, cache_path=embeddings).index_articles(
        articles, scope="bench"
    )
    return folder, time.perf_counter() - started


def real_vectors(texts: list[str], encoder, embeddings: Path) -> np.ndarray:
    cache = EmbeddingCache(embeddings, f"minilm:{encoder.dim}", encoder.dim)
    try:
        return encode_with_cache(encoder, cache, texts)[0]
    finally:
        cache.close()


def synthetic_store(
    articles,
    texts: list[str],
    real_count: int,
    real: np.ndarray,
    cache: Path,
) -> tuple[Path, np.ndarray, float | None, dict]:
    """A store whose first ``real_count`` sentences have real vectors and the rest synthetic ones."""
    model = synthetic_vectors.CentroidResidualModel().fit(texts[:real_count], real)
    vectors = np.vstack([real, model.vectors(texts[real_count:])])
    folder = cache_folder(cache, articles, f"{synthetic_vectors.VERSION}-r{real_count}")
    if _cached(folder):
        return folder, vectors, None, {}
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    report = Indexer(
        settings_for(folder), folder, progress=True, encoder=TableEncoder(texts, vectors), use_cache=False
    ).index_articles(articles, scope="bench")
    seconds = time.perf_counter() - started
    if report.sentences != len(texts):
        raise RuntimeError(f"store has {report.sentences} sentences, corpus {len(texts)}: ids would not align")
    return folder, vectors, seconds, report.to_dict()["timings"]
