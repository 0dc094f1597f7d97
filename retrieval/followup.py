"""Follow-up questions in a conversation: "and when?" after a question is asked about its subject.

A chat reads a short or pronoun-led question as building on the one before it, so the search
gets words to match: after "how many US troops to Poland?",

- "and when?" (no words of its own) is searched as "when US troops to Poland?",
- "how many of them?" puts the subject where the pronoun was: "how many of US troops to Poland?",
- "and in March?" adds its period: "how many US troops to Poland in March?".

A follow-up that names another period, name or figure edits the previous question the way
people mean it, replacing the one of its kind instead of piling up:

- a period replaces the period: "how much did the Fed raise rates in March?", "and in June?" is
  searched as "how much did the Fed raise rates in June?" (never "in March in June", a range
  no article can match),
- a place, person or organisation replaces the name of its kind (retrieval/names.py): "what
  about Iran?" after "how many died in the Pakistan floods in September?" replaces Pakistan,
  "and the ECB?" after a question about the Fed replaces the Fed,
- a figure word replaces the quantity asked for: "and the injured?" after "how many died in
  the floods?" is "how many were injured in the floods?".

Anything else is a new question. The rules are plain text rules, so the CLI chat and the
Telegram bot read a follow-up the same way and each shows what it searched for. A period the
follow-up did not name but kept from the previous question is ``Reading.carried``: when it
matches no article, conversation_note says so rather than blaming dates the person never gave.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.filters import carried_over_note
from retrieval.names import PLACE, UNKNOWN, kind_of, known_kind, known_names, takes_the
from retrieval.time_words import _RELATIVE_ONLY, _WHEN, _WINDOW, MONTH_NAME, names_period
from retrieval.types import Answer

# Question words, longest first so "how many" wins over "how".
_WH = r"how\s+(?:many|much|long|old|far|often|big|large|come)|when|where|who|whom|whose|why|what|which|how"
_LEAD = {"and", "but", "so", "also", "then", "ok", "okay", "well", "or"}
_AUX = {
    "is",
    "are",
    "was",
    "were",
    "do",
    "does",
    "did",
    "has",
    "have",
    "had",
    "will",
    "would",
    "can",
    "could",
    "should",
    "'s",
}
_PRONOUNS = {
    "it",
    "its",
    "they",
    "them",
    "their",
    "theirs",
    "he",
    "him",
    "his",
    "she",
    "her",
    "hers",
    "this",
    "that",
    "these",
    "those",
    "there",
}
# Words that carry no subject of their own: a question made only of these needs the previous one.
_EMPTY = {
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "on",
    "at",
    "for",
    "about",
    "with",
    "from",
    "by",
    "since",
    "until",
    "before",
    "after",
    "during",
    "happen",
    "happened",
    "exactly",
    "again",
    "else",
    "more",
    "any",
    "all",
    "many",
    "much",
    "number",
    "latest",
    "newest",
    "now",
    "currently",
    "recently",
    "today",
    "yesterday",
    "week",
    "month",
    "year",
    "last",
    "next",
    "this",
    "please",
}
_MONTHS = re.compile(rf"^{MONTH_NAME}$")
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*|'s", re.UNICODE)
_WH_START = re.compile(rf"^(?P<wh>{_WH})\b\s*", re.IGNORECASE)
_ABOUT = re.compile(r"^(?:(?:and|but|so|ok|okay)\s+)?(?:what|how)\s+about\s+(?P<other>.+)$", re.IGNORECASE)
_LEAD_START = re.compile(rf"^(?:{'|'.join(sorted(_LEAD))})\b[\s,]*", re.IGNORECASE)
# "this week", "that year": time words, not a pronoun pointing back.
_TIME_DEICTIC = re.compile(r"\b(?:this|that|last|next)\s+(?:week|month|year|day|morning|evening)\b", re.IGNORECASE)
_PROPER_RUN = re.compile(r"(?:\b[A-Z][\w’'.-]*)(?:\s+(?:of\s+|the\s+)?[A-Z][\w’'.-]*)*")
# A longer question with a pronoun is still a follow-up when it has at most this many words of its own.
MAX_OWN_WORDS = 3
# Words for "as things stand" that a new period replaces: "where is the rate now?", "and in June?".
_NOW = re.compile(
    r"\b(?:right\s+now|now|nowadays|currently|at\s+the\s+moment|at\s+present|so\s+far|to\s+date|as\s+it\s+stands)\b",
    re.IGNORECASE,
)
_ANY_WH = re.compile(r"\b(?:how|when|where|who|whom|whose|why|what|which)\b", re.IGNORECASE)
# "and for Apple?", "in Germany?", "and to Latvia?": a name after a preposition.
_NAME_PREP = re.compile(r"^(?:for|in|at|to|from|with|on|of|about|by|over|inside)\s+", re.IGNORECASE)
_THE_BEFORE = re.compile(r"\bthe\s+$", re.IGNORECASE)
# A name's words: "Zelensky's" is "Zelensky", "U.S" and "Bankman-Fried" are one word each.
_NAME_WORD = re.compile(r"[^\W_][\w&-]*(?:[.'’][^\W_][\w&-]*)*")
_JOIN = re.compile(r"\s+(?:of\s+(?:the\s+)?)?", re.IGNORECASE)  # "Bank of England", "Republic of the Congo"
_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

# Figures asked about with "how many": the phrase a question is rewritten with, its noun (None:
# none), and the words that name it ("and the injured?", "and injuries?", "how many were hurt?").
_FIGURES = (
    ("died", "deaths", ("died", "die", "dead", "deaths", "fatalities", "perished")),
    ("were killed", None, ("killed",)),
    ("were injured", "injuries", ("injured", "injuries", "hurt")),
    ("were wounded", None, ("wounded",)),
    ("were arrested", "arrests", ("arrested", "arrests")),
    ("were detained", "detentions", ("detained", "detentions", "detainees")),
    ("are missing", None, ("missing",)),
    ("were displaced", None, ("displaced",)),
    ("were evacuated", "evacuations", ("evacuated", "evacuations", "evacuees")),
    ("were rescued", "rescues", ("rescued", "rescues")),
    ("were hospitalised", "hospitalisations", ("hospitalised", "hospitalized", "hospitalisations", "hospitalizations")),
    ("were infected", "infections", ("infected", "infections")),
    ("were left homeless", None, ("homeless",)),
    ("were affected", None, ("affected",)),
    ("fled", None, ("fled",)),
    ("were deported", "deportations", ("deported", "deportations")),
    ("were jailed", None, ("jailed", "imprisoned")),
    ("were charged", None, ("charged",)),
    ("were sentenced", None, ("sentenced",)),
    ("were laid off", "layoffs", ("laid off", "layoffs")),
    ("were captured", None, ("captured",)),
    ("were executed", "executions", ("executed", "executions")),
    ("were vaccinated", "vaccinations", ("vaccinated", "vaccinations")),
    ("survived", "survivors", ("survived", "survivors")),
)
_FIGURE_OF = {form: figure for figure in _FIGURES for form in figure[2]}
_FIGURE_NOUNS = {
    "deaths", "fatalities", "injuries", "arrests", "detentions", "detainees", "evacuations", "evacuees", "rescues",
    "hospitalisations", "hospitalizations", "infections", "deportations", "layoffs", "executions", "vaccinations",
    "survivors",
}  # fmt: skip
_FORMS = "|".join(re.escape(f).replace(r"\ ", r"\s+") for f in sorted(_FIGURE_OF, key=len, reverse=True))
_FIGURE_AUX = r"were|was|are|is|have\s+been|has\s+been|had\s+been|have|has|had|been|got|get"
_FIGURE_PHRASE = rf"(?:(?P<aux>{_FIGURE_AUX})\s+)?(?:(?:left|reported|feared|believed|confirmed)\s+)?(?P<word>{_FORMS})"
# "how many people were killed", "how many died", "how many deaths" in the previous question.
_ASKED_FIGURE = re.compile(
    rf"\bhow\s+many\s+(?P<who>(?:(?!(?:{_FIGURE_AUX})\b)[\w-]+\s+){{0,2}}?)(?P<phrase>{_FIGURE_PHRASE})\b",
    re.IGNORECASE,
)
_WHO = r"people|civilians|soldiers|troops|children|protesters|police|officers|migrants|refugees|workers|staff|employees|journalists|students|residents"
# A follow-up that is only a figure: "the injured", "injuries", "how many were arrested".
_NEW_FIGURE = re.compile(
    rf"^(?:how\s+many\s+)?(?:(?:of\s+)?the\s+)?(?:(?P<who>{_WHO})\s+)?(?P<phrase>{_FIGURE_PHRASE})$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Reading:
    """How a line of the conversation is searched, and the question it builds on (None: a new one)."""

    question: str
    follows: str | None = None
    # Time words the question kept from the previous one, not typed this time ("in September").
    carried: tuple[str, ...] = ()

    @property
    def is_followup(self) -> bool:
        return self.follows is not None


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _is_empty_word(word: str) -> bool:
    return (
        word in _EMPTY
        or word in _AUX
        or word in _LEAD
        or word in _PRONOUNS
        or bool(_MONTHS.match(word))
        or word.isdigit()
        or bool(re.match(r"^(?:how|when|where|who|whom|whose|why|what|which|come)$", word))
    )


def own_words(text: str) -> list[str]:
    """The words of ``text`` that name a subject (not question words, pronouns, dates or glue)."""
    return [w for w in _words(text) if not _is_empty_word(w)]


def _has_pronoun(text: str) -> bool:
    return any(w in _PRONOUNS for w in _words(_TIME_DEICTIC.sub(" ", text)))


def _strip_end(text: str) -> str:
    return text.strip().rstrip("?!. ").strip()


def subject(question: str) -> str:
    """What a question is about: itself without its leading question word and auxiliary verbs."""
    text = _strip_end(_LEAD_START.sub("", question.strip()))
    text = _WH_START.sub("", text)
    words = text.split()
    while words and words[0].lower() in _AUX:
        words.pop(0)
    return " ".join(words) or _strip_end(question)


def _swap_last_name(previous: str, other: str) -> str:
    """The previous question with its last name ("Poland") replaced by ``other``; without a
    capitalised name, its last subject word is replaced."""
    body = _strip_end(previous)
    runs = [m for m in _PROPER_RUN.finditer(body) if m.start() > 0]
    if runs:
        last = runs[-1]
        return f"{body[: last.start()]}{other}{body[last.end() :]}"
    words = list(_WORD.finditer(body))
    for match in reversed(words):
        if not _is_empty_word(match.group().lower()):
            return f"{body[: match.start()]}{other}{body[match.end() :]}"
    return f"{body} {other}"


def _put_subject_at_pronoun(text: str, topic: str) -> str:
    masked = _TIME_DEICTIC.sub(lambda m: "\0" * len(m.group()), text)
    for match in _WORD.finditer(masked):
        if match.group().lower() in _PRONOUNS:
            return f"{text[: match.start()]}{topic}{text[match.end() :]}"
    return text


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    return re.sub(r"\s+([?.!,;:])", r"\1", text).strip(" ,;:")


def time_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` names a period, as time_words finds one: a date a preposition governs
    ("in March", "since February 24", "in 2021"), relative words ("last week", "yesterday"),
    vague windows ("recently") and words for now ("now", "so far"); in order, not overlapping."""
    found = [(match.start(), match.end()) for match in _WHEN.finditer(text) if names_period(match)]
    for pattern in (_WINDOW, _NOW):
        found += [(m.start(), m.end()) for m in pattern.finditer(text)]
    chosen: list[tuple[int, int]] = []
    for span in sorted(found, key=lambda s: (s[0], -s[1])):
        if not chosen or span[0] >= chosen[-1][1]:
            chosen.append(span)
    return chosen


