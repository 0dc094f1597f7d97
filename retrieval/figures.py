"""What a figure in a sentence counts: its value with scale and currency read, and the noun it
measures ("5,000 troops", "$6.6 billion" = 6,600,000,000 USD, "1,000 daily flights").

Rules over the words around the number, not a parser: the counted noun in English news follows
the number ("5,000 U.S. troops", "458 aircraft and about 1,000 daily flights"), after modifiers
that capital letters or a short list give away. A figure that is not a count is named as such
(a duration, an age, a year, a percentage, an ordinal) so it never joins a count's timeline:
"within the next 12 months" says how long, not how many.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class FigureKind(str, Enum):
    COUNT = "count"  # a number of things, or an amount of money
    DURATION = "duration"
    AGE = "age"
    YEAR = "year"
    PERCENT = "percent"
    ORDINAL = "ordinal"
    VAGUE = "vague"  # "hundreds of soldiers" states no figure


@dataclass(frozen=True)
class Figure:
    """A figure as stated in a sentence, its value and what it counts ("" when unknown)."""

    stated: str
    kind: FigureKind
    value: float | None = None
    counts: str = ""  # the group key: "troop", "flight", "USD"
    label: str = ""  # what it counts as people read it: "troops", "daily flights", "USD"
    rate: str = ""  # "daily", "weekly", "additional": 1,000 daily flights is not 1,000 flights


_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9, "m": 1e6, "k": 1e3}
_UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
}  # fmt: skip
_VAGUE = frozenset("hundreds thousands millions billions dozens several many few".split())
# Shares of something else: "half of the town", "a third", "twice as many".
_SHARES = frozenset("half third quarter twice".split())
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
_CURRENCY_WORDS = {
    "dollar": "USD", "euro": "EUR", "pound": "GBP", "sterling": "GBP", "yen": "JPY", "yuan": "CNY",
    "rupee": "INR", "ruble": "RUB", "rouble": "RUB", "hryvnia": "UAH", "lira": "TRY",
}  # fmt: skip
_TIME_UNITS = frozenset("second minute hour day week month year decade century night weekend".split())
_PERCENT = re.compile(r"^\s*(?:%|percent\b|per cent\b|percentage points?\b)", re.IGNORECASE)
_RATES = {"daily": "daily", "weekly": "weekly", "monthly": "monthly", "annual": "annual", "yearly": "annual"}
_RATE_AFTER = re.compile(r"^\s*(?:a|per|each|every)\s+(day|week|month|year)\b", re.IGNORECASE)
_RATE_OF = {"day": "daily", "week": "weekly", "month": "monthly", "year": "annual"}
# An increment is not a total: "300 additional people have died" does not revise "1,569 people".
_MORE_BEFORE = re.compile(r"\b(?:another|additional|extra)\s*$", re.IGNORECASE)
_MORE = frozenset("more additional extra".split())
# Words before a noun that make its count a rate or an increment ("daily flights", "more troops"),
# and every currency a figure can be counted in: the timeline reads questions with the same tables.
RATE_WORDS = {**_RATES, **dict.fromkeys(_MORE, "additional")}
CURRENCIES = frozenset({*_SYMBOLS.values(), *_CURRENCY_WORDS.values()})
# Words between a number and its noun that qualify without naming what is counted.
_MODIFIERS = frozenset(
    "more additional extra new other further fewer about nearly some roughly around over than "
    "active armed combat military civilian local foreign american russian ukrainian british "
    "total estimated reported confirmed registered".split()
)
# Words that cannot be the counted noun: the number's phrase ended before any noun.
_NOT_NOUNS = frozenset(
    "of to in on at for from by with as and or but than that which who is are was were be been "
    "being has have had will would could should may might can did do does said says the a an "
    "this these those its their his her our into over under after before since during until "
    "per each every up down out off so if not no it they he she we i you more most".split()
)
# Nouns that count the same thing under another name; the key is what the group is called.
_SYNONYMS = {
    "soldier": "troop", "serviceman": "troop", "servicemen": "troop", "servicemember": "troop",
    "personnel": "troop", "force": "troop", "person": "people", "individual": "people",
    "resident": "resident", "death": "death", "fatality": "death", "casualty": "casualty",
    "plane": "aircraft", "jet": "aircraft", "airplane": "aircraft",
}  # fmt: skip
_IRREGULAR = {"people": "people", "men": "man", "women": "woman", "children": "child", "aircraft": "aircraft"}
_WORD = re.compile(r"[A-Za-z][A-Za-z.'’-]*")
_AGE_BEFORE = re.compile(r"\b(?:aged?|ages)\s*$", re.IGNORECASE)
_AGE_AFTER = re.compile(r"^(?:-year-old|\s*years?[- ]old)\b", re.IGNORECASE)
_YEAR = re.compile(r"^(?:1[0-9]|20)\d{2}s?$")
_ORDINAL_AFTER = re.compile(r"^(?:st|nd|rd|th)\b")
# "the number of measles cases in X has risen to": the counted noun stands before the figure.
_NUMBER_OF = re.compile(r"\b(?:number|count|total|tally)\s+of\s+((?:[A-Za-z][\w-]*\s+){0,3}[A-Za-z][\w-]*)\b(?=\s|$|,)")
_NOUN_PHRASE_END = frozenset(
    "in on at for from by has have had is are was were to with who that which across over".split()
)


def singular(word: str) -> str:
    """A noun's singular by the common English endings ("troops" -> "troop", "casualties" -> "casualty")."""
    word = word.lower().strip(".'’")
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def count_key(noun: str, rate: str = "") -> str:
    """The group a figure's count belongs to: its noun's key, after its rate when it has one."""
    return f"{rate} {noun_key(noun)}" if rate else noun_key(noun)


