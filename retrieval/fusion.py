"""Fuse ranked candidate lists from BM25 and dense search into one ranking."""

from __future__ import annotations

from enum import Enum

import numpy as np


class FusionMethod(str, Enum):
    FEATURES = "features"  # feature reranker over the pooled candidates (retrieval/rerank.py)
    RRF = "rrf"
    WEIGHTED = "weighted"

    @classmethod
    def parse(cls, value: str) -> FusionMethod:
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown fusion {value!r}; use one of: {', '.join(m.value for m in cls)}") from None


class Mode(str, Enum):
    BM25 = "bm25"
    DENSE = "dense"
    HYBRID = "hybrid"

    @classmethod
    def parse(cls, value: str) -> Mode:
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown mode {value!r}; use one of: {', '.join(m.value for m in cls)}") from None


def reciprocal_rank_fusion(rankings: list[np.ndarray], weights: list[float], k: float = 60.0) -> dict[int, float]:
    """RRF: score(d) = sum_i w_i / (k + rank_i(d)), ranks from 1 (Cormack, Clarke & Buettcher, SIGIR 2009)."""
    fused: dict[int, float] = {}
    for ids, weight in zip(rankings, weights):
        for rank, doc in enumerate(ids, start=1):
            fused[int(doc)] = fused.get(int(doc), 0.0) + weight / (k + rank)
    return fused


def min_max(scores: np.ndarray) -> np.ndarray:
    """Scale scores to [0, 1]; a constant list maps to ones."""
    if len(scores) == 0:
        return scores
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-12:
        return np.ones_like(scores, dtype=np.float32)
    return (scores - low) / (high - low)


def weighted_fusion(results: list[tuple[np.ndarray, np.ndarray]], weights: list[float]) -> dict[int, float]:
    """Convex combination of min-max normalised scores; a document missing from a list scores 0 there."""
    fused: dict[int, float] = {}
    for (ids, scores), weight in zip(results, weights):
        for doc, score in zip(ids, min_max(np.asarray(scores, dtype=np.float32))):
            fused[int(doc)] = fused.get(int(doc), 0.0) + weight * float(score)
    return fused
