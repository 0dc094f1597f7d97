"""An article's lead apart from its first sentence: a headline line, and a dateline.

Wire copy opens with a dateline ("WASHINGTON, Feb 14 (Reuters) - ", "Colombo, Sri Lanka CNN —")
and scraped text often with the headline on a line of its own. Left in, the headline is
searched and shown as if it were a sentence, and the dateline is glued to the first one. Both
are read off by rules over the first characters, so they cost nothing at indexing time.
"""

from __future__ import annotations

import re

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_AGENCY = r"(?:Reuters|AP|AFP|CNN(?:\s+Business)?|Bloomberg|NPR|BBC|UPI|dpa|Xinhua)"
_PLACE_WORD = r"[A-Z][A-Za-z.'’-]*"
_PLACE = rf"{_PLACE_WORD}(?:[ /]{_PLACE_WORD}){{0,3}}"
_DASH = r"(?:—|–|--|-)"
# Three shapes, from the strictest: an agency in brackets or by name ("KYIV, Ukraine (AP) —",
# "Colombo, Sri Lanka CNN —", "Feb 7 (Reuters) -"), a date ("TOKYO, September 27 —"), or a
# place in capitals or with its region ("LONDON —", "COLOMBO:", "Doha, Qatar –").
_DATELINE = re.compile(
    rf"""^(?P<dateline>
        (?:(?:{_PLACE}(?:,\s*{_PLACE}){{0,2}})?,?\s*(?:{_MONTH}\s+\d{{1,2}})?\s*(?:\(\s*{_AGENCY}\s*\)|\b{_AGENCY}\b))
        \s*{_DASH}
      | {_PLACE}(?:,\s*{_PLACE}){{0,2}},\s*{_MONTH}\s+\d{{1,2}}\s*{_DASH}
      | [A-Z][A-Z.'’-]{{2,}}(?:[ /][A-Z][A-Z.'’-]+){{0,3}}(?:,\s*{_PLACE}){{0,2}}\s*(?:{_DASH}|:)
      | {_PLACE},\s*{_PLACE}(?:,\s*{_PLACE})?\s*{_DASH}
    )\s+(?=["“‘']?[A-Z0-9])""",
    re.VERBOSE,
)
_END_PUNCTUATION = tuple(".!?…\"”'’)")
HEADLINE_MAX_WORDS = 25


def split_dateline(text: str) -> tuple[str, str]:
    """The dateline that opens ``text`` (without its dash) and the text after it; ("", text) when none."""
    found = _DATELINE.match(text)
    if not found:
        return "", text
    dateline = found.group("dateline").rstrip(" —–-:")
    return dateline, text[found.end() :]


def split_headline(title: str, text: str) -> tuple[str, str]:
    """The article's title and its text without the headline line that opens it.

    A first line equal to the title is dropped; without a title, a short first line that ends
    with no sentence punctuation and has more text after it becomes the title."""
    stripped = text.lstrip()
    first, newline, rest = stripped.partition("\n")
    line = " ".join(first.split())
    if not newline or not rest.strip():
        return title, text
    if title:
        return (title, rest.lstrip()) if _same(line, title) else (title, text)
    words = line.split()
    if 0 < len(words) <= HEADLINE_MAX_WORDS and not line.endswith(_END_PUNCTUATION) and not _DATELINE.match(line):
        return line, rest.lstrip()
    return title, text


def _same(line: str, title: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(re.findall(r"\w+", s.lower()))

    return norm(line) == norm(title)
