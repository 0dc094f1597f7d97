"""When the best evidence gives different figures on different dates or from different
sources, lay them out as a dated timeline, newest first."""

from __future__ import annotations

import re

from retrieval.answer_types import AnswerType
from retrieval.types import Evidence, TimelineEntry

_DIGITS = re.compile(r"[^\d.]")
# Quantity words that name no figure: "hundreds of soldiers" does not disagree with "1,700".
_WORD = re.compile(r"[a-z]+")
WINDOW = 3
QUESTION_WORDS = frozenset(
    "how many much what number the a an of to in on at for did do does is are was were has have".split()
)
VAGUE = frozenset("hundreds thousands millions billions dozens dozen half twice several many few".split())


def figure_value(figure: str) -> str:
    """The number a figure states, so "1,700" and "1700" count as the same figure."""
    return _DIGITS.sub("", figure).strip(".") or figure.lower()


def _words(text: str) -> list[str]:
    """Lower-case words with a plural "s" dropped, so "troops" meets "troop"."""
    folded = text.lower().replace(".", "")  # "U.S." is "us"
    return [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in _WORD.findall(folded)]


def stated_figure(text: str, highlights: list[tuple[int, int]], question: str = "") -> str | None:
    """The first highlighted span that states a figure (digits or an exact number word) about
    something the question names: within WINDOW words of the figure stands a question word, so
    "gusts of up to 40 mph" gives no figure for "how many residents were evacuated?"."""
    asked = set(_words(question)) - QUESTION_WORDS
    for start, end in highlights:
        span = text[start:end]
        if not any(ch.isdigit() for ch in span) and span.lower().split()[-1] in VAGUE:
            continue
        nearby = _words(text[:start])[-WINDOW:] + _words(text[end:])[:WINDOW]
        if not asked or asked & set(nearby):
            return span
    return None


def build_timeline(
    evidence: list[Evidence], kind: AnswerType, margin: float, question: str = ""
) -> list[TimelineEntry]:
    """Dated figures from the strongest evidence when they disagree; empty when they agree.

    Evidence scoring within ``margin`` of the best sentence is "best evidence" ([answer]
    timeline_margin; reranker scores are sums of weighted features, so a margin in score
    units means the same whatever the best score is)."""
    if kind is not AnswerType.QUANTITY or not evidence:
        return []
    floor = evidence[0].score - margin
    entries = []
    for item in evidence:
        figure = stated_figure(item.text, item.highlights, question) if item.score >= floor else None
        if figure:
            entries.append(TimelineEntry(date=item.date, source=item.source, figure=figure, text=item.text))
    figures = {figure_value(e.figure) for e in entries}
    provenance = {(e.date, e.source) for e in entries}
    if len(figures) < 2 or len(provenance) < 2:
        return []
    return sorted(entries, key=lambda e: e.date or "", reverse=True)
