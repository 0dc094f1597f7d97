"""Date and source filters as a mask over sentences, applied inside retrieval.

Filtering the top 50 of an unfiltered ranking returns nothing for a narrow period (its
sentences rarely make the archive-wide top 50), so the mask is handed to every stage that
picks candidates: sentence BM25, passage BM25 and dense search (retrieval/vectors.py) only
ever return allowed sentences, and a narrow period still gets its own best sentences.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from retrieval.errors import NewsdeskError
from retrieval.types import Filters

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NO_DATE = np.iinfo(np.int32).min  # an undated article falls inside no date range


class FilterError(NewsdeskError, ValueError):
    """A filter value cannot be used; the message says which and how to write it."""


# How much of a value a person typed an error message quotes back: enough to recognise it,
# never a whole pasted page (the HTTP API returns these messages).
QUOTED_CHARS = 60
SOURCE_NAME_CHARS = 100


def quoted(value: object, limit: int = QUOTED_CHARS) -> str:
    """``repr`` of a value for an error message, cut to ``limit`` characters with an ellipsis."""
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")


def parse_day(value: str, name: str) -> str:
    """A YYYY-MM-DD day, checked to be a real date; FilterError naming the option otherwise."""
    text = str(value).strip()
    try:
        if not _ISO.match(text):
            raise ValueError
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise FilterError(f"{name} {quoted(value)} is not a date: write it as YYYY-MM-DD, e.g. 2022-02-15") from None


def make_filters(since: str | None = None, until: str | None = None, sources: Iterable[str] | None = None) -> Filters:
    """Checked filters from user input; empty values count as absent. A comma separates
    several sources in one value ("reuters,ap"), as a form field or chat word can hold only one."""
    since = parse_day(since, "since") if since not in (None, "") else None
    until = parse_day(until, "until") if until not in (None, "") else None
    if since and until and since > until:
        raise FilterError(f"since {since} is after until {until}: swap them or widen the range")
    names: list[str] = []
    for value in sources or ():
        if not isinstance(value, str):
            raise FilterError("source must be text, e.g. reuters")
        for name in value.split(","):
            name = " ".join(name.split())
            if len(name) > SOURCE_NAME_CHARS:
                raise FilterError(
                    f"source {quoted(name)} is {len(name):,} characters long; give a source's name, e.g. reuters"
                )
            if name and name.lower() not in (n.lower() for n in names):
                names.append(name)
    return Filters(since=since, until=until, sources=tuple(names))


def day_number(day: str | None) -> int:
    return date.fromisoformat(day).toordinal() if day else NO_DATE


def source_matches(name: str, source: str) -> bool:
    """Whether a source filter ``name`` picks an article from ``source``: whole words, case folded."""
    pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in name.lower().split()) + r"(?!\w)"
    return re.search(pattern, source.lower()) is not None


def unknown_source_note(names: Iterable[str], sources: Sequence[str]) -> str | None:
    """What to tell someone whose source filter picks none of the archive's ``sources`` (as
    ``sources_by_count`` lists them), at once rather than after a question that matches nothing:
    "No source matches 'reutrs'; did you mean Reuters?". None when every name picks a source."""
    for name in names:
        if any(source_matches(name, source) for source in sources):
            continue
        close = closest_sources(name, sources)
        if close:
            hint = f"did you mean {' or '.join(close)}?"
        elif sources:
            hint = f"the archive's sources are {', '.join(sources[:8])}" + (
                f" and {len(sources) - 8} more." if len(sources) > 8 else "."
            )
        else:
            hint = "the archive's articles carry no source names."
        return f"No source matches {quoted(name)}; {hint}"
    return None


def closest_sources(name: str, sources: Sequence[str], n: int = 3) -> list[str]:
    """Up to ``n`` source names spelled most like ``name`` (the whole name, or one of its words:
    "assocated" finds "Associated Press"), best first."""
    wanted = " ".join(name.lower().split())

    def likeness(source: str) -> float:
        spellings = [source.lower(), *source.lower().split()]
        return max(difflib.SequenceMatcher(None, wanted, s).ratio() for s in spellings)

    scored = sorted(((likeness(s), i) for i, s in enumerate(sources) if s), key=lambda pair: (-pair[0], pair[1]))
    return [sources[i] for score, i in scored[:n] if score >= 0.6]


@dataclass
class Allowed:
    """The sentences (and passages) a question may draw evidence from."""

    sentences: np.ndarray  # bool, one per sentence id
    chunks: np.ndarray  # bool, one per passage id

    @property
    def count(self) -> int:
        return int(self.sentences.sum())


class ArticleFacets:
    """Each article's date (as a day number) and source, read once per loaded index.

    Built on the first filtered question rather than at load, so an archive that is never
    filtered never pays for reading every article record.
    """

    def __init__(
        self, articles: Sequence[dict], sentence_article: np.ndarray, n_chunks: int, sentence_chunk: np.ndarray
    ):
        records = [articles[i] for i in range(len(articles))]
        self.days = np.array([day_number(r.get("date")) for r in records], dtype=np.int64)
        names = [str(r.get("source") or "") for r in records]
        self.source_names = sorted(set(names))
        code = {name: i for i, name in enumerate(self.source_names)}
        self.source_codes = np.array([code[n] for n in names], dtype=np.int64)
        self.sentence_article = np.asarray(sentence_article, dtype=np.int64)
        self.sentence_chunk = np.asarray(sentence_chunk, dtype=np.int64)
        self.n_chunks = n_chunks

    def allowed(self, filters: Filters, deleted_sentences: np.ndarray | None = None) -> Allowed:
        keep = np.ones(len(self.days), dtype=bool)
        if filters.since:
            keep &= self.days >= day_number(filters.since)
        if filters.until:
            keep &= (self.days <= day_number(filters.until)) & (self.days != NO_DATE)
        if filters.sources:
            chosen = [
                i
                for i, source in enumerate(self.source_names)
                if any(source_matches(name, source) for name in filters.sources)
            ]
            keep &= np.isin(self.source_codes, chosen)
        sentences = keep[self.sentence_article] if len(self.sentence_article) else np.zeros(0, dtype=bool)
        if deleted_sentences is not None and len(deleted_sentences):
            sentences[np.asarray(deleted_sentences, dtype=np.int64)] = False
        chunks = np.zeros(self.n_chunks, dtype=bool)
        chunks[self.sentence_chunk[sentences]] = True
        return Allowed(sentences, chunks)

    def sources_by_count(self) -> list[str]:
        """Source names, most articles first (for the message when a source matches nothing)."""
        counts = np.bincount(self.source_codes, minlength=len(self.source_names))
        return [self.source_names[i] for i in np.argsort(-counts, kind="stable") if self.source_names[i]]


class FacetCache:
    """One ArticleFacets per loaded index, built at most once even when threads race for it."""

    def __init__(self):
        self._lock = threading.Lock()
        self._facets: ArticleFacets | None = None

    def get(self, index) -> ArticleFacets:
        if self._facets is None:
            with self._lock:
                if self._facets is None:
                    n_chunks = index.chunk_bm25.size if index.chunk_bm25 is not None else 0
                    self._facets = ArticleFacets(index.articles, index.sentence_article, n_chunks, index.sentence_chunk)
        return self._facets


NOTHING_MATCHES = "No article matches"
_HOLDS = ": the archive holds "
_WIDEN = "Widen the dates or check the source name."


def nothing_matches_note(
    filters: Filters,
    facets: ArticleFacets,
    date_min: str | None,
    date_max: str | None,
    words: str = "",
    carried: Sequence[str] = (),
) -> str:
    """Why no evidence can be shown, and what to widen. ``carried``: time words a conversation
    carried over from the previous question, not typed in this one (retrieval/followup.py); the
    note then says the period came from there (carried_over_note)."""
    what = f'"{words}" ({filters.describe()})' if words else filters.describe()
    span = f"{date_min} to {date_max}" if date_min and date_max else "no dated articles"
    sources = facets.sources_by_count()
    listed = ", ".join(sources[:8]) + (f" and {len(sources) - 8} more" if len(sources) > 8 else "")
    note = f"{NOTHING_MATCHES} {what}{_HOLDS}{span}"
    if listed:
        note += f" from {listed}"
    note += f". {_WIDEN}"
    return carried_over_note(note, filters, carried) if carried else note


def carried_over_note(note: str, filters: Filters, carried: Sequence[str]) -> str:
    """``note`` (nothing_matches_note's) said of a period the conversation carried over from
    the previous question: "No article matches the period carried over from your last question
    ("in September 2021": since ..., until ...): the archive holds ...". The person did not
    give that filter, so it is not blamed on them; a note of another shape is left as it is."""
    head, holds, tail = note.partition(_HOLDS)
    if not carried or not holds or not head.startswith(NOTHING_MATCHES):
        return note
    archive = tail.removesuffix(_WIDEN).rstrip()
    words = ", ".join(f'"{w}"' for w in carried)
    what = f"the period carried over from your last question ({words}: {filters.describe()})"
    advice = "Name the period you mean in your question" + (", or check the source name." if filters.sources else ".")
    return f"{NOTHING_MATCHES} {what}{_HOLDS}{archive} {advice}"
