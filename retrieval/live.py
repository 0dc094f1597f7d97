"""Answer from the newest committed index without a restart: `serve`, `chat` and the bot.

`newsdesk index` writes a new generation and then replaces the store's CURRENT pointer
atomically; reading that small file now and then is the whole cost of noticing. A new
generation is loaded (every checksum, as any load for questions) while questions go on being
answered from the old one, then swapped in with one assignment: no question waits for a
load, and each is answered wholly from one generation. A generation that fails to load is
logged with the reason, the old one keeps answering, and it is tried again only when the
pointer moves on. The model and the reading stage are loaded once and kept.

Two ways to follow the store, one class: ``get()`` looks at most every ``every`` seconds when
asked and loads on a thread of its own (the HTTP server, whose requests must never wait);
``start()`` runs a thread that calls ``check()`` every ``every`` seconds (chat and the bot).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from retrieval.answer import Answerer
from retrieval.search_index import SearchIndex
from retrieval.store import CURRENT, IndexStore
from retrieval.stores import open_search
from retrieval.types import Answer

log = logging.getLogger("newsdesk.reload")


class LiveAnswerer:
    """An Answerer that follows the store: ``get()``, ``ask`` and ``stats`` use the newest
    loaded generation; ``generation`` names it and ``reload_error`` says why a newer one is not
    being served."""

    def __init__(
        self,
        answerer: Answerer,
        store: IndexStore | Path,
        every: float = 2.0,
        load: Callable[[IndexStore], SearchIndex] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.current = answerer
        self.store = store if isinstance(store, IndexStore) else IndexStore(Path(store))
        self.every = every
        settings = answerer.settings
        self._load = load or (lambda s: open_search(settings, s.root, model=settings.get("model", "name")))
        # The generation being served, from the loaded index itself: a commit between loading
        # it and starting to follow is still noticed.
        self.generation: str | None = _generation_of(answerer) or self._pointer()
        self.reload_error: str | None = None
        self._seen = self.generation  # the last pointer acted on (served, or failed to load)
        self._clock = clock
        self._checked = clock()
        self._loading_lock = threading.Lock()  # one load at a time
        self._polling_lock = threading.Lock()  # one request at a time decides to start one
        self._loading: threading.Thread | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def index_dir(self) -> Path:
        return self.store.root

    @property
    def index(self):
        return self.current.index

    def ask(self, question: str, k: int | None = None, mode: Any = None, **options: Any) -> Answer:
        """``Answerer.ask`` on the newest loaded generation (filters, as_of, rerank pass through)."""
        return self.current.ask(question, k=k, mode=mode, **options)

    def stats(self) -> dict[str, Any]:
        return self.current.stats()

    # Following on request (the HTTP server).

    def get(self) -> Answerer:
        """The answerer for the newest generation loaded; starts loading a newer one, on a
        thread, when the pointer has moved (looked at most every ``every`` seconds)."""
        now = self._clock()
        if now - self._checked >= self.every and self._polling_lock.acquire(blocking=False):
            try:
                self._checked = now
                pointer = self._pointer()
                if pointer and pointer != self._seen and self._loading is None:
                    self._loading = threading.Thread(
                        target=self._load_in_background, name="newsdesk-reload", daemon=True
                    )
                    self._loading.start()
            finally:
                self._polling_lock.release()
        return self.current

    def wait_for_reload(self, timeout: float | None = None) -> None:
        """Block until a load under way has finished (for tests and shutdown)."""
        loading = self._loading
        if loading is not None:
            loading.join(timeout)

    def _load_in_background(self) -> None:
        try:
            self.check()
        except Exception:  # noqa: BLE001 - a failure is logged; requests go on being answered
            log.exception("looking for a new index at %s failed", self.index_dir)
        finally:
            self._loading = None

    # Following by a watcher thread (chat, the bot).

    def start(self) -> LiveAnswerer:
        if self.every > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="newsdesk-reload", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.check()
            except Exception:  # the watcher must never die and leave the bot on an old index unseen
                log.exception("looking for a new index at %s failed", self.index_dir)

    # Both.

    def check(self) -> bool:
        """Load and serve a newly committed generation now; True when one was swapped in."""
        with self._loading_lock:
            pointer = self._pointer()
            if pointer is None or pointer == self._seen:
                return False
            self._seen = pointer
            started = time.perf_counter()
            try:
                index = self._load(self.store)
            except Exception as exc:  # any failure keeps the old index serving; the reason is logged
                served = self.generation or "the index loaded before"
                self.reload_error = (
                    f"generation {pointer} was not loaded ({type(exc).__name__}: {exc}); still answering from {served}"
                )
                log.warning(
                    "index at %s moved to %s but it cannot be loaded (%s); still answering from %s",
                    self.index_dir,
                    pointer,
                    exc,
                    served,
                )
                return False
            self.current = self.current.with_index(index)  # the same encoder, weights and cross-encoder
            self.generation, self.reload_error = pointer, None
            counts = index.manifest.get("counts", {})
            log.info(
                "now answering from %s at %s: %s articles, %s sentences (loaded in %.1f s)",
                pointer,
                self.index_dir,
                counts.get("articles"),
                counts.get("sentences"),
                time.perf_counter() - started,
            )
            return True

    def _pointer(self) -> str | None:
        try:
            return (self.index_dir / CURRENT).read_text(encoding="utf-8").strip() or None
        except (OSError, ValueError):
            return None


def _generation_of(answerer: Any) -> str | None:
    """The name of the generation an answerer's index was loaded from, when it says."""
    manifest = getattr(getattr(answerer, "index", None), "manifest", None)
    generation = manifest.get("generation") if isinstance(manifest, dict) else None
    return f"gen-{generation}" if generation is not None else None
