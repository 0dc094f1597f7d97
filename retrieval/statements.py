"""Whether a sentence states something: questions and fragments are not evidence.

"Who has won the most World Cups?" matches a World Cup question word for word and answers
nothing; neither does a stray headline or a caption ("Photos: the flood"). Such sentences
rank after every statement, so they are shown only when nothing else matches.
"""

from __future__ import annotations

import re
from itertools import islice

_CLOSERS = "\"'”’)]» "
_WORD = re.compile(r"[A-Za-z][A-Za-z'’.-]*")
# A statement has at least this many words; below it, a sentence is a fragment.
MIN_WORDS = 4
# Minor words a headline leaves in lower case ("Russia attacks Ukraine as Putin warns").
_MINOR = frozenset("a an the and or but of to in on at for by with as from into vs".split())


def is_question(text: str) -> bool:
    """Whether the sentence asks rather than states: it ends with a question mark."""
    return text.rstrip(_CLOSERS).endswith("?")


def is_fragment(text: str) -> bool:
    """Whether the sentence is too short to state anything, or a headline without a full stop."""
    if len(list(islice(_WORD.finditer(text), MIN_WORDS))) < MIN_WORDS:  # reads only the first words
        return True
    if text.rstrip(_CLOSERS)[-1:] in ".!…:;":
        return False
    # No closing punctuation: a headline or caption when every word but the minor ones is capitalised.
    major = [w for w in _WORD.findall(text) if w.lower() not in _MINOR]
    return all(w[0].isupper() for w in major)


def is_statement(text: str) -> bool:
    """Whether the sentence can stand as evidence: neither a question nor a fragment."""
    return not is_question(text) and not is_fragment(text)


def statements_first(ranked: list[tuple[int, float]], text_of) -> list[tuple[int, float]]:
    """The ranking with every question and fragment moved after the statements, order otherwise kept."""
    statements, others = [], []
    for item in ranked:
        (statements if is_statement(text_of(item[0])) else others).append(item)
    return statements + others
