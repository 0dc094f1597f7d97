"""Answer from the newest committed index without a restart: `newsdesk chat` and the bot.

A thread looks at the store's CURRENT pointer every few seconds ([index] reload_seconds).
When a writer has committed a new generation, the thread loads it (every checksum, as any
load for questions) while questions go on being answered from the old one, then swaps it in
with one assignment: no question waits for a load, and each is answered wholly from one
generation. A generation that fails to load is logged with the reason and the old index
keeps answering; it is tried again only when the pointer moves on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from retrieval.answer import Answerer
from retrieval.search_index import SearchIndex, load_search_index
from retrieval.store import CURRENT, IndexStore
from retrieval.types import Answer

log = logging.getLogger("newsdesk.reload")


class LiveAnswerer:
    """An Answerer that follows the store: ``ask`` and ``stats`` always use the newest loaded
    generation. ``start()`` begins watching; ``check()`` looks once (tests call it directly)."""

    def __init__(
        self,
        answerer: Answerer,
        store: IndexStore,
        every: float,
        load: Callable[[IndexStore], SearchIndex] | None = None,
    ):
        self.current = answerer
        self.store = store
        self.every = every
        self._load = load or (lambda s: load_search_index(s, model=answerer.settings.get("model", "name")))
        # The generation being served (or the last one that failed to load), from the index
        # itself: a commit between loading it and starting to watch is still noticed.
        generation = answerer.index.manifest.get("generation")
        self._seen = f"gen-{generation}" if generation is not None else self._pointer()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def ask(self, question: str, k: int | None = None, mode: Any = None, **options: Any) -> Answer:
        """``Answerer.ask`` on the newest loaded generation (filters, as_of, rerank pass through)."""
        return self.current.ask(question, k=k, mode=mode, **options)

    def stats(self) -> dict[str, Any]:
        return self.current.stats()

    @property
    def index(self) -> SearchIndex:
        return self.current.index

    def _pointer(self) -> str | None:
        try:
            return (self.store.root / CURRENT).read_text(encoding="utf-8").strip()
        except (OSError, ValueError):
            return None

    def check(self) -> bool:
        """Load and serve a newly committed generation; True when one was swapped in."""
        pointer = self._pointer()
        if pointer is None or pointer == self._seen:
            return False
        self._seen = pointer
        try:
            index = self._load(self.store)
        except Exception as exc:  # any failure keeps the old index serving; the reason is logged
            log.warning(
                "index at %s moved to %s but it cannot be loaded (%s); still answering from %s",
                self.store.root,
                pointer,
                exc,
                self._served(),
            )
            return False
        self.current = self.current.with_index(index)
        counts = index.manifest.get("counts", {})
        log.info(
            "now answering from %s at %s: %s articles, %s sentences",
            pointer,
            self.store.root,
            counts.get("articles"),
            counts.get("sentences"),
        )
        return True

    def _served(self) -> str:
        generation = self.current.index.manifest.get("generation")
        return f"gen-{generation}" if generation is not None else "the index loaded before"

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
                log.exception("looking for a new index at %s failed", self.store.root)
