"""The write side of the store seam on newsdesk's own segment folders (``ArticleWriter``).

An update writes one segment holding only the new and changed articles, marks the old copies
of changed and removed articles as deleted (tombstones in the generation manifest), and
commits a new generation. Segments are merged when there are too many of them or too much
of the index is deleted (``CompactionPolicy``); a merge re-splits the merged articles' stored
texts and takes their vectors from the embedding cache, so nothing is re-encoded that was
encoded before. Checksums: what an update reads is checked before it is read, the rest as
``IndexStore.verify`` does (index/README.md, "Checks on update").
"""

from __future__ import annotations

import time
from typing import Any

from retrieval.backend import Manifest
from retrieval.compaction import CompactionPolicy, with_tombstones
from retrieval.config import Settings
from retrieval.search_index import ARTICLE_TEXTS, ARTICLES, live_articles, read_article_texts
from retrieval.segment_builder import SegmentBuilder, SplitArticles
from retrieval.split import SentenceSplitter
from retrieval.store import SEGMENTS, Generation, IndexStore, StoreError, StoreMissing
from retrieval.term_match import index_pieces
from retrieval.tokenize import Tokenizer
from retrieval.vector_source import VectorSource


class SegmentWriter:
    """Changes to one segment folder, buffered until ``commit`` writes them as a new generation.

    Opening it (under the caller's writer lock) reads and checksums the live generation's
    article records; ``rebuild`` starts from nothing. ``report`` is the run's ``IngestReport``.
    """

    def __init__(self, store: IndexStore, settings: Settings, vectors: VectorSource, report: Any, rebuild: bool):
        self.store, self.settings, self.vectors, self.report = store, settings, vectors, report
        self.model_name = settings.get("model", "name")
        self.policy = CompactionPolicy(
            settings.get("index", "max_segments"), settings.get("index", "max_deleted_fraction")
        )
        self.needed: int | None = None  # bytes the commit is about to write, for a disk-full message
        self._verified: set[str] = set()  # files of the live generation checked in this run
        self.generation = self._open(rebuild)
        self._live = self._live_articles()  # (record, segment name, position in it)
        self._where = {record["id"]: (segment, i) for record, segment, i in self._live}
        self._deleted: dict[str, set[int]] = {}
        self._added: list[tuple[dict[str, Any], str]] = []

    # ArticleWriter.

    def live_records(self) -> list[dict[str, Any]]:
        return [record for record, _, _ in self._live]

    def add(self, added: list[tuple[dict[str, Any], str]]) -> None:
        """Articles for the commit's new segment; a stored copy of any of them is marked deleted."""
        self.delete([record["id"] for record, _ in added if record["id"] in self._where])
        self._added += added

    def delete(self, article_ids: list[str]) -> None:
        """Mark stored articles deleted; ids not stored are ignored."""
        for article_id in article_ids:
            where = self._where.pop(article_id, None)
            if where is not None:
                self._deleted.setdefault(where[0], set()).add(where[1])

    def commit(self) -> Manifest:
        """Write the new segment (merging segments when the policy says so) and a new generation.

        With nothing added or deleted, nothing is written: the rest of the live generation is
        checked (so even such a run reports a damaged store) and its manifest returned."""
        if self.generation is not None and not self._added and not self._deleted:
            self._verify_rest()
            return self.describe()
        report, generation, deleted = self.report, self.generation, self._deleted
        live = [(r, s, i) for r, s, i in self._live if i not in deleted.get(s, ())]
        entries = with_tombstones(IndexStore.segment_entries(generation) if generation else [], deleted, live)
        added, new_records = list(self._added), [r for r, _ in self._added]
        chosen = self.policy.plan(entries, adding=bool(added))
        if chosen:
            added = self._live_contents([entries[i] for i in chosen], live) + added
            entries = [e for i, e in enumerate(entries) if i not in set(chosen)]
            report.merged = len(chosen)
        if added:
            entries.append(self._write_segment(added))
        else:
            self._verify_rest()
        try:
            self.generation = self._write_generation(entries, [r for r, _, _ in live] + new_records)
        except Exception:
            if added:  # the segment no generation will list would only hold space
                self.store.discard_segment(entries[-1]["name"])
            raise
        return self.describe()

    def describe(self) -> Manifest:
        if self.generation is None:
            raise StoreMissing(f"no index at {self.store.root} yet")
        return Manifest.from_dict(self.generation.manifest, location=str(self.store.root))

    # Reading the live generation.

    def _open(self, rebuild: bool) -> Generation | None:
        if rebuild:
            self.vectors.expect(self._dim_from_store())  # a guess: the model may have changed
            return None
        self.store.recover_pointer()
        try:
            generation = self.store.current()
        except StoreMissing:
            self.vectors.expect(None)
            return None
        if generation.manifest.get("model") != self.model_name:
            raise StoreError(
                f"index at {self.store.root} was built with model {generation.manifest.get('model')!r}, "
                f"config asks for {self.model_name!r}: run `newsdesk index --rebuild PATH...`"
            )
        self.vectors.expect(
            int(generation.manifest["dim"]), held_by=f"the index at {self.store.root}", hint=self.store.rebuild_hint()
        )
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

    def _live_articles(self) -> list[tuple[dict[str, Any], str, int]]:
        if self.generation is None:
            return []
        try:
            return live_articles(self.generation)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"index at {self.store.root} cannot be read ({exc}): {self.store.rebuild_hint()}"
            ) from None

    def _verify(self, generation: Generation, names: list[str]) -> None:
        """Checksum these files of the generation, each once a run."""
        todo = [name for name in names if name not in self._verified]
        self.store.verify(generation, full=True, names=todo)
        self._verified.update(todo)

    def _verify_rest(self) -> None:
        """Check the files of the live generation this run has not checksummed already."""
        generation = self.generation
        if generation is None:
            return
        clock = time.perf_counter()
        # The rest the update never reads: checksummed up to 16 MiB, larger files by size. Their
        # manifest entries are carried over, never recomputed, so damage in them stays on record
        # and every load for questions (which checksums everything) refuses it (index/README.md).
        self.store.verify(
            generation, names=[name for name in generation.manifest["files"] if name not in self._verified]
        )
        timings = self.report.timings
        timings["verify"] = timings.get("verify", 0.0) + time.perf_counter() - clock

    def _live_contents(self, entries, live) -> list[tuple[dict[str, Any], str]]:
        """Records and full texts of the live articles of segments about to be merged."""
        generation = self.generation
        self._verify(generation, [f"{SEGMENTS}/{entry['name']}/{ARTICLE_TEXTS}" for entry in entries])
        out = []
        for entry in entries:
            wanted = {i: r for r, s, i in live if s == entry["name"]}
            texts = read_article_texts(generation, entry["name"], set(wanted))
            out += [(wanted[i], texts[i]) for i in sorted(wanted)]
        return out

    # Writing.

    def _write_segment(self, added: list[tuple[dict[str, Any], str]]) -> dict[str, Any]:
        """Split, look the sentences up in the embedding cache, check the rest of the live
        generation, then build and write the segment."""
        report, get = self.report, self.settings.get
        builder = SegmentBuilder(
            lambda texts: self.vectors.vectors(texts, report),
            min_sentence_chars=get("split", "min_sentence_chars"),
            vector_index=get("retrieval", "vector_index"),
            hnsw_min=get("retrieval", "hnsw_min_sentences"),
            hnsw_m=get("retrieval", "hnsw_m"),
            ef_construction=get("retrieval", "hnsw_ef_construction"),
            ef_search=get("retrieval", "hnsw_ef_search"),
            pieces=index_pieces(self.model_name),
        )
        split = builder.split([r for r, _ in added], [t for _, t in added])
        self.needed = _estimate_bytes(split, self.vectors.dim or 384)
        self.vectors.lookup(split.embed_texts, report)
        self._verify_rest()
        data = builder.build_split(split)
        clock = time.perf_counter()
        entry = self.store.write_segment(data)
        builder.timings["write"] = time.perf_counter() - clock
        for stage, seconds in builder.timings.items():
            report.timings[stage] = report.timings.get(stage, 0.0) + seconds
        return entry

    def _write_generation(self, entries: list[dict[str, Any]], records: list[dict[str, Any]]) -> Generation:
        clock = time.perf_counter()
        dates = sorted(r["date"] for r in records if r.get("date"))
        dims = {e["dim"] for e in entries if e["sentences"]}
        generation = self.store.commit(
            {
                "model": self.model_name,
                "dim": dims.pop() if dims else self.vectors.size(),
                "vector_index": self.settings.get("retrieval", "vector_index"),
                "splitter": SentenceSplitter.version,
                "tokenizer": Tokenizer.version,
                "counts": {
                    "articles": len(records),
                    "sentences": sum(r.get("sentences", 0) for r in records),
                    "chunks": sum(r.get("chunks", 0) for r in records),
                    "segments": len(entries),
                    "deleted_sentences": sum(e.get("deleted_sentences", 0) for e in entries),
                },
                "dates": {"min": dates[0] if dates else None, "max": dates[-1] if dates else None},
                "segments": entries,
            }
        )
        self.report.timings["commit"] = time.perf_counter() - clock
        return generation


def _estimate_bytes(split: SplitArticles, dim: int) -> int:
    """Roughly what a segment of these articles takes on disk, with its cache entries: the
    article and sentence texts, postings about their size again, and one float32 vector a
    sentence twice (segment and cache), plus a little per sentence for arrays and keys."""
    text = sum(len(t.encode("utf-8")) for t in split.texts)
    sentences = sum(len(t.encode("utf-8")) for t in split.embed_texts)
    return text + 2 * sentences + len(split.embed_texts) * (2 * 4 * dim + 64)