def _cut(text: str, spans: list[tuple[int, int]], first: str | None = None) -> str:
    """``text`` without ``spans``; the first one replaced by ``first`` when given."""
    pieces, last = [], 0
    for number, (start, end) in enumerate(spans):
        pieces.append(text[last:start])
        if number == 0 and first is not None:
            pieces.append(first)
        last = end
    pieces.append(text[last:])
    return _tidy(" ".join(pieces))


def without_periods(question: str) -> str:
    """``question`` without its time words ("how much did the Fed raise rates?" for "... in March?")."""
    spans = time_spans(question)
    if not spans:
        return question
    mark = "?" if question.strip().endswith("?") else ""
    return _tidy(_cut(_strip_end(question), spans)) + mark


def _split_period(text: str) -> tuple[str, str]:
    """The period a follow-up names ("in June", "last week", bare "June") and its other words."""
    whole = text.strip(" ,")
    if _WHEN.fullmatch(whole) or _NOW.fullmatch(whole) or _WINDOW.fullmatch(whole):
        return whole, ""
    spans = time_spans(text)
    if not spans:
        return "", whole
    rest = re.sub(r"^(?:and\b)?[\s,]*|[\s,]*(?:\band)?$", "", _cut(text, spans))
    return " ".join(text[start:end] for start, end in spans), rest


