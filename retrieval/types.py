"""The records that flow through newsdesk: articles in, evidence and answers out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["highlights"] = [list(span) for span in self.highlights]
        return data


@dataclass
class TimelineEntry:
    """A dated figure from the evidence, for questions whose answer changed over time."""

    date: str | None
    source: str
    figure: str
    text: str

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answered": self.answered,
            "mode": self.mode,
            "note": self.note,
            "evidence": [e.to_dict() for e in self.evidence],
            "timeline": [t.to_dict() for t in self.timeline],
            "reranker": self.reranker,
            "elapsed_ms": round(self.elapsed_ms, 2),
        }


class QuestionError(ValueError):
    """The question cannot be answered as given (empty, too long); the message says why."""
