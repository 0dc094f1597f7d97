"""Answer types without a language model: what kind of answer a question wants, and where a
sentence holds one.

"how many" wants a quantity, "when" a date, "who" a person, "where" a place. Detection is
by rules over the question's wording and the sentence's surface (numbers, month names,
capitalised names), which costs microseconds a sentence.
"""

from __future__ import annotations

import re
from enum import Enum


class AnswerType(str, Enum):
    QUANTITY = "quantity"
    DATE = "date"
    PERSON = "person"
    PLACE = "place"
    NONE = "none"


_QUESTION_RULES: list[tuple[re.Pattern, AnswerType]] = [
    (re.compile(r"\b(how (many|much|long|old|far|large|big|tall|high|often|fast|heavy)|what (percentage|percent|number|amount|proportion|share)|what is the (population|number|size|cost|price))\b"), AnswerType.QUANTITY),
    (re.compile(r"\b(when|what (year|date|day|month|time|century|decade|era|period)|which (year|date|day|month|century|decade)|since when)\b"), AnswerType.DATE),
    (re.compile(r"\b(who|whom|whose|which (person|man|woman|president|leader|official|minister|secretary|general|spokesperson|company|group|organi[sz]ation))\b"), AnswerType.PERSON),
    (re.compile(r"\b(where|what (country|city|state|town|region|place|nation|continent|island|river)|which (country|city|state|town|region|place|nation|continent|island|river)|to what (country|city))\b"), AnswerType.PLACE),
]

MONTHS = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
WEEKDAYS = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DATE_SPAN = re.compile(
    rf"\b(?:{MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTHS}(?:,?\s+\d{{4}})?"
    rf"|{MONTHS}\s+\d{{4}}|(?:in |since |by |until |from |of |early |late |mid-?)?(?:1[0-9]|20)\d{{2}}s?"
    rf"|{WEEKDAYS}|\d{{1,2}}(?:st|nd|rd|th) century|(?:yesterday|today|tomorrow|last (?:week|month|year)))\b",
)
_NUMBER_WORDS = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|hundreds|thousand|thousands|dozen|dozens|million|millions|billion|half|a third|a quarter)"
_QUANTITY_SPAN = re.compile(
    rf"(?:[$€£]\s?)?\b\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?(?:\s?(?:%|percent|per cent|million|billion|trillion))?"
    rf"|(?:[$€£]\s?)?\b\d+(?:\.\d+)?(?!\d|st\b|nd\b|rd\b|th\b)(?:\s?(?:%|percent|per cent|million|billion|trillion|km|miles?|kilometers?|metres?|meters?|feet|kg|tons?|tonnes?|years?|hours?|days?|minutes?))?"
    rf"|\b{_NUMBER_WORDS}(?:[- ]{_NUMBER_WORDS})*\b",
    re.IGNORECASE,
)
_NAME_SPAN = re.compile(r"\b[A-Z][a-zA-Z'’.-]+(?:\s+(?:of\s+|de\s+|van\s+|von\s+|al-)?[A-Z][a-zA-Z'’.-]+)*")
_SENTENCE_OPENERS = frozenset(
    "The A An He She It They We I This That These Those There His Her Its Their Our But And So Yet In On At "
    "After Before When While If As Meanwhile However Another Some Many Every Any Nobody Talks About".split()
)


def question_type(question: str) -> AnswerType:
    """The kind of answer a question asks for, or NONE when the wording does not say."""
    text = question.lower()
    for pattern, kind in _QUESTION_RULES:
        if pattern.search(text):
            return kind
    return AnswerType.NONE


def _is_year(span: str) -> bool:
    return bool(re.fullmatch(r"(?:1[0-9]|20)\d{2}s?", span))


def answer_spans(sentence: str, kind: AnswerType, question: str = "") -> list[tuple[int, int]]:
    """Character spans in ``sentence`` that hold an answer of ``kind`` not already in the question."""
    if kind is AnswerType.NONE:
        return []
    asked = question.lower()
    spans: list[tuple[int, int]] = []
    if kind is AnswerType.QUANTITY:
        for match in _QUANTITY_SPAN.finditer(sentence):
            value = match.group(0).strip()
            if _is_year(value) or value.lower() in asked or _DATE_SPAN.fullmatch(value):
                continue
            spans.append((match.start(), match.start() + len(match.group(0).rstrip())))
    elif kind is AnswerType.DATE:
        spans = [(m.start(), m.end()) for m in _DATE_SPAN.finditer(sentence) if m.group(0).lower() not in asked]
    else:
        for match in _NAME_SPAN.finditer(sentence):
            words = match.group(0).split()
            if match.start() == 0 and words[0] in _SENTENCE_OPENERS:
                words = words[1:]
                if not words:
                    continue
            name = " ".join(words)
            if name.lower() in asked or _DATE_SPAN.fullmatch(name):
                continue
            end = match.end()
            spans.append((end - len(name), end))
    return spans
