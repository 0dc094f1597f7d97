"""Recognise the same report in several articles: syndicated wire copy, word for word or
lightly edited ("its first reduction since 2020" / "its first cut since 2020").

Two sentences are one report when they read the same after folding case, quotes and spacing,
or when they state the same figures and share most of their word pairs (Jaccard overlap of
word 2-shingles, Broder 1997). Requiring the same figures keeps updates apart: "12,000 acres,
5% contained" and "31,000 acres, 12% contained" are two reports for the timeline, not one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
CACHE_SIZE = 200_000


# ASCII characters that are neither word characters nor spaces: what _PUNCT removes from ASCII.
_ASCII_PUNCT = {c: None for c in range(128) if not re.match(r"[\w\s]", chr(c))}


def sentence_key(text: str) -> str:
    """Identity of a sentence for collapsing syndicated copies: case, quotes, spacing ignored."""
    if text.isascii():  # most news text: NFKC changes nothing, and str methods beat the regexes
        return " ".join(text.lower().translate(_ASCII_PUNCT).split())
    folded = unicodedata.normalize("NFKC", text).lower()
    return _SPACE.sub(" ", _PUNCT.sub("", folded)).strip()


def figures(text: str) -> tuple[str, ...]:
    """The numbers a sentence states, thousands separators ignored, in order of size."""
    return tuple(sorted(m.group(0).replace(",", "") for m in _FIGURE.finditer(text)))


def shingles(key: str, size: int = 2) -> frozenset[tuple[str, ...]]:
    """Word ``size``-grams of a folded sentence (the words themselves for shorter sentences)."""
    words = key.split()
    if len(words) < size:
        return frozenset((w,) for w in words)
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def overlap(a: frozenset, b: frozenset) -> float:
    """Jaccard similarity of two shingle sets."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass
class _Report:
    key: str
    figures: tuple[str, ...]
    words: int
    _shingles: frozenset | None = None

    @property
    def shingles(self) -> frozenset:
        if self._shingles is None:
            self._shingles = shingles(self.key)
        return self._shingles


def _report(text: str) -> _Report:
    key = sentence_key(text)
    return _Report(key, figures(text), key.count(" ") + 1)


@dataclass
class DuplicateTracker:
    """The reports shown so far for one answer; ``find`` says which one a sentence repeats."""

    threshold: float
    cache: dict[int, _Report]
    reports: list[_Report] = field(default_factory=list)

    def _report(self, text: str, sentence_id: int | None) -> _Report:
        return _report(text) if sentence_id is None else _cached_report(self.cache, sentence_id, text)

    def find(self, text: str, sentence_id: int | None = None) -> int | None:
        """Position of the shown report ``text`` repeats, or None when it is a new one."""
        report = self._report(text, sentence_id)
        for position, shown in enumerate(self.reports):
            if report.key == shown.key:
                return position
            if report.figures != shown.figures or min(report.words, shown.words) < self.threshold * max(
                report.words, shown.words
            ):
                continue  # different figures, or lengths too far apart for the overlap to reach the threshold
            if overlap(report.shingles, shown.shingles) >= self.threshold:
                return position
        return None

    def add(self, text: str, sentence_id: int | None = None) -> None:
        self.reports.append(self._report(text, sentence_id))


def _cached_report(cache: dict[int, _Report], sentence_id: int, text: str) -> _Report:
    report = cache.get(sentence_id)
    if report is None:
        if len(cache) >= CACHE_SIZE:
            cache.clear()
        report = cache[sentence_id] = _report(text)
    return report


class NearDuplicates:
    """Settings for recognising copies; ``tracker`` starts a fresh list for one answer."""

    def __init__(self, threshold: float = 0.6):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"duplicate_overlap must be in (0, 1], got {threshold}")
        self.threshold = threshold
        # Folded text, figures and shingles of sentences seen before, by sentence id.
        self._cache: dict[int, _Report] = {}

    def for_new_index(self) -> NearDuplicates:
        """The same settings with an empty cache, for another generation of the index."""
        return NearDuplicates(self.threshold)

    def remember(self, ids: Iterable[int], text_of: Callable[[int], str]) -> None:
        """Read the reports of sentences ``ids`` ahead of the trackers that will compare them
        (done while a question waits for its dense search)."""
        for sentence_id in ids:
            _cached_report(self._cache, sentence_id, text_of(sentence_id))

    def tracker(self) -> DuplicateTracker:
        return DuplicateTracker(self.threshold, self._cache)
