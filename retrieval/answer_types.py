"""Answer types without a language model: what kind of answer a question wants, and where a
sentence holds one.

"how many" wants a quantity, "when" a date, "who" a person, "where" a place, and "what/which
+ noun" whatever that noun names ("what year" a date, "which team" a name, "what city" a
place). Detection is by rules over the question's wording and the sentence's surface
(numbers, month names, capitalised names), which costs microseconds a sentence; spaCy's
named-entity model would cost a model download outside the package registry and about
10 ms a sentence on this hardware, which the reranker cannot afford for 150 candidates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import Enum
from functools import lru_cache


class AnswerType(str, Enum):
    QUANTITY = "quantity"
    DATE = "date"
    PERSON = "person"  # people and named organisations: answered by a capitalised name
    PLACE = "place"
    NONE = "none"


# Nouns after "what"/"which" that say which kind of answer is wanted ("which team", "what city").
_HEAD_NOUNS: dict[AnswerType, str] = {
    AnswerType.QUANTITY: (
        r"percentage|percent|number|amount|proportion|share|size|cost|price|population|rate|"
        r"temperature|distance|length|height|speed|weight|sum|total|figure|age"
    ),
    AnswerType.DATE: r"year|date|day|month|time|century|decade|era|period|season",
    AnswerType.PERSON: (
        r"person|man|woman|men|women|people|president|leader|official|officials|minister|secretary|"
        r"general|spokesperson|spokesman|spokeswoman|company|companies|firm|group|organi[sz]ation|"
        r"agency|team|club|player|actor|actress|band|artist|author|writer|poet|scientist|"
        r"king|queen|emperor|ruler|party|union|coach|singer|musician|composer|architect|director|"
        r"chief|executive|judge|governor|mayor|senator|lawmaker|diplomat|ambassador|envoy|"
        r"newspaper|network|broadcaster|channel|airline|manufacturer|bank|court|"
        r"quarterback|defender|individual|candidate|winner|founder|inventor|philosopher|"
        r"physicist|chemist|mathematician|economist|historian|theologian|explorer|commander"
    ),
    AnswerType.PLACE: (
        r"country|countries|city|cities|state|states|town|towns|region|place|places|nation|"
        r"continent|island|river|area|county|province|district|village|street|airport|port|"
        r"sea|ocean|lake|mountain|location|colony|venue|stadium|capital|border|territory|"
        r"neighbourhood|neighborhood|body of water"
    ),
}
_HEAD_RULES = [
    (re.compile(rf"^(?:what|which)\s+(?:\w+\s+)?(?:{nouns})\b"), kind) for kind, nouns in _HEAD_NOUNS.items()
]
_LEADING_RULES: list[tuple[re.Pattern, AnswerType]] = [
    (
        re.compile(r"^how (many|much|long|old|far|large|big|tall|high|often|fast|heavy|deep|wide)\b"),
        AnswerType.QUANTITY,
    ),
    (re.compile(r"^(when|since when|until when)\b"), AnswerType.DATE),
    (re.compile(r"^(who|whom|whose)\b"), AnswerType.PERSON),
    (re.compile(r"^(where|from where)\b"), AnswerType.PLACE),
    (
        re.compile(r"^(what|which) is the name of (the )?(\w+ )?(person|man|woman|company|group|team|player|leader)\b"),
        AnswerType.PERSON,
    ),
    (re.compile(r"^in (what|which) (year|month|decade|century)\b"), AnswerType.DATE),
    (
        re.compile(
            r"^(in|to|from|at) (what|which) (\w+ )?(country|city|state|town|region|place|area|county|province|district|village|nation|continent|island|river|port|capital)\b"
        ),
        AnswerType.PLACE,
    ),
    (re.compile(r"^by how (many|much)\b"), AnswerType.QUANTITY),
]
# A question word, possibly after a leading preposition or clause ("After the war, who ...").
_WH = re.compile(r"\b(how|when|who|whom|whose|where|what|which|since when)\b")

MONTHS = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
WEEKDAYS = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DATE_SPAN = re.compile(
    rf"\b(?:{MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTHS}(?:,?\s+\d{{4}})?"
    rf"|{MONTHS}\s+\d{{4}}|(?:in |since |by |until |from |of |early |late |mid-?)?(?:1[0-9]|20)\d{{2}}s?"
    rf"|{WEEKDAYS}|\d{{1,2}}(?:st|nd|rd|th) century|(?:yesterday|today|tomorrow|last (?:week|month|year)))\b"
    rf"|'\d0s\b",
)
_NUMBER_WORDS = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|hundreds|thousand|thousands|dozen|dozens|million|millions|billion|half|a third|a quarter|twice)"
_QUANTITY_SPAN = re.compile(
    rf"(?:[$€£]\s?)?\b\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?(?:\s?(?:%|percent|per cent|million|billion|trillion))?"
    rf"|(?:[$€£]\s?)?\b\d+(?:\.\d+)?(?!\d|st\b|nd\b|rd\b|th\b)(?:\s?(?:%|percent|per cent|million|billion|trillion|km|miles?|kilometers?|kilometres?|metres?|meters?|feet|kg|tons?|tonnes?|years?|hours?|days?|minutes?))?"
    rf"|\b{_NUMBER_WORDS}(?:[- ]{_NUMBER_WORDS})*\b",
    re.IGNORECASE,
)
_WORD_BEFORE = re.compile(r"\b([A-Za-z]+)\s+$")
# Capitalised words that lead an amount rather than name a thing: "About 1,700 soldiers".
_AMOUNT_LEADS = frozenset(
    "About Around Nearly Almost Roughly Some Over Under More Fewer Another Only Just Up At "
    "By To From In Of On Since Until With Without And Or But The A An".split()
)
_CLOCK = re.compile(r"\s?(?:[ap]\.m\.|[ap]m\b)|:\d\d", re.IGNORECASE)
# Capitalised words in a run, accented ones included ("Félix Sánchez", "Luiz Inácio Lula da Silva").
_UPPER = "A-ZÀ-ÖØ-Þ"
_NAME_WORD = rf"[{_UPPER}](?:[^\W\d_]|['’.-])+"
_NAME_SPAN = re.compile(
    rf"\b{_NAME_WORD}(?:\s+(?:of\s+|de\s+|da\s+|do\s+|dos\s+|del\s+|van\s+|von\s+|bin\s+|al-)?{_NAME_WORD})*"
)
_NON_SPACE = re.compile(r"\S+")
_WORD_CHARS = re.compile(r"\w+")
_QUOTES = " \"'“‘(—–-"
_SENTENCE_OPENERS = frozenset(
    "The A An He She It They We I This That These Those There His Her Its Their Our But And So Yet In On At "
    "After Before When While If As Meanwhile However Another Some Many Every Any Nobody Talks About Most "
    "Other Others Both Each One Two Three Several Such Since During Under Although Though Despite "
    "All More Few With Without For From Until Once Over Among Between Through Including According Asked "
    "Earlier Later Now Then Still Also Instead Last Next Here What Why How Where Who Which Whether Not No Yes "
    "Even Only Just Thousands Hundreds Dozens Millions Officials Police Analysts Authorities Experts Residents "
    "Protesters Lawmakers Critics Witnesses Investigators Prosecutors Researchers Scientists Doctors Rescuers "
    "Troops Soldiers Workers People Voters Fans Supporters Leaders Sources Shares Prices".split()
)
# Capitalised words that never name a person or place: months and weekdays ("[[February]]").
_NOT_NAMES = frozenset(
    "January February March April May June July August September October November December "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec "
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
)
# A pronoun with a verb run into it ("That’s", "It's", "I'm", "We're"): a capital only because it opens.
_CONTRACTION = re.compile(
    r"^(?:[A-Za-z]+(?:['’](?:m|re|ve|ll|d)|n['’]t)|(?:It|That|There|Here|What|He|She|Let|Who|Where|This)['’]s)$"
)
# Adjectives of nationality or direction before a noun ("Russian troops", "Western officials").
_ADJECTIVE = re.compile(r"^[A-Z][a-z]+(?:ian|ean|ican|ese|ish|ern)$")
_DOTTED_END = re.compile(r"(?:\b[A-Za-z]\.){2,}$")  # U.S. keeps its last full stop


def question_type(question: str) -> AnswerType:
    """The kind of answer a question asks for, or NONE when the wording does not say.

    The question word that leads the question decides: in "What body of water lay west of
    the empire when Genghis Khan died?" the "when" belongs to a clause, not to the answer.
    """
    text = " ".join(question.lower().split())
    found = _WH.search(text)
    if not found:
        return AnswerType.NONE
    # Keep a leading preposition ("in which year", "by how many") with its question word.
    start = found.start()
    before = text[:start].split()
    if before and before[-1] in {"in", "to", "from", "at", "by", "on", "during", "of", "for", "since", "until"}:
        start -= len(before[-1]) + 1
    lead = text[start:]
    for pattern, kind in _LEADING_RULES:
        if pattern.search(lead):
            return kind
    for pattern, kind in _HEAD_RULES:
        if pattern.search(lead):
            return kind
    return AnswerType.NONE


def _is_year(span: str) -> bool:
    return bool(re.fullmatch(r"(?:1[0-9]|20)\d{2}s?", span))


def answer_spans(sentence: str, kind: AnswerType, question: str = "") -> list[tuple[int, int]]:
    """Character spans in ``sentence`` that hold an answer of ``kind`` not already in the question."""
    return list(_iter_spans(sentence, kind, question))


def has_answer_span(sentence: str, kind: AnswerType, question: str = "") -> bool:
    """``bool(answer_spans(...))``, stopping at the first span (the reranker's type feature)."""
    return next(_iter_spans(sentence, kind, question), None) is not None


def _iter_spans(sentence: str, kind: AnswerType, question: str) -> Iterator[tuple[int, int]]:
    """The spans of ``answer_spans``, in order, one at a time."""
    if kind is AnswerType.NONE:
        return
    asked = question.lower()
    if kind is AnswerType.QUANTITY:
        for match in _QUANTITY_SPAN.finditer(sentence):
            value = match.group(0).strip()
            if _is_year(value) or value.lower() in asked or _DATE_SPAN.fullmatch(value):
                continue
            if _CLOCK.match(sentence, match.end()) or sentence[max(0, match.start() - 1) : match.start()] == ":":
                continue  # a time of day ("1 p.m.", "4:51") is not an amount
            before = _WORD_BEFORE.search(sentence, 0, match.start())
            if before and before.group(1)[0].isupper() and before.group(1) not in _AMOUNT_LEADS:
                continue  # a number naming something ("Route 49", "Super Bowl 50") is not an amount
            yield match.start(), match.start() + len(match.group(0).rstrip())
    elif kind is AnswerType.DATE:
        yield from ((m.start(), m.end()) for m in _DATE_SPAN.finditer(sentence) if m.group(0).lower() not in asked)
    else:
        asked_words = _words_of(asked)
        for match in _NAME_SPAN.finditer(sentence):
            # Word spans inside the match; titles the question already gives are trimmed
            # ("Pentagon Press Secretary John Kirby" answers "who is the Pentagon press secretary?").
            words = [m.span() for m in _NON_SPACE.finditer(sentence, match.start(), match.end())]
            # A capitalised opener ("The", "We") at the start of the sentence or of a quote is no name.
            opens = not sentence[: match.start()].strip(_QUOTES) or sentence[: match.start()].rstrip()[-1:] in _QUOTES
            first = sentence[words[0][0] : words[0][1]].rstrip(",")
            if opens and (first in _SENTENCE_OPENERS or (len(words) == 1 and first.endswith("ly"))):
                words = words[1:]  # "Shortly after, ..." opens with an adverb
            while words and _no_name_edge(sentence[words[0][0] : words[0][1]], asked_words):
                words = words[1:]
            while words and _no_name_edge(sentence[words[-1][0] : words[-1][1]], asked_words):
                words = words[:-1]
            if not words:
                continue
            start, end = words[0][0], words[-1][1]
            if len(words) == 1 and _ADJECTIVE.match(sentence[start:end]) and _lower_word_follows(sentence, end):
                continue
            if not _DOTTED_END.search(sentence, start, end):
                end = _trim_end(sentence, start, end)
            name = sentence[start:end]
            if not name or _DATE_SPAN.fullmatch(name):
                continue
            yield start, end


def _no_name_edge(word: str, asked_words: frozenset[str]) -> bool:
    """Whether a word at the edge of a capitalised run is left out of the name: the question
    gives it, or it is a month, a weekday or a contraction."""
    bare = word.rstrip(".,;:")
    return _asked(word, asked_words) or bare in _NOT_NAMES or bool(_CONTRACTION.match(bare))


def _lower_word_follows(sentence: str, end: int) -> bool:
    after = sentence[end : end + 30].split()
    return bool(after) and after[0][:1].islower()


def _trim_end(sentence: str, start: int, end: int) -> int:
    """The end of a name without a trailing full stop, quote or possessive ("Twitter's")."""
    if sentence[end - 2 : end] in ("'s", "’s") and end - 2 > start:
        end -= 2
    while end > start and sentence[end - 1] in ".'’":
        end -= 1
    return end


def _asked(word: str, asked_words: frozenset[str]) -> bool:
    """Whether every part of a word already appears in the question."""
    return _words_of(word.lower()) <= asked_words


@lru_cache(maxsize=4096)
def _words_of(text: str) -> frozenset[str]:
    """The ``\\w+`` words of a lower-cased text: a question's are read once for all its
    candidates, and a name word's once for every sentence it appears in."""
    return frozenset(_WORD_CHARS.findall(text))
