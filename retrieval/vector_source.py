"""Where an indexing run's vectors come from: the embedding cache first, the model only for the rest.

Shared by every store's indexer. The model is loaded on first need, never when every vector
is cached; a damaged cache is set aside with a warning and the run goes on without it;
progress is a bar on a terminal and plain lines elsewhere.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.config import Settings
from retrieval.diskspace import is_disk_full
from retrieval.embed import EmbeddingCache, EncoderError, encode_with_cache, load_encoder
from retrieval.ingest import Problem
from retrieval.progress import ProgressLog
from retrieval.store import StoreError

REBUILD = "run `newsdesk index --rebuild PATH...`"


class VectorSource:
    """Vectors for sentence texts of one model, cached by text.

    ``expect`` tells it the vector size the store holds; ``lookup`` finds cached vectors
    before the model is loaded; ``vectors`` gives every vector, encoding only what the cache
    lacks. ``report`` arguments are the run's ``IngestReport`` (``encoded``, ``warnings``,
    ``timings``).
    """

    def __init__(
        self,
        settings: Settings,
        cache_path: Path,
        use_cache: bool = True,
        encoder=None,
        progress: bool | None = None,
        echo: Callable[[str], None] | None = None,
    ):
        self.settings = settings
        self.model_name = settings.get("model", "name")
        self.cache_path = Path(cache_path)
        self.use_cache = use_cache
        self.progress = progress  # None: a bar on a terminal, lines through ``echo`` elsewhere
        self.echo = echo
        self._encoder = encoder
        self.dim: int | None = None  # vector size, known before the model loads when the store gives it
        self._fixed: str | None = None  # the store holding vectors of size ``dim``: the size may not change
        self._hint = REBUILD
        self._cached: tuple[list[str], dict[int, np.ndarray]] | None = None  # a lookup made for these texts

    @property
    def loaded_encoder(self):
        """The encoder if this run loaded it (or was given one), else None."""
        return self._encoder

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

    def expect(self, dim: int | None, held_by: str | None = None, hint: str = REBUILD) -> None:
        """The vector size to expect (None: learn it from the model). With ``held_by`` (the
        store, as an error names it), the store already holds vectors of that size and a model
        that now gives another size is an error saying ``hint``; without it the size is only a
        guess (a rebuild), corrected when the model loads."""
        self.dim, self._fixed, self._hint, self._cached = dim, held_by, hint, None

    def size(self) -> int:
        """The vector size, loading the model only when no store told it."""
        if self.dim is None:
            self.dim = self.encoder.dim
        return self.dim

    def lookup(self, texts: list[str], report: Any) -> None:
        """Look ``texts`` up in the cache before the model is loaded (needs the vector size);
        the next ``vectors(texts)`` uses what was found and loads the model only if something
        is missing."""
        self._cached = None
        if self._encoder is not None or not texts or self.dim is None or not self.use_cache:
            return
        clock = time.perf_counter()
        try:
            cache = EmbeddingCache(self.cache_path, f"{self.model_name}:{self.dim}", self.dim)
            try:
                found = cache.get_many(texts)
            finally:
                cache.close()
        except sqlite3.DatabaseError:
            found = {}  # ``vectors`` sets a damaged cache aside and says so
        report.timings["cache"] = report.timings.get("cache", 0.0) + time.perf_counter() - clock
        self._cached = (texts, found)

    def vectors(self, texts: list[str], report: Any) -> np.ndarray:
        """One float32 vector per text; a damaged cache is moved aside and the run goes on."""
        if not texts:
            return np.zeros((0, self.size()), dtype=np.float32)
        if self._cached is None or self._cached[0] is not texts:
            self.lookup(texts, report)
        try:
            return self._vectors(texts, report)
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
            return self._vectors(texts, report)

    def _vectors(self, texts: list[str], report: Any) -> np.ndarray:
        cached, self._cached = self._cached, None
        found = cached[1] if cached is not None and cached[0] is texts else None
        if found is not None and len(found) == len(texts):
            # Every vector is in the cache: the model is never loaded.
            return np.vstack([found[i] for i in range(len(texts))]).astype(np.float32, copy=False)
        from tqdm import tqdm

        encoder = self.encoder
        if self.dim is not None and encoder.dim != self.dim:
            if self._fixed:
                raise StoreError(
                    f"model {self.model_name!r} now gives {encoder.dim}-dimensional vectors, {self._fixed} "
                    f"holds {self.dim}: {self._hint}"
                )
            found = None  # a rebuild with a changed model: the size guessed was the old one
        self.dim = encoder.dim
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
