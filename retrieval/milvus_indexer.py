"""Index articles into Milvus: the write side of the store seam for [store] backend = "milvus".

Reading inputs, the writer lock, the embedding cache and the change plan are those of the
segment store's ``Indexer``; only where the articles go differs. Each article's rows have
ids derived from its id and content hash, and its record in ``_articles`` is written last:
a run cut short (the server killed, the network gone) leaves articles without a record, which
the next run sees as new, deletes whatever rows of them were written, and writes again, so no
article is lost or doubled. ``_meta`` (counts, dates, sources) is rewritten at every commit
from the article records, so it always describes what is stored.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
    B,
    MilvusConnection,
    MilvusSettings,
    clip_bytes,
    literal,
    manifest_of,
    read_meta,
    stable_id,
)
from retrieval.segment_builder import SegmentBuilder
from retrieval.split import SentenceSplitter
from retrieval.store import StoreError, StoreMissing
from retrieval.tokenize import Tokenizer

KINDS = ("sentences", "passages", "articles", "meta")


class MilvusIndexer(Indexer):
    """Indexes into the Milvus collections; the local folder keeps the writer lock and the embedding cache."""

    def __init__(self, settings: Settings, index_dir: Path | None = None, **options: Any):
        super().__init__(settings, index_dir, **options)
        self.config = MilvusSettings.from_settings(settings)

    @contextmanager
    def _open_writer(self, rebuild: bool, report: IngestReport) -> Iterator[ArticleWriter]:
        connection = MilvusConnection(self.config)
        try:
            if rebuild:
                for kind in KINDS:
                    connection.call("drop a collection", "drop_collection", self.config.name(kind))
            meta = read_meta(connection)
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

    # Collections.

    def ensure_collections(self) -> None:
        """Create whichever of the four collections is missing."""
        connection, dim = self.connection, self.dim
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        for kind in KINDS:
            name = self.config.name(kind)
            if connection.call("list collections", "has_collection", name):
                continue
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
                    schema.add_field("value", DataType.VARCHAR, max_length=65_535)
                schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
                index.add_index(field_name="unused", index_type="FLAT", metric_type="L2")
            connection.call("create a collection", "create_collection", name, schema=schema, index_params=index)

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
        return out

    # Changes.

    def delete(self, article_ids: list[str]) -> None:
        """Remove articles: their rows first, then their records."""
        connection = self.connection
        self._changed = self._changed or bool(article_ids)
        for start in range(0, len(article_ids), 500):
            ids = article_ids[start : start + 500]
            where = f"article in [{', '.join(literal(i) for i in ids)}]"
            for kind in ("sentences", "passages"):
                connection.call(f"delete old {kind}", "delete", self.config.name(kind), filter=where)
            connection.call("delete removed articles", "delete", self.config.name("articles"), ids=ids)

    def add(self, added: list[tuple[dict[str, Any], str]]) -> None:
        """Write articles (records and texts): the rows of any earlier copy go first (an older
        version, or a cut-short run's), the records last."""
        connection = self.connection
        self._changed = self._changed or bool(added)
        ids = [record["id"] for record, _ in added]
        where = f"article in [{', '.join(literal(i) for i in ids)}]"
        for kind in ("sentences", "passages"):
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
        if self.meta is not None and not self._changed:
            return self.describe()
        connection, dim, previous = self.connection, self.dim, self.meta
        for kind in KINDS[:3]:
            connection.call("flush writes", "flush", self.config.name(kind))
        records = self.live_records()
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
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        connection.call(
            "write the archive's description",
            "upsert",
            self.config.name("meta"),
            data=[{"id": META_KEY, "value": json.dumps(meta), "unused": [0.0, 0.0]}],
        )
        connection.call("flush writes", "flush", self.config.name("meta"))
        self.meta, self._changed = meta, False
        return self.describe()

    def describe(self) -> Manifest:
        """The archive as the last commit left it."""
        if self.meta is None:
            raise StoreMissing(f"no archive in Milvus at {self.config.uri} under prefix {self.config.prefix!r} yet")
        return manifest_of(self.meta, self.config)


def _text(value: Any) -> str:
    return clip_bytes("" if value is None else str(value), 8192)
