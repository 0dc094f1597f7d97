"""A fresh clone's first question: index the seed articles into the default folder, once.

Only the default index folder (config/default.toml's) is seeded, and only when nothing was
ever written there; any other folder without a committed index (missing, empty, a typo, a
first build running or killed) is left alone, and opening it raises StoreMissing naming the
command to run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from retrieval.config import Settings
from retrieval.store import IndexStore, StoreMissing
from retrieval.stores import LOCAL, backend, make_indexer


def seed_fresh_default(settings: Settings, index_dir: Path | None = None, echo: Callable[[str], None] | None = None):
    """Index the seed articles when ``index_dir`` is a fresh clone's empty default folder.

    Returns the encoder the indexing loaded (so the caller need not load it again), or None
    when nothing was indexed."""
    if backend(settings) != LOCAL:
        return None
    store = IndexStore(Path(index_dir) if index_dir else settings.index_dir)
    try:
        store.current()
        return None
    except StoreMissing:
        if not (settings.with_index_dir(store.root).is_default_index() and store.is_fresh()):
            return None  # opening it raises StoreMissing with the command to run
    seeds = settings.seed_dir
    if echo:
        echo(f"No index at {store.root} yet: building it from the seed articles in {seeds} (once).")
    indexer = make_indexer(settings, store.root, echo=echo)
    report = indexer.index_paths([seeds])
    if echo:
        echo(report.summary())
    return indexer.vectors.loaded_encoder
