"""A small preference for newer evidence, for questions that ask for the latest state of things.

"What's the latest death toll?" has many good answers, one per report; the newest should
lead when the others are about as good. So the bonus is a tie-break, not a ranking of its
own: it decays with a sentence's age relative to the newest dated sentence among the best
few candidates (the newest gets the full bonus, one ``half_life_days`` older half of it),
and it is worth ``points`` feature points in the first stage and ``z`` standard deviations
in the reading stage's fused score, both well under the gap between a good answer and a
near miss, so a newer sentence that does not answer the question cannot climb over one that
does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np


@dataclass(frozen=True)
class RecencySettings:
    """The [time] settings, typed."""

    points: float = 1.0
    z: float = 0.5
    half_life_days: float = 30.0
    head: int = 10

    @classmethod
    def from_section(cls, section: dict) -> RecencySettings:
        defaults = cls()
        try:
            return cls(
                points=float(section.get("recency_points", defaults.points)),
                z=float(section.get("recency_z", defaults.z)),
                half_life_days=float(section.get("half_life_days", defaults.half_life_days)),
                head=int(section.get("recency_head", defaults.head)),
            )
        except (TypeError, ValueError) as exc:
            from retrieval.config import ConfigError

            raise ConfigError(f"[time] has a setting that is not a number ({exc})") from None


@dataclass(frozen=True)
class LatestSettings:
    """How the reading stage answers "latest" ([time] latest_margin, latest_candidates): the
    newest read sentence within ``margin`` logits of the best reading leads (0: off, the
    recency bonus alone orders), reading ``candidates`` sentences."""

    margin: float = 0.0
    candidates: int = 5

    @classmethod
    def from_section(cls, section: dict) -> LatestSettings:
        return cls(
            margin=float(section.get("latest_margin", cls.margin)),
            candidates=int(section.get("latest_candidates", cls.candidates)),
        )


def freshness(
    ids: Sequence[int], scores: Sequence[float], date_of: Callable[[int], str | None], settings: RecencySettings
) -> np.ndarray:
    """Each candidate's share of the bonus, in [0, 1]: 1 for the newest of the best
    ``head`` candidates (or newer), halving every ``half_life_days`` older; 0 when undated."""
    days = np.array([_day(date_of(int(i))) for i in ids], dtype=np.float64)
    out = np.zeros(len(ids))
    if not len(ids):
        return out
    best = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")[: settings.head]
    dated_best = days[best][~np.isnan(days[best])]
    if not len(dated_best):
        return out
    newest = dated_best.max()
    dated = ~np.isnan(days)
    age = np.maximum(newest - days[dated], 0.0)
    out[dated] = np.power(0.5, age / max(settings.half_life_days, 1e-9))
    return out


def _day(value: str | None) -> float:
    if not value:
        return float("nan")
    try:
        return float(date.fromisoformat(value).toordinal())
    except ValueError:
        return float("nan")
