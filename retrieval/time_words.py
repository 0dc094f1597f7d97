"""Time words in a question ("latest", "in February 2022", "before July 20", "last month")
read as a date range and a wish for the newest evidence, against a reference date.

The reference is the archive's newest date (or ``--as-of``): "last month" in an archive that
ends in December 2022 means November 2022, whatever today's date is. Finding the words is a
small grammar here (a date counts only when a preposition governs it, so "the 2022 World Cup"
and "before Biden's Oct 5 visit" stay words to search for); turning "july 20, 2022", "sept 8"
or "last month" into a date and its precision (day, week, month, year) is dateparser's job,
with years chosen so the date is not after the reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from retrieval.types import TimeReading

LATEST = "latest"
PERIOD = "period"
BEFORE = "before"
AFTER = "after"

# A month's name or its abbreviation (follow-up reading uses it too: retrieval/followup.py).
MONTH_NAME = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_MONTH = rf"{MONTH_NAME}\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"
# A part of a month: "early", "mid-", "late", "the end of", "the start of".
_PART = r"(?P<part>early|mid|late|(?:the\s+)?(?:end|start|beginning|middle)\s+of)[-\s]+"
_ABSOLUTE = (
    rf"(?:{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?|{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?"
    rf"|(?:{_PART})?{_MONTH}(?:,?\s+{_YEAR})?|{_YEAR}-\d{{2}}-\d{{2}}|{_YEAR})"
)
_RELATIVE = (
    r"(?:today|yesterday|(?:the\s+)?(?:this\s+past|this|last|past|previous)\s+(?:week|month|year)"
    r"|\d+\s+(?:days?|weeks?|months?)\s+ago)"
)
# Vague windows ending at the reference date: "in the past few days", "recently", "lately".
_FEW_DAYS = r"(?:the\s+)?(?:past|last)\s+(?:few|couple\s+of|several)\s+days|recent\s+days"
_RECENT_WORDS = (
    r"recently|lately|of\s+late|these\s+days|(?:the\s+)?(?:past|last)\s+(?:few|couple\s+of|several)\s+weeks"
    r"|recent\s+weeks"
)
_WINDOW = re.compile(
    rf"(?<!most )\b(?:(?:in|over|during|within|for)\s+)?(?:(?P<few>{_FEW_DAYS})|(?P<recent>{_RECENT_WORDS}))\b",
    re.IGNORECASE,
)
# What a preposition does to the period it governs.
_PREPOSITIONS = {
    BEFORE: ("before", "prior to", "earlier than"),
    AFTER: ("after", "following", "later than"),
    "since": ("since", "from"),
    "by": ("by", "until", "till", "up to", "up until", "through", "as of"),
    PERIOD: ("in", "during", "on", "at", "for", "over", "throughout", "within"),
}
_PREP = "|".join(
    sorted((re.escape(w).replace(r"\ ", r"\s+") for ws in _PREPOSITIONS.values() for w in ws), key=len, reverse=True)
)
_WHEN = re.compile(rf"\b(?:(?P<prep>{_PREP})\s+)?(?P<when>{_RELATIVE}|{_ABSOLUTE})(?![\w-])", re.IGNORECASE)
_YEAR_ONLY = re.compile(rf"^{_YEAR}$")
_YEAR_PREPOSITIONS = ("in", "during", "throughout", "before", "prior to", "after", "since", "by", "until", "till")
_RELATIVE_ONLY = re.compile(rf"^{_RELATIVE}$", re.IGNORECASE)
# "before <a few words naming an event>" just ahead of a dated phrase.
_ANCHOR = re.compile(
    r"\b(?P<rel>before|after|prior\s+to|following|ahead\s+of)\s+(?:[^\W\d]+(?:['’-][^\W\d]+)*\s+){1,6}$", re.IGNORECASE
)
# Words asking for the newest state of things.
_LATEST = re.compile(
    r"\b(?:latest|newest|most\s+recent(?:ly)?|recent|now|nowadays|currently|current|right\s+now|so\s+far"
    r"|to\s+date|at\s+the\s+moment|at\s+present|as\s+it\s+stands|still)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TimeWindows:
    """How many days the relative words name, each a window ending at the reference date
    ([time] in config/default.toml). News is asked about in rolling windows: a Friday question
    about "this week" means the last seven days, Sunday's awards show included."""

    week_days: int = 7  # "this week", "the past week"
    few_days: int = 7  # "in the past few days", "in recent days"
    recent_days: int = 30  # "recently", "lately", "these days", "in recent weeks"

    @classmethod
    def from_section(cls, section) -> TimeWindows:
        return cls(
            week_days=int(section.get("week_days", cls.week_days)),
            few_days=int(section.get("few_days", cls.few_days)),
            recent_days=int(section.get("recent_days", cls.recent_days)),
        )


