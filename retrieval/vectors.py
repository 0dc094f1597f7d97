"""Dense vectors per segment, searched together: exact for small segments, HNSW over 8-bit codes for large.

Vectors are L2-normalised, so inner product is cosine. A small segment keeps float32
vectors in a memory-mapped .npy and is scanned exactly with numpy (FAISS is then never
imported, which keeps a cold start on a small archive fast). A large segment keeps an
HNSW graph over 8-bit scalar-quantised codes (faiss IndexHNSWSQ): about 650 bytes a
vector instead of 1,536, at a recall@10 measured by the benchmark (bench/README.md).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

FLAT = "flat"
HNSW = "hnsw"
KINDS = (FLAT, HNSW)
FLAT_FILE = "vectors.npy"
HNSW_FILE = "vectors.faiss"
# HNSW parameters. On all-MiniLM-L6-v2 vectors of news sentences (many near-identical, so the
# 10th and 11th neighbours are often within 0.002 cosine) a graph built with efConstruction 40
# gave recall@10 0.72 at efSearch 64; 256/256 gives 0.98 at 0.2 ms a query on 100k (bench/README.md).
HNSW_M = 32
EF_CONSTRUCTION = 256
EF_SEARCH = 256


_blas = None


def one_blas_thread():
    """A context running numpy's BLAS on one thread (a no-op without threadpoolctl).

    A question's matrix-vector products (a flat segment's scan, the candidates' cosines) are
    big enough for OpenBLAS to split over its thread pool, and on two shared cores that is
    slower, not faster: 8 ms instead of 0.3 ms for 10k x 384 on the benchmark machine, and
    the pool's threads keep spinning afterwards, slowing the next question's encoding (the
    10k p50 halved with this). One thread computes every row's dot product the same way, so
    the scores are the same bit for bit.
    """
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas = ThreadpoolController().select(user_api="blas")
        except Exception:  # not installed, or a BLAS it cannot drive: leave the pool as it is
            _blas = False
    return _blas.limit(limits=1) if _blas else contextlib.nullcontext()


class FlatVectors:
    """Exact search over float32 vectors held in (memory-mapped) numpy."""

    kind = FLAT

    def __init__(self, vectors: np.ndarray):
        self.vectors = vectors

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def search(self, query: np.ndarray, n: int, deleted: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        with one_blas_thread():
            scores = self.vectors @ query
        if deleted is not None:
            scores[deleted] = -np.inf
        n = min(n, len(scores))
        if n <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        idx = np.argpartition(-scores, n - 1)[:n]
        idx = idx[np.lexsort((idx, -scores[idx]))]
        idx = idx[np.isfinite(scores[idx])]
        return idx.astype(np.int64), scores[idx].astype(np.float32)

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.vectors[ids], dtype=np.float32)

    def save(self, folder: Path) -> None:
        np.save(folder / FLAT_FILE, np.ascontiguousarray(self.vectors, dtype=np.float32))

    @classmethod
    def load(cls, folder: Path) -> FlatVectors:
        from retrieval.mapped import map_array

        return cls(map_array(folder / FLAT_FILE))


class HnswVectors:
    """Approximate search: an HNSW graph over 8-bit scalar-quantised vectors (FAISS)."""

    kind = HNSW

    def __init__(self, index):
        self.index = index

    @classmethod
    def build(
        cls, vectors: np.ndarray, m: int = HNSW_M, ef_construction: int = EF_CONSTRUCTION, ef_search: int = EF_SEARCH
    ) -> HnswVectors:
        import faiss

        index = faiss.IndexHNSWSQ(vectors.shape[1], faiss.ScalarQuantizer.QT_8bit, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search
        data = np.ascontiguousarray(vectors, dtype=np.float32)
        index.train(data)
        index.add(data)
        return cls(index)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    def search(self, query: np.ndarray, n: int, deleted: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        n = min(n, len(self))
        params = None
        if deleted is not None:
            ids = np.flatnonzero(deleted).astype(np.int64)
            selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(len(ids), faiss.swig_ptr(ids)))
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=self.index.hnsw.efSearch)
        scores, idx = self.index.search(query.reshape(1, -1), n, params=params)
        keep = idx[0] >= 0
        return idx[0][keep].astype(np.int64), scores[0][keep]

    def search_selected(self, query: np.ndarray, n: int, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Graph search returning only vectors ``keep`` marks (a FAISS bitmap id selector)."""
        import faiss

        bits = np.packbits(keep.astype(np.uint8), bitorder="little")  # must outlive the search
        selector = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))  # n counts bytes
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(self.index.hnsw.efSearch, n))
        scores, idx = self.index.search(query.reshape(1, -1), min(n, len(self)), params=params)
        found = idx[0] >= 0
        return idx[0][found].astype(np.int64), scores[0][found]

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        return self.index.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def save(self, folder: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(folder / HNSW_FILE))

    @classmethod
    def load(cls, folder: Path, ef_search: int | None = None) -> HnswVectors:
        """Memory-mapped: opening is instant and pages are shared between processes and evictable.
        ``ef_search``: nodes a search visits, whatever the segment was built with (None: as built)."""
        import faiss

        try:
            index = faiss.read_index(str(folder / HNSW_FILE), faiss.IO_FLAG_MMAP_IFC)
        except RuntimeError:  # a FAISS build without zero-copy mapping reads the file instead
            index = faiss.read_index(str(folder / HNSW_FILE))
        if ef_search is not None:
            index.hnsw.efSearch = int(ef_search)
        return cls(index)


