"""Dense vectors in FAISS: exact inner-product search (vectors are L2-normalised, so cosine)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class VectorIndex:
    """A FAISS index over sentence vectors; ``kind`` is "flat" (exact) or "hnsw" (approximate)."""

    def __init__(self, index, kind: str = "flat"):
        self._index = index
        self.kind = kind

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "flat", hnsw_m: int = 32, ef_search: int = 64) -> "VectorIndex":
        import faiss

        dim = vectors.shape[1]
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efSearch = ef_search
        else:
            raise ValueError(f"unknown vector index kind {kind!r}; use flat or hnsw")
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index, kind)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices and cosine scores of the ``n`` nearest sentences, best first."""
        if self.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, idx = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), min(n, self.size))
        keep = idx[0] >= 0
        return idx[0][keep].astype(np.int64), scores[0][keep]

    def scores_for(self, query: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Exact cosine scores of chosen sentences (for fusing candidates found by BM25)."""
        if len(ids) == 0:
            return np.zeros(0, dtype=np.float32)
        vectors = np.vstack([self._index.reconstruct(int(i)) for i in ids])
        return vectors @ query.reshape(-1).astype(np.float32)

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str = "flat") -> "VectorIndex":
        import faiss

        return cls(faiss.read_index(str(path)), kind)