@dataclass
class TimeQuery:
    """What the question's time words ask for."""

    searched: str  # the question with its dates taken out (they are filters now)
    readings: list[TimeReading] = field(default_factory=list)
    since: str | None = None
    until: str | None = None
    newest_first: bool = False  # rank newer evidence first among equally good answers
    # Relative words ("this week", "recently", "last month") name a window whose edges the
    # asker did not mean exactly: when it leaves no confident answer, the answer may come from
    # outside it (said in the note). ``wide_since``/``wide_until`` are the range without them.
    window_words: str = ""
    wide_since: str | None = None
    wide_until: str | None = None

    @property
    def words(self) -> str:
        return ", ".join(r.words for r in self.readings)

    @property
    def has_window(self) -> bool:
        return bool(self.window_words) and (self.since, self.until) != (self.wide_since, self.wide_until)


def read_time_words(
    question: str,
    reference: str | date,
    explicit_reference: bool = False,
    report_lag_days: int = 0,
    windows: TimeWindows = TimeWindows(),
) -> TimeQuery:
    """Read the time words of ``question`` against ``reference`` (the archive's newest date, or
    --as-of: then "latest" also means "not after that date").

    ``report_lag_days``: news about a period is often published after it ("inflation hit 54.6%
    in June", reported July 13), so a period's filter reaches that many days past its end, and
    its words stay in the searched text to pick the report about that period among later ones.
    ``windows``: the days that "this week", "in the past few days" and "recently" name.
    """
    ref = reference if isinstance(reference, date) else date.fromisoformat(reference)
    readings: list[TimeReading] = []
    kept: list[str] = []
    last = 0
    newest_first = False
    reported_until: list[str] = []
    window: list[TimeReading] = []  # readings of relative words: loose edges
    wide_until: list[str] = []  # the same bounds without the windows'
    for match in _matches(question):
        is_window = match.re is _WINDOW
        reading = _window_reading(match, ref, windows) if is_window else _reading(match, ref, windows)
        if reading is None:
            continue
        readings.append(reading)
        loose = is_window or bool(_RELATIVE_ONLY.match(match.group("when")))
        if loose:
            window.append(reading)
        newest_first = newest_first or (is_window and match.group("recent") is not None)
        bound = reading.until
        if reading.kind == PERIOD and report_lag_days > 0 and not is_window and reading.until < ref.isoformat():
            end = date.fromisoformat(reading.until)
            bound = max(end, min(end + timedelta(days=report_lag_days), ref)).isoformat()
            reported_until.append(bound)
            if not loose:
                wide_until.append(bound)
            continue  # the words stay in the searched text
        if bound:
            reported_until.append(bound)
            if not loose:
                wide_until.append(bound)
        kept.append(question[last : match.start()])
        last = match.end()
        newest_first = newest_first or reading.kind in (BEFORE, AFTER)
    kept.append(question[last:])
    searched = _tidy("".join(kept)) if readings else question
    if not any(ch.isalnum() for ch in searched):
        searched = question  # a question that is nothing but a date is still searched as asked
    for match in _LATEST.finditer(question):
        until = ref.isoformat() if explicit_reference else None
        readings.append(TimeReading(words=match.group(0), kind=LATEST, until=until))
        if until:
            reported_until.append(until)
            wide_until.append(until)
        newest_first = True
        break  # one is enough: "the latest ... now" says it once
    since = max((r.since for r in readings if r.since), default=None)
    until = min(reported_until, default=None)
    wide_since = max((r.since for r in readings if r.since and r not in window), default=None)
    return TimeQuery(
        searched,
        readings,
        since,
        until,
        newest_first,
        window_words=", ".join(r.words for r in window),
        wide_since=wide_since,
        wide_until=min(wide_until, default=None),
    )


