"""The seam between the answering core and the engine that stores the archive.

``SentenceSearch`` is everything the answering core reads: sentence-level lexical and dense
search, passages, the per-candidate inputs of the reranker's features, the sentence record
with its article fields, and a typed ``Manifest``. ``ArticleWriter`` is what indexing needs
from a store: add articles, delete articles, commit, describe. newsdesk's own segment folders
(retrieval/search_index.py to read, retrieval/segment_writer.py to write) are one
implementation; Milvus (retrieval/milvus_store.py, retrieval/milvus_indexer.py) is another.
retrieval/indexer.py drives either writer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from retrieval.types import Filters


@dataclass(frozen=True)
class Manifest:
    """What a store says about the archive it holds: counts, dates, model, size, when it was built."""

    articles: int
    sentences: int
    date_min: str | None
    date_max: str | None
    model: str
    dim: int
    built_at: str | None = None
    generation: int | None = None
    index_bytes: int | None = 0  # None: the engine keeps its own size (Milvus)
    backend: str = "local"
    location: str = ""

    @classmethod
    def from_dict(cls, manifest: dict[str, Any], location: str = "") -> Manifest:
        """The typed view of a segment store's manifest.json."""
        counts, dates = manifest.get("counts", {}), manifest.get("dates", {})
        return cls(
            articles=int(counts.get("articles", 0)),
            sentences=int(counts.get("sentences", 0)),
            date_min=dates.get("min"),
            date_max=dates.get("max"),
            model=str(manifest.get("model", "")),
            dim=int(manifest.get("dim", 0)),
            built_at=manifest.get("built_at"),
            generation=manifest.get("generation"),
            index_bytes=sum(int(meta["bytes"]) for meta in manifest.get("files", {}).values()),
            location=location,
        )


@dataclass
class Lexical:
    """A BM25 search over sentences or passages: the ``top`` ids (any order), the best score of
    every match, and the BM25 score of any chosen id (0 where it holds no question term)."""

    top: np.ndarray
    best: float
    scores: Callable[[np.ndarray], np.ndarray]


class Allowance(Protocol):
    """The sentences a date or source filter lets a question draw evidence from."""

    @property
    def count(self) -> int: ...


class SentenceSearch(Protocol):
    """What the answering core reads from a store; sentence ids are ints the store hands out."""

    def describe(self) -> Manifest: ...

    @property
    def live_sentences(self) -> int:
        """Sentences that can be found (the N of IDF)."""
        ...

    def lexical(self, tokens: list[str], n: int, allowed: Allowance | None = None) -> Lexical:
        """Sentence BM25: the ``n`` best allowed sentences holding a question term."""
        ...

    def lexical_top(self, tokens: list[str], n: int, allowed: Allowance | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Ids and BM25 scores of the ``n`` best allowed sentences, best first."""
        ...

    def dense_top(self, vector: np.ndarray, n: int, allowed: Allowance | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Ids and cosines of the ``n`` nearest allowed sentences, best first."""
        ...

    def dense_scores(self, vector: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Cosine of the question and each chosen sentence."""
        ...

    def passages(self, tokens: list[str], n: int, allowed: Allowance | None = None) -> Lexical:
        """Passage BM25: the ``n`` best allowed passages holding a question term."""
        ...

    def sentences_of_passages(self, passage_ids: np.ndarray, allowed: Allowance | None = None) -> np.ndarray:
        """Ids of the allowed sentences of these passages."""
        ...

    def passage_of(self, ids: np.ndarray) -> np.ndarray:
        """The passage id of each chosen sentence."""
        ...

    def idf(self, token: str) -> float:
        """BM25 IDF of a token over the live sentences (0 when no sentence holds it)."""
        ...

    def term_presence(self, tokens: list[str], ids: np.ndarray) -> np.ndarray:
        """Which of ``tokens`` each chosen sentence holds: a (len(ids), len(tokens)) boolean matrix."""
        ...

    def word_pieces(self, ids: np.ndarray, tag: str) -> list[np.ndarray] | None:
        """Each chosen sentence's word pieces as stored at index time by the tokenizer ``tag``
        names, or None when the store keeps none by it."""
        ...

    def text(self, sentence_id: int) -> str: ...

    def article_of(self, sentence_id: int) -> dict[str, Any]:
        """The article record of a sentence: id, title, date, source, url."""
        ...

    def allowed(self, filters: Filters) -> Allowance:
        """The sentences these filters admit."""
        ...

    def sources_by_count(self) -> list[str]:
        """Source names, most articles first (for the message when a filter matches nothing)."""
        ...


@runtime_checkable
class ArticleWriter(Protocol):
    """What indexing needs from a store: the stored records, then add, delete, commit.

    ``add`` of an article already stored replaces it; ``commit`` makes every change visible to
    readers at once (a new generation of segments, or Milvus's flush and a new ``_meta``)."""

    def live_records(self) -> list[dict[str, Any]]:
        """Every stored article record: id, content hash, scope, and the fields shown with evidence."""
        ...

    def add(self, added: list[tuple[dict[str, Any], str]]) -> None:
        """Store articles (record and full text), replacing any stored copy of them."""
        ...

    def delete(self, article_ids: list[str]) -> None: ...

    def commit(self) -> Manifest:
        """Make the changes visible; with none since the last commit, write nothing."""
        ...

    def describe(self) -> Manifest: ...
