"""Sparse BM25 (Lucene variant) over one or more segments that share collection statistics.

Each segment stores raw postings (term -> documents and term frequencies) and document
lengths, not precomputed scores. The BM25 weight is computed at query time from statistics
summed over every live document of every segment (document count, average length, document
frequency), so an index split into a large base segment and small delta segments, with
deleted documents masked out, scores exactly like one index rebuilt from the live documents.
The formula is bm25s's "lucene" method (Kamphuis et al., ECIR 2020): a term contributes
idf * tf / (tf + k1 * (1 - b + b * dl / avgdl)).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

FILES = ("vocab.bin", "vocab_offsets.npy", "indptr.npy", "docs.npy", "tfs.npy", "doc_len.npy")


def idf_lucene(n_docs: int, df: int) -> float:
    """Lucene's BM25 IDF, log(1 + (N - df + 0.5) / (df + 0.5)), always positive."""
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def positive_best(ids: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    """Ids of the ``n`` best positive ``scores`` (sparse matches: every other document scores
    0), equal scores at the cut going to the lowest ids, in no particular order.

    The cut is decided by the scores and ids alone, so it is the same whatever order the
    matches arrive in and however the archive is split into segments (a partition over a dense
    array would keep an arbitrary one of several equal scores), and it never needs an array
    over the whole archive: the cost grows with the matches.
    """
    if n <= 0 or not len(ids):
        return np.zeros(0, dtype=np.int64)
    positive = scores > 0
    ids, scores = ids[positive], scores[positive]
    if len(ids) <= n:
        return ids.astype(np.int64)
    threshold = np.partition(-scores, n - 1)[n - 1]  # minus the n-th best score
    above = -scores < threshold
    tied = ids[-scores == threshold]
    wanted = n - int(above.sum())
    if wanted < len(tied):
        tied = np.partition(tied, wanted - 1)[:wanted]
    return np.concatenate([ids[above], tied]).astype(np.int64)


class Postings:
    """One segment's inverted index: a sorted vocabulary, posting lists and document lengths."""

    def __init__(
        self,
        vocab: bytes | Any,
        vocab_offsets: np.ndarray,
        indptr: np.ndarray,
        docs: np.ndarray,
        tfs: np.ndarray,
        doc_len: np.ndarray,
    ):
        self._vocab = vocab
        self._vocab_offsets = vocab_offsets
        self.indptr = indptr
        self.docs = docs
        self.tfs = tfs
        self.doc_len = doc_len

    def __len__(self) -> int:
        return len(self.doc_len)

    @classmethod
    def build(cls, corpus_tokens: Sequence[Sequence[str]]) -> Postings:
        """Postings of pre-tokenised documents (a term counted once per occurrence)."""
        provisional: dict[str, int] = {}
        term_ids: list[int] = []
        lengths = np.zeros(len(corpus_tokens), dtype=np.int64)
        for doc, tokens in enumerate(corpus_tokens):
            lengths[doc] = len(tokens)
            term_ids.extend(provisional.setdefault(t, len(provisional)) for t in tokens)
        words = sorted(provisional, key=lambda w: w.encode("utf-8"))  # UTF-8 order = code point order
        rank = np.empty(len(words), dtype=np.int64)
        rank[[provisional[w] for w in words]] = np.arange(len(words))
        n_docs = max(len(corpus_tokens), 1)
        terms = rank[np.asarray(term_ids, dtype=np.int64)] if term_ids else np.zeros(0, dtype=np.int64)
        docs = np.repeat(np.arange(len(corpus_tokens), dtype=np.int64), lengths)
        keys, tf = np.unique(terms * n_docs + docs, return_counts=True)
        encoded = [w.encode("utf-8") for w in words]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        indptr = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys // n_docs, minlength=len(words)), out=indptr[1:])
        return cls(
            b"".join(encoded),
            offsets,
            indptr,
            (keys % n_docs).astype(np.int32),
            np.minimum(tf, np.iinfo(np.uint16).max).astype(np.uint16),
            np.minimum(lengths, np.iinfo(np.int32).max).astype(np.int32),
        )

    def term_id(self, token: str) -> int:
        """Position of ``token`` in the sorted vocabulary, or -1 (binary search, nothing to load)."""
        key = token.encode("utf-8")
        low, high = 0, len(self._vocab_offsets) - 1
        while low < high:
            mid = (low + high) // 2
            word = self._vocab[self._vocab_offsets[mid] : self._vocab_offsets[mid + 1]]
            if word < key:
                low = mid + 1
            else:
                high = mid
        if (
            low < len(self._vocab_offsets) - 1
            and self._vocab[self._vocab_offsets[low] : self._vocab_offsets[low + 1]] == key
        ):
            return low
        return -1

    def vocabulary(self) -> Iterator[tuple[str, int]]:
        """Each term with the number of documents holding it."""
        offsets = self._vocab_offsets
        vocab = bytes(self._vocab)
        df = np.diff(np.asarray(self.indptr))
        for term in range(len(offsets) - 1):
            yield vocab[offsets[term] : offsets[term + 1]].decode("utf-8"), int(df[term])

    def postings(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        """Documents holding ``token`` and how often each holds it."""
        term = self.term_id(token)
        if term < 0:
            return self.docs[:0], self.tfs[:0]
        start, end = int(self.indptr[term]), int(self.indptr[term + 1])
        return self.docs[start:end], self.tfs[start:end]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "vocab.bin").write_bytes(bytes(self._vocab))
        for name, array in (
            ("vocab_offsets", self._vocab_offsets),
            ("indptr", self.indptr),
            ("docs", self.docs),
            ("tfs", self.tfs),
            ("doc_len", self.doc_len),
        ):
            np.save(folder / f"{name}.npy", array)

    @classmethod
    def load(cls, folder: Path) -> Postings:
        """Memory-mapped: only the posting lists a query touches are read from disk."""
        from retrieval.mapped import map_array, map_file

        arrays = {
            name: map_array(folder / f"{name}.npy") for name in ("vocab_offsets", "indptr", "docs", "tfs", "doc_len")
        }
        return cls(map_file(folder / "vocab.bin"), **arrays)


class BM25Index:
    """BM25 over segments laid end to end; document ids run across them in order."""

    def __init__(
        self,
        parts: Sequence[Postings] = (),
        deleted: Sequence[np.ndarray | None] | None = None,
        k1: float = 1.5,
        b: float = 0.75,
    ):
        self.k1, self.b = k1, b
        self.parts = list(parts)
        self._deleted = [self._mask(p, d) for p, d in zip(self.parts, deleted or [None] * len(self.parts))]
        self._offsets = np.cumsum([0] + [len(p) for p in self.parts]).tolist()
        self.size = self._offsets[-1]
        self.live = self.size - sum(int(m.sum()) for m in self._deleted if m is not None)
        total_len = sum(int(np.asarray(p.doc_len, dtype=np.int64).sum()) for p in self.parts)
        total_len -= sum(
            int(p.doc_len[m].astype(np.int64).sum()) for p, m in zip(self.parts, self._deleted) if m is not None
        )
        self.avgdl = total_len / self.live if self.live else 1.0
        self._deleted_ids = np.concatenate(
            [np.flatnonzero(m) + off for m, off in zip(self._deleted, self._offsets) if m is not None]
            or [np.zeros(0, dtype=np.int64)]
        )

    @staticmethod
    def _mask(part: Postings, deleted: np.ndarray | None) -> np.ndarray | None:
        if deleted is None or len(deleted) == 0:
            return None
        mask = np.zeros(len(part), dtype=bool)
        mask[np.asarray(deleted, dtype=np.int64)] = True
        return mask

    @classmethod
    def build(cls, corpus_tokens: Sequence[Sequence[str]], k1: float = 1.5, b: float = 0.75) -> BM25Index:
        return cls([Postings.build(corpus_tokens)], k1=k1, b=b)

    def _term(self, token: str) -> tuple[float, list[tuple[int, np.ndarray, np.ndarray, Postings]]]:
        """Global IDF of ``token`` and its live postings in each segment."""
        hits, df = [], 0
        for part, mask, offset in zip(self.parts, self._deleted, self._offsets):
            docs, tfs = part.postings(token)
            if len(docs) == 0:
                continue
            df += len(docs) if mask is None else int(len(docs) - mask[docs].sum())
            hits.append((offset, docs, tfs, part))
        return (idf_lucene(self.live, df) if df else 0.0), hits

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """A BM25 score for every document (zeros when no query token is in the vocabulary)."""
        out = np.zeros(self.size, dtype=np.float32)
        for token in query_tokens:  # a repeated query token counts again, as in bm25s
            idf, hits = self._term(token)
            for offset, docs, tfs, part in hits:
                tf = tfs.astype(np.float32)
                norm = self.k1 * ((1.0 - self.b) + self.b * part.doc_len[docs] / np.float32(self.avgdl))
                out[offset + docs] += np.float32(idf) * tf / (tf + norm)  # ids are unique within a list
        if len(self._deleted_ids):
            out[self._deleted_ids] = 0.0
        return out

    @property
    def deleted_ids(self) -> np.ndarray:
        """Ids of deleted documents (masked out of every result)."""
        return self._deleted_ids

    def matches(self, query_tokens: list[str], allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The live documents holding any query token (ascending ids) and their BM25 scores,
        equal bit for bit to ``scores(query_tokens)[ids]`` (same float32 sums in the same
        order); every other document scores 0. Cost grows with the postings read, not the corpus.

        ``allowed`` (a boolean per document) keeps only the documents a filter admits; the
        scores, IDF included, stay those of the whole archive, so filtering never reorders."""
        terms = []
        for token in query_tokens:  # a repeated query token counts again, as in ``scores``
            idf, hits = self._term(token)
            terms.extend((idf, offset, docs, tfs, part) for offset, docs, tfs, part in hits)
        if not terms:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        found = [docs.astype(np.int64) + offset for _, offset, docs, _, _ in terms]
        ids, where = np.unique(np.concatenate(found), return_inverse=True)
        out = np.zeros(len(ids), dtype=np.float32)
        start = 0
        for idf, _offset, docs, tfs, part in terms:
            tf = tfs.astype(np.float32)
            norm = self.k1 * ((1.0 - self.b) + self.b * part.doc_len[docs] / np.float32(self.avgdl))
            out[where[start : start + len(docs)]] += np.float32(idf) * tf / (tf + norm)
            start += len(docs)
        if len(self._deleted_ids):
            live = ~np.isin(ids, self._deleted_ids)
            ids, out = ids[live], out[live]
        if allowed is not None:
            keep = allowed[ids]
            ids, out = ids[keep], out[keep]
        return ids, out

    def _lookup(self, token: str, ids: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """For chosen documents: the term's IDF, whether each holds it, and its BM25 weight there."""
        idf, hits = self._term(token)
        present = np.zeros(len(ids), dtype=bool)
        weight = np.zeros(len(ids), dtype=np.float32)
        for offset, docs, tfs, part in hits:
            inside = (ids >= offset) & (ids < offset + len(part))
            local = ids[inside] - offset
            at = np.minimum(np.searchsorted(docs, local), len(docs) - 1)  # a posting list is sorted by doc
            found = docs[at] == local
            tf = tfs[at[found]].astype(np.float32)
            norm = self.k1 * ((1.0 - self.b) + self.b * part.doc_len[local[found]] / np.float32(self.avgdl))
            where = np.flatnonzero(inside)[found]
            present[where] = True
            weight[where] = np.float32(idf) * tf / (tf + norm)
        return idf, present, weight

    def scores_for(self, query_tokens: list[str], ids: np.ndarray) -> np.ndarray:
        """BM25 scores of chosen documents only: cost grows with len(ids), not the corpus."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros(len(ids), dtype=np.float32)
        for token in query_tokens:
            out += self._lookup(token, ids)[2]
        if len(self._deleted_ids):
            out[np.isin(ids, self._deleted_ids)] = 0.0
        return out

    def term_presence(self, tokens: list[str], ids: np.ndarray) -> np.ndarray:
        """Which of ``tokens`` each chosen document holds: a (len(ids), len(tokens)) boolean matrix."""
        ids = np.asarray(ids, dtype=np.int64)
        return np.stack([self._lookup(t, ids)[1] for t in tokens], axis=1) if tokens else np.zeros((len(ids), 0), bool)

    def idf(self, token: str) -> float:
        """Lucene IDF of a token from its document frequency over live documents (0 when unknown)."""
        return self._term(token)[0]

    def top(self, query_tokens: list[str], n: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Indices and scores of the ``n`` best (allowed) documents with a positive score, best first."""
        # Equal scores at the cut go to the lowest ids (``positive_best``), as they rank.
        hits, scores = self.matches(query_tokens, allowed)
        if len(hits) > n:
            keep = np.isin(hits, positive_best(hits, scores, n), assume_unique=True)
            hits, scores = hits[keep], scores[keep]
        order = np.lexsort((hits, -scores))
        return hits[order], scores[order]

    def save(self, folder: Path) -> None:
        """Write a single-segment index (what a segment build produces)."""
        if len(self.parts) != 1:
            raise ValueError("only a single-segment BM25 index can be saved; save each segment's postings")
        self.parts[0].save(folder)

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        return cls([Postings.load(folder)])
