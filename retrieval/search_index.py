"""What a segment holds, how it is written, and how a generation's segments load as one SearchIndex.

Sentence, passage and article ids run across the segments in the order the generation lists
them, so the answering core sees one index: ``bm25``, ``chunk_bm25`` and ``vectors`` score
and search all segments with deleted articles masked out, and ``texts[i]``,
``sentence_article``, ``sentence_chunk`` and ``article_of(i)`` use the same global ids.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.backend import Lexical, Manifest
from retrieval.bm25 import BM25Index, Postings, positive_best
from retrieval.filters import Allowed, FacetCache
from retrieval.mapped import map_file
from retrieval.store import Generation, IndexStore, SentenceTexts, StoreError
from retrieval.types import Filters
from retrieval.vectors import VectorIndex, load_part

ARTICLES = "articles.jsonl"
ARTICLE_OFFSETS = "article_offsets.npy"
ARTICLE_TEXTS = "article_texts.jsonl"
SENTENCE_ARRAYS = ("sentence_article", "sentence_position", "sentence_chunk")


class JsonLines:
    """Records stored one JSON object a line, with byte offsets: parsed only when read."""

    def __init__(self, blob: bytes | np.ndarray, offsets: np.ndarray):
        self._blob = blob
        self._offsets = offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> dict[str, Any]:
        return json.loads(self._blob[self._offsets[i] : self._offsets[i + 1]])

    @staticmethod
    def write(path: Path, records: Sequence[dict[str, Any]]) -> np.ndarray:
        lines = [(json.dumps(r, ensure_ascii=False) + "\n").encode("utf-8") for r in records]
        path.write_bytes(b"".join(lines))
        offsets = np.zeros(len(lines) + 1, dtype=np.int64)
        np.cumsum([len(line) for line in lines], out=offsets[1:])
        return offsets

    @classmethod
    def load(cls, path: Path, offsets: np.ndarray) -> JsonLines:
        return cls(map_file(path), offsets)


class Concatenated:
    """Several sequences read as one, by global position."""

    def __init__(self, parts: Sequence[Sequence]):
        self.parts = list(parts)
        self._starts = np.cumsum([0] + [len(p) for p in self.parts]).tolist()

    def __len__(self) -> int:
        return self._starts[-1]

    def __getitem__(self, i: int):
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        part = bisect.bisect_right(self._starts, i) - 1
        return self.parts[part][i - self._starts[part]]

    def __iter__(self) -> Iterator:
        for part in self.parts:
            for i in range(len(part)):
                yield part[i]


class WordPieceTable:
    """Each sentence's word-piece ids (of its embedding text, by the term matcher's tokenizer
    named ``tag``), kept in the segment so that no question tokenises a candidate sentence."""

    FLAT, OFFSETS = "word_pieces.npy", "word_piece_offsets.npy"

    def __init__(self, flat: np.ndarray, offsets: np.ndarray, tag: str):
        self.flat, self.offsets, self.tag = flat, offsets, tag

    @classmethod
    def build(cls, pieces: Sequence[np.ndarray], tag: str) -> WordPieceTable:
        offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in pieces], out=offsets[1:])
        flat = np.concatenate(list(pieces)) if len(pieces) else np.zeros(0, dtype=np.int64)
        # A BERT vocabulary (30,522 pieces) fits 16 bits: half the bytes of int32.
        dtype = np.uint16 if not len(flat) or int(flat.max()) < 2**16 else np.int32
        return cls(flat.astype(dtype), offsets, tag)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> np.ndarray:
        return self.flat[self.offsets[i] : self.offsets[i + 1]]

    def save(self, folder: Path) -> None:
        np.save(folder / self.FLAT, self.flat)
        np.save(folder / self.OFFSETS, self.offsets)

    @classmethod
    def load(cls, folder: Path, tag: str) -> WordPieceTable:
        return cls(np.load(folder / cls.FLAT), np.load(folder / cls.OFFSETS), tag)


@dataclass
class SegmentData:
    """Everything one new segment holds, in memory, before it is written."""

    records: list[dict[str, Any]]
    article_texts: list[str]
    sentences: list[str]
    arrays: dict[str, np.ndarray]
    bm25: Postings
    chunk_bm25: Postings
    vectors: Any  # FlatVectors or HnswVectors
    params: dict[str, Any] = field(default_factory=dict)
    word_pieces: WordPieceTable | None = None

    def save(self, folder: Path) -> dict[str, Any]:
        """Write the segment's files into ``folder`` (``IndexStore.write_segment`` calls this)."""
        return write_segment_files(folder, self)


