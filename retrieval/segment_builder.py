"""Turn article records and texts into one segment: sentences, vectors, BM25 postings, vector index."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from retrieval.bm25 import Postings
from retrieval.embedding_text import embedding_text
from retrieval.lead import split_dateline
from retrieval.search_index import SegmentData, WordPieceTable
from retrieval.split import SentenceSplitter, chunk_ids
from retrieval.tokenize import Tokenizer
from retrieval.vectors import EF_CONSTRUCTION, EF_SEARCH, FLAT, HNSW, HNSW_M, build_part

AUTO = "auto"
# Below this many sentences a segment is searched exactly (numpy); from it on, by HNSW.
HNSW_MIN_SENTENCES = 50_000


def vector_kind(setting: str, sentences: int, hnsw_min: int = HNSW_MIN_SENTENCES) -> str:
    """The vector index a segment of this size gets: exact when small, HNSW when large ("auto")."""
    if setting == AUTO:
        return HNSW if sentences >= hnsw_min else FLAT
    if setting in (FLAT, HNSW):
        return setting
    raise ValueError(f"unknown [retrieval] vector_index {setting!r}; use auto, flat or hnsw")


@dataclass
class SplitArticles:
    """Articles split into sentences and passages, before any vector is made."""

    records: list[dict[str, Any]]
    texts: list[str]
    sentences: list[str]
    embed_texts: list[str]  # what the model sees for each sentence
    arrays: dict[str, list[int]]
    chunks: int


class SegmentBuilder:
    """Builds a segment's contents; ``embed(texts) -> vectors`` supplies the dense vectors."""

    def __init__(
        self,
        embed: Callable[[list[str]], np.ndarray],
        min_sentence_chars: int = 12,
        vector_index: str = AUTO,
        hnsw_min: int = HNSW_MIN_SENTENCES,
        hnsw_m: int = HNSW_M,
        ef_construction: int = EF_CONSTRUCTION,
        ef_search: int = EF_SEARCH,
        pieces=None,
    ):
        """``pieces``: a term matcher (retrieval/term_match.py ``index_pieces``) whose word pieces
        of each sentence's embedding text the segment keeps; None keeps none."""
        self.embed = embed
        self.pieces = pieces
        self.splitter = SentenceSplitter(min_sentence_chars)
        self.tokenizer = Tokenizer()
        self.vector_index = vector_index
        self.hnsw_min = hnsw_min
        self.hnsw = {"m": hnsw_m, "ef_construction": ef_construction, "ef_search": ef_search}
        self.timings: dict[str, float] = {}

    def _tick(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - since
        return now

    def build(self, records: list[dict[str, Any]], texts: list[str]) -> SegmentData:
        """A segment of these articles; each record gains its sentence and passage counts."""
        return self.build_split(self.split(records, texts))

    def split(self, records: list[dict[str, Any]], texts: list[str]) -> SplitArticles:
        """The first step of ``build``: sentences, passages and the texts the model must see.

        Apart so that a caller can learn what needs encoding (and start loading the model)
        before the rest of the build; each record gains its sentence and passage counts.
        """
        clock = time.perf_counter()
        sentences: list[str] = []
        embed_texts: list[str] = []
        arrays: dict[str, list[int]] = {"sentence_article": [], "sentence_position": [], "sentence_chunk": []}
        chunks_total = 0
        for article_index, (record, text) in enumerate(zip(records, texts)):
            # The dateline is the article's metadata, not part of its first sentence.
            dateline, body = split_dateline(text)
            if dateline:
                record["dateline"] = dateline
            split = self.splitter.split(body)
            chunks = chunk_ids(split)
            record["sentences"] = len(split)
            record["chunks"] = max(chunks, default=-1) + 1
            for sentence, chunk in zip(split, chunks):
                sentences.append(sentence.text)
                embed_texts.append(embedding_text(record, sentence.text))
                arrays["sentence_article"].append(article_index)
                arrays["sentence_position"].append(sentence.position)
                arrays["sentence_chunk"].append(chunks_total + chunk)
            chunks_total += record["chunks"]
        self._tick("split", clock)
        return SplitArticles(records, list(texts), sentences, embed_texts, arrays, chunks_total)

    def build_split(self, split: SplitArticles) -> SegmentData:
        """The rest of ``build``: vectors, BM25 postings and the vector index."""
        sentences, embed_texts, arrays, chunks_total = split.sentences, split.embed_texts, split.arrays, split.chunks
        clock = time.perf_counter()
        vectors = self.embed(embed_texts)
        clock = self._tick("embed", clock)
        tokens = [self.tokenizer(s) for s in sentences]
        # A passage's tokens are its sentences' tokens: no token spans a sentence boundary.
        chunk_tokens: list[list[str]] = [[] for _ in range(chunks_total)]
        for sentence_tokens, chunk in zip(tokens, arrays["sentence_chunk"]):
            chunk_tokens[chunk].extend(sentence_tokens)
        clock = self._tick("tokenize", clock)
        bm25, chunk_bm25 = Postings.build(tokens), Postings.build(chunk_tokens)
        clock = self._tick("bm25", clock)
        kind = vector_kind(self.vector_index, len(sentences), self.hnsw_min)
        part = build_part(vectors, kind, **self.hnsw)
        clock = self._tick("vectors", clock)
        pieces = None
        if self.pieces is not None:
            pieces = WordPieceTable.build(self.pieces.piece_ids(embed_texts), self.pieces.tag)
            self._tick("word pieces", clock)
        return SegmentData(
            records=split.records,
            article_texts=split.texts,
            sentences=sentences,
            arrays={k: np.asarray(v, dtype=np.int32) for k, v in arrays.items()},
            bm25=bm25,
            chunk_bm25=chunk_bm25,
            vectors=part,
            params={"hnsw": self.hnsw} if kind == HNSW else {},
            word_pieces=pieces,
        )
