"""A full disk said as such: "disk full at D (N MB free, about M MB needed)".

A write that fails for want of space reaches newsdesk in several disguises: OSError ENOSPC or
EDQUOT from Python, numpy's errno-less "1759488 requested and 490464 written" when a short
write ends a .npy file, and SQLite's "database or disk is full" from the embedding cache.
Each is recognised here so that none of them is reported as a damaged index or cache (the
data already on disk is fine; only the new write failed).
"""

from __future__ import annotations

import errno
import re
import shutil
import sqlite3
from pathlib import Path

from retrieval.store import StoreError

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# numpy's message for a short fwrite: the file system took fewer bytes than were given.
SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")
SQLITE_FULL = 13


class DiskFull(StoreError):
    """No space left where the index is written; the message gives free and needed space."""


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code == SQLITE_FULL or "database or disk is full" in str(exc)
    if isinstance(exc, OSError):
        return exc.errno in FULL_ERRNOS or bool(SHORT_WRITE.search(str(exc)))
    return False


def free_bytes(folder: Path) -> int | None:
    """Free space on the file system holding ``folder`` (or its nearest existing parent)."""
    path = Path(folder).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def _mb(count: int | None) -> str:
    if count is None:
        return "?"
    megabytes = count / 1e6
    return f"{megabytes:.1f}" if megabytes < 10 else f"{megabytes:,.0f}"


def disk_full_error(exc: BaseException, folder: Path, needed: int | None = None) -> DiskFull | None:
    """The DiskFull to raise for ``exc``, or None when ``exc`` is not about space."""
    if not is_disk_full(exc):
        return None
    free = free_bytes(folder)
    need = f"about {_mb(needed)} MB needed" if needed else "more needed"
    return DiskFull(
        f"disk full at {folder} ({_mb(free)} MB free, {need}): free some space and run the command again; "
        "the index keeps answering from its last complete update, and nothing was damaged"
    )
