"""Answer-string normalisation and matching, so "1,700" in a gold file finds "1700" in a sentence."""

from __future__ import annotations

import re
import unicodedata

# Thousands separators between digits ("1,700", "100,000", "1 700" with a thin or no-break space).
_DIGIT_GROUP = re.compile(r"(?<=\d)[,\u00a0\u202f\u2009](?=\d{3}(?!\d))")
# Dotted abbreviations ("U.S.", "U.K.") so they meet their undotted spelling ("US", "UK").
_DOTTED_ABBREVIATION = re.compile(r"\b(?:[^\W\d_]\.){2,}", re.UNICODE)
# Articles dropped as in the official SQuAD v1.1 evaluation script (normalize_answer).
_ARTICLES = frozenset({"a", "an", "the"})


def _strip_punctuation(text: str) -> str:
    """Punctuation and symbols (Unicode P*, S*: curly quotes, dashes, $, %) become spaces.

    A decimal point stays inside its number: "3.5" must become neither "35" nor "3 5".
    """
    chars = list(text)
    for i, char in enumerate(chars):
        if unicodedata.category(char)[0] not in "PS":
            continue
        decimal = char == "." and 0 < i < len(chars) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()
        if not decimal:
            chars[i] = " "
    return "".join(chars)


def normalize(text: str) -> str:
    """Return ``text`` as space-separated tokens: case-folded, without punctuation, quotes or articles.

    Follows SQuAD v1.1's ``normalize_answer`` (Rajpurkar et al., 2016: lower-case, strip
    punctuation and the articles a/an/the, collapse white space), extended for news text:
    Unicode compatibility forms (NFKC), thousands separators ("1,700" == "1700"), dotted
    abbreviations ("U.S." == "US") and decimal points kept inside numbers ("3.5" != "35").
    Punctuation becomes a space rather than vanishing, so "Thomas-Greenfield" keeps two tokens.
    """
    text = _DIGIT_GROUP.sub("", text)  # before NFKC, which turns the narrow spaces into plain ones
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DOTTED_ABBREVIATION.sub(lambda m: m.group(0).replace(".", ""), text)
    text = _strip_punctuation(text)
    return " ".join(token for token in text.split() if token not in _ARTICLES)


def contains_answer(sentence: str, answer: str) -> bool:
    """True when the normalised ``answer`` occurs in the normalised ``sentence`` as whole tokens.

    Token boundaries keep short answers honest: gold "1" does not match "1700", nor "war" "warships".
    An answer that normalises to nothing never matches (it would otherwise match every sentence).
    """
    needle = normalize(answer)
    return bool(needle) and f" {needle} " in f" {normalize(sentence)} "


def matches_any(sentence: str, answers: list[str] | tuple[str, ...]) -> bool:
    """True when ``sentence`` contains at least one of the gold ``answers``."""
    return any(contains_answer(sentence, answer) for answer in answers)
