"""What one generation of the store holds, how it is written and how it is loaded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.bm25 import BM25Index
from retrieval.store import Generation, IndexStore, StoreError
from retrieval.vectors import VectorIndex

ARTICLES = "articles.jsonl"
ARTICLE_TEXTS = "article_texts.jsonl"
SENTENCE_ARRAYS = ("sentence_article", "sentence_position", "sentence_chunk")


@dataclass
class SearchIndex:
    """A loaded generation: article records, sentences, and the BM25 and FAISS indexes over them."""

    manifest: dict[str, Any]
    articles: list[dict[str, Any]]
    texts: Any  # SentenceTexts
    sentence_article: np.ndarray
    sentence_position: np.ndarray
    sentence_chunk: np.ndarray
    bm25: BM25Index
    vectors: VectorIndex
    chunk_bm25: BM25Index | None = None

    @property
    def size(self) -> int:
        return len(self.sentence_article)

    def article_of(self, sentence_id: int) -> dict[str, Any]:
        return self.articles[int(self.sentence_article[sentence_id])]


def write_generation(
    folder: Path,
    articles: list[dict[str, Any]],
    article_texts: list[str],
    texts,
    arrays: dict[str, np.ndarray],
    bm25: BM25Index,
    vectors: VectorIndex,
    chunk_bm25: BM25Index | None = None,
) -> None:
    with (folder / ARTICLES).open("w", encoding="utf-8") as handle:
        for record in articles:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    # Full texts are read only when the index is updated, never at query time.
    with (folder / ARTICLE_TEXTS).open("w", encoding="utf-8") as handle:
        for record, text in zip(articles, article_texts):
            handle.write(json.dumps({"id": record["id"], "text": text}, ensure_ascii=False) + "\n")
    texts.save(folder)
    for name in SENTENCE_ARRAYS:
        np.save(folder / f"{name}.npy", arrays[name].astype(np.int32))
    bm25.save(folder / "bm25")
    if chunk_bm25 is not None:
        chunk_bm25.save(folder / "chunk_bm25")
    vectors.save(folder / "vectors.faiss")


def read_articles(generation: Generation) -> list[dict[str, Any]]:
    with (generation.path / ARTICLES).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_article_texts(generation: Generation) -> list[tuple[str, str]]:
    with (generation.path / ARTICLE_TEXTS).open(encoding="utf-8") as handle:
        return [(row["id"], row["text"]) for row in map(json.loads, handle)]


def load_search_index(store: IndexStore, model: str | None = None, verify: bool = True) -> SearchIndex:
    """Load the live generation; refuse one built with another model or format."""
    from retrieval.store import SentenceTexts

    generation = store.current()
    manifest = generation.manifest
    if model is not None and manifest["model"] != model:
        raise StoreError(
            f"index at {store.root} was built with model {manifest['model']!r} but the config asks for "
            f"{model!r}: rebuild it with `newsdesk index --rebuild PATH...`, or set [model] name = "
            f"{manifest['model']!r}"
        )
    if verify:
        store.verify(generation)
    folder = generation.path
    try:
        arrays = {name: np.load(folder / f"{name}.npy") for name in SENTENCE_ARRAYS}
        chunk_folder = folder / "chunk_bm25"
        return SearchIndex(
            manifest=manifest,
            articles=read_articles(generation),
            texts=SentenceTexts.load(folder),
            bm25=BM25Index.load(folder / "bm25"),
            vectors=VectorIndex.load(folder / "vectors.faiss", manifest.get("vector_index", "flat")),
            chunk_bm25=BM25Index.load(chunk_folder) if chunk_folder.exists() else None,
            **arrays,
        )
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise StoreError(f"index at {folder} cannot be read ({exc}): {store.rebuild_hint()}") from None
