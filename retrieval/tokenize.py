"""BM25 tokens that match how people ask: "U.S." = "US", "1,700" = "1700", troops = troop."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

# Dotted acronyms, numbers with thousands separators or decimals, then words.
_TOKEN = re.compile(
    r"(?:[A-Za-z]\.){2,}"  # U.S. U.K. (the last dot may be missing: "U.S")
    r"|(?:[A-Za-z]\.[A-Za-z])\b"
    r"|\d{1,3}(?:,\d{3})+(?:\.\d+)?"
    r"|\d+(?:\.\d+)?(?:[a-z]{1,2})?"  # 3.5, 82nd, 1990s
    r"|[^\W\d_]+",
    re.UNICODE,
)
STOPWORDS = frozenset(
    """
a about above after again against all am an and any are aren't as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
us many much s t d ll m o re ve y don didn doesn isn wasn weren won wouldn shouldn couldn also says said
""".split()
)
# Lowercase pronoun "us" is a stopword; "US"/"U.S." is a country and must survive.
PRONOUN_LIKE = frozenset({"us", "it"})


class Tokenizer:
    """Case-folds, normalises acronyms and numbers, drops stopwords, stems with Snowball."""

    version = "tok-1"

    def __init__(self, stem: bool = True):
        self.stem = stem
        self._stemmer = Stemmer.Stemmer("english") if stem else None
        self._stem_cached = lru_cache(maxsize=200_000)(self._stem_word)

    def _stem_word(self, word: str) -> str:
        return self._stemmer.stemWord(word) if self._stemmer else word

    def tokens(self, text: str) -> list[str]:
        text = unicodedata.normalize("NFKC", text)
        out: list[str] = []
        for match in _TOKEN.finditer(text):
            raw = match.group(0)
            if "." in raw and raw[0].isalpha():  # acronym: U.S. -> us
                out.append(raw.replace(".", "").lower())
                continue
            if raw[0].isdigit():
                out.append(raw.replace(",", ""))
                continue
            lower = raw.lower()
            if lower in PRONOUN_LIKE and raw.isupper() and len(raw) > 1:
                out.append(lower)
                continue
            if lower in STOPWORDS or len(lower) < 2:
                continue
            out.append(self._stem_cached(lower))
        return out

    def __call__(self, text: str) -> list[str]:
        return self.tokens(text)