def write_segment_files(folder: Path, data: SegmentData) -> dict[str, Any]:
    """Write a segment's files into ``folder``; returns its description for the manifests."""
    np.save(folder / ARTICLE_OFFSETS, JsonLines.write(folder / ARTICLES, data.records))
    # Full texts are read only when segments are merged or rebuilt, never at query time.
    with (folder / ARTICLE_TEXTS).open("w", encoding="utf-8") as handle:
        for record, text in zip(data.records, data.article_texts):
            handle.write(json.dumps({"id": record["id"], "text": text}, ensure_ascii=False) + "\n")
    SentenceTexts.build(data.sentences).save(folder)
    for name in SENTENCE_ARRAYS:
        np.save(folder / f"{name}.npy", np.asarray(data.arrays[name], dtype=np.int32))
    data.bm25.save(folder / "bm25")
    data.chunk_bm25.save(folder / "chunk_bm25")
    data.vectors.save(folder)
    if data.word_pieces is not None:
        data.word_pieces.save(folder)
    dates = sorted(r["date"] for r in data.records if r.get("date"))
    return {
        **({"word_pieces": data.word_pieces.tag} if data.word_pieces is not None else {}),
        "articles": len(data.records),
        "sentences": len(data.sentences),
        "chunks": len(data.chunk_bm25),
        "vectors": data.vectors.kind,
        "dim": data.vectors.dim,
        "params": data.params,
        "dates": {"min": dates[0] if dates else None, "max": dates[-1] if dates else None},
    }


@dataclass
class SearchIndex:
    """A loaded generation: article records, sentences, and the BM25 and vector indexes over them."""

    manifest: dict[str, Any]
    articles: Sequence[dict[str, Any]]
    texts: Any  # SentenceTexts or Concatenated of them
    sentence_article: np.ndarray
    sentence_position: np.ndarray
    sentence_chunk: np.ndarray
    bm25: BM25Index
    vectors: VectorIndex
    chunk_bm25: BM25Index | None = None
    # Every segment's WordPieceTable (one sequence by global id) when all keep them by one tokenizer.
    pieces: Sequence[np.ndarray] | None = None
    pieces_tag: str | None = None

    def __post_init__(self):
        self._article = lru_cache(maxsize=4096)(self.articles.__getitem__)
        self._facets = FacetCache()  # dates and sources, read on the first filtered question

    @property
    def size(self) -> int:
        """Sentence ids run from 0 to size - 1 (deleted sentences keep their ids until a merge)."""
        return len(self.sentence_article)

    def article_of(self, sentence_id: int) -> dict[str, Any]:
        return self._article(int(self.sentence_article[sentence_id]))

    def sentences_of_chunks(self, chunk_ids: np.ndarray) -> np.ndarray:
        """Ids of every sentence in the given passages (a passage's sentences are consecutive)."""
        chunk_ids = np.asarray(chunk_ids, dtype=np.int64)
        starts = np.searchsorted(self.sentence_chunk, chunk_ids, side="left")
        ends = np.searchsorted(self.sentence_chunk, chunk_ids, side="right")
        return np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)] or [np.zeros(0, dtype=np.int64)])

    # The read side of the store seam (retrieval/backend.py, SentenceSearch).

    def describe(self) -> Manifest:
        return Manifest.from_dict(self.manifest)

    @property
    def live_sentences(self) -> int:
        return self.bm25.size

    def lexical(self, tokens: list[str], n: int, allowed: Allowed | None = None) -> Lexical:
        return _lexical(self.bm25, tokens, n, allowed.sentences if allowed is not None else None)

    def lexical_top(self, tokens: list[str], n: int, allowed: Allowed | None = None) -> tuple[np.ndarray, np.ndarray]:
        return self.bm25.top(tokens, n, allowed.sentences if allowed is not None else None)

    def dense_top(self, vector: np.ndarray, n: int, allowed: Allowed | None = None) -> tuple[np.ndarray, np.ndarray]:
        return self.vectors.search(vector, n, allowed.sentences if allowed is not None else None)

    def dense_scores(self, vector: np.ndarray, ids: np.ndarray) -> np.ndarray:
        return self.vectors.scores_for(vector, ids)

    def passages(self, tokens: list[str], n: int, allowed: Allowed | None = None) -> Lexical:
        return _lexical(self.chunk_bm25, tokens, n, allowed.chunks if allowed is not None else None)

    def sentences_of_passages(self, passage_ids: np.ndarray, allowed: Allowed | None = None) -> np.ndarray:
        ids = self.sentences_of_chunks(passage_ids)
        return ids[allowed.sentences[ids]] if allowed is not None else ids

    def passage_of(self, ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.sentence_chunk)[ids] if len(ids) else np.zeros(0, dtype=np.int64)

    def idf(self, token: str) -> float:
        return self.bm25.idf(token)

    def vocabulary(self) -> list[tuple[str, int]]:
        """Every stem of the sentences' BM25 vocabulary with the number of sentences holding
        it, deleted ones included (for correcting misspelled question words)."""
        counts: dict[str, int] = {}
        for part in self.bm25.parts:
            for stem, count in part.vocabulary():
                counts[stem] = counts.get(stem, 0) + count
        return list(counts.items())

    def term_presence(self, tokens: list[str], ids: np.ndarray) -> np.ndarray:
        return self.bm25.term_presence(tokens, ids)

    def word_pieces(self, ids: np.ndarray, tag: str) -> list[np.ndarray] | None:
        """The stored word pieces of the chosen sentences by the tokenizer ``tag`` names; None
        when a segment keeps none or another tokenizer's (the term matcher then tokenises)."""
        if self.pieces is None or tag != self.pieces_tag:
            return None
        return [self.pieces[int(i)] for i in ids]

    def text(self, sentence_id: int) -> str:
        return self.texts[sentence_id]

    def allowed(self, filters: Filters) -> Allowed:
        return self._facets.get(self).allowed(filters, self.bm25.deleted_ids)

    def sources_by_count(self) -> list[str]:
        return self._facets.get(self).sources_by_count()


