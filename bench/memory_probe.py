"""Resident memory of a loaded index while it answers questions, in a process of its own.

Run by bench/measure.py as ``python -m bench.memory_probe INDEX_DIR QUERY_DIR``. The questions'
vectors are precomputed, so the model (about 90 MB of torch weights) is not in the process.

Two figures: the index's own resident memory (every page of the store's memory-mapped files
that answering touched, plus the memory the index allocates when loaded and searched), and the
whole process's growth, which adds what answering allocates: the answering core's per-question
buffers (today a dense BM25 score array over all sentences and passages, and the arrays
partitioned and sorted from it), which the allocator keeps after they are freed, and caches.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def rss() -> dict[str, int]:
    """Resident set in bytes, in total and split into anonymous and file-backed pages."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            fields[key] = int(value.split()[0]) * 1024
    return fields


class PrecomputedEncoder:
    """Returns the vector computed beforehand for each known question."""

    def __init__(self, questions: list[str], vectors: np.ndarray):
        self._vectors = dict(zip(questions, vectors))
        self.dim = vectors.shape[1]

    def encode(self, texts, progress=None) -> np.ndarray:
        return np.vstack([self._vectors[" ".join(t.split())] for t in texts]).astype(np.float32)


def main(index_dir: str, query_dir: str) -> None:
    import faiss  # noqa: F401  (imported before the baseline: library code is not the index)

    from retrieval.answer import Answerer
    from retrieval.config import Settings
    from retrieval.search_index import load_search_index
    from retrieval.store import IndexStore
    from retrieval.tokenize import Tokenizer

    questions = json.loads((Path(query_dir) / "q.json").read_text(encoding="utf-8"))
    vectors = np.load(Path(query_dir) / "q.npy")
    encoder = PrecomputedEncoder([" ".join(q.split()) for q in questions], vectors)
    before = rss()
    index = load_search_index(IndexStore(Path(index_dir)))
    loaded = rss()
    tokenizer = Tokenizer()
    for question, vector in zip(questions, vectors):  # what the index does for a question
        tokens = tokenizer(question)
        found = {*index.bm25.top(tokens, 100)[0].tolist(), *index.vectors.search(vector, 100)[0].tolist()}
        found.update(index.sentences_of_chunks(index.chunk_bm25.top(tokens, 5)[0]).tolist())
        for i in found:
            index.texts[i], index.article_of(i)
    searched = rss()
    answerer = Answerer(index, encoder, Settings.load(overrides={"model": {"name": index.manifest["model"]}}))
    for question in questions:
        answerer.ask(question)
    after = rss()
    sentences = index.manifest["counts"]["sentences"]
    index_bytes = (after["RssFile"] - before["RssFile"]) + (searched["RssAnon"] - before["RssAnon"])
    grown = after["VmRSS"] - before["VmRSS"]
    print(
        json.dumps(
            {
                "sentences": sentences,
                "rss_after_load_bytes": loaded["VmRSS"] - before["VmRSS"],
                "index_resident_bytes": index_bytes,
                "index_anon_bytes": searched["RssAnon"] - before["RssAnon"],
                "index_file_bytes": after["RssFile"] - before["RssFile"],
                "rss_after_questions_bytes": grown,
                "answering_anon_bytes": after["RssAnon"] - searched["RssAnon"],
                "bytes_per_sentence": round(index_bytes / sentences, 1),
                "process_bytes_per_sentence": round(grown / sentences, 1),
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