def _swap_period(body: str, period: str) -> str:
    """``body`` asking about ``period`` instead of its own (added at the end when it has none).
    A bare date ("June") takes the preposition of the period it replaces, "in" otherwise."""
    spans = time_spans(body)
    bare = _WHEN.fullmatch(period)
    if bare and not bare.group("prep") and not _RELATIVE_ONLY.match(bare.group("when")):
        old = _WHEN.fullmatch(body[spans[0][0] : spans[0][1]]) if spans else None
        period = f"{old.group('prep') if old and old.group('prep') else 'in'} {period}"
    if not spans:
        return f"{body} {period}"
    return _cut(body, spans, period)


def _capitalised(word: str) -> bool:
    if not word[:1].isupper():
        return False
    lower = word.lower()
    if word.isupper() and len(word) > 1 and lower not in _AUX:
        return True  # "WHO", "US", "FTX"
    return not (
        lower in _AUX
        or lower in _LEAD
        or lower in _PRONOUNS
        or lower in _WEEKDAYS
        or lower in ("i", "the", "a", "an", "in", "on", "at", "for")
        or _WH_START.fullmatch(lower)
        or _MONTHS.match(lower)
    )


def names_in(question: str) -> list[tuple[int, int, str]]:
    """The names in ``question`` as (start, end, kind), in order: the gazetteer's (in any case
    but for words that are common words too) and capitalised runs ("Bart Gorman", "Bank of
    England"), a run just before a known person joined to it ("President Joe Biden"). Time
    words are no names ("September" in "the floods in September")."""
    blocked = time_spans(question)

    def free(start: int, end: int, taken: list[tuple[int, int, str]]) -> bool:
        return not any(s < end and start < e for s, e in blocked) and not any(
            s < end and start < e for s, e, _ in taken
        )

    known: list[tuple[int, int, str]] = []
    for start, end, kind in known_names(question):
        if free(start, end, known):
            known.append((start, end, kind))
    runs: list[list[int]] = []  # [start, end] of capitalised runs outside the known names
    current: list[int] | None = None
    for match in _NAME_WORD.finditer(question):
        word = re.sub(r"['’]s$", "", match.group())
        start, end = match.start(), match.start() + len(word)
        if not free(start, end, known):
            current = None
        elif _capitalised(word):
            if current is not None and _JOIN.fullmatch(question[current[1] : start]):
                current[1] = end
            else:
                current = [start, end]
                runs.append(current)
        elif current is None or word.lower() not in ("of", "the"):
            current = None
    names = list(known)
    for start, end in runs:
        following = next((n for n in known if n[2] == "person" and question[end : n[0]] == " "), None)
        if following is not None:  # "President" + "Biden"
            names.remove(following)
            names.append((start, following[1], following[2]))
        else:
            names.append((start, end, kind_of(question[start:end])))
    return sorted(names)