# Up to this many allowed vectors in an HNSW segment, a filtered search scores them exactly
# (decoding 8-bit codes and one matrix product: a few ms for 20k); above it, the graph is
# searched with the filter as an id selector, which stays accurate when the filter admits
# a good share of the segment. A graph walk that must skip most nodes loses recall, so
# narrow periods take the exact path.
EXACT_FILTERED = 20_000


def search_allowed(part, query: np.ndarray, n: int, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` nearest vectors of one segment among those ``keep`` marks."""
    chosen = np.flatnonzero(keep).astype(np.int64)
    if not len(chosen) or n <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    if part.kind == FLAT and len(chosen) > len(part) // 2:
        return part.search(query, n, ~keep)  # most rows anyway: one scan with the rest masked
    if part.kind == HNSW and len(chosen) > EXACT_FILTERED:
        return part.search_selected(query, n, keep)
    with one_blas_thread():
        scores = part.reconstruct(chosen) @ query
    top = min(n, len(chosen))
    idx = np.argpartition(-scores, top - 1)[:top]
    idx = idx[np.lexsort((chosen[idx], -scores[idx]))]
    return chosen[idx], scores[idx].astype(np.float32)


def build_part(
    vectors: np.ndarray, kind: str, m: int = HNSW_M, ef_construction: int = EF_CONSTRUCTION, ef_search: int = EF_SEARCH
):
    """One segment's vector index of the given kind."""
    if kind == FLAT:
        return FlatVectors(np.ascontiguousarray(vectors, dtype=np.float32))
    if kind == HNSW:
        return HnswVectors.build(vectors, m=m, ef_construction=ef_construction, ef_search=ef_search)
    raise ValueError(f"unknown vector index kind {kind!r}; use one of: {', '.join(KINDS)}")


def load_part(folder: Path, kind: str, ef_search: int | None = None):
    """One segment's vector index as written; ``ef_search`` sets an HNSW graph's search breadth."""
    if kind == FLAT:
        return FlatVectors.load(folder)
    if kind == HNSW:
        return HnswVectors.load(folder, ef_search)
    raise ValueError(f"unknown vector index kind {kind!r}; use one of: {', '.join(KINDS)}")


class VectorIndex:
    """Cosine search over segments laid end to end; deleted sentences are never returned."""

    def __init__(self, parts: Sequence = (), deleted: Sequence[np.ndarray | None] | None = None):
        self.parts = list(parts)
        self._deleted = []
        for part, ids in zip(self.parts, deleted or [None] * len(self.parts)):
            mask = None
            if ids is not None and len(ids):
                mask = np.zeros(len(part), dtype=bool)
                mask[np.asarray(ids, dtype=np.int64)] = True
            self._deleted.append(mask)
        self._offsets = np.cumsum([0] + [len(p) for p in self.parts])
        self.kind = "+".join(sorted({p.kind for p in self.parts})) or FLAT

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = FLAT, **params) -> VectorIndex:
        return cls([build_part(vectors, kind, **params)])

    @property
    def size(self) -> int:
        return int(self._offsets[-1])

    def search(self, query: np.ndarray, n: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Indices and cosine scores of the ``n`` nearest sentences, best first; with ``allowed``
        (a boolean per sentence) the ``n`` nearest of the allowed ones, however few they are."""
        query = np.ascontiguousarray(np.asarray(query, dtype=np.float32).reshape(-1))
        found_ids, found_scores = [], []
        for part, mask, offset in zip(self.parts, self._deleted, self._offsets):
            if not len(part):
                continue
            if allowed is None:
                ids, scores = part.search(query, n, mask)
            else:
                keep = np.array(allowed[offset : offset + len(part)], dtype=bool)
                if mask is not None:
                    keep &= ~mask
                ids, scores = search_allowed(part, query, n, keep)
            found_ids.append(ids + offset)
            found_scores.append(scores)
        if not found_ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        ids, scores = np.concatenate(found_ids), np.concatenate(found_scores)
        order = np.lexsort((ids, -scores))[:n]
        return ids[order], scores[order]

    def scores_for(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Cosine scores of chosen sentences (for fusing candidates found by BM25)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros(len(ids), dtype=np.float32)
        if len(ids) == 0:
            return out
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        segment = np.searchsorted(self._offsets, ids, side="right") - 1
        for number in np.unique(segment):
            chosen = segment == number
            vectors = self.parts[number].reconstruct(ids[chosen] - self._offsets[number])
            with one_blas_thread():
                out[chosen] = vectors @ query
        return out