_YEAR_WORD = re.compile(r"\b(?P<year>(?:19|20)\d{2})\b")
# Words that ask what happened, not what was expected: "who won", "what did ... do", "was".
_PAST = re.compile(
    r"\b(?:did|was|were|won|had|happened|became|went|took|got|lost|beat|died|ended|finished|replaced|"
    r"elected|resigned|scored|killed|signed|passed|announced|released|launched|hit|rose|fell)\b",
    re.IGNORECASE,
)
# Words that ask about plans and forecasts, which an archive can hold before the period comes.
_EXPECTED = re.compile(
    r"\b(?:will|would|expect(?:s|ed)?|forecasts?|plans?|planned|scheduled|predict(?:s|ed|ion)?|projected|"
    r"outlook|hosts?|hosted|hosting|set\s+to|due|going\s+to|next)\b",
    re.IGNORECASE,
)


def after_the_archive(question: str, reference: str | date) -> int | None:
    """The year a question asks what happened in, when that year begins after ``reference``
    ("who won the 2026 World Cup?" of an archive that ends in 2022): no report can answer it.
    None for questions about plans or forecasts ("where will the 2026 World Cup be held?")."""
    ref = reference if isinstance(reference, date) else date.fromisoformat(reference)
    later = [int(m.group("year")) for m in _YEAR_WORD.finditer(question) if int(m.group("year")) > ref.year]
    if not later or _EXPECTED.search(question) or not _PAST.search(question):
        return None
    return min(later)


def _matches(question: str) -> list[re.Match]:
    """Dated phrases and vague windows in question order; where they overlap, the first wins."""
    found = sorted([*_WHEN.finditer(question), *_WINDOW.finditer(question)], key=lambda m: (m.start(), -m.end()))
    chosen: list[re.Match] = []
    for match in found:
        if not chosen or match.start() >= chosen[-1].end():
            chosen.append(match)
    return chosen


def _window_reading(match: re.Match, ref: date, windows: TimeWindows) -> TimeReading:
    days = windows.few_days if match.group("few") else windows.recent_days
    words = " ".join(match.group(0).split())
    return TimeReading(words, PERIOD, since=(ref - timedelta(days=days - 1)).isoformat(), until=ref.isoformat())


def names_period(match: re.Match) -> bool:
    """Whether a dated phrase the grammar found (``_WHEN``) is a period asked about: a preposition governs
    it or it is relative ("last week"), and a bare year only after "in", "before", ... (the
    follow-up reader finds periods the same way: retrieval/followup.py)."""
    prep = " ".join((match.group("prep") or "").lower().split())
    when = match.group("when")
    if not prep and not _RELATIVE_ONLY.match(when):
        return False  # "the March 2022 meeting", "the 2022 World Cup": words, not a period asked for
    return not (_YEAR_ONLY.match(when) and prep not in _YEAR_PREPOSITIONS)  # "the forecast for 2023"


