"""Word-piece ids of plain text, the same as a BERT `tokenizers.Tokenizer` gives, several times faster.

The soft term match (retrieval/term_match.py) needs the word pieces of every candidate
sentence it has not seen before, about 200 a question. The tokenizers library spends most of
its time on per-character alignment bookkeeping that the ids never need (~40-60 us for a
150-character sentence on the benchmark machine). For BERT's uncased pipeline (BertNormalizer
lowercasing, BertPreTokenizer, WordPiece) a text made only of printable ASCII (and
punctuation that normalisation leaves alone) needs no more than: lowercase, split into runs of
letters and digits and single punctuation marks, and look each word up. A word's pieces do not
depend on its neighbours, so they are asked of the tokenizer once and remembered. Text with
anything else in it (accented letters, CJK, control characters, "[" that could open a special
token such as "[SEP]") goes to the tokenizer as before, so the ids are always the tokenizer's.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections.abc import Sequence
from itertools import chain

import numpy as np

WORD_CACHE_SIZE = 500_000
# Runs of letters and digits, or one punctuation mark, of lowercased text in which the only
# white space is " \t\n\r" (BertPreTokenizer splits on white space and isolates punctuation).
_WORDS = re.compile(r"[a-z0-9]+|[^a-z0-9 \t\n\r]")
# Characters outside the fast path when ASCII: controls (removed by the normaliser) and "[".
_ASCII_OTHER = re.compile(r"[^\t\n\r\x20-\x5a\x5c-\x7e]")


class WordPieces:
    """Word-piece ids (no special tokens) of texts, for an uncased BERT WordPiece tokenizer."""

    def __init__(self, tokenizer, lock: threading.Lock):
        self._tokenizer = tokenizer
        self._lock = lock
        self._words: dict[str, tuple[int, ...]] = {}
        self._safe: dict[str, bool] = {}

    @classmethod
    def for_tokenizer(cls, tokenizer, lock: threading.Lock) -> WordPieces | None:
        """The fast path for ``tokenizer``, or None when it is not an uncased BERT WordPiece one."""
        try:
            config = json.loads(tokenizer.to_str())
        except (AttributeError, TypeError, ValueError):
            return None
        normalizer = config.get("normalizer") or {}
        model = config.get("model") or {}
        uncased_bert = (
            normalizer.get("type") == "BertNormalizer"
            and normalizer.get("lowercase") is True
            and normalizer.get("clean_text") is True
            and normalizer.get("strip_accents") in (None, True)
            and (config.get("pre_tokenizer") or {}).get("type") == "BertPreTokenizer"
            and model.get("type") == "WordPiece"
            and all("[" in token.get("content", "[") for token in config.get("added_tokens") or [])
        )
        return cls(tokenizer, lock) if uncased_bert else None

    def _plain(self, text: str) -> bool:
        """Whether the tokenizer would only lowercase ``text`` and split it as ``_WORDS`` does."""
        if text.isascii():
            return _ASCII_OTHER.search(text) is None
        for char in set(text):
            if char.isascii():
                if _ASCII_OTHER.match(char):
                    return False
                continue
            safe = self._safe.get(char)
            if safe is None:
                # Punctuation that lowercasing and NFD accent stripping leave as it is: isolated
                # by the pre-tokenizer like ASCII punctuation ("’", "“", "—", "…").
                safe = self._safe[char] = (
                    unicodedata.category(char).startswith("P")
                    and char.lower() == char
                    and unicodedata.normalize("NFD", char) == char
                )
            if not safe:
                return False
        return True

    def _word(self, word: str) -> tuple[int, ...]:
        ids = self._words.get(word)
        if ids is None:
            with self._lock:
                ids = tuple(self._tokenizer.encode(word, add_special_tokens=False).ids)
            if len(self._words) >= WORD_CACHE_SIZE:
                self._words.clear()
            self._words[word] = ids
        return ids

    def encode(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Word-piece ids of each text, exactly ``tokenizer.encode_batch(texts, add_special_tokens=False)``'s."""
        out: list[np.ndarray | None] = [None] * len(texts)
        slow = []
        known = self._words.__getitem__
        for position, text in enumerate(texts):
            if not self._plain(text):
                slow.append(position)
                continue
            words = _WORDS.findall(text.lower())
            try:
                out[position] = np.fromiter(chain.from_iterable(map(known, words)), dtype=np.int64)
            except KeyError:  # a word not seen before
                out[position] = np.fromiter(chain.from_iterable([self._word(w) for w in words]), dtype=np.int64)
        if slow:
            with self._lock:
                encodings = self._tokenizer.encode_batch([texts[i] for i in slow], add_special_tokens=False)
            for position, encoding in zip(slow, encodings):
                out[position] = np.asarray(encoding.ids, dtype=np.int64)
        return out  # type: ignore[return-value]