def _swap_name(body: str, name: str) -> str:
    """``body`` about ``name`` instead of the last name of the same kind in it (a place for a
    place, a person for a person, an organisation for an organisation); without one, the last
    name it cannot place, then its last name, then its last subject word."""
    name = re.sub(r"['’]s$", "", _NAME_PREP.sub("", name.strip(" ,")))  # the question keeps its own "'s"
    kind = kind_of(name)
    names = names_in(body)
    picked = [n for n in names if n[2] == kind] or [n for n in names if n[2] == UNKNOWN] or names
    if not picked:
        return f"{body} in {name}" if kind == PLACE else _swap_last_name(body, name)
    start, end, _ = picked[-1]
    before = _THE_BEFORE.search(body[:start])
    if before and takes_the(body[start:end]):
        start = before.start()  # "the Fed" gives way to "Apple" whole
    if not name.lower().startswith("the ") and takes_the(name) and known_kind(name):
        name = f"the {name}"
    if name.lower().startswith("the ") and _THE_BEFORE.search(body[:start]):
        name = name[4:]
    return f"{body[:start]}{name}{body[end:]}"


def _swap_figure(body: str, new: re.Match, other: str) -> str:
    """``body`` asking ``new``'s figure instead of its own ("how many died" -> "how many were
    injured"); a typed verb phrase ("were arrested") is kept as typed, a noun or adjective ("the
    injured", "injuries") becomes the figure's own phrase, or its noun for a question asked with one."""
    asked = _ASKED_FIGURE.search(body)
    if asked is None:
        return f"{body} and {other}"
    phrase, noun, _ = _FIGURE_OF[" ".join(new.group("word").lower().split())]
    word = new.group("word").lower()
    if new.group("aux"):
        replacement = " ".join(new.group("phrase").split())
    elif asked.group("word").lower() in _FIGURE_NOUNS and noun:
        replacement = word if word in _FIGURE_NOUNS else noun
    else:
        replacement = phrase
    who = f"{new.group('who')} " if new.group("who") else asked.group("who")
    return f"{body[: asked.start('who')]}{who}{replacement}{body[asked.end('phrase') :]}"


