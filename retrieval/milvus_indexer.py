"""Index articles into Milvus: the write side of the store seam for [store] backend = "milvus".

Reading inputs, the writer lock, the embedding cache and the change plan are those of the
segment store's ``Indexer``; only where the articles go differs. Each article's rows have
ids derived from its id and content hash; its record in ``_articles`` is written after its
rows and removed after them. Before a batch of articles changes, ``_meta`` names them
(``changing``): a run cut short (the server killed, the network gone) leaves that list, and
the next run first removes those articles' rows and records, so the plan sees them as new:
written again whole when their file is still there, gone for good when it is not. No article
is lost, doubled, or left answering from rows no record lists. A first build cut short
(nothing ever committed) is dropped whole by the next run. ``_meta`` (counts, dates, sources)
is rewritten at every commit from the article records, so it always describes what is stored.

``_terms`` keeps each word's document frequency. A run that starts from exact counts changes
them by what it deletes and adds, at commit. Before its first change it marks ``_meta`` as
changing, so a run cut short leaves the mark, readers count in the server meanwhile, and the
next commit counts every stored row again.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from retrieval.backend import ArticleWriter, Manifest
from retrieval.config import Settings
from retrieval.filters import day_number
from retrieval.indexer import Indexer, IngestReport
from retrieval.milvus_store import (
    ARTICLE_FIELDS,
    K1,
    MAX_TOKEN_BYTES,
    MAX_TOKENS,
    META_KEY,
    QUERY_LIMIT,
    B,
    MilvusConnection,
    MilvusSettings,
    clip_bytes,
    literal,
    manifest_of,
    read_meta,
    stable_id,
    term_key,
)
from retrieval.segment_builder import SegmentBuilder
from retrieval.split import SentenceSplitter
from retrieval.store import StoreError, StoreMissing
from retrieval.tokenize import Tokenizer

KINDS = ("sentences", "passages", "articles", "meta", "terms")
# The most bytes ``_meta``'s value holds (its VARCHAR's max_length).
META_VALUE_BYTES = 65_535
T = TypeVar("T")
ROWS = ("sentences", "passages")  # the collections searched by BM25, whose words ``_terms`` counts


class MilvusIndexer(Indexer):
    """Indexes into the Milvus collections; the local folder keeps the writer lock and the embedding cache."""

    def __init__(self, settings: Settings, index_dir: Path | None = None, **options: Any):
        super().__init__(settings, index_dir, **options)
        self.config = MilvusSettings.from_settings(settings)

    @contextmanager
    def _open_writer(self, rebuild: bool, report: IngestReport) -> Iterator[ArticleWriter]:
        connection = MilvusConnection(self.config)
        try:
            meta = None if rebuild else read_meta(connection)
            if meta is None:
                # A rebuild, a first build, or one cut short before its first commit: nothing
                # here was ever committed (no reader uses it), so it starts empty.
                for kind in KINDS:
                    connection.call("drop a collection", "drop_collection", self.config.name(kind))
            where = f"the archive in Milvus at {self.config.uri} ({self.config.prefix}_*)"
            if meta is not None and meta["model"] != self.model_name:
                raise StoreError(
                    f"{where} was built with model {meta['model']!r}, config asks for {self.model_name!r}: "
                    "run `newsdesk index --rebuild PATH...`"
                )
            self.vectors.expect(int(meta["dim"]) if meta is not None else None, held_by=where)
            writer = MilvusWriter(
                connection,
                self.model_name,
                self.vectors.size(),
                lambda texts: self.vectors.vectors(texts, report),
                self.settings.get("split", "min_sentence_chars"),
                meta,
            )
            writer.ensure_collections()
            writer.forget_unfinished()
            yield writer
        finally:
            connection.close()

    def _handed(self, done: int, total: int) -> None:
        if self.echo and total > self.ARTICLES_PER_BATCH:
            self.echo(f"milvus: {done:,} of {total:,} articles written")


class MilvusWriter:
    """The write side of the store seam on Milvus (``ArticleWriter``): add, delete, commit, describe."""

    def __init__(
        self,
        connection: MilvusConnection,
        model_name: str,
        dim: int,
        embed: Callable[[list[str]], np.ndarray],
        min_sentence_chars: int,
        meta: dict[str, Any] | None,
    ):
        self.connection, self.config = connection, connection.config
        self.model_name, self.dim, self.embed = model_name, dim, embed
        self.min_sentence_chars = min_sentence_chars
        self.meta = meta
        self.tokenizer = Tokenizer()
        self._changed = False
        # ``_terms`` holds exact counts when the last commit said so: this run then keeps it
        # exact by deltas. Otherwise (a new archive, one built before ``_terms`` existed, or a
        # run cut short after it began changing rows) the commit counts every row again.
        self._exact = meta is not None and meta.get("terms_clean") is True
        self._delta: Counter[str] = Counter()
        self._stored: dict[str, int] = {}  # sentences of each stored article, as live_records last read them

    # Collections.

    def ensure_collections(self) -> None:
        """Create whichever of the five collections is missing. When the rows and their counts
        are all new (a first build, or a rebuild), counting what is written keeps them exact."""
        connection, dim = self.connection, self.dim
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        created = set()
        for kind in KINDS:
            name = self.config.name(kind)
            if connection.call("list collections", "has_collection", name):
                continue
            created.add(kind)
            schema = MilvusClient.create_schema(auto_id=False)
            index = connection.client.prepare_index_params()
            if kind in ("sentences", "passages"):
                schema.add_field("id", DataType.INT64, is_primary=True)
                schema.add_field("article", DataType.VARCHAR, max_length=2048)
                if kind == "sentences":
                    schema.add_field("passage", DataType.INT64)
                    schema.add_field("text", DataType.VARCHAR, max_length=65_535)
                # newsdesk's own tokens, space-separated: Milvus's BM25 matches the same words.
                schema.add_field(
                    "terms",
                    DataType.VARCHAR,
                    max_length=65_535,
                    enable_analyzer=True,
                    analyzer_params={"tokenizer": "whitespace"},
                )
                schema.add_field(
                    "toks", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=MAX_TOKENS, max_length=256
                )
                schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
                schema.add_field("day", DataType.INT64)
                schema.add_field("source", DataType.VARCHAR, max_length=2048)
                schema.add_function(
                    Function(
                        name=f"{kind}_bm25",
                        function_type=FunctionType.BM25,
                        input_field_names=["terms"],
                        output_field_names=["sparse"],
                    )
                )
                index.add_index(
                    field_name="sparse",
                    index_type="SPARSE_INVERTED_INDEX",
                    metric_type="BM25",
                    params={"bm25_k1": K1, "bm25_b": B},
                )
                index.add_index(field_name="article", index_type="INVERTED")
                if kind == "sentences":
                    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
                    index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
                    index.add_index(field_name="passage", index_type="INVERTED")
                else:
                    # Milvus wants a dense vector in every collection; passages are searched by BM25.
                    schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
                    index.add_index(field_name="unused", index_type="FLAT", metric_type="L2")
            elif kind == "terms":
                # Document frequencies: one row per (collection, token), id "s:token" or "p:token".
                schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=MAX_TOKEN_BYTES + 8)
                schema.add_field("df", DataType.INT64)
                schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
                index.add_index(field_name="unused", index_type="FLAT", metric_type="L2")
            else:
                schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=2048)
                if kind == "articles":
                    for field in ARTICLE_FIELDS[1:]:
                        if field in ("sentences", "chunks"):
                            schema.add_field(field, DataType.INT64)
                        else:
                            schema.add_field(field, DataType.VARCHAR, max_length=8192)
                    schema.add_field("terms", DataType.INT64)
                else:
                    schema.add_field("value", DataType.VARCHAR, max_length=META_VALUE_BYTES)
                schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
                index.add_index(field_name="unused", index_type="FLAT", metric_type="L2")
            connection.call("create a collection", "create_collection", name, schema=schema, index_params=index)
        if {*ROWS, "terms"} <= created:
            self._exact = True

    def live_records(self) -> list[dict[str, Any]]:
        """Every article record stored (id, hash, scope and the fields shown with evidence)."""
        connection = self.connection
        out = []
        iterator = connection.client.query_iterator(
            self.config.name("articles"),
            batch_size=1000,
            output_fields=[*ARTICLE_FIELDS, "terms"],
            timeout=max(1, math.ceil(self.config.timeout)),
        )
        try:
            while batch := iterator.next():
                out += batch
        except Exception as exc:
            raise StoreError(
                f"Milvus at {self.config.uri} failed to list the stored articles ({connection._reason(exc)}): "
                "check that the server is up, then run the command again"
            ) from None
        finally:
            iterator.close()
        self._stored = {record["id"]: int(record["sentences"] or 0) for record in out}
        return out

    # Changes.

    def forget_unfinished(self) -> None:
        """Remove the rows and records of the articles a run cut short was changing (``_meta``
        ``changing``), so the plan sees them as new."""
        unfinished = (self.meta or {}).get("changing") or []
        if unfinished:
            self.delete(unfinished)  # that run left the counts marked: the commit counts again

    def delete(self, article_ids: list[str]) -> None:
        """Remove articles: their rows first, then their records."""
        connection = self.connection
        for ids in _parts_within(article_ids, self._changing_budget()):
            self._changing(ids)
            where = f"article in [{', '.join(literal(i) for i in ids)}]"
            for kind in ROWS:
                self._uncount(kind, ids)
                connection.call(f"delete old {kind}", "delete", self.config.name(kind), filter=where)
            connection.call("delete removed articles", "delete", self.config.name("articles"), ids=ids)

    def add(self, added: list[tuple[dict[str, Any], str]]) -> None:
        """Write articles (records and texts): the rows of any earlier copy go first (an older
        version, or a cut-short run's), the records last."""
        for part in _parts_within(added, self._changing_budget(), id_of=lambda item: item[0]["id"]):
            self._add(part)

    def _add(self, added: list[tuple[dict[str, Any], str]]) -> None:
        connection = self.connection
        ids = [record["id"] for record, _ in added]
        self._changing(ids)
        where = f"article in [{', '.join(literal(i) for i in ids)}]"
        for kind in ROWS:
            self._uncount(kind, ids)
            connection.call(f"clear {kind} of a cut-short run", "delete", self.config.name(kind), filter=where)
        builder = SegmentBuilder(lambda texts: texts, min_sentence_chars=self.min_sentence_chars)
        split = builder.split([r for r, _ in added], [t for _, t in added])
        vectors = self.embed(split.embed_texts)
        sentences, passages, articles = [], {}, []
        tokens_of = [self.tokenizer(s) for s in split.sentences]
        first = 0
        for record in split.records:
            count = record["sentences"]
            day, source = day_number(record.get("date")), clip_bytes(record.get("source") or "", 2048)
            chunk_base = split.arrays["sentence_chunk"][first] if count else 0
            total = 0
            for at in range(first, first + count):
                tokens = [clip_bytes(t, MAX_TOKEN_BYTES) for t in tokens_of[at]]
                total += len(tokens)
                chunk = split.arrays["sentence_chunk"][at] - chunk_base
                passage = stable_id(record["id"], record["hash"], "p", str(chunk))
                sentences.append(
                    {
                        "id": stable_id(record["id"], record["hash"], "s", str(at - first)),
                        "article": record["id"],
                        "passage": passage,
                        "text": clip_bytes(split.sentences[at]),
                        "terms": clip_bytes(" ".join(tokens)),
                        "toks": sorted(set(tokens))[:MAX_TOKENS],
                        "day": day,
                        "source": source,
                        "vector": vectors[at].tolist(),
                    }
                )
                row = passages.setdefault(
                    passage,
                    {"id": passage, "article": record["id"], "tokens": [], "day": day, "source": source},
                )
                row["tokens"] += tokens
            first += count
            articles.append({**{f: _text(record.get(f)) for f in ARTICLE_FIELDS[1:8]}, "id": record["id"]})
            articles[-1].update(sentences=count, chunks=record["chunks"], terms=total, unused=[0.0, 0.0])
        passage_rows = [
            {
                "id": p["id"],
                "article": p["article"],
                "terms": clip_bytes(" ".join(p["tokens"])),
                "toks": sorted(set(p["tokens"]))[:MAX_TOKENS],
                "day": p["day"],
                "source": p["source"],
                "unused": [0.0, 0.0],
            }
            for p in passages.values()
        ]
        if self._exact:
            for kind, rows in (("sentences", sentences), ("passages", passage_rows)):
                self._delta.update(term_key(kind, token) for row in rows for token in row["toks"])
        self.upsert("sentences", sentences)
        self.upsert("passages", passage_rows)
        self.upsert("articles", articles)

    def upsert(self, kind: str, rows: list[dict[str, Any]]) -> None:
        """Rows in batches of [store] batch_rows, each call retried by the connection."""
        size = self.config.batch_rows
        for start in range(0, len(rows), size):
            self.connection.call(f"write {kind}", "upsert", self.config.name(kind), data=rows[start : start + size])

    def commit(self) -> Manifest:
        """Flush every collection and rewrite ``_meta`` from the stored article records (with
        nothing added or deleted since an earlier commit, nothing is written)."""
        if self.meta is not None and not self._changed and self._exact:
            return self.describe()
        connection, dim, previous = self.connection, self.dim, self.meta
        for kind in KINDS[:3]:
            connection.call("flush writes", "flush", self.config.name(kind))
        records = self.live_records()
        if self._exact:
            self._apply_delta()
        else:
            self._count_terms(records)
        connection.call("flush writes", "flush", self.config.name("terms"))
        dates = sorted(r["date"] for r in records if r.get("date"))
        sources = Counter(r.get("source") or "" for r in records)
        meta = {
            "model": self.model_name,
            "dim": dim,
            "splitter": SentenceSplitter.version,
            "tokenizer": Tokenizer.version,
            "articles": len(records),
            "sentences": sum(int(r["sentences"]) for r in records),
            "chunks": sum(int(r["chunks"]) for r in records),
            "terms": sum(int(r["terms"]) for r in records),
            "date_min": dates[0] if dates else None,
            "date_max": dates[-1] if dates else None,
            "sources": [name for name, _ in sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))][:2000],
            "generation": int((previous or {}).get("generation", 0)) + 1,
            "terms_clean": True,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        connection.call(
            "write the archive's description",
            "upsert",
            self.config.name("meta"),
            data=[{"id": META_KEY, "value": json.dumps(meta), "unused": [0.0, 0.0]}],
        )
        connection.call("flush writes", "flush", self.config.name("meta"))
        self.meta, self._changed, self._exact, self._delta = meta, False, True, Counter()
        return self.describe()

    # Document frequencies (``_terms``).

    def _changing(self, article_ids: list[str]) -> None:
        """Before these articles' rows change: ``_meta`` names them and says the counts are being
        changed, so a run cut short from here on leaves both marked for the next run. Before the
        first commit there is no ``_meta``: a cut-short first build is dropped whole instead."""
        self._changed = True
        if self.meta is None:
            return
        value = json.dumps({**self.meta, "terms_clean": False, "changing": article_ids})
        data = [{"id": META_KEY, "value": value, "unused": [0.0, 0.0]}]
        self.connection.call("name the articles being changed", "upsert", self.config.name("meta"), data=data)
        self.connection.call("flush writes", "flush", self.config.name("meta"))

    def _changing_budget(self) -> int:
        """Bytes left in ``_meta``'s value for the ids being changed, with room to spare."""
        base = len(json.dumps({**(self.meta or {}), "terms_clean": False, "changing": []}))
        return max(META_VALUE_BYTES - base - 64, 1)

    def _uncount(self, kind: str, article_ids: list[str]) -> None:
        """Take these articles' rows out of the counts, before they are deleted (in an exact
        run every stored article's rows are counted, and only theirs)."""
        if self._exact:
            for row in self._rows(kind, [i for i in article_ids if self._stored.get(i)], ["toks"]):
                self._delta.subtract(term_key(kind, token) for token in row["toks"])

    def _apply_delta(self) -> None:
        """Add this run's changes to the stored counts; a word no row holds any more is removed."""
        keys = [key for key, change in self._delta.items() if change]
        name = self.config.name("terms")
        for start in range(0, len(keys), 1000):
            part = keys[start : start + 1000]
            stored = {row["id"]: int(row["df"]) for row in self.connection.call("read counts", "get", name, ids=part)}
            counts = {key: stored.get(key, 0) + self._delta[key] for key in part}
            self.upsert("terms", [{"id": k, "df": n, "unused": [0.0, 0.0]} for k, n in counts.items() if n > 0])
            gone = [k for k, n in counts.items() if n <= 0]
            if gone:
                self.connection.call("delete counts", "delete", name, ids=gone)

    def _count_terms(self, records: list[dict[str, Any]]) -> None:
        """Count the words of every stored article's rows again, into a fresh ``_terms``."""
        counts: Counter[str] = Counter()
        ids = [record["id"] for record in records if int(record["sentences"] or 0)]
        for kind in ROWS:
            counts.update(term_key(kind, token) for row in self._rows(kind, ids, ["toks"]) for token in row["toks"])
        self.connection.call("drop the counts", "drop_collection", self.config.name("terms"))
        self.ensure_collections()
        self.upsert("terms", [{"id": k, "df": n, "unused": [0.0, 0.0]} for k, n in counts.items()])

    def _rows(self, kind: str, article_ids: list[str], fields: list[str]) -> list[dict[str, Any]]:
        """The rows of these articles in a collection, read a hundred articles at a time (a
        query returns at most QUERY_LIMIT rows; a part that reaches it is read in halves).
        Only articles that have rows may be asked for: Milvus Lite 2.5 answers a query that
        matches nothing with an error ("Unsupported data type: 0")."""
        out: list[dict[str, Any]] = []
        parts = [article_ids[i : i + 100] for i in range(0, len(article_ids), 100)]
        while parts:
            part = parts.pop()
            where = f"article in [{', '.join(literal(i) for i in part)}]"
            rows = self.connection.call(
                f"read {kind}", "query", self.config.name(kind), filter=where, output_fields=fields, limit=QUERY_LIMIT
            )
            if len(rows) >= QUERY_LIMIT and len(part) > 1:
                parts += [part[: len(part) // 2], part[len(part) // 2 :]]
            else:
                out += rows
        return out

    def describe(self) -> Manifest:
        """The archive as the last commit left it."""
        if self.meta is None:
            raise StoreMissing(f"no archive in Milvus at {self.config.uri} under prefix {self.config.prefix!r} yet")
        return manifest_of(self.meta, self.config)


def _parts_within(items: list[T], budget: int, id_of: Callable[[T], str] = str) -> Iterator[list[T]]:
    """``items`` in consecutive parts whose article ids (``id_of``) take at most ``budget``
    bytes (at least one item a part), so that each part can be named in ``_meta``."""
    part: list[T] = []
    used = 0
    for item in items:
        size = len(json.dumps(id_of(item))) + 2  # as ``_meta`` writes it, with its separator
        if part and used + size > budget:
            yield part
            part, used = [], 0
        part.append(item)
        used += size
    if part:
        yield part


def _text(value: Any) -> str:
    return clip_bytes("" if value is None else str(value), 8192)