def _lexical(postings: BM25Index | None, tokens: list[str], n: int, mask: np.ndarray | None) -> Lexical:
    """BM25 over sentences or passages. Sparse: only the documents holding a question term are
    scored, so the cost grows with the matches, not the archive; equal scores at the cut go to
    the lowest ids."""
    if postings is None or not postings.size:
        ids, scores = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    else:
        ids, scores = postings.matches(tokens, mask)
    top = positive_best(ids, scores, n) if len(ids) else np.zeros(0, dtype=np.int64)
    return Lexical(top, float(scores.max()) if len(scores) else 0.0, _sparse_lookup(ids, scores))


def _sparse_lookup(ids: np.ndarray, scores: np.ndarray):
    """``dense[wanted]`` for the dense array that is ``scores`` at ``ids`` (ascending) and 0 elsewhere."""

    def take(wanted: np.ndarray) -> np.ndarray:
        wanted = np.asarray(wanted)
        out = np.zeros(len(wanted), dtype=scores.dtype)
        if len(ids) and len(wanted):
            at = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
            found = ids[at] == wanted
            out[found] = scores[at[found]]
        return out

    return take


@dataclass
class LoadedSegment:
    """One segment's files opened (memory-mapped where large), with its deletions."""

    records: JsonLines
    texts: SentenceTexts
    arrays: dict[str, np.ndarray]
    bm25: Postings
    chunk_bm25: Postings
    vectors: Any
    deleted_sentences: np.ndarray | None
    deleted_chunks: np.ndarray | None
    pieces: WordPieceTable | None = None


def load_segment(path: Path, entry: dict[str, Any], ef_search: int | None = None) -> LoadedSegment:
    arrays = {name: np.load(path / f"{name}.npy") for name in SENTENCE_ARRAYS}
    deleted_sentences = deleted_chunks = None
    if entry.get("deleted_articles"):
        deleted_sentences = np.flatnonzero(np.isin(arrays["sentence_article"], entry["deleted_articles"]))
        deleted_chunks = np.unique(arrays["sentence_chunk"][deleted_sentences])
    return LoadedSegment(
        records=JsonLines.load(path / ARTICLES, np.load(path / ARTICLE_OFFSETS)),
        texts=SentenceTexts.load(path),
        arrays=arrays,
        bm25=Postings.load(path / "bm25"),
        chunk_bm25=Postings.load(path / "chunk_bm25"),
        vectors=load_part(path, entry["vectors"], ef_search),
        deleted_sentences=deleted_sentences,
        deleted_chunks=deleted_chunks,
        pieces=WordPieceTable.load(path, entry["word_pieces"]) if entry.get("word_pieces") else None,
    )


