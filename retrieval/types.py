"""The records that flow through newsdesk: articles in, evidence and answers out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from retrieval.errors import NewsdeskError


@dataclass(frozen=True)
class Article:
    """One news article as ingested: text plus the facts a reader needs to trust it."""

    id: str
    text: str
    title: str = ""
    date: str | None = None  # YYYY-MM-DD
    source: str = ""
    url: str = ""
    origin: str = ""  # file (and line) it came from, for messages


@dataclass
class Why:
    """Why a sentence was shown where it was: its features, scores and what matched."""

    # The kind of answer the question asks for (quantity, date, person, place, none) and the
    # spans of that kind found in the sentence.
    answer_type: str
    answer_spans: list[str]
    # Question words found in the sentence (as the search matched them: case-folded and stemmed).
    matched_terms: list[str]
    # First-stage feature values (retrieval/rerank.py) and each one's weighted share of the score.
    features: dict[str, float]
    contributions: dict[str, float]
    first_stage_score: float
    first_stage_rank: int  # 1-based, before the cross-encoder re-read the head
    # The reading stage's fused score (cross-encoder and features, in standard deviations) and the
    # cross-encoder's own score; None where it did not read the sentence.
    fused_score: float | None = None
    rerank_score: float | None = None
    # False for a question or a fragment, which ranks after every statement.
    statement: bool = True


@dataclass
class Evidence:
    """One evidence sentence, with where and when it was published."""

    text: str
    article_id: str
    title: str
    date: str | None
    source: str
    url: str
    score: float
    sentence_id: int = -1
    # Other articles carrying the same sentence (syndicated copy); the date shown is the earliest.
    also_in: int = 0
    # Character spans [start, end) in ``text`` holding the kind of answer asked for.
    highlights: list[tuple[int, int]] = field(default_factory=list)
    # The cross-encoder's score of (question, sentence), None where it did not read the sentence.
    rerank_score: float | None = None
    # The article's dateline ("WASHINGTON, Feb 14 (Reuters)"), read off its first sentence.
    dateline: str = ""
    # Why it is here (`ask --explain`); None unless asked for.
    why: Why | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["highlights"] = [list(span) for span in self.highlights]
        return data


@dataclass
class TimelineEntry:
    """A dated figure from the evidence, for questions whose answer changed over time."""

    date: str | None
    source: str
    figure: str  # as stated, with what it counts: "5,000 troops", "$6.6 billion"
    text: str
    counts: str = ""  # what every figure of the timeline counts: "troops", "daily flights", "USD"
    value: float | None = None  # the figure's number, scale words read: "$6.6 billion" is 6600000000.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Filters:
    """Which articles may give evidence: a date range (inclusive, YYYY-MM-DD) and source names.

    A source name matches an article whose source holds it as whole words, case folded, so
    "reuters" matches "Reuters" and "guardian" matches "The Guardian". An article without a
    date never matches a date range (nothing says it falls inside).
    """

    since: str | None = None
    until: str | None = None
    sources: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.sources)

    def narrowed(self, since: str | None = None, until: str | None = None) -> Filters:
        """These filters with the date range cut down to also lie within [since, until]."""
        return Filters(
            since=max(d for d in (self.since, since) if d) if (self.since or since) else None,
            until=min(d for d in (self.until, until) if d) if (self.until or until) else None,
            sources=self.sources,
        )

    def describe(self) -> str:
        """'since 2022-02-15, until 2022-03-01, source reuters or ap', for notes."""
        parts = []
        if self.since:
            parts.append(f"since {self.since}")
        if self.until:
            parts.append(f"until {self.until}")
        if self.sources:
            parts.append("source " + " or ".join(self.sources))
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"since": self.since, "until": self.until, "sources": list(self.sources)}


@dataclass(frozen=True)
class TimeReading:
    """How a time expression in the question was read: its words and the dates it stands for.

    ``kind`` is "latest" (newest evidence first, no range), "period" (a closed range such as a
    month or "yesterday"), "before" or "after" (an open range).
    """

    words: str
    kind: str
    since: str | None = None
    until: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """What every front end shows: the question and its ranked evidence."""

    question: str
    evidence: list[Evidence]
    answered: bool = True
    mode: str = "hybrid"
    # A short note for the reader, e.g. why there is no good answer or that figures differ.
    note: str = ""
    timeline: list[TimelineEntry] = field(default_factory=list)
    elapsed_ms: float = 0.0
    # The cross-encoder that re-read the best candidates ("" when none did).
    reranker: str = ""
    # What restricted the evidence: the filters asked for, narrowed by the question's time words.
    filters: Filters = field(default_factory=Filters)
    # The time words read in the question, and the date they were resolved against (None: none read).
    time: list[TimeReading] = field(default_factory=list)
    as_of: str | None = None
    # True when a relative window ("this week", "recently") left no confident answer and the
    # evidence comes from outside it (the note says so; ``filters`` is what was searched).
    widened: bool = False
    # Misspelled words replaced before searching: (as asked, as the archive spells it).
    spelling: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answered": self.answered,
            "mode": self.mode,
            "note": self.note,
            "evidence": [e.to_dict() for e in self.evidence],
            "timeline": [t.to_dict() for t in self.timeline],
            "reranker": self.reranker,
            "filters": self.filters.to_dict(),
            "time": [t.to_dict() for t in self.time],
            "as_of": self.as_of,
            "widened": self.widened,
            "spelling": [list(pair) for pair in self.spelling],
            "elapsed_ms": round(self.elapsed_ms, 2),
        }


class QuestionError(NewsdeskError, ValueError):
    """The question cannot be answered as given (empty, too long); the message says why."""
