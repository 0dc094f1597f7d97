"""When the best evidence gives different figures for the same thing on different dates or from
different sources, lay them out as a dated timeline, newest first.

Figures are compared like with like: each is read for what it counts (retrieval/figures.py),
and only figures of one count ("troops", "USD", "daily flights") about the same asked things
make a timeline. Durations, ages, years, percentages and ordinals never join one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from retrieval.answer_types import AnswerType
from retrieval.figures import CURRENCIES, RATE_WORDS, Figure, FigureKind, count_key, noun_key, read_figure, singular
from retrieval.types import Evidence, TimelineEntry

_WORD = re.compile(r"[a-z]+")
WINDOW = 3
QUESTION_WORDS = frozenset(
    "how many much what number the a an of to in on at for did do does is are was were has have "
    "will would be been being by with from as about there their its it".split()
)
# Questions about money name it in these words; a question that does asks for a currency group.
_MONEY_WORDS = frozenset("cost costs worth price value paid pay spend spent dollar dollars money fund funding".split())


@dataclass(frozen=True)
class _Candidate:
    evidence: Evidence
    figure: Figure
    covered: frozenset[str]  # the question's words the sentence or its article's title names


def _words(text: str) -> list[str]:
    """Lower-case words with plurals made singular, so "troops" meets "troop" and "U.S." is "us"."""
    return [singular(w) for w in _WORD.findall(text.lower().replace(".", ""))]


def _near_question(text: str, start: int, end: int, asked: set[str]) -> bool:
    """Whether a question word stands within WINDOW words of the figure at ``text[start:end]``:
    "gusts of up to 40 mph" says nothing about "how many residents were evacuated?"."""
    nearby = _words(text[:start])[-WINDOW:] + _words(text[end:])[:WINDOW]
    return not asked or bool(asked & set(nearby))


def _asked_group(question: str, groups: set[str]) -> str | None:
    """The count the question names: "how many troops" asks for troops, "how much ... worth" for money."""
    words = _WORD.findall(question.lower().replace(".", ""))
    keys = {noun_key(w) for w in words}
    for i, word in enumerate(words[:-1]):
        if word in RATE_WORDS:
            keys.add(count_key(words[i + 1], RATE_WORDS[word]))
    named = [g for g in groups if g in keys]
    if named:
        return max(named, key=len)  # "daily flight" over "flight"
    if keys & _MONEY_WORDS:
        money = [g for g in groups if g in CURRENCIES]
        if len(money) == 1:
            return money[0]
    return None


def build_timeline(
    evidence: list[Evidence], kind: AnswerType, margin: float, question: str = ""
) -> list[TimelineEntry]:
    """Dated figures of one count from the strongest evidence when they differ; empty when they agree.

    Evidence scoring within ``margin`` of the best sentence is "best evidence" ([answer]
    timeline_margin; reranker scores are sums of weighted features, so a margin in score
    units means the same whatever the best score is). The count is the one the question
    names, else the best sentence's; a figure joins only when its sentence or article title
    names the asked names the best figure's sentence names ("U.S.", "Poland"), so 40,000
    troops under NATO command never meets 5,000 U.S. troops sent to Poland."""
    if kind is not AnswerType.QUANTITY or not evidence:
        return []
    asked = set(_words(question)) - QUESTION_WORDS
    floor = evidence[0].score - margin
    candidates = []
    for item in evidence:
        if item.score < floor:
            continue
        figure = _first_count(item, asked)
        if figure is not None:
            covered = frozenset(asked & set(_words(f"{item.title} {item.text}")))
            candidates.append(_Candidate(item, figure, covered))
    if not candidates:
        return []
    group = _asked_group(question, {c.figure.counts for c in candidates}) or candidates[0].figure.counts
    same = [c for c in candidates if c.figure.counts == group]
    if len(same) < 2:
        return []
    anchor = same[0]
    noun = group.split()[-1]
    # The asked names the best figure's sentence gives ("U.S.", "Poland") must be named by the
    # others too; other words may differ ("died" against "killed").
    about = {w for w in anchor.covered & _names(anchor.evidence.text) if noun_key(w) != noun}
    same = [c for c in same if about <= c.covered]
    values = {c.figure.value for c in same}
    provenance = {(c.evidence.date, c.evidence.source) for c in same}
    if len(values) < 2 or len(provenance) < 2:
        return []
    label = _label(question, same)
    entries = [
        TimelineEntry(
            date=c.evidence.date,
            source=c.evidence.source,
            figure=c.figure.stated if c.figure.counts in CURRENCIES else f"{c.figure.stated} {label}",
            text=c.evidence.text,
            counts=label,
            value=c.figure.value,
        )
        for c in same
    ]
    return sorted(entries, key=lambda e: e.date or "", reverse=True)


def _names(text: str) -> set[str]:
    """The capitalised words of a sentence as ``_words`` spells them: "U.S." is "us"."""
    return {singular(w.lower().replace(".", "")) for w in re.findall(r"\b[A-Z][A-Za-z.]*", text)}


def _first_count(item: Evidence, asked: set[str]) -> Figure | None:
    """The first highlighted figure in a sentence that counts something, near a question word.

    A figure that names no noun takes the one before it in the sentence ("2,900 flights on
    Monday and about 2,600 on Tuesday")."""
    previous: Figure | None = None
    for start, end in item.highlights:
        figure = read_figure(item.text, start, end)
        if figure.kind is not FigureKind.COUNT or figure.value is None:
            continue
        if not figure.counts and previous is not None:
            figure = Figure(figure.stated, figure.kind, figure.value, previous.counts, previous.label, previous.rate)
        if figure.counts:
            previous = figure
            if _near_question(item.text, start, end, asked):
                return figure
    return None


def _label(question: str, same: list[_Candidate]) -> str:
    """What the timeline counts in the question's word when it names one ("troops"), else the
    best figure's ("soldiers")."""
    group = same[0].figure.counts
    if group in CURRENCIES:
        return group
    words = _WORD.findall(question.lower().replace(".", ""))
    noun = group.split()[-1]
    for word in words:
        if noun_key(word) == noun:
            rate = same[0].figure.rate
            return f"{rate} {word}" if rate else word
    return same[0].figure.label