def _join(segments: list[LoadedSegment], entries: list[dict[str, Any]], manifest: dict[str, Any]) -> SearchIndex:
    article_offset = np.cumsum([0] + [e["articles"] for e in entries])
    chunk_offset = np.cumsum([0] + [e["chunks"] for e in entries])
    arrays = {
        "sentence_article": [s.arrays["sentence_article"] + article_offset[i] for i, s in enumerate(segments)],
        "sentence_chunk": [s.arrays["sentence_chunk"] + chunk_offset[i] for i, s in enumerate(segments)],
        "sentence_position": [s.arrays["sentence_position"] for s in segments],
    }
    single = len(segments) == 1
    tables = [s.pieces for s in segments]
    tags = {t.tag if t is not None else None for t in tables}
    kept = len(tags) == 1 and None not in tags
    return SearchIndex(
        manifest=manifest,
        articles=segments[0].records if single else Concatenated([s.records for s in segments]),
        texts=segments[0].texts if single else Concatenated([s.texts for s in segments]),
        bm25=BM25Index([s.bm25 for s in segments], [s.deleted_sentences for s in segments]),
        chunk_bm25=BM25Index([s.chunk_bm25 for s in segments], [s.deleted_chunks for s in segments]),
        vectors=VectorIndex([s.vectors for s in segments], [s.deleted_sentences for s in segments]),
        pieces=(tables[0] if single else Concatenated(tables)) if kept else None,
        pieces_tag=tables[0].tag if kept else None,
        **{
            name: np.concatenate(parts).astype(np.int32) if parts else np.zeros(0, dtype=np.int32)
            for name, parts in arrays.items()
        },
    )


def load_search_index(
    store: IndexStore, model: str | None = None, verify: bool = True, ef_search: int | None = None
) -> SearchIndex:
    """Load the live generation; refuse one built with another model or format, or damaged.
    ``ef_search``: how many nodes an HNSW segment's search visits ([retrieval] hnsw_ef_search;
    None: as each segment was built)."""
    generation = store.current()
    manifest = generation.manifest
    if model is not None and manifest["model"] != model:
        raise StoreError(
            f"index at {store.root} was built with model {manifest['model']!r} but the config asks for "
            f"{model!r}: rebuild it with `newsdesk index --rebuild PATH...`, or set [model] name = "
            f"{manifest['model']!r}"
        )
    if verify:
        # Every checksum, large files included: bit rot keeps a file's size, and a garbled
        # vector file must be refused, never answered from (about 1 s per GB on load).
        store.verify(generation, full=True)
    try:
        entries = manifest["segments"]
        segments = [load_segment(generation.segment_path(e["name"]), e, ef_search) for e in entries]
        if not segments:
            return _empty(manifest)
        return _join(segments, entries, manifest)
    except (OSError, ValueError, RuntimeError, KeyError, TypeError, IndexError) as exc:
        raise StoreError(f"index at {generation.path} cannot be read ({exc}): {store.rebuild_hint()}") from None


def _empty(manifest: dict[str, Any]) -> SearchIndex:
    empty = np.zeros(0, dtype=np.int32)
    return SearchIndex(
        manifest, [], SentenceTexts.build([]), empty, empty, empty, BM25Index(), VectorIndex(), BM25Index()
    )


def live_articles(generation: Generation) -> list[tuple[dict[str, Any], str, int]]:
    """Every live article record with the segment holding it and its position there."""
    out = []
    for entry in generation.manifest["segments"]:
        path = generation.segment_path(entry["name"])
        deleted = set(entry.get("deleted_articles", []))
        with (path / ARTICLES).open(encoding="utf-8") as handle:
            for local, line in enumerate(handle):
                if local not in deleted:
                    out.append((json.loads(line), entry["name"], local))
    return out


def read_articles(generation: Generation) -> list[dict[str, Any]]:
    """The live article records, in id order of the index."""
    return [record for record, _, _ in live_articles(generation)]


def read_article_texts(generation: Generation, segment: str, wanted: set[int]) -> dict[int, str]:
    """Full texts of chosen articles of one segment, by their position in it."""
    out = {}
    with (generation.segment_path(segment) / ARTICLE_TEXTS).open(encoding="utf-8") as handle:
        for local, line in enumerate(handle):
            if local in wanted:
                out[local] = json.loads(line)["text"]
    return out
