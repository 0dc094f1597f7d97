"""The archive in Milvus: the collections, the connection, and the read side of the store seam.

Five collections share a prefix ([store] collection_prefix): ``_sentences`` (text, newsdesk's
tokens, a BM25 sparse vector made by Milvus from those tokens, the dense vector, the passage,
date and source), ``_passages`` (a passage's tokens and its BM25 vector), ``_articles`` (one
record per article, with its content hash), ``_terms`` (each word's document frequency among
sentences and among passages) and ``_meta`` (counts, dates, sources, model).

Milvus finds the candidates (BM25 over newsdesk's own tokens, so both stores match the same
words; dense inner product; date and source filters as scalar expressions). The reranker's
features are then computed here, as the segment store computes them: BM25 scores of the
candidates from their tokens with the document frequencies newsdesk keeps in ``_terms`` and
the counts and lengths it keeps in ``_meta``, cosines from the stored vectors, coverage from the
tokens. See docs/scaling.md for where the two stores can still differ.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from retrieval.backend import Lexical, Manifest
from retrieval.bm25 import idf_lucene
from retrieval.config import ConfigError, Settings
from retrieval.filters import NO_DATE, day_number, source_matches
from retrieval.store import StoreError, StoreMissing
from retrieval.types import Filters

TOKEN_ENV = "NEWSDESK_MILVUS_TOKEN"
# BM25 parameters of the segment store (retrieval/bm25.py), so both rank alike.
K1, B = 1.5, 0.75
MAX_TEXT_BYTES = 65_535
MAX_TOKENS = 4096
MAX_TOKEN_BYTES = 250  # of the 256 a token may take in ``toks``
QUERY_LIMIT = 16_384  # Milvus returns at most this many rows per query
SENTENCE_FIELDS = ["article", "passage", "text", "terms", "vector"]
ARTICLE_FIELDS = ["id", "title", "date", "source", "url", "origin", "scope", "hash", "sentences", "chunks"]
META_KEY = "manifest"

log = logging.getLogger("newsdesk.milvus")


@dataclass(frozen=True)
class MilvusSettings:
    """Where the Milvus store is and how to talk to it; the token comes from the environment only."""

    uri: str
    prefix: str
    batch_rows: int
    retries: int
    timeout: float
    token: str = ""

    @classmethod
    def from_settings(cls, settings: Settings, environ: dict[str, str] | None = None) -> MilvusSettings:
        import os

        section = settings.section("store")
        prefix = section["collection_prefix"]
        if not prefix or not (prefix[0].isalpha() or prefix[0] == "_") or not prefix.replace("_", "a").isalnum():
            raise ConfigError(
                f"[store] collection_prefix = {prefix!r} from {settings.source('store', 'collection_prefix')} is not "
                "usable: use letters, digits and underscores, starting with a letter"
            )
        uri = section["milvus_uri"].strip()
        if not uri.startswith(("http://", "https://", "tcp://", "unix:")):
            raise ConfigError(
                f"[store] milvus_uri = {uri!r} from {settings.source('store', 'milvus_uri')} is not usable: "
                "write it as http://HOST:PORT, e.g. http://127.0.0.1:19530"
            )
        env = os.environ if environ is None else environ
        return cls(
            uri=uri,
            prefix=prefix,
            batch_rows=int(section["batch_rows"]),
            retries=int(section["retries"]),
            timeout=float(section["timeout_seconds"]),
            token=env.get(TOKEN_ENV, ""),
        )

    def __repr__(self) -> str:  # the token must never reach a log or a message
        return f"MilvusSettings(uri={self.uri!r}, prefix={self.prefix!r})"

    def name(self, kind: str) -> str:
        return f"{self.prefix}_{kind}"


class MilvusConnection:
    """A Milvus client whose every call is retried and whose failures become StoreErrors naming the URI."""

    def __init__(self, config: MilvusSettings):
        self.config = config
        try:
            from pymilvus import MilvusClient
        except ImportError:
            raise StoreError(
                "[store] backend = milvus needs pymilvus: `pip install -e '.[milvus]'` (or set [store] backend = local)"
            ) from None
        # pymilvus logs each failed call with its internals (its own loggers, configured on
        # import); newsdesk says what failed, and what to do, instead.
        for name in ["pymilvus", *logging.root.manager.loggerDict]:
            if name.startswith("pymilvus"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
        try:
            # A connection of its own (pymilvus shares one per URI and token otherwise, and
            # closing one client would close the others'), named without the token.
            self.client = MilvusClient(
                uri=config.uri, token=config.token, timeout=config.timeout, alias=f"newsdesk-{uuid.uuid4().hex}"
            )
        except Exception as exc:
            raise StoreError(
                f"cannot reach Milvus at {config.uri} ({self._reason(exc)}): start the server, or point "
                "[store] milvus_uri (env NEWSDESK_MILVUS_URI) at it"
            ) from None

    def _reason(self, exc: BaseException) -> str:
        details = getattr(exc, "details", None)  # a gRPC error: its own words, not its repr
        text = details() if callable(details) else getattr(exc, "message", "") or str(exc)
        text = " ".join(str(text).split())[:300] or type(exc).__name__
        if self.config.token:
            text = text.replace(self.config.token, "***")
        return text

    def call(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """``client.method(*args, **kwargs)``, tried again after 0.5 s, 1 s, 2 s... up to [store] retries times."""
        for attempt in range(self.config.retries + 1):
            try:
                # pymilvus retries a failed call by itself up to 75 times unless the timeout is an
                # int, which then bounds the whole call, its own retries included.
                timeout = max(1, math.ceil(self.config.timeout))
                return getattr(self.client, method)(*args, timeout=timeout, **kwargs)
            except Exception as exc:
                if attempt == self.config.retries or not _transient(exc):
                    raise StoreError(
                        f"Milvus at {self.config.uri} failed to {what} ({self._reason(exc)}): check that the server "
                        "is up and [store] milvus_uri (env NEWSDESK_MILVUS_URI) points at it, then run the command "
                        "again"
                    ) from None
                time.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:
            pass


def _transient(exc: BaseException) -> bool:
    """Worth trying again: the server unreachable or busy, not a request it rejects."""
    code = getattr(exc, "code", None)
    text = str(exc).lower()
    return code in (1, 2, 8, 14, 17, 28, 65535) or any(
        word in text for word in ("unavailable", "deadline", "timeout", "connect", "not ready", "rate limit")
    )


def stable_id(*parts: str) -> int:
    """A 63-bit id from the parts: the same article content always gets the same row ids, so an
    upsert repeated after a crash overwrites what the cut-short run wrote instead of doubling it."""
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & ((1 << 63) - 1)


def literal(text: str) -> str:
    """A string literal for a Milvus filter expression."""
    return json.dumps(text, ensure_ascii=False)


def term_key(kind: str, token: str) -> str:
    """The ``_terms`` row id of a stored token's document frequency among sentences ("s:") or
    passages ("p:"); the indexer writes and the reader looks up by this one key."""
    return f"{kind[0]}:{token}"


def clip_bytes(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    encoded = text.encode("utf-8")
    return text if len(encoded) <= limit else encoded[:limit].decode("utf-8", errors="ignore")


def manifest_of(meta: dict[str, Any], config: MilvusSettings) -> Manifest:
    """The typed description of the archive from its ``_meta`` row."""
    return Manifest(
        articles=int(meta["articles"]),
        sentences=int(meta["sentences"]),
        date_min=meta["date_min"],
        date_max=meta["date_max"],
        model=meta["model"],
        dim=int(meta["dim"]),
        built_at=meta.get("built_at"),
        generation=meta.get("generation"),
        index_bytes=None,  # the cluster's own metrics say how much it holds
        backend="milvus",
        location=f"{config.uri} ({config.prefix}_*)",
    )


def read_meta(connection: MilvusConnection) -> dict[str, Any] | None:
    """The archive's description in ``_meta``, or None when nothing was ever committed there."""
    name = connection.config.name("meta")
    if not connection.call("list collections", "has_collection", name):
        return None
    rows = connection.call("read the archive's description", "get", name, ids=[META_KEY], output_fields=["value"])
    return json.loads(rows[0]["value"]) if rows else None


