"""Follow-up questions in a conversation: "and when?" after a question is asked about its subject.

A chat reads a short or pronoun-led question as building on the one before it, so the search
gets words to match: after "how many US troops to Poland?",

- "and when?" (no words of its own) is searched as "when US troops to Poland?",
- "how many of them?" puts the subject where the pronoun was: "how many of US troops to Poland?",
- "what about Germany?" swaps the last name of the previous question: "how many US troops to Germany?",
- "and in March?" adds its words to the previous question: "how many US troops to Poland in March?".

Anything else is a new question. The rules are plain text rules, so the CLI chat and the
Telegram bot read a follow-up the same way and each shows what it searched for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.time_words import MONTH_NAME

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


@dataclass(frozen=True)
class Reading:
    """How a line of the conversation is searched, and the question it builds on (None: a new one)."""

    question: str
    follows: str | None = None

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


def read_followup(text: str, previous: str | None) -> Reading:
    """How to search ``text`` said after ``previous`` (the last question searched, or None)."""
    line = " ".join(text.split())
    if not previous or not line or not own_words(previous):
        return Reading(line)
    mark = "?" if line.endswith("?") or previous.strip().endswith("?") else ""
    about = _ABOUT.match(_strip_end(line))
    if about:
        return Reading(_swap_last_name(previous, _strip_end(about.group("other"))) + mark, previous)
    led = bool(_LEAD_START.match(line))
    body = _strip_end(_LEAD_START.sub("", line))
    own = own_words(body)
    wh = _WH_START.match(body)
    if _has_pronoun(body) and (len(own) <= MAX_OWN_WORDS or _words(body)[0] in _PRONOUNS):
        return Reading(_put_subject_at_pronoun(body, subject(previous)) + mark, previous)
    if own and not (led and len(own) <= 2):
        return Reading(line)
    if led and own and not wh:  # "and Romania?": the same question about another name
        return Reading(_swap_last_name(previous, body) + mark, previous)
    if wh:
        rest = body[wh.end() :].split()
        while rest and rest[0].lower() in _AUX:
            rest.pop(0)
        searched = " ".join([wh.group("wh").lower(), subject(previous), *rest])
    else:
        searched = " ".join([_strip_end(previous), body]).strip()
    return Reading(searched + mark, previous)


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
