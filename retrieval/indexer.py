"""Index articles: read the inputs, plan what changed, and hand the changes to the store's writer.

Nothing unchanged is re-encoded or rewritten: the change plan (retrieval/change_plan.py)
compares content hashes, the vector source (retrieval/vector_source.py) takes vectors from
the embedding cache first, and the segment store's writer (retrieval/segment_writer.py)
writes only a new segment of what changed, merging segments as its compaction policy says.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.backend import ArticleWriter
from retrieval.change_plan import plan_changes, scope_of
from retrieval.config import Settings
from retrieval.diskspace import disk_full_error
from retrieval.ingest import Problem, drop_duplicates, read_paths
from retrieval.segment_writer import SegmentWriter
from retrieval.store import IndexStore, StoreMissing
from retrieval.types import Article
from retrieval.vector_source import VectorSource
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


class Indexer:
    """Turns articles into the store's next state, re-encoding only what changed.

    Reading the inputs, the writer lock, the embedding cache and the change plan are the same
    for every store; where the articles go is the store's ``ArticleWriter`` (``_open_writer``):
    here newsdesk's segment folders (``SegmentWriter``), in ``MilvusIndexer`` Milvus's
    collections. The model is loaded only when some text is not in the embedding cache.
    """

    ARTICLES_PER_BATCH = 200  # articles handed to the writer at once

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
        # Every run that changes the store holds the folder's writer lock from reading what is
        # stored to committing the change, so two writers never build on the same state.
        self.lock = WriterLock(self.store.root, settings.get("index", "writer_wait_seconds"), echo)
        self.model_name = settings.get("model", "name")
        self.vectors = VectorSource(
            settings,
            Path(cache_path) if cache_path else self.store.cache_path,
            use_cache=use_cache,
            encoder=encoder,
            progress=progress,
            echo=echo,
        )

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

    def _update(self, pairs, skipped, warnings, inputs, covers, rebuild) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport(read=inputs, skipped=list(skipped), warnings=list(warnings))
        unique = drop_duplicates([a for a, _ in pairs], report.skipped)
        scope_by_id = {a.id: s for a, s in pairs}
        with self.lock, self._open_writer(rebuild, report) as writer:
            previous = writer.live_records()
            plan = plan_changes(unique, scope_by_id, [(r, r["id"]) for r in previous], covers, report)
            if plan.added or plan.gone or not _holds_archive(writer):
                # Changed and moved articles are replaced by ``add``; the rest of ``gone`` is removed.
                readded = {record["id"] for record, _ in plan.added}
                writer.delete([i for i in plan.gone if i not in readded])
                size = self.ARTICLES_PER_BATCH
                for start in range(0, len(plan.added), size):
                    writer.add(plan.added[start : start + size])
                    self._handed(min(start + size, len(plan.added)), len(plan.added))
                report.wrote = True
            manifest = writer.commit()  # with nothing changed, only checks what is stored
        report.articles, report.sentences = manifest.articles, manifest.sentences
        report.seconds = time.perf_counter() - started
        return report

    def _handed(self, done: int, total: int) -> None:
        """``done`` of ``total`` articles handed to the writer (the segment store writes at commit)."""

    @contextmanager
    def _open_writer(self, rebuild: bool, report: IngestReport) -> Iterator[ArticleWriter]:
        """The segment folder's writer; a write that fails for want of space says so, with
        how much this run needed."""
        writer: SegmentWriter | None = None
        try:
            writer = SegmentWriter(self.store, self.settings, self.vectors, report, rebuild)
            yield writer
        except (OSError, sqlite3.Error) as exc:
            full = disk_full_error(exc, self.store.root, writer.needed if writer else None)
            if full is None:
                raise
            raise full from None


def _holds_archive(writer: ArticleWriter) -> bool:
    """Whether the store has an archive already (an empty run still creates one)."""
    try:
        writer.describe()
    except StoreMissing:
        return False
    return True


def _scope_of_problem(problem: Problem) -> str:
    where = problem.where
    path = where.rsplit(":", 1)[0] if where.rsplit(":", 1)[-1].isdigit() else where
    return str(Path(path).resolve())