@dataclass
class MilvusAllowed:
    """The sentences a filter admits, as a Milvus expression, with how many there are."""

    expression: str
    count: int


class MilvusSearch:
    """The read side of the store seam over Milvus; safe to share between threads."""

    def __init__(
        self, connection: MilvusConnection, meta: dict[str, Any], reload_seconds: float = 0.0, cache_rows: int = 50_000
    ):
        self.connection = connection
        self.reload_seconds = reload_seconds
        self._checked = time.monotonic()
        self._names = {kind: connection.config.name(kind) for kind in ("sentences", "passages", "articles", "terms")}
        self._lock = threading.Lock()
        self._rows: OrderedDict[int, dict[str, Any]] = OrderedDict()  # sentence rows seen, newest last
        self._passage_counts_cache: OrderedDict[int, Counter[str]] = OrderedDict()  # token counts of passages seen
        self._articles: dict[str, dict[str, Any]] = {}
        self._pending: set[str] = set()  # articles of cached sentences whose records are not fetched yet
        self._df: dict[tuple[str, str], int] = {}
        self._cache_rows = cache_rows
        self._use(meta)

    def _use(self, meta: dict[str, Any]) -> None:
        """Answer with the statistics of this commit (and forget document frequencies of older ones)."""
        sentences, passages = max(int(meta["sentences"]), 1), max(int(meta["chunks"]), 1)
        with self._lock:
            self.meta = meta
            # Every sentence's tokens belong to exactly one passage, so both sum to the same total.
            self._avgdl = {"sentences": meta["terms"] / sentences, "passages": meta["terms"] / passages}
            self._live = {"sentences": int(meta["sentences"]), "passages": int(meta["chunks"])}
            self._df = {}

    def _follow(self) -> None:
        """Every [index] reload_seconds, take up the statistics of a newer commit: Milvus serves
        new rows at once, and the counts and dates newsdesk keeps must follow them."""
        now = time.monotonic()
        if self.reload_seconds <= 0 or now - self._checked < self.reload_seconds:
            return
        self._checked = now
        try:
            meta = read_meta(self.connection)
        except StoreError as exc:
            log.warning("%s; answering with the statistics read before", exc)
            return
        if meta is not None and meta.get("generation") != self.meta.get("generation"):
            self._use(meta)
            log.info("now answering with commit %s of %s", meta.get("generation"), self.connection.config.uri)

    # What the archive is.

    def describe(self) -> Manifest:
        self._follow()
        return manifest_of(self.meta, self.connection.config)

    @property
    def live_sentences(self) -> int:
        return self._live["sentences"]

    # Candidates.

    def lexical(self, tokens: list[str], n: int, allowed: MilvusAllowed | None = None) -> Lexical:
        ids = self._bm25_search("sentences", tokens, n, allowed, SENTENCE_FIELDS)
        return self._lexical("sentences", tokens, ids)

    def lexical_top(
        self, tokens: list[str], n: int, allowed: MilvusAllowed | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        ids = self._bm25_search("sentences", tokens, n, allowed, SENTENCE_FIELDS)
        scores = self._bm25_scores("sentences", tokens, ids)
        order = np.lexsort((ids, -scores))
        keep = order[scores[order] > 0]
        return ids[keep], scores[keep]

    def passages(self, tokens: list[str], n: int, allowed: MilvusAllowed | None = None) -> Lexical:
        ids = self._bm25_search("passages", tokens, n, allowed, ["terms"])
        return self._lexical("passages", tokens, ids)

    def _lexical(self, kind: str, tokens: list[str], ids: np.ndarray) -> Lexical:
        scores = self._bm25_scores(kind, tokens, ids)
        top = ids[scores > 0]
        return Lexical(
            top, float(scores.max()) if len(scores) else 0.0, lambda wanted: self._bm25_scores(kind, tokens, wanted)
        )

    def dense_top(
        self, vector: np.ndarray, n: int, allowed: MilvusAllowed | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        hits = self.connection.call(
            "search the sentence vectors",
            "search",
            self._names["sentences"],
            data=[np.asarray(vector, dtype=np.float32).tolist()],
            anns_field="vector",
            limit=n,
            filter=allowed.expression if allowed is not None else "",
            output_fields=SENTENCE_FIELDS,
            search_params={"metric_type": "IP"},
        )[0]
        self._keep_rows(hits)
        ids = np.array([int(h["id"]) for h in hits], dtype=np.int64)
        scores = self.dense_scores(vector, ids)  # exact float32 cosines, as the segment store gives
        order = np.lexsort((ids, -scores))
        return ids[order], scores[order]

    def dense_scores(self, vector: np.ndarray, ids: np.ndarray) -> np.ndarray:
        rows = self._sentence_rows(ids)
        if not rows:
            return np.zeros(0, dtype=np.float32)
        matrix = np.asarray([row["vector"] for row in rows], dtype=np.float32)
        return matrix @ np.asarray(vector, dtype=np.float32).reshape(-1)

    def sentences_of_passages(self, passage_ids: np.ndarray, allowed: MilvusAllowed | None = None) -> np.ndarray:
        if not len(passage_ids):
            return np.zeros(0, dtype=np.int64)
        expression = f"passage in [{', '.join(str(int(p)) for p in passage_ids)}]"
        if allowed is not None and allowed.expression:
            expression = f"({expression}) and ({allowed.expression})"
        rows = self.connection.call(
            "read passages",
            "query",
            self._names["sentences"],
            filter=expression,
            output_fields=SENTENCE_FIELDS,
            limit=QUERY_LIMIT,
        )
        self._keep_rows(rows)
        return np.array(sorted(int(r["id"]) for r in rows), dtype=np.int64)

    def passage_of(self, ids: np.ndarray) -> np.ndarray:
        return np.array([int(row["passage"]) for row in self._sentence_rows(ids)], dtype=np.int64)

    # Per-candidate feature inputs.

    def idf(self, token: str) -> float:
        df = self._document_frequencies("sentences", [token])[token]
        return idf_lucene(self._live["sentences"], df) if df else 0.0

    def term_presence(self, tokens: list[str], ids: np.ndarray) -> np.ndarray:
        rows = self._sentence_rows(ids)
        held = [row["counts"] for row in rows]
        return np.array([[t in terms for t in tokens] for terms in held], dtype=bool).reshape(len(rows), len(tokens))

    def word_pieces(self, ids: np.ndarray, tag: str) -> list[np.ndarray] | None:
        """None: Milvus rows keep no word pieces, so the term matcher tokenises (and caches)."""
        return None

    def text(self, sentence_id: int) -> str:
        return self._sentence_rows(np.array([sentence_id]))[0]["text"]

    def article_of(self, sentence_id: int) -> dict[str, Any]:
        article = self._sentence_rows(np.array([sentence_id]))[0]["article"]
        with self._lock:
            found = self._articles.get(article)
        if found is None:
            # Every article of the candidates seen so far, in one call: evidence shows several.
            with self._lock:
                wanted = [article, *sorted(self._pending - {article})[:999]]
                self._pending.difference_update(wanted)
            self._fetch_articles(wanted)
            with self._lock:
                found = self._articles[article]
        return found

    # Filters.

    def allowed(self, filters: Filters) -> MilvusAllowed:
        parts = []
        if filters.since:
            parts.append(f"day >= {day_number(filters.since)}")
        if filters.until:
            parts.append(f"day <= {day_number(filters.until)} and day != {int(NO_DATE)}")
        if filters.sources:
            chosen = [s for s in self.meta["sources"] if any(source_matches(name, s) for name in filters.sources)]
            parts.append(f"source in [{', '.join(literal(s) for s in chosen)}]" if chosen else "id < 0")
        expression = " and ".join(f"({p})" for p in parts)
        rows = self.connection.call(
            "count filtered sentences",
            "query",
            self._names["sentences"],
            filter=expression,
            output_fields=["count(*)"],
        )
        return MilvusAllowed(expression, int(rows[0]["count(*)"]) if rows else 0)

    def sources_by_count(self) -> list[str]:
        return [s for s in self.meta["sources"] if s]

    # Internals.

    def _bm25_search(
        self, kind: str, tokens: list[str], n: int, allowed: MilvusAllowed | None, fields: list[str]
    ) -> np.ndarray:
        if not tokens or n <= 0:
            return np.zeros(0, dtype=np.int64)
        hits = self.connection.call(
            f"search the {kind}",
            "search",
            self._names[kind],
            data=[" ".join(tokens)],
            anns_field="sparse",
            limit=n,
            filter=allowed.expression if allowed is not None else "",
            output_fields=fields,
            search_params={"metric_type": "BM25"},
        )[0]
        if kind == "sentences":
            self._keep_rows(hits)
        else:
            self._keep_passages(hits)
        return np.array(sorted(int(h["id"]) for h in hits), dtype=np.int64)

    def _bm25_scores(self, kind: str, tokens: list[str], ids: np.ndarray) -> np.ndarray:
        """BM25 (Lucene variant, float32) of chosen sentences or passages, as retrieval/bm25.py scores them."""
        if kind == "sentences":
            documents = [row["counts"] for row in self._sentence_rows(ids)]
        else:
            documents = self._passage_counts(ids)
        out = np.zeros(len(documents), dtype=np.float32)
        if not documents:
            return out
        lengths = np.array([d.total() for d in documents], dtype=np.float32)
        norm = K1 * ((1.0 - B) + B * lengths / np.float32(self._avgdl[kind]))
        frequencies = self._document_frequencies(kind, tokens)
        for token in tokens:  # a repeated query token counts again, as in the segment store
            df = frequencies[token]
            if not df:
                continue
            idf = np.float32(idf_lucene(self._live[kind], df))
            tf = np.array([d[token] for d in documents], dtype=np.float32)
            out += np.where(tf > 0, idf * tf / (tf + norm), np.float32(0.0)).astype(np.float32)
        return out

    def _document_frequencies(self, kind: str, tokens: list[str]) -> dict[str, int]:
        """How many sentences (or passages) hold each token, for this commit: read from the
        counts the indexer keeps in ``_terms`` (one look-up for every token not seen yet), or,
        on an archive whose counts are not exact (built before ``_terms``, or a write cut
        short), counted by the server."""
        with self._lock:
            out = {t: self._df[(kind, t)] for t in tokens if (kind, t) in self._df}
        missing = [t for t in dict.fromkeys(tokens) if t not in out]
        if not missing:
            return out
        if self.meta.get("terms_clean") is True:
            keys = {term_key(kind, clip_bytes(t, MAX_TOKEN_BYTES)): t for t in missing}
            rows = self.connection.call(
                "read word counts", "get", self._names["terms"], ids=list(keys), output_fields=["df"]
            )
            found = {keys[row["id"]]: int(row["df"]) for row in rows}
            fresh = {t: found.get(t, 0) for t in missing}
        else:
            fresh = {t: self._count_documents(kind, t) for t in missing}
        with self._lock:
            for t, df in fresh.items():
                self._df[(kind, t)] = df
        return {**out, **fresh}

    def _count_documents(self, kind: str, token: str) -> int:
        rows = self.connection.call(
            "count a word's documents",
            "query",
            self._names[kind],
            filter=f"array_contains(toks, {literal(token)})",
            output_fields=["count(*)"],
        )
        return int(rows[0]["count(*)"]) if rows else 0

    def _keep_rows(self, rows: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            for row in rows:
                entity = row.get("entity", row)
                kept = {name: entity[name] for name in SENTENCE_FIELDS}
                kept["counts"] = Counter(kept.pop("terms").split())  # split once, not per question
                self._rows[int(row["id"])] = kept
                self._rows.move_to_end(int(row["id"]))
                if entity["article"] not in self._articles:
                    self._pending.add(entity["article"])
            while len(self._rows) > self._cache_rows:
                self._rows.popitem(last=False)

    def _keep_passages(self, rows: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            for row in rows:
                entity = row.get("entity", row)
                self._passage_counts_cache[int(row["id"])] = Counter(entity["terms"].split())
            while len(self._passage_counts_cache) > self._cache_rows:
                self._passage_counts_cache.popitem(last=False)

    def _sentence_rows(self, ids: np.ndarray) -> list[dict[str, Any]]:
        wanted = [int(i) for i in np.asarray(ids).reshape(-1)]
        with self._lock:
            missing = [i for i in dict.fromkeys(wanted) if i not in self._rows]
        if missing:
            self._keep_rows(self._get("sentences", missing, ["id", *SENTENCE_FIELDS]))
        with self._lock:
            try:
                return [self._rows[i] for i in wanted]
            except KeyError as exc:
                raise StoreError(
                    f"sentence {exc} is no longer in Milvus at {self.connection.config.uri}: the archive changed "
                    "while answering; ask again"
                ) from None

    def _passage_counts(self, ids: np.ndarray) -> list[Counter[str]]:
        wanted = [int(i) for i in np.asarray(ids).reshape(-1)]
        with self._lock:
            missing = [i for i in dict.fromkeys(wanted) if i not in self._passage_counts_cache]
        if missing:
            self._keep_passages(self._get("passages", missing, ["id", "terms"]))
        with self._lock:
            return [self._passage_counts_cache.get(i, Counter()) for i in wanted]

    def _get(self, kind: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for start in range(0, len(ids), 1000):
            rows += self.connection.call(
                f"read {kind}", "get", self._names[kind], ids=ids[start : start + 1000], output_fields=fields
            )
        return rows

    def _fetch_articles(self, article_ids: list[str]) -> None:
        rows = self.connection.call(
            "read articles", "get", self._names["articles"], ids=article_ids, output_fields=ARTICLE_FIELDS
        )
        with self._lock:
            for row in rows:
                self._articles[row["id"]] = {name: row.get(name) for name in ARTICLE_FIELDS}
                if not self._articles[row["id"]]["date"]:
                    self._articles[row["id"]]["date"] = None


def open_milvus_search(settings: Settings, model: str | None = None) -> MilvusSearch:
    """The archive in Milvus, checked to be there and built with the configured model."""
    config = MilvusSettings.from_settings(settings)
    connection = MilvusConnection(config)
    meta = read_meta(connection)
    if meta is None:
        connection.close()
        raise StoreMissing(
            f"no archive in Milvus at {config.uri} under collection prefix {config.prefix!r}: run "
            "`newsdesk index PATH` with [store] backend = milvus"
        )
    if model is not None and meta["model"] != model:
        connection.close()
        raise StoreError(
            f"the archive in Milvus at {config.uri} ({config.prefix}_*) was built with model {meta['model']!r} but "
            f"the config asks for {model!r}: rebuild it with `newsdesk index --rebuild PATH...`"
        )
    return MilvusSearch(connection, meta, reload_seconds=settings.get("index", "reload_seconds"))


def describe_milvus(settings: Settings) -> Manifest:
    """The archive's description from ``_meta``, without loading anything else."""
    search = open_milvus_search(settings)
    try:
        return search.describe()
    finally:
        search.connection.close()
