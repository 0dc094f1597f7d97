"""Filters typed into a Telegram message: `/ask since:2022-02-15 source:reuters how many ...`.

A chat has no flags, so filters are words of the form name:value anywhere in the message
(`source:"the guardian"` in quotes when the name has spaces, several sources as repeated
words or `source:reuters,ap`). What remains is the question.
"""

from __future__ import annotations

import re

from retrieval.filters import make_filters
from retrieval.types import Filters

FILTER_WORD = re.compile(r"(?<!\S)(?P<name>since|until|source):(?:\"(?P<quoted>[^\"]*)\"|(?P<bare>\S+))", re.IGNORECASE)
HELP = (
    "Filters go before the question: <code>since:2022-02-15</code>, <code>until:2022-03-01</code>, "
    '<code>source:reuters</code> (repeat it, or <code>source:"the guardian"</code> for names with spaces). '
    "Time words work too: <i>latest</i>, <i>now</i>, <i>in February 2022</i>, <i>last month</i>."
)


def split_filters(text: str) -> tuple[str, Filters]:
    """The question without its filter words, and the checked filters (FilterError names a bad one)."""
    found: dict[str, list[str]] = {"since": [], "until": [], "source": []}
    for match in FILTER_WORD.finditer(text):
        value = match.group("quoted") if match.group("quoted") is not None else match.group("bare")
        found[match.group("name").lower()].append(value)
    # A message without filter words is the question exactly as sent (its length is checked as is).
    question = " ".join(FILTER_WORD.sub(" ", text).split()) if any(found.values()) else text
    filters = make_filters(_last(found["since"]), _last(found["until"]), found["source"])
    return question, filters


def _last(values: list[str]) -> str | None:
    return values[-1] if values else None
