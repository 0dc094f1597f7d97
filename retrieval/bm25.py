"""Sparse BM25 over pre-tokenised text, with bm25s (fast at scale) doing the scoring."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)


def idf_lucene(n_docs: int, df: int) -> float:
    """Lucene's BM25 IDF, log(1 + (N - df + 0.5) / (df + 0.5)), always positive."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


class BM25Index:
    """BM25 (Lucene variant, k1=1.5, b=0.75) whose query cost grows with matches, not corpus size."""

    def __init__(self, k1: float = 1.5, b: float = 0.75):
        import bm25s

        self._model = bm25s.BM25(k1=k1, b=b, method="lucene")
        self.size = 0

    @classmethod
    def build(cls, corpus_tokens: list[list[str]], k1: float = 1.5, b: float = 0.75) -> "BM25Index":
        index = cls(k1=k1, b=b)
        if corpus_tokens:
            index._model.index(corpus_tokens, show_progress=False)
        index.size = len(corpus_tokens)
        return index

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """A BM25 score for every document (zeros when no query token is in the vocabulary)."""
        if self.size == 0:
            return np.zeros(0, dtype=np.float32)
        known = [t for t in query_tokens if t in self._model.vocab_dict]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._model.get_scores(known), dtype=np.float32)

    def idf(self, token: str) -> float:
        """Lucene IDF of a token from its document frequency (0 for unknown tokens)."""
        token_id = self._model.vocab_dict.get(token) if self.size else None
        if token_id is None:
            return 0.0
        indptr = self._model.scores["indptr"]
        return idf_lucene(self.size, int(indptr[token_id + 1] - indptr[token_id]))

    def top(self, query_tokens: list[str], n: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices and scores of the ``n`` best documents with a positive score, best first."""
        scores = self.scores(query_tokens)
        if scores.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        n = min(n, scores.size)
        idx = np.argpartition(-scores, n - 1)[:n]
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        idx = idx[scores[idx] > 0]
        return idx, scores[idx]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._model.save(str(folder))
        (folder / "size.txt").write_text(str(self.size), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "BM25Index":
        import bm25s

        index = cls()
        index.size = int((folder / "size.txt").read_text(encoding="utf-8"))
        if index.size:
            index._model = bm25s.BM25.load(str(folder), mmap=True)
        return index