def _reading(match: re.Match, ref: date, windows: TimeWindows = TimeWindows()) -> TimeReading | None:
    if not names_period(match):
        return None
    prep = " ".join((match.group("prep") or "").lower().split())
    when = match.group("when")
    relative = bool(_RELATIVE_ONLY.match(when))
    span = _period(when, ref, match.group("part"), windows)
    if span is None:
        return None
    start, end = span
    if start > ref:
        return None  # a period after the archive's last day is a forecast asked about, not a filter
    if relative:
        end = min(end, ref)  # "this week" ends today
    words = " ".join(match.group(0).split())
    role = next((r for r, ws in _PREPOSITIONS.items() if prep in ws), PERIOD)
    anchor = _ANCHOR.search(match.string[: match.start()]) if role == PERIOD else None
    if anchor:
        # "before the Georgia runoff on December 6": the date is the event's, the question asks
        # before it. When in the period the event fell is unknown, so the bound is the loose one.
        words = " ".join(match.string[anchor.start() : match.end()].split())
        relation = " ".join(anchor.group("rel").lower().split())
        if relation in ("after", "following"):
            return TimeReading(words, AFTER, since=start.isoformat())
        return TimeReading(words, BEFORE, until=end.isoformat())
    if role == BEFORE:
        return TimeReading(words, BEFORE, until=(start - timedelta(days=1)).isoformat())
    if role == AFTER:
        return TimeReading(words, AFTER, since=(end + timedelta(days=1)).isoformat())
    if role == "since":
        return TimeReading(words, AFTER, since=start.isoformat())
    if role == "by":
        return TimeReading(words, BEFORE, until=end.isoformat())
    return TimeReading(words, PERIOD, since=start.isoformat(), until=end.isoformat())


def _period(text: str, ref: date, part: str | None, windows: TimeWindows = TimeWindows()) -> tuple[date, date] | None:
    """The first and last day ``text`` names."""
    text = " ".join(text.lower().split())
    if part:
        text = text[len(" ".join(part.split())) :].lstrip(" -")
    if text.startswith("the "):
        text = text[4:]
    if text.startswith("this past "):
        text = text[len("this ") :]
    if text in ("this week", "past week"):
        return ref - timedelta(days=windows.week_days - 1), ref
    if text.startswith("past "):
        days = {"week": 7, "month": 30, "year": 365}[text.split()[1]]
        return ref - timedelta(days=days - 1), ref
    if text.startswith("previous "):
        text = "last " + text.split()[1]
    parsed = _parse(text, ref.isoformat())
    if parsed is None:
        return None
    day, precision = parsed
    if precision == "day":
        return day, day
    if precision == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    if precision == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    first = date(day.year, day.month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    if part:
        part = part.lower()
        if part.startswith("mid"):
            return first.replace(day=15), first.replace(day=15)
        if part.startswith(("early", "start", "beginning", "the start", "the beginning")):
            return first, first.replace(day=10)
        if part.startswith(("late", "end", "the end")):
            return first.replace(day=21), last
        if part.startswith(("middle", "the middle")):
            return first.replace(day=11), first.replace(day=20)
    return first, last


@lru_cache(maxsize=4096)
def _parse(text: str, reference: str) -> tuple[date, str] | None:
    """dateparser's date and precision for ``text``, choosing dates not after ``reference``."""
    parser = _parser(reference)
    data = parser.get_date_data(text.replace(".", ""))
    if data is None or data.date_obj is None:
        return None
    return data.date_obj.date(), data.period or "day"


@lru_cache(maxsize=64)
def _parser(reference: str):
    from dateparser.date import DateDataParser  # loaded on the first question with a date in it

    base = datetime.fromisoformat(reference)
    return DateDataParser(
        languages=["en"],
        settings={
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": "past",
            "PREFER_DAY_OF_MONTH": "first",
            "RETURN_TIME_AS_PERIOD": False,
        },
    )


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    return re.sub(r"\s+([?.!,;:])", r"\1", text).strip(" ,;:")