def noun_key(word: str) -> str:
    """The group a counted noun belongs to: "soldiers" and "troops" are both "troop"."""
    one = singular(word)
    return _SYNONYMS.get(one, one)


def read_figure(sentence: str, start: int, end: int) -> Figure:
    """The figure stated at ``sentence[start:end]`` (a quantity span), read with its neighbours."""
    stated = sentence[start:end]
    before, after = sentence[:start], sentence[end:]
    number = _number(stated)
    if _YEAR.match(stated.strip()):
        return Figure(stated, FigureKind.YEAR, number)
    if _ORDINAL_AFTER.match(after):
        return Figure(stated, FigureKind.ORDINAL, number)
    if _PERCENT.match(after) or re.search(r"%|percent|per cent", stated, re.IGNORECASE):
        return Figure(stated, FigureKind.PERCENT, number)
    if _AGE_BEFORE.search(before) or _AGE_AFTER.match(after):
        return Figure(stated, FigureKind.AGE, number)
    words = [w.group(0) for w in _WORD.finditer(stated)]
    if any(w.lower() in _SHARES for w in words):
        return Figure(stated, FigureKind.PERCENT, number)
    if number is None and words and words[-1].lower() in _VAGUE:
        return Figure(stated, FigureKind.VAGUE)
    currency = next((code for symbol, code in _SYMBOLS.items() if symbol in stated), "")
    rest = after
    # A scale word right after the span ("6.6 billion" where the span stopped at "6.6").
    scale = re.match(r"^(?:\s*(thousand|million|billion|trillion)\b|(bn|m|k)\b)", rest, re.IGNORECASE)
    if scale and number is not None:
        number *= _SCALES[(scale.group(1) or scale.group(2)).lower()]
        stated += rest[: scale.end()]
        rest = rest[scale.end() :]
    if words and singular(words[-1]) in _TIME_UNITS:
        return Figure(stated, FigureKind.DURATION, number)
    rate, noun = _counted_noun(rest)
    if not noun:
        noun = _noun_before(before)  # "the number of measles cases ... has risen to 87"
    if _MORE_BEFORE.search(before) and not rate:
        rate = "additional"
    if not currency and noun:
        currency = _CURRENCY_WORDS.get(singular(noun), "")
    if currency:
        return Figure(stated, FigureKind.COUNT, number, currency, currency, rate)
    if noun and singular(noun) in _TIME_UNITS:
        return Figure(stated, FigureKind.DURATION, number)
    if noun:
        label = f"{rate} {noun.lower()}" if rate else noun.lower()
        return Figure(stated, FigureKind.COUNT, number, count_key(noun, rate), label, rate)
    return Figure(stated, FigureKind.COUNT, number, "", "", rate)


def _number(stated: str) -> float | None:
    """The value a span states, scale words included; None when it states none exactly."""
    text = stated.lower().replace(",", "")
    digits = re.search(r"\d+(?:\.\d+)?", text)
    scale = 1.0
    for word, factor in _SCALES.items():
        if len(word) > 2 and re.search(rf"\b{word}\b", text):
            scale = factor
            break
    if digits:
        return float(digits.group(0)) * scale
    total, current = 0.0, 0.0
    seen = False
    for word in re.findall(r"[a-z]+", text):
        if word in _UNITS:
            if word == "hundred":
                current = max(current, 1) * 100
            else:
                current += _UNITS[word]
            seen = True
        elif word in _SCALES and len(word) > 2:
            total += max(current, 1) * _SCALES[word]
            current = 0.0
            seen = True
        elif word in _VAGUE:
            return None
    return total + current if seen else None


def _counted_noun(after: str) -> tuple[str, str]:
    """The rate ("daily") and the noun a number counts, read from the words after it."""
    rate = ""
    if re.match(r"^\s*[,;:.)!?]", after):
        return rate, ""  # "risen to 87, the county said": the clause ended with the number
    for word in _WORD.findall(after)[:5]:
        bare = word.strip(".'’")
        lower = bare.lower()
        if not bare:
            continue
        if lower in _RATES:
            rate = _RATES[lower]
            continue
        if lower in _MORE and not rate:
            rate = "additional"
            continue
        if bare[0].isupper() or lower in _MODIFIERS or "-" in bare:
            continue  # "U.S. soldiers", "more troops", "Russian-backed fighters"
        if lower in _NOT_NOUNS:
            return rate, ""
        noun = bare
        tail = after[after.find(word) + len(word) :]
        every = _RATE_AFTER.match(tail)
        if every and not rate:
            rate = _RATE_OF[every.group(1).lower()]
        return rate, noun
    return rate, ""


def _noun_before(before: str) -> str:
    """The noun of the last "number of ..." phrase before a figure: its last word before a
    preposition or verb ("number of measles cases in Brannock County" counts cases)."""
    matches = list(_NUMBER_OF.finditer(before))
    if not matches:
        return ""
    words: list[str] = []
    for word in matches[-1].group(1).split():
        if word.lower() in _NOUN_PHRASE_END:
            break
        words.append(word)
    # "number of people killed": the participle describes the noun before it.
    nouns = [w for w in words if not w.lower().endswith("ed")] or words
    noun = nouns[-1] if nouns else ""
    return noun if noun and noun.lower() not in _NOT_NOUNS else ""
