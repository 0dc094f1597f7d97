"""Build and update the index store: new or changed articles go into a new segment, nothing else is rewritten.

An update writes one segment holding only the new and changed articles, marks the old copies
of changed and removed articles as deleted (tombstones in the generation manifest), and
commits a new generation. Segments are merged when there are too many of them or too much
of the index is deleted (see ``CompactionPolicy``); a merge re-splits the merged articles'
stored texts and takes their vectors from the embedding cache, so nothing is re-encoded
that was encoded before.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.change_plan import plan_changes, scope_of
from retrieval.config import Settings
from retrieval.diskspace import disk_full_error, is_disk_full
from retrieval.embed import EmbeddingCache, EncoderError, encode_with_cache, load_encoder
from retrieval.ingest import Problem, drop_duplicates, read_paths
from retrieval.progress import ProgressLog
from retrieval.search_index import ARTICLE_TEXTS, ARTICLES, live_articles, read_article_texts, write_segment_files
from retrieval.segment_builder import SegmentBuilder, SplitArticles
from retrieval.split import SentenceSplitter
from retrieval.store import SEGMENTS, Generation, IndexStore, StoreError, StoreMissing
from retrieval.tokenize import Tokenizer
from retrieval.types import Article
from retrieval.writer_lock import WriterLock


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
    merged: int = 0  # segments folded into one by compaction this run
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

    def summary(self) -> str:
        line = (
            f"read {self.read} · indexed {self.indexed} · updated {self.updated} · unchanged {self.unchanged}"
            f" · removed {self.removed} · skipped {len(self.skipped)}"
        )
        if self.skipped:
            reasons: dict[str, int] = {}
            for problem in self.skipped:
                kind = problem_kind(problem.reason)
                reasons[kind] = reasons.get(kind, 0) + 1
            line += " (" + ", ".join(f"{n} {kind}" for kind, n in sorted(reasons.items())) + ")"
        return line

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "indexed": self.indexed,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": [{"where": p.where, "reason": p.reason} for p in self.skipped],
            "warnings": [{"where": p.where, "reason": p.reason} for p in self.warnings],
            "articles": self.articles,
            "sentences": self.sentences,
            "encoded": self.encoded,
            "seconds": round(self.seconds, 3),
            "merged": self.merged,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


def problem_kind(reason: str) -> str:
    """The kind of a skip reason, without the particulars that follow it: "duplicate article id
    'a:1' (first at feed.jsonl:3)" and "duplicate article id 'b'" are both "duplicate article id"."""
    return re.split(r""" \(|:|\s['"]""", reason, maxsplit=1)[0].strip() or reason


@dataclass
class CompactionPolicy:
    """When segments are merged: too many of them, or too much of one deleted.

    A segment more than ``max_deleted_fraction`` deleted is rewritten without its deleted
    articles. When an update would leave more than ``max_segments`` segments, every segment
    but the largest is merged into one, so an update costs the size of the small segments,
    never the size of the archive; the large one is rewritten only when it is itself mostly
    deleted (or by `newsdesk index --rebuild`).
    """

    max_segments: int = 8
    max_deleted_fraction: float = 0.25

    def plan(self, entries: list[dict[str, Any]], adding: bool) -> list[int]:
        """Positions of the segments to merge (with the new articles) into one; empty for none."""
        chosen = {
            i
            for i, e in enumerate(entries)
            if e["sentences"] and e.get("deleted_sentences", 0) > self.max_deleted_fraction * e["sentences"]
        }
        after = len(entries) - len(chosen) + (1 if chosen or adding else 0)
        if after > self.max_segments and entries:
            largest = max(
                range(len(entries)), key=lambda i: entries[i]["sentences"] - entries[i].get("deleted_sentences", 0)
            )
            chosen |= set(range(len(entries))) - {largest}
        return sorted(chosen)


