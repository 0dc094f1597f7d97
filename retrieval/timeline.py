"""When the best evidence gives different figures on different dates or from different
sources, lay them out as a dated timeline, newest first."""

from __future__ import annotations

import re

from retrieval.answer_types import AnswerType
from retrieval.types import Evidence, TimelineEntry

# Evidence scoring below this share of the best sentence's score is not "best evidence".
RELATIVE_SCORE = 0.75
_DIGITS = re.compile(r"[^\d.]")


def figure_value(figure: str) -> str:
    """The number a figure states, so "1,700" and "1700" count as the same figure."""
    return _DIGITS.sub("", figure).strip(".") or figure.lower()


def build_timeline(evidence: list[Evidence], kind: AnswerType, relative: float = RELATIVE_SCORE) -> list[TimelineEntry]:
    """Dated figures from the strongest evidence when they disagree; empty when they agree."""
    if kind is not AnswerType.QUANTITY or not evidence:
        return []
    best = evidence[0].score
    floor = best * relative if best > 0 else best
    entries = []
    for item in evidence:
        if item.score < floor or not item.highlights:
            continue
        start, end = item.highlights[0]
        entries.append(TimelineEntry(date=item.date, source=item.source, figure=item.text[start:end], text=item.text))
    figures = {figure_value(e.figure) for e in entries}
    provenance = {(e.date, e.source) for e in entries}
    if len(figures) < 2 or len(provenance) < 2:
        return []
    return sorted(entries, key=lambda e: e.date or "", reverse=True)
