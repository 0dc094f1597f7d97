"""Where ONNX graphs exported from shipped weights are kept, and how a damaged one is noticed.

A graph is derived data: it is exported once from weights the project trusts (checksummed
files), kept under a name keyed by those weights' digest, and stamped with its own sha256. A
graph whose stamp no longer matches is exported again, never run. Folder:
``$NEWSDESK_CACHE_DIR``, else ``$XDG_CACHE_HOME/newsdesk``, else ``~/.cache/newsdesk``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

OPSET = 17


def cache_dir() -> Path:
    """Where exported graphs are kept (see the module docstring)."""
    explicit = os.environ.get("NEWSDESK_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "newsdesk"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_graph(path: Path, export: Callable[[Path], None]) -> Path:
    """``path``, exported by ``export(path)`` first when it is missing or fails its stamp.
    ``export`` must check what it wrote and move it into place atomically."""
    stamp = path.with_suffix(".onnx.sha256")
    if not (path.is_file() and stamp.is_file() and stamp.read_text().strip() == sha256_of(path)):
        export(path)
        stamp.write_text(sha256_of(path) + "\n")
    return path