def _edit(line: str, previous: str) -> str | None:
    """``previous`` edited by a follow-up naming another period, name or figure ("and in June?",
    "what about Iran?", "and the injured?"); None when ``line`` is no such edit."""
    text = _strip_end(line)
    about = _ABOUT.match(text)
    led = bool(_LEAD_START.match(text))
    other = _strip_end(about.group("other") if about else _LEAD_START.sub("", text))
    period, rest = _split_period(other)
    figure = _NEW_FIGURE.match(rest) if rest else None
    if about is None and figure is None:
        if rest:
            if _ANY_WH.search(rest) or _has_pronoun(rest):
                return None
            own = own_words(rest)
            named = known_kind(_NAME_PREP.sub("", rest)) is not None
            if not own or not (led or _NAME_PREP.match(rest)) or (len(own) > 2 and not named):
                return None  # a question of its own
        elif not period:
            return None
    body = _strip_end(previous)
    if figure is not None:
        body = _swap_figure(body, figure, rest)
    elif rest:
        body = _swap_name(body, rest)
    if period:
        body = _swap_period(body, period)
    return _tidy(body)


def _carried(question: str, line: str) -> tuple[str, ...]:
    """The time words of ``question`` that ``line`` did not type: kept from the previous question."""
    typed = line.lower()
    kept = []
    for start, end in time_spans(question):
        words = " ".join(question[start:end].split())
        dated = _WHEN.fullmatch(words)
        core = dated.group("when") if dated else words
        if core.lower() not in typed:
            kept.append(words)
    return tuple(kept)


def read_followup(text: str, previous: str | None) -> Reading:
    """How to search ``text`` said after ``previous`` (the last question searched, or None)."""
    reading = _read_followup(text, previous)
    if not reading.is_followup:
        return reading
    return Reading(reading.question, reading.follows, _carried(reading.question, text))


def _read_followup(text: str, previous: str | None) -> Reading:
    line = " ".join(text.split())
    if not previous or not line or not own_words(previous):
        return Reading(line)
    mark = "?" if line.endswith("?") or previous.strip().endswith("?") else ""
    edited = _edit(line, previous)
    if edited is not None:
        return Reading(edited + mark, previous)
    led = bool(_LEAD_START.match(line))
    body = _strip_end(_LEAD_START.sub("", line))
    own = own_words(body)
    wh = _WH_START.match(body)
    # A follow-up with a period of its own asks it instead of the previous question's.
    prior = without_periods(previous) if time_spans(body) else previous
    if _has_pronoun(body) and (len(own) <= MAX_OWN_WORDS or _words(body)[0] in _PRONOUNS):
        return Reading(_put_subject_at_pronoun(body, subject(prior)) + mark, previous)
    if own and not (led and len(own) <= 2):
        return Reading(line)
    if led and own and not wh:  # "and Romania?": the same question about another name
        return Reading(_swap_last_name(previous, body) + mark, previous)
    if wh:
        rest = body[wh.end() :].split()
        while rest and rest[0].lower() in _AUX:
            rest.pop(0)
        searched = " ".join([wh.group("wh").lower(), subject(prior), *rest])
    else:
        searched = " ".join([_strip_end(prior), body]).strip()
    return Reading(searched + mark, previous)


def conversation_note(answer: Answer, reading: Reading) -> str:
    """``answer.note``, said of the period carried over from the previous question when no
    article matches it: the conversation built that filter, so the note neither blames the
    dates nor asks to check a source name the person never gave."""
    if not reading.carried or answer.evidence:
        return answer.note
    carried = {words.lower() for words in reading.carried}
    if not any(" ".join(r.words.split()).lower() in carried for r in answer.time):
        return answer.note
    return carried_over_note(answer.note, answer.filters, reading.carried)


class Conversation:
    """One conversation's last question, forgotten after ``ttl_seconds`` of silence (None: never)."""

    def __init__(self, ttl_seconds: float | None = None) -> None:
        self.ttl_seconds = ttl_seconds
        self.last: str | None = None
        self.at: float | None = None

    def previous(self, now: float = 0.0) -> str | None:
        """The last question searched, unless it is older than the time-to-live."""
        if self.last is None:
            return None
        if self.ttl_seconds is not None and self.at is not None and now - self.at > self.ttl_seconds:
            self.clear()
            return None
        return self.last

    def read(self, text: str, now: float = 0.0) -> Reading:
        """How to search ``text`` in this conversation."""
        return read_followup(text, self.previous(now))

    def remember(self, question: str, now: float = 0.0) -> None:
        """Keep the question just searched as the subject for the next follow-up."""
        self.last, self.at = question, now

    def clear(self) -> None:
        self.last = self.at = None
