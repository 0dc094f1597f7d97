"""Judging one answer against its gold, and the metrics over all judged questions.

Each formula is a small pure function over first-hit ranks. They match ranx's
``hit_rate@k`` and ``mrr@k`` (checked in the test suite) but are computed here: ranx needs
a qrels of document ids, while a hit here is judged per shown sentence, and its numba
kernels cost seconds to compile on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from retrieval.evaluation.gold import GoldQuestion
from retrieval.evaluation.normalize import matches_any, normalize
from retrieval.types import Evidence

HIT_CUTOFFS = (1, 3, 5, 10)
MRR_CUTOFF = 10


@dataclass
class QuestionOutcome:
    """One gold question as newsdesk answered it in one mode, judged."""

    gold: GoldQuestion
    mode: str
    evidence: list[Evidence]  # the top k as shown, nothing beyond
    relevant: list[bool]  # per shown position: counts as a hit
    answered: bool
    latency_ms: float
    error: str = ""

    @property
    def rank(self) -> int | None:
        return first_hit_rank(self.relevant)

    @property
    def first_hit(self) -> Evidence | None:
        return self.evidence[self.rank - 1] if self.rank else None


def judge(
    gold: GoldQuestion,
    mode: str,
    evidence: Sequence[Evidence],
    answered: bool,
    latency_ms: float,
    k: int,
    error: str = "",
) -> QuestionOutcome:
    """Judge the first ``k`` evidence sentences; anything ranked beyond ``k`` is never seen."""
    shown = list(evidence)[:k]
    return QuestionOutcome(gold, mode, shown, relevance(shown, gold.answers), answered, latency_ms, error)


def relevance(evidence: Sequence[Evidence], answers: Sequence[str]) -> list[bool]:
    """Per position, whether the sentence holds a gold answer; a repeated sentence never counts again."""
    seen: set[str] = set()
    flags = []
    for item in evidence:
        key = normalize(item.text)
        flags.append(key not in seen and matches_any(item.text, answers))
        seen.add(key)
    return flags


def first_hit_rank(relevant: Sequence[bool]) -> int | None:
    """1-based rank of the first relevant position, or None when nothing shown is relevant."""
    return next((i for i, hit in enumerate(relevant, start=1) if hit), None)


def hit_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions with a hit in the top ``k`` (success@k; ranx "hit_rate@k")."""
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mrr_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Mean reciprocal rank of the first hit, 0 beyond ``k`` (Voorhees, TREC-8 QA track, 1999)."""
    if not ranks:
        return None
    return sum(1 / r for r in ranks if r is not None and r <= k) / len(ranks)


def share(flags: Sequence[bool]) -> float | None:
    """Fraction of True values; None when there is nothing to count."""
    return sum(flags) / len(flags) if flags else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile with linear interpolation (numpy's default, Hyndman & Fan type 7)."""
    if not values:
        return None
    import numpy  # only when summarising; keeps this module light to import

    return float(numpy.percentile(values, q))


def carries_source(evidence: Evidence, source: str) -> bool:
    """True when the gold source names this evidence's source, article id or url."""
    return source in {evidence.source, evidence.article_id, evidence.url}


def summarize(outcomes: Sequence[QuestionOutcome], k: int, skipped: int) -> dict[str, Any]:
    """The summary object of one mode: hit and MRR over answerable questions, no-answer rates apart."""
    answerable = [o for o in outcomes if o.gold.answerable]
    unanswerable = [o for o in outcomes if not o.gold.answerable]
    ranks = [o.rank for o in answerable]
    hits = [o for o in answerable if o.rank is not None]
    dated = [o for o in hits if o.gold.date]
    sourced = [o for o in hits if o.gold.source]
    summary: dict[str, Any] = {
        "mode": outcomes[0].mode if outcomes else None,
        "k": k,
        "n": len(outcomes),
        "skipped": skipped,
        "errors": sum(1 for o in outcomes if o.error),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
    }
    cutoffs = sorted({*HIT_CUTOFFS, k})
    for cutoff in cutoffs:
        # A cutoff beyond k would silently repeat hit@k under a bigger name.
        summary[f"hit@{cutoff}"] = _round(hit_at_k(ranks, cutoff)) if cutoff <= k else None
    summary[f"mrr@{MRR_CUTOFF}"] = _round(mrr_at_k(ranks, MRR_CUTOFF)) if k >= MRR_CUTOFF else None
    if k < MRR_CUTOFF:
        summary[f"mrr@{k}"] = _round(mrr_at_k(ranks, k))
    summary.update(
        {
            "date_acc": _round(share([o.first_hit.date == o.gold.date for o in dated])),
            "date_checked": len(dated),
            "source_acc": _round(share([carries_source(o.first_hit, o.gold.source) for o in sourced])),
            "source_checked": len(sourced),
            "noans_correct": _round(share([not o.answered for o in unanswerable])),
            "noans_false": _round(share([not o.answered for o in answerable])),
            "p50_ms": _round(percentile([o.latency_ms for o in outcomes], 50), 2),
            "p95_ms": _round(percentile([o.latency_ms for o in outcomes], 95), 2),
        }
    )
    return summary


def hit_curve(outcomes: Sequence[QuestionOutcome], k: int) -> list[float]:
    """hit@1 … hit@k over the answerable questions, for plotting."""
    ranks = [o.rank for o in outcomes if o.gold.answerable]
    return [hit_at_k(ranks, cutoff) or 0.0 for cutoff in range(1, k + 1)]


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)
