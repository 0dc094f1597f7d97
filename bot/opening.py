"""How every front end opens the answering core: settings from flags, the index option, and
one-line errors for a store that cannot be read (the CLI, the bot and `serve` share these)."""

from __future__ import annotations

import click

from retrieval.errors import NewsdeskError


def load_settings(
    index: str | None = None,
    mode: str | None = None,
    model: str | None = None,
    wait: float | None = None,
    rerank: bool = True,
):
    """Config defaults, then environment, then these flags; a bad setting is one line naming it.
    ``rerank=False`` is --no-rerank."""
    from retrieval.config import ConfigError, Settings

    overrides = {
        "index": {"dir": index, "writer_wait_seconds": wait},
        "retrieval": {"mode": mode},
        "model": {"name": model},
        "rerank": {"cross_encoder": None if rerank else ""},
    }
    try:
        return Settings.load(overrides=overrides)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def index_option(func):
    return click.option(
        "--index",
        "index",
        type=click.Path(file_okay=False),
        default=None,
        help="Index store folder (default: index/, or NEWSDESK_INDEX_DIR).",
    )(func)


def damaged_store(settings, exc: BaseException) -> click.ClickException:
    """A one-line error for an index store that fails in a way the store did not foresee."""
    import sqlite3

    from retrieval.diskspace import DiskFull, disk_full_error
    from retrieval.store import CACHE_FILE, IndexStore

    store = IndexStore(settings.index_dir)
    if isinstance(exc, DiskFull):
        return click.ClickException(str(exc))
    full = disk_full_error(exc, store.root)
    if full is not None:
        return click.ClickException(str(full))
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return click.ClickException(
            f"the embedding cache {store.root / CACHE_FILE} is busy ({exc}): is another `newsdesk index` running?"
        )
    if isinstance(exc, sqlite3.DatabaseError):
        return click.ClickException(
            f"the embedding cache {store.root / CACHE_FILE} is damaged ({exc}): delete it and run the command "
            "again (vectors not in the index are encoded afresh)"
        )
    return click.ClickException(
        f"the index at {store.root} cannot be read or written ({type(exc).__name__}: {exc}): {store.rebuild_hint()}"
    )


# What reading a damaged store can raise besides StoreError (bad bytes, cut files, a broken cache).
STORE_FAILURES = (OSError, ValueError, KeyError, TypeError, IndexError)


def open_for_questions(settings, quiet: bool = False, live: bool = False):
    """The answering core; on a fresh clone's default index folder the seed index is built
    first. Any other folder without a committed index is refused, naming the command to run.
    ``live``: answer from each newly committed generation as it appears, warmed up first
    (chat, the bot, the HTTP server)."""
    import sqlite3

    from retrieval.answer import open_answerer
    from retrieval.seeding import seed_fresh_default

    echo = None if quiet else (lambda message: click.echo(message, err=True))
    try:
        answerer = open_answerer(settings, encoder=seed_fresh_default(settings, echo=echo))
    except NewsdeskError as exc:
        raise click.ClickException(str(exc)) from None
    except (*STORE_FAILURES, sqlite3.DatabaseError) as exc:
        raise damaged_store(settings, exc) from None
    if not live:
        return answerer
    answerer.warm_up()  # a long-running front end: its first user should not wait for first runs
    if settings.get("store", "backend") != "local":
        return answerer  # Milvus serves every commit as soon as it is made: nothing to reload
    from retrieval.live import LiveAnswerer
    from retrieval.store import IndexStore

    return LiveAnswerer(answerer, IndexStore(settings.index_dir), settings.get("index", "reload_seconds")).start()
