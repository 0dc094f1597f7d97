"""Misspelled question words corrected against the archive's own vocabulary.

"how many peple died in hurricain ian?" searches for "people" and "hurricane": a word whose
stem no sentence holds is replaced by the closest stem the archive does hold (optimal string
alignment distance, so a swap of two letters is one edit: 1 for short words, 2 from seven
letters; rapidfuzz's C++ search over the stems that share its first letter; ties go to the
stem more sentences hold), shown as the archive spells it. Words the archive knows, English
words, stop words, numbers and short words are never touched, so a correctly spelled question
is searched exactly as asked.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from rapidfuzz.distance import OSA, Levenshtein
from rapidfuzz.process import extract

from retrieval.config import PROJECT_ROOT
from retrieval.tokenize import STOPWORDS, Tokenizer

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
MIN_LETTERS = 4  # shorter words are too often names and abbreviations
LONG_WORD = 7  # from this length two edits are allowed
# English words are never corrected, even when the archive does not hold them ("truss" is not a
# misspelled "trust", "jabs" not "jobs"): the whole words of the shipped models' (BERT uncased)
# vocabulary and symspellpy's English frequency dictionary (82,765 words, inflections included).
ENGLISH_WORDS = PROJECT_ROOT / "models" / "reranker-minilm-l6-qa" / "vocab.txt"
ENGLISH_DICTIONARY = ("symspellpy", "frequency_dictionary_en_82_765.txt")


@lru_cache(maxsize=1)
def model_words() -> frozenset[str]:
    """The whole English words of the shipped models' vocabulary (30k, read in milliseconds)."""
    try:
        return frozenset(w for w in ENGLISH_WORDS.read_text(encoding="utf-8").splitlines() if w.isalpha())
    except OSError:
        return frozenset()


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Lower-case English words (read once, about 0.5 s, on the first question word the archive
    does not hold)."""
    words: set[str] = set(model_words())
    try:
        package, name = ENGLISH_DICTIONARY
        listing = resources.files(package).joinpath(name).read_text(encoding="utf-8")
        words.update(line.split(" ", 1)[0].lower() for line in listing.splitlines() if line)
    except (OSError, ModuleNotFoundError):
        pass
    return frozenset(words)


@dataclass(frozen=True)
class Correction:
    """The question as searched, and the words replaced (misspelled -> as the archive spells it)."""

    question: str
    replaced: tuple[tuple[str, str], ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.replaced)


class SpellingCorrector:
    """Corrects question words against one index generation's vocabulary of stems.

    ``vocabulary`` yields (stem, number of sentences holding it); ``surface(stem, near)`` gives
    a word of the archive with that stem as written there, the closest to ``near`` when several
    are ("hurricane" for "hurrican"), or None."""

    def __init__(
        self,
        vocabulary: Callable[[], Iterable[tuple[str, int]]],
        known: Callable[[str], bool],
        surface: Callable[..., str | None],
        tokenizer: Tokenizer | None = None,
        english: Callable[[], frozenset[str]] = frozenset,
    ):
        self._english = english
        self._vocabulary = vocabulary
        self._known = known
        self._surface = surface
        self.tokenizer = tokenizer or Tokenizer()
        self._by_letter: dict[str, tuple[list[str], list[int]]] | None = None
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Group the stems by first letter (once per index generation; about 0.1 s at 100k sentences)."""
        if self._by_letter is not None:
            return
        self._english()  # loaded once; warm-up pays for it, not the first misspelled question
        with self._lock:
            if self._by_letter is not None:
                return
            groups: dict[str, tuple[list[str], list[int]]] = defaultdict(lambda: ([], []))
            for stem, count in self._vocabulary():
                if len(stem) >= MIN_LETTERS - 1 and stem.isalpha():
                    words, counts = groups[stem[0]]
                    words.append(stem)
                    counts.append(count)
            self._by_letter = dict(groups)

    def correct(self, question: str) -> Correction:
        replaced: list[tuple[str, str]] = []
        parts: list[str] = []
        last = 0
        for match in _WORD.finditer(question):
            word = match.group(0)
            better = self._better(word)
            if better is None:
                continue
            parts.append(question[last : match.start()])
            parts.append(better)
            last = match.end()
            replaced.append((word, better))
        if not replaced:
            return Correction(question)
        parts.append(question[last:])
        return Correction("".join(parts), tuple(replaced))

    def _better(self, word: str) -> str | None:
        lower = word.lower()
        if len(lower) < MIN_LETTERS or lower in STOPWORDS or not lower.isalpha():
            return None
        tokens = self.tokenizer(lower)
        if len(tokens) != 1 or self._known(tokens[0]) or lower in self._english():
            return None
        stem = tokens[0]
        self.prepare()
        words, counts = (self._by_letter or {}).get(stem[0], ([], []))
        if not words:
            return None
        limit = 2 if len(lower) >= LONG_WORD else 1
        found = extract(stem, words, scorer=OSA.distance, score_cutoff=limit, limit=None)
        if not found:
            return None
        _, _, index = min(found, key=lambda hit: (hit[1], -counts[hit[2]], hit[0]))
        shown = self._surface(words[index], lower)
        if shown is None:
            return None
        return shown if word[:1].isupper() else shown.lower()


def surface_word(
    stem: str,
    search: Callable[[list[str], int], tuple],
    text_of: Callable[[int], str],
    tokenizer,
    near: str = "",
) -> str | None:
    """A word of the archive with ``stem`` as written in the first sentences holding it: the
    one closest to ``near`` (the misspelled word) when several are ("rate", not "rating")."""
    ids, _ = search([stem], 5)
    found = {
        word
        for sentence_id in ids
        for word in _WORD.findall(text_of(int(sentence_id)))
        if tokenizer(word.lower()) == [stem]
    }
    if not found:
        return None
    return min(found, key=lambda w: (Levenshtein.distance(w.lower(), near.lower()), w.lower() != w, w))


def corrector_for(
    index, tokenizer: Tokenizer, english: Callable[[], frozenset[str]] = english_words
) -> SpellingCorrector | None:
    """A corrector over ``index``'s vocabulary, or None for a store that does not list it."""
    vocabulary = getattr(index, "vocabulary", None)
    if vocabulary is None:
        return None
    return SpellingCorrector(
        vocabulary,
        known=lambda stem: index.idf(stem) > 0,
        surface=lambda stem, near="": surface_word(stem, index.lexical_top, index.text, tokenizer, near),
        tokenizer=tokenizer,
        english=english,
    )
