"""The answering core for a long-running server, swapped when `newsdesk index` commits.

`newsdesk index` writes a new generation and then replaces the store's CURRENT pointer
atomically. Reading that small file at most every few seconds is the whole cost of noticing;
the new generation loads on a thread of its own while questions go on being answered from the
old one, and the swap is one assignment. The model is loaded once and kept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from retrieval.answer import Answerer
from retrieval.search_index import load_search_index
from retrieval.store import CURRENT, IndexStore

log = logging.getLogger("newsdesk.serve")


class LiveAnswerer:
    """Hands out the current `Answerer`; safe to call from many threads."""

    def __init__(
        self,
        answerer: Answerer,
        index_dir: Path,
        generation: str | None,
        check_every: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._answerer = answerer
        self.index_dir = Path(index_dir)
        self.generation = generation
        self.check_every = check_every
        self.reload_error: str | None = None
        self._clock = clock
        self._checked = clock()
        self._lock = threading.Lock()
        self._loading: threading.Thread | None = None
        self._failed: str | None = None

    def get(self) -> Answerer:
        """The answerer for the newest committed generation known; starts a reload when one appears."""
        now = self._clock()
        if now - self._checked >= self.check_every and self._lock.acquire(blocking=False):
            try:
                self._checked = now
                name = read_pointer(self.index_dir)
                if name and name not in (self.generation, self._failed) and self._loading is None:
                    self._loading = threading.Thread(
                        target=self._load, args=(name,), name="newsdesk-reload", daemon=True
                    )
                    self._loading.start()
            finally:
                self._lock.release()
        return self._answerer

    def wait_for_reload(self, timeout: float | None = None) -> None:
        """Block until a reload under way has finished (for tests and shutdown)."""
        loading = self._loading
        if loading is not None:
            loading.join(timeout)

    def _load(self, name: str) -> None:
        started = time.perf_counter()
        old = self._answerer
        try:
            model = old.settings.get("model", "name")
            index = load_search_index(IndexStore(self.index_dir), model=model)
            fresh = old.with_index(index)  # the same encoder, feature weights and cross-encoder
        except Exception as exc:  # noqa: BLE001 - a damaged or half-copied store: keep answering from the old one
            self._failed = name
            self.reload_error = f"generation {name} was not loaded ({type(exc).__name__}: {exc}); still answering from {self.generation}"
            log.warning("%s", self.reload_error)
        else:
            self._answerer, self.generation, self.reload_error, self._failed = fresh, name, None, None
            log.info(
                "now answering from %s (%s sentences, loaded in %.1f s)",
                name,
                f"{fresh.stats()['sentences']:,}",
                time.perf_counter() - started,
            )
        finally:
            self._loading = None


def read_pointer(index_dir: Path) -> str | None:
    """The live generation's name as CURRENT holds it; None while there is none."""
    try:
        return (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