class Indexer:
    """Turns articles into a new store generation, reusing everything that did not change.

    The model is loaded only when some text is not in the embedding cache. An update
    checksums the store files it reads before reading them and checks the others as
    ``IndexStore.verify`` does (index/README.md, "Checks on update").
    """

    def __init__(
        self,
        settings: Settings,
        index_dir: Path | None = None,
        progress: bool | None = None,
        encoder=None,
        cache_path: Path | None = None,
        use_cache: bool = True,
        echo: Callable[[str], None] | None = None,
    ):
        self.settings = settings
        self.store = IndexStore(Path(index_dir) if index_dir else settings.index_dir)
        self.echo = echo  # where waiting for the writer lock and progress are told; None: silent
        # Every run that changes the folder holds its writer lock from reading the live
        # generation to committing the next, so two writers never build on the same one.
        self.lock = WriterLock(self.store.root, settings.get("index", "writer_wait_seconds"), echo)
        self.model_name = settings.get("model", "name")
        self.progress = progress
        self._encoder = encoder
        self._dim: int | None = None  # vector size, known before the model loads when a generation gives it
        self._building_on = False  # this run adds to a live generation (its vectors must keep their size)
        self._verified: set[str] = set()  # files of the live generation checked in this run
        self._cached: tuple[list[str], dict[int, np.ndarray]] | None = None  # cache lookup made before the build
        self._needed: int | None = None  # bytes this run is about to write, for a disk-full message
        self.cache_path = Path(cache_path) if cache_path else self.store.cache_path
        self.use_cache = use_cache
        self.policy = CompactionPolicy(
            settings.get("index", "max_segments"),
            settings.get("index", "max_deleted_fraction"),
        )

    @property
    def encoder(self):
        """The encoder, loaded on first use; a failure to load is one ``EncoderError`` naming the model."""
        if self._encoder is None:
            try:
                self._encoder = load_encoder(
                    self.model_name,
                    batch_size=self.settings.get("model", "batch_size"),
                    device=self.settings.get("model", "device"),
                )
            except EncoderError:
                raise
            except Exception as exc:  # a broken install: torch or a library missing, out of memory
                raise EncoderError(
                    f"cannot load model {self.model_name!r} ({type(exc).__name__}: {exc}); "
                    "check [model] name in config, or run `make setup`"
                ) from exc
        return self._encoder

    def index_paths(self, paths: Iterable[Path], rebuild: bool = False) -> IngestReport:
        """Index .txt/.jsonl files and folders; articles whose file is gone or changed are updated."""
        paths = [Path(p) for p in paths]
        result = read_paths(paths, self.settings.get("ingest", "date_order"))
        # Articles whose file is gone are dropped when it was below a folder read this run,
        # including folders reached through a symlink (their real paths are the scopes).
        folders = result.folders
        clean_scopes = set(result.scopes) - {_scope_of_problem(p) for p in result.skipped}

        def covers(scope: str) -> bool:
            if scope in clean_scopes:
                return True
            return any(scope.startswith(f + "/") for f in folders) and not Path(scope).exists()

        pairs = [(a, scope_of(a)) for a in result.articles]
        return self._update(pairs, result.skipped, result.warnings, result.inputs, covers, rebuild)

    def index_articles(self, articles: Iterable[Article], scope: str = "api", rebuild: bool = False) -> IngestReport:
        """Index articles given in memory; earlier articles of the same ``scope`` not given again are dropped."""
        articles = list(articles)
        pairs = []
        skipped: list[Problem] = []
        for article in articles:
            if not article.text.strip():
                skipped.append(Problem(article.origin or article.id, "empty article (no text)"))
                continue
            pairs.append((article, scope))
        return self._update(pairs, skipped, [], len(articles), lambda s: s == scope, rebuild)

    def _generation(self, rebuild: bool) -> Generation | None:
        self._verified = set()
        self._building_on = False
        if rebuild:
            self._dim = self._dim_from_store()
            return None
        self.store.recover_pointer()
        try:
            generation = self.store.current()
        except StoreMissing:
            return None
        if generation.manifest.get("model") != self.model_name:
            raise StoreError(
                f"index at {self.store.root} was built with model {generation.manifest.get('model')!r}, "
                f"config asks for {self.model_name!r}: run `newsdesk index --rebuild PATH...`"
            )
        self._dim, self._building_on = int(generation.manifest["dim"]), True
        # An update builds on this generation: it must be sound. What it reads first (every
        # segment's article records) is checksummed now, the rest by _verify_rest.
        self._verify(generation, [name for name in generation.manifest["files"] if name.endswith(f"/{ARTICLES}")])
        return generation

    def _dim_from_store(self) -> int | None:
        """The vector size of the store being rebuilt, when it was built with this model."""
        try:
            manifest = self.store.current().manifest
        except (StoreError, OSError, ValueError):
            return None
        dim = manifest.get("dim") if manifest.get("model") == self.model_name else None
        return dim if isinstance(dim, int) and dim > 0 else None

    def _verify(self, generation: Generation, names: list[str]) -> None:
        """Checksum these files of the generation, each once a run."""
        todo = [name for name in names if name not in self._verified]
        self.store.verify(generation, full=True, names=todo)
        self._verified.update(todo)

    def _verify_rest(self, generation: Generation | None, report: IngestReport) -> None:
        """Check the files of the generation this run has not checksummed already (see below)."""
        if generation is None:
            return
        clock = time.perf_counter()
        # The rest the update never reads: checksummed up to 16 MiB, larger files by size. Their
        # manifest entries are carried over, never recomputed, so damage in them stays on record
        # and every load for questions (which checksums everything) refuses it (index/README.md).
        self.store.verify(
            generation, names=[name for name in generation.manifest["files"] if name not in self._verified]
        )
        report.timings["verify"] = report.timings.get("verify", 0.0) + time.perf_counter() - clock

    def _live_articles(self, generation: Generation | None) -> list[tuple[dict[str, Any], str, int]]:
        if generation is None:
            return []
        try:
            return live_articles(generation)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"index at {self.store.root} cannot be read ({exc}): {self.store.rebuild_hint()}"
            ) from None

    def _update(self, pairs, skipped, warnings, inputs, covers, rebuild) -> IngestReport:
        self._needed = None
        with self.lock:
            try:
                return self._update_locked(pairs, skipped, warnings, inputs, covers, rebuild)
            except (OSError, sqlite3.Error) as exc:
                full = disk_full_error(exc, self.store.root, self._needed)
                if full is None:
                    raise
                raise full from None

    def _update_locked(self, pairs, skipped, warnings, inputs, covers, rebuild) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport(read=inputs, skipped=list(skipped), warnings=list(warnings))
        unique = drop_duplicates([a for a, _ in pairs], report.skipped)
        scope_by_id = {a.id: s for a, s in pairs}
        generation = self._generation(rebuild)
        previous = self._live_articles(generation)
        plan = plan_changes(unique, scope_by_id, [(r, (s, i)) for r, s, i in previous], covers, report)
        added = plan.added
        deleted: dict[str, set[int]] = {}
        for segment, local in plan.gone:
            deleted.setdefault(segment, set()).add(local)
        if generation is not None and not added and not deleted:
            self._verify_rest(generation, report)  # even a run with nothing to do reports a damaged store
            report.articles, report.sentences = len(previous), int(generation.manifest["counts"]["sentences"])
            report.seconds = time.perf_counter() - started
            return report
        self._commit(generation, previous, added, deleted, report)
        report.seconds = time.perf_counter() - started
        return report

    def _commit(self, generation, previous, added, deleted, report: IngestReport) -> None:
        """Write the new segment (merging segments when the policy says so) and the new generation."""
        live = [(r, s, i) for r, s, i in previous if i not in deleted.get(s, ())]
        entries = []
        for entry in IndexStore.segment_entries(generation) if generation else []:
            gone = sorted(set(entry.get("deleted_articles", [])) | deleted.get(entry["name"], set()))
            live_sentences = sum(r.get("sentences", 0) for r, s, _ in live if s == entry["name"])
            if len(gone) < entry["articles"]:  # a segment with nothing live is simply dropped
                entries.append(
                    {**entry, "deleted_articles": gone, "deleted_sentences": entry["sentences"] - live_sentences}
                )
        new_records = [r for r, _ in added]
        chosen = self.policy.plan(entries, adding=bool(added))
        if chosen:
            added = self._live_contents([entries[i] for i in chosen], live, generation) + added
            entries = [e for i, e in enumerate(entries) if i not in set(chosen)]
            report.merged = len(chosen)
        if added:
            entries.append(self._write_segment(added, report, lambda: self._verify_rest(generation, report)))
        else:
            self._verify_rest(generation, report)
        try:
            self._write_generation(entries, [r for r, _, _ in live] + new_records, report)
        except Exception:
            if added:  # the segment no generation will list would only hold space
                self.store.discard_segment(entries[-1]["name"])
            raise

    def _live_contents(self, entries, live, generation) -> list[tuple[dict[str, Any], str]]:
        """Records and full texts of the live articles of segments about to be merged."""
        self._verify(generation, [f"{SEGMENTS}/{entry['name']}/{ARTICLE_TEXTS}" for entry in entries])
        out = []
        for entry in entries:
            wanted = {i: r for r, s, i in live if s == entry["name"]}
            texts = read_article_texts(generation, entry["name"], set(wanted))
            out += [(wanted[i], texts[i]) for i in sorted(wanted)]
        return out

    def _write_segment(
        self, added: list[tuple[dict[str, Any], str]], report: IngestReport, before_build
    ) -> dict[str, Any]:
        """Split, look the sentences up in the embedding cache, run ``before_build`` (the checks
        of the live generation), then build and write the segment."""
        builder = SegmentBuilder(
            lambda texts: self._embed(texts, report),
            min_sentence_chars=self.settings.get("split", "min_sentence_chars"),
            vector_index=self.settings.get("retrieval", "vector_index"),
            hnsw_min=self.settings.get("retrieval", "hnsw_min_sentences"),
            hnsw_m=self.settings.get("retrieval", "hnsw_m"),
            ef_construction=self.settings.get("retrieval", "hnsw_ef_construction"),
            ef_search=self.settings.get("retrieval", "hnsw_ef_search"),
        )
        split = builder.split([r for r, _ in added], [t for _, t in added])
        self._needed = _estimate_bytes(split, self._dim or 384)
        self._prepare_vectors(split, report)
        before_build()
        data = builder.build_split(split)
        clock = time.perf_counter()
        entry = self.store.write_segment(lambda folder: write_segment_files(folder, data))
        builder.timings["write"] = time.perf_counter() - clock
        for stage, seconds in builder.timings.items():
            report.timings[stage] = report.timings.get(stage, 0.0) + seconds
        return entry

    def _write_generation(
        self, entries: list[dict[str, Any]], records: list[dict[str, Any]], report: IngestReport
    ) -> None:
        clock = time.perf_counter()
        dates = sorted(r["date"] for r in records if r.get("date"))
        dims = {e["dim"] for e in entries if e["sentences"]}
        sentences = sum(r.get("sentences", 0) for r in records)
        self.store.commit(
            {
                "model": self.model_name,
                "dim": dims.pop() if dims else self._dim or self.encoder.dim,
                "vector_index": self.settings.get("retrieval", "vector_index"),
                "splitter": SentenceSplitter.version,
                "tokenizer": Tokenizer.version,
                "counts": {
                    "articles": len(records),
                    "sentences": sentences,
                    "chunks": sum(r.get("chunks", 0) for r in records),
                    "segments": len(entries),
                    "deleted_sentences": sum(e.get("deleted_sentences", 0) for e in entries),
                },
                "dates": {"min": dates[0] if dates else None, "max": dates[-1] if dates else None},
                "segments": entries,
            }
        )
        report.timings["commit"] = time.perf_counter() - clock
        report.wrote = True
        report.articles, report.sentences = len(records), sentences

    def _prepare_vectors(self, split: SplitArticles, report: IngestReport) -> None:
        """Look the new sentences up in the embedding cache before the model is loaded.

        The vector size (part of the cache key) comes from the live generation (or, for a
        rebuild, the one replaced); without it the model is loaded to learn it, as before.
        When every vector is found, ``_embed`` never loads the model.
        """
        self._cached = None
        if self._encoder is not None or not split.embed_texts or self._dim is None or not self.use_cache:
            return
        clock = time.perf_counter()
        try:
            cache = EmbeddingCache(self.cache_path, f"{self.model_name}:{self._dim}", self._dim)
            try:
                found = cache.get_many(split.embed_texts)
            finally:
                cache.close()
        except sqlite3.DatabaseError:
            found = {}  # _embed sets a damaged cache aside and says so
        report.timings["cache"] = report.timings.get("cache", 0.0) + time.perf_counter() - clock
        self._cached = (split.embed_texts, found)

    def _embed(self, texts: list[str], report: IngestReport) -> np.ndarray:
        try:
            return self._embed_with_cache(texts, report)
        except sqlite3.DatabaseError as exc:
            if is_disk_full(exc):
                raise  # a write failed for want of space: the cache itself is sound, leave it be
            # The cache only saves work: a damaged one is set aside and the run goes on without it.
            for suffix in ("", "-wal", "-shm"):
                path = Path(f"{self.cache_path}{suffix}")
                if path.exists():
                    os.replace(path, f"{self.cache_path}.damaged{suffix}")
            report.warnings.append(
                Problem(
                    str(self.cache_path),
                    f"embedding cache is damaged ({exc}); moved to "
                    f"{self.cache_path.name}.damaged and started afresh (delete it when done)",
                )
            )
            self._cached = None
            return self._embed_with_cache(texts, report)

    def _embed_with_cache(self, texts: list[str], report: IngestReport) -> np.ndarray:
        cached, self._cached = self._cached, None
        found = cached[1] if cached is not None and cached[0] is texts else None
        if found is not None and len(found) == len(texts):
            # Every vector is in the cache: the model is never loaded.
            return np.vstack([found[i] for i in range(len(texts))]).astype(np.float32, copy=False)
        from tqdm import tqdm

        encoder = self.encoder
        if self._dim is not None and encoder.dim != self._dim:
            if self._building_on:
                raise StoreError(
                    f"model {self.model_name!r} now gives {encoder.dim}-dimensional vectors, the index at "
                    f"{self.store.root} holds {self._dim}: {self.store.rebuild_hint()}"
                )
            found, self._dim = None, encoder.dim  # a rebuild with a changed model: the size guessed was the old one
        cache = (
            EmbeddingCache(self.cache_path, f"{self.model_name}:{encoder.dim}", encoder.dim) if self.use_cache else None
        )
        try:
            terminal = sys.stderr.isatty() if self.progress is None else self.progress
            every = self.settings.get("index", "progress_seconds")
            # Off a terminal (cron, a pipe, a log file) a bar shows nothing: plain lines instead.
            log = ProgressLog(len(texts), every, self.echo) if not terminal and self.echo and every > 0 else None
            with tqdm(
                total=len(texts), desc="embedding", unit="sent", file=sys.stderr, disable=not terminal, leave=False
            ) as bar:

                def step(count: int) -> None:
                    bar.update(count)
                    if log:
                        log.update(count)

                if found is None:
                    vectors, encoded = encode_with_cache(encoder, cache, texts, progress=step)
                else:  # looked up already: only the missing texts go to the model
                    vectors = np.zeros((len(texts), encoder.dim), dtype=np.float32)
                    for i, vector in found.items():
                        vectors[i] = vector
                    step(len(found))
                    missing = [i for i in range(len(texts)) if i not in found]
                    vectors[missing], encoded = encode_with_cache(
                        encoder, cache, [texts[i] for i in missing], progress=step
                    )
                report.encoded += encoded
        finally:
            if cache:
                cache.close()
        return vectors


def _estimate_bytes(split: SplitArticles, dim: int) -> int:
    """Roughly what a segment of these articles takes on disk, with its cache entries: the
    article and sentence texts, postings about their size again, and one float32 vector a
    sentence twice (segment and cache), plus a little per sentence for arrays and keys."""
    text = sum(len(t.encode("utf-8")) for t in split.texts)
    sentences = sum(len(t.encode("utf-8")) for t in split.embed_texts)
    return text + 2 * sentences + len(split.embed_texts) * (2 * 4 * dim + 64)


def _scope_of_problem(problem: Problem) -> str:
    where = problem.where
    path = where.rsplit(":", 1)[0] if where.rsplit(":", 1)[-1].isdigit() else where
    return str(Path(path).resolve())
