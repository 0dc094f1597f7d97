"""Build and update the index store: only new or changed articles are embedded."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from retrieval.bm25 import BM25Index
from retrieval.config import Settings
from retrieval.embed import EmbeddingCache, encode_with_cache, load_encoder
from retrieval.ingest import Problem, content_hash, drop_duplicates, read_paths
from retrieval.search_index import read_article_texts, read_articles, write_generation
from retrieval.split import SentenceSplitter, chunk_ids
from retrieval.store import IndexStore, SentenceTexts, StoreError, StoreMissing
from retrieval.tokenize import Tokenizer
from retrieval.types import Article
from retrieval.vectors import VectorIndex


@dataclass
class IngestReport:
    """What an indexing run did with every input it was given."""

    read: int = 0
    indexed: int = 0  # new articles
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    articles: int = 0  # in the index after the run
    sentences: int = 0
    encoded: int = 0  # sentences sent to the model this run
    seconds: float = 0.0
    wrote: bool = False

    def summary(self) -> str:
        line = (
            f"read {self.read} · indexed {self.indexed} · updated {self.updated} · unchanged {self.unchanged}"
            f" · removed {self.removed} · skipped {len(self.skipped)}"
        )
        if self.skipped:
            reasons: dict[str, int] = {}
            for problem in self.skipped:
                kind = problem.reason.split(" (")[0].split(":")[0]
                reasons[kind] = reasons.get(kind, 0) + 1
            line += " (" + ", ".join(f"{n} {kind}" for kind, n in sorted(reasons.items())) + ")"
        return line

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read, "indexed": self.indexed, "updated": self.updated,
            "unchanged": self.unchanged, "removed": self.removed,
            "skipped": [{"where": p.where, "reason": p.reason} for p in self.skipped],
            "warnings": [{"where": p.where, "reason": p.reason} for p in self.warnings],
            "articles": self.articles, "sentences": self.sentences, "encoded": self.encoded,
            "seconds": round(self.seconds, 3),
        }


def embedding_text(record: dict[str, Any], sentence: str) -> str:
    """What the dense model sees for a sentence: the sentence, led by its title when there is one."""
    title = record.get("title") or ""
    return f"{title}: {sentence}" if title else sentence


def _record(article: Article, scope: str) -> dict[str, Any]:
    return {
        "id": article.id, "title": article.title, "date": article.date, "source": article.source,
        "url": article.url, "origin": article.origin, "scope": scope, "hash": content_hash(article),
    }


def _scope_of(article: Article) -> str:
    path = article.origin.rsplit(":", 1)[0] if article.origin.rsplit(":", 1)[-1].isdigit() else article.origin
    return str(Path(path).resolve())


class Indexer:
    """Turns articles into a new store generation, reusing everything that did not change."""

    def __init__(self, settings: Settings, index_dir: Path | None = None, progress: bool | None = None):
        self.settings = settings
        self.store = IndexStore(Path(index_dir) if index_dir else settings.index_dir)
        self.model_name = settings.get("model", "name", "minilm")
        self.progress = progress
        self._encoder = None

    @property
    def encoder(self):
        if self._encoder is None:
            self._encoder = load_encoder(
                self.model_name, batch_size=int(self.settings.get("model", "batch_size", 64)),
                device=self.settings.get("model", "device", "cpu"),
            )
        return self._encoder

    def index_paths(self, paths: Iterable[Path], rebuild: bool = False) -> IngestReport:
        """Index .txt/.jsonl files and folders; articles whose file is gone or changed are updated."""
        paths = [Path(p) for p in paths]
        result = read_paths(paths)
        folders = [str(p.resolve()) for p in paths if p.is_dir()]
        clean_scopes = set(result.scopes) - {_scope_of_problem(p) for p in result.skipped}

        def covers(scope: str) -> bool:
            if scope in clean_scopes:
                return True
            return any(scope.startswith(f + "/") for f in folders) and not Path(scope).exists()

        pairs = [(a, _scope_of(a)) for a in result.articles]
        return self._update(pairs, result.skipped, result.warnings, result.inputs, covers, rebuild)

    def index_articles(self, articles: Iterable[Article], scope: str = "api", rebuild: bool = False) -> IngestReport:
        """Index articles given in memory; earlier articles of the same ``scope`` not given again are dropped."""
        articles = list(articles)
        warnings: list[Problem] = []
        pairs = []
        skipped: list[Problem] = []
        for article in articles:
            if not article.text.strip():
                skipped.append(Problem(article.origin or article.id, "empty article (no text)"))
                continue
            pairs.append((article, scope))
        return self._update(pairs, skipped, warnings, len(articles), lambda s: s == scope, rebuild)

    def _previous(self, rebuild: bool) -> list[dict[str, Any]]:
        if rebuild:
            return []
        try:
            generation = self.store.current()
        except StoreMissing:
            return []
        if generation.manifest.get("model") != self.model_name:
            raise StoreError(
                f"index at {self.store.root} was built with model {generation.manifest.get('model')!r}, "
                f"config asks for {self.model_name!r}: run `newsdesk index --rebuild PATH...`"
            )
        return read_articles(generation)

    def _update(self, pairs, skipped, warnings, inputs, covers, rebuild) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport(read=inputs, skipped=list(skipped), warnings=list(warnings))
        unique = drop_duplicates([a for a, _ in pairs], report.skipped)
        scope_by_id = {a.id: s for a, s in pairs}
        previous = self._previous(rebuild)
        previous_by_id = {r["id"]: r for r in previous}
        incoming: dict[str, dict[str, Any]] = {}
        texts_by_id: dict[str, str] = {}
        for article in unique:
            record = _record(article, scope_by_id[article.id])
            old = previous_by_id.get(article.id)
            if old is None:
                report.indexed += 1
            elif old["hash"] != record["hash"]:
                report.updated += 1
            else:
                report.unchanged += 1
            incoming[article.id] = record
            texts_by_id[article.id] = article.text
        kept = []
        for record in previous:
            if record["id"] in incoming:
                continue
            if covers(record["scope"]):
                report.removed += 1
            else:
                kept.append(record)
        changed = report.indexed or report.updated or report.removed or rebuild
        if not changed and previous:
            report.articles = len(previous)
            report.sentences = int(self.store.current().manifest["counts"]["sentences"])
            report.seconds = time.perf_counter() - started
            return report
        records = kept + list(incoming.values())
        old_texts = self._old_article_texts(kept) if kept else {}
        texts_by_id.update(old_texts)
        self._write(records, texts_by_id, report)
        report.seconds = time.perf_counter() - started
        return report

    def _old_article_texts(self, kept: list[dict[str, Any]]) -> dict[str, str]:
        """Full texts of kept articles, read back from the live generation."""
        wanted = {r["id"] for r in kept}
        return {i: t for i, t in read_article_texts(self.store.current()) if i in wanted}

    def _write(self, records, texts_by_id, report: IngestReport) -> None:
        splitter = SentenceSplitter(int(self.settings.get("split", "min_sentence_chars", 12)))
        sentences, arrays, embed_texts = [], {"sentence_article": [], "sentence_position": [], "sentence_chunk": []}, []
        chunk_texts: list[list[str]] = []
        for article_index, record in enumerate(records):
            split = splitter.split(texts_by_id[record["id"]])
            chunks = chunk_ids(split)
            base = len(chunk_texts)
            for _ in range(max(chunks, default=-1) + 1):
                chunk_texts.append([])
            record["sentences"] = len(split)
            for sentence, chunk in zip(split, chunks):
                sentences.append(sentence.text)
                embed_texts.append(embedding_text(record, sentence.text))
                arrays["sentence_article"].append(article_index)
                arrays["sentence_position"].append(sentence.position)
                arrays["sentence_chunk"].append(base + chunk)
                chunk_texts[base + chunk].append(sentence.text)
        vectors = self._embed(embed_texts, report)
        tokenizer = Tokenizer()
        bm25 = BM25Index.build([tokenizer(s) for s in sentences])
        chunk_bm25 = BM25Index.build([tokenizer(" ".join(c)) for c in chunk_texts])
        kind = self.settings.get("retrieval", "vector_index", "flat")
        vector_index = VectorIndex.build(vectors, kind=kind)
        dates = sorted(r["date"] for r in records if r.get("date"))

        def fill(folder: Path) -> dict[str, Any]:
            write_generation(
                folder, records, [texts_by_id[r["id"]] for r in records], SentenceTexts.build(sentences),
                {k: np.asarray(v, dtype=np.int32) for k, v in arrays.items()},
                bm25, vector_index, chunk_bm25,
            )
            return {
                "model": self.model_name, "dim": int(vectors.shape[1]) if len(vectors) else self.encoder.dim,
                "vector_index": kind, "splitter": SentenceSplitter.version, "tokenizer": Tokenizer.version,
                "counts": {"articles": len(records), "sentences": len(sentences), "chunks": len(chunk_texts)},
                "dates": {"min": dates[0] if dates else None, "max": dates[-1] if dates else None},
            }

        self.store.write(fill)
        report.wrote = True
        report.articles, report.sentences = len(records), len(sentences)

    def _embed(self, texts: list[str], report: IngestReport) -> np.ndarray:
        from tqdm import tqdm

        encoder = self.encoder
        cache = EmbeddingCache(self.store.cache_path, f"{self.model_name}:{encoder.dim}", encoder.dim)
        try:
            disable = None if self.progress is None else not self.progress  # None: only on a terminal
            with tqdm(total=len(texts), desc="embedding", unit="sent", file=sys.stderr,
                      disable=disable, leave=False) as bar:
                vectors, report.encoded = encode_with_cache(encoder, cache, texts, progress=bar.update)
        finally:
            cache.close()
        return vectors


def _scope_of_problem(problem: Problem) -> str:
    where = problem.where
    path = where.rsplit(":", 1)[0] if where.rsplit(":", 1)[-1].isdigit() else where
    return str(Path(path).resolve())
