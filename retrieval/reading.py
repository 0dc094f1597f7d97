"""The reading stage: a cross-encoder re-scores the feature ranking's best few sentences.

The feature ranking (retrieval/rerank.py) finds the right passage almost always but often
picks the wrong sentence inside it: telling "Kuechly registered 118 tackles" from "Kuechly
was named" needs a model that reads question and sentence together. The cross-encoder does,
at ~5-10 ms a sentence on a CPU, so it reads only the top ``candidates`` and its score is
fused with the feature score (each z-scored over those candidates, then
``z(cross) + feature_weight * z(features)``); the fused order replaces theirs, everything
below keeps its place. When the feature ranking is already decisive (its best sentence leads
the next by ``skip_margin`` points) only the best sentence is read, for the no-answer check.
Weights and counts were fitted with cross-validation on XQuAD (docs/quality.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

OFF_VALUES = ("", "off", "none")


class PairScorer(Protocol):
    """Scores (question, sentence) pairs: the cross-encoder, or a fake in tests."""

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class ReadingSettings:
    """The [rerank] cross-encoder settings, typed (defaults live in config/default.toml only)."""

    model: str
    runtime: str
    precision: str
    candidates: int
    feature_weight: float
    skip_margin: float
    min_spread: float
    max_length: int
    threads: int
    min_score: float
    vouch_score: float = float("inf")
    # What the cross-encoder reads beside each sentence: "none", "title" (the article's title
    # before the sentence, as the dense model reads it) or "previous" (the sentence before it).
    context: str = "none"

    @property
    def enabled(self) -> bool:
        return self.model.strip().lower() not in OFF_VALUES

    @classmethod
    def from_section(cls, rerank: dict) -> ReadingSettings:
        from retrieval.config import ConfigError

        def value(key: str, kind):
            if key not in rerank:
                raise ConfigError(f"[rerank] {key} is missing; config/default.toml sets it")
            try:
                return kind(rerank[key])
            except (TypeError, ValueError):
                raise ConfigError(f"[rerank] {key} = {rerank[key]!r} is not a {kind.__name__}") from None

        settings = cls(
            model=value("cross_encoder", str),
            runtime=value("ce_runtime", str),
            precision=value("ce_precision", str),
            candidates=value("ce_candidates", int),
            feature_weight=value("ce_feature_weight", float),
            skip_margin=value("ce_skip_margin", float),
            min_spread=value("ce_min_spread", float),
            max_length=value("ce_max_length", int),
            threads=value("ce_threads", int),
            min_score=value("ce_min_score", float),
            vouch_score=value("ce_vouch_score", float),
            context=value("ce_context", str),
        )
        from retrieval.cross_encoder import RUNTIMES

        if settings.runtime not in RUNTIMES:
            raise ConfigError(
                f"[rerank] ce_runtime = {settings.runtime!r} is unknown; use one of {', '.join(RUNTIMES)}"
            )
        if settings.enabled and settings.candidates < 1:
            raise ConfigError(f"[rerank] ce_candidates = {settings.candidates} must be at least 1")
        return settings


@dataclass
class Read:
    """The ranking after reading: sentence ids with their first-stage scores, best first, and
    the cross-encoder's score of each sentence it read."""

    ranked: list[tuple[int, float]]
    scores: dict[int, float] = field(default_factory=dict)
    skipped: bool = False
    # The fused score of each sentence the reading stage ordered (for explanations).
    fused: dict[int, float] = field(default_factory=dict)
    # The sentence the fusion put first, when a newer answering one was moved ahead of it
    # (newest_answer_first): whether the question is answered is judged on it.
    leader: int | None = None


class ReadingReranker:
    """Re-orders the head of a ranking by the fused cross-encoder and feature scores."""

    def __init__(self, settings: ReadingSettings, scorer: PairScorer):
        self.settings = settings
        self.scorer = scorer

    def rerank(
        self,
        question: str,
        ranked: list[tuple[int, float]],
        text_of: Callable[[int], str],
        prior: Callable[[list[int], np.ndarray], np.ndarray] | None = None,
        candidates: int | None = None,
        always_read: bool = False,
    ) -> Read:
        """``prior`` adds to each head sentence's fused score (in standard deviations), e.g. the
        recency bonus of a "latest" question (retrieval/recency.py). ``candidates`` overrides
        how many are read; ``always_read`` reads them even when the first stage's best leads by
        the skip margin (a "latest" question needs every candidate's reading)."""
        if not ranked:
            return Read(ranked)
        n = min(candidates or self.settings.candidates, len(ranked))
        head = ranked[:n]
        margin = self.settings.skip_margin
        if n == 1 or (not always_read and margin > 0 and head[0][1] - head[1][1] >= margin):
            best = head[0][0]
            score = float(self.scorer.score(question, [text_of(best)])[0])
            return Read(list(ranked), {best: score}, skipped=n > 1)
        cross = self.scorer.score(question, [text_of(i) for i, _ in head])
        features = np.array([s for _, s in head], dtype=np.float64)
        fused = zscore(cross, self.settings.min_spread) + self.settings.feature_weight * zscore(features)
        if prior is not None:
            fused = fused + prior([i for i, _ in head], features)
        # Ties keep the feature order (a stable sort on the negated fused score).
        order = np.argsort(-fused, kind="stable")
        return Read(
            [head[i] for i in order] + ranked[n:],
            {head[i][0]: float(cross[i]) for i in range(n)},
            fused={head[i][0]: float(fused[i]) for i in range(n)},
        )


def newest_answer_first(read: Read, date_of: Callable[[int], str | None], floor: float, margin: float) -> Read:
    """For a question about the latest state of things: the newest sentence the cross-encoder
    says answers (at or above ``floor``, and within ``margin`` logits of its best reading)
    leads; the rest keep their order, so older answers follow as the timeline. A newer
    sentence that does not answer never leads."""
    if not read.scores or margin <= 0:
        return read
    best = max(read.scores.values())
    answering = {i for i, score in read.scores.items() if score >= floor and score >= best - margin}
    dated = [(date_of(i) or "", -position, i) for position, (i, _) in enumerate(read.ranked) if i in answering]
    if not dated:
        return read
    _, _, lead = max(dated)
    if read.ranked[0][0] == lead:
        return read
    ranked = [pair for pair in read.ranked if pair[0] == lead] + [pair for pair in read.ranked if pair[0] != lead]
    return Read(ranked, read.scores, read.skipped, read.fused, leader=read.ranked[0][0])


def zscore(values: np.ndarray, min_spread: float = 0.0) -> np.ndarray:
    """Values centred on their mean in units of their standard deviation, or of ``min_spread``
    when that is larger: scores that barely differ are noise, and z-scoring alone would blow
    them up to the same weight as a clear preference (zeros when all are equal)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return values
    spread = max(float(values.std()), min_spread)
    return (values - values.mean()) / spread if spread > 1e-12 else np.zeros_like(values)
