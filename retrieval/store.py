"""The index store on disk: immutable generations, swapped in atomically, that describe themselves.

Layout of ``index/`` (see index/README.md):
    CURRENT            name of the live generation, replaced atomically (os.replace)
    gen-<n>/           one complete build: manifest.json plus the files it lists
    embeddings.sqlite  cache of vectors keyed by (model, text), shared across generations

A build writes a new generation into a temporary folder, fsyncs it, renames it into place
and only then points CURRENT at it, so a crash at any moment leaves the previous
generation loadable. Loading checks format, model and every file's size and checksum.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
CACHE_FILE = "embeddings.sqlite"


class StoreError(RuntimeError):
    """The index store cannot be used as it is; the message says what to run."""


class StoreMissing(StoreError):
    """There is no index yet at this location."""


def _checksum(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(root)


def _fsync_dir(path: Path) -> None:
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SentenceTexts:
    """All sentence texts in one UTF-8 blob with offsets: loads instantly, decodes on demand."""

    def __init__(self, blob: bytes | np.ndarray, offsets: np.ndarray):
        self._blob = blob
        self._offsets = offsets

    @classmethod
    def build(cls, texts: list[str]) -> "SentenceTexts":
        encoded = [t.encode("utf-8") for t in texts]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return cls(b"".join(encoded), offsets)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> str:
        return bytes(self._blob[self._offsets[i]:self._offsets[i + 1]]).decode("utf-8")

    def save(self, folder: Path) -> None:
        (folder / "sentences.txt.bin").write_bytes(bytes(self._blob))
        np.save(folder / "sentence_offsets.npy", self._offsets)

    @classmethod
    def load(cls, folder: Path) -> "SentenceTexts":
        blob = np.memmap(folder / "sentences.txt.bin", dtype=np.uint8, mode="r") \
            if (folder / "sentences.txt.bin").stat().st_size else b""
        return cls(blob, np.load(folder / "sentence_offsets.npy"))


@dataclass
class Generation:
    """One complete build on disk."""

    path: Path
    manifest: dict[str, Any]


class IndexStore:
    """Reads and atomically replaces the generations of one index folder."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def cache_path(self) -> Path:
        return self.root / CACHE_FILE

    def current(self) -> Generation:
        """The live generation, checked; raises StoreError naming the fix."""
        pointer = self.root / CURRENT
        if not pointer.exists():
            raise StoreMissing(f"no index at {self.root}: run `newsdesk index PATH...` to build one")
        name = pointer.read_text(encoding="utf-8").strip()
        path = self.root / name
        if not name.startswith("gen-") or not (path / MANIFEST).is_file():
            raise StoreError(f"index at {self.root} is damaged (CURRENT names {name!r}): {self.rebuild_hint()}")
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
            files = manifest["files"]
            manifest["format_version"], manifest["model"], manifest["dim"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"index manifest at {path} is unreadable ({exc}): {self.rebuild_hint()}") from None
        if manifest["format_version"] != FORMAT_VERSION:
            raise StoreError(
                f"index at {self.root} has format {manifest['format_version']}, this newsdesk reads format "
                f"{FORMAT_VERSION}: {self.rebuild_hint()}"
            )
        return Generation(path, manifest)

    def verify(self, generation: Generation) -> None:
        """Every file the manifest lists is there with its size and checksum."""
        for name, meta in generation.manifest["files"].items():
            path = generation.path / name
            if not path.is_file() or path.stat().st_size != meta["bytes"]:
                raise StoreError(f"index file {path} is missing or truncated: {self.rebuild_hint()}")
            if _checksum(path) != meta["blake2b"]:
                raise StoreError(f"index file {path} is corrupted (checksum mismatch): {self.rebuild_hint()}")

    def rebuild_hint(self) -> str:
        return f"rebuild it with `newsdesk index --rebuild PATH...` (or delete {self.root} and run `newsdesk index PATH...`)"

    def write(self, fill: Callable[[Path], dict[str, Any]]) -> Generation:
        """Build a generation with ``fill(folder) -> manifest fields`` and make it live atomically."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_leftovers()
        number = self._next_number()
        tmp = self.root / f".gen-{number}.tmp"
        final = self.root / f"gen-{number}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        manifest = fill(tmp)
        manifest.update({
            "format_version": FORMAT_VERSION,
            "generation": number,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": {
                str(p.relative_to(tmp)): {"bytes": p.stat().st_size, "blake2b": _checksum(p)}
                for p in sorted(tmp.rglob("*")) if p.is_file()
            },
        })
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
        _fsync_tree(tmp)
        os.rename(tmp, final)
        _fsync_dir(self.root)
        pointer_tmp = self.root / f".{CURRENT}.tmp"
        pointer_tmp.write_text(final.name + "\n", encoding="utf-8")
        with pointer_tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(pointer_tmp, self.root / CURRENT)
        _fsync_dir(self.root)
        self._remove_old(keep=final.name)
        return Generation(final, manifest)

    def _next_number(self) -> int:
        numbers = [int(p.name.split("-")[1]) for p in self.root.glob("gen-*") if p.name.split("-")[1].isdigit()]
        return max(numbers, default=0) + 1

    def _remove_leftovers(self) -> None:
        for path in self.root.glob(".gen-*.tmp"):
            shutil.rmtree(path, ignore_errors=True)

    def _remove_old(self, keep: str) -> None:
        # The generation before the live one stays, so a reader that opened it just before
        # the swap can finish; older ones go.
        generations = sorted(
            (p for p in self.root.glob("gen-*") if p.name.split("-")[1].isdigit()),
            key=lambda p: int(p.name.split("-")[1]),
        )
        for path in generations[:-2]:
            if path.name != keep:
                shutil.rmtree(path, ignore_errors=True)

    def size_bytes(self) -> int:
        try:
            generation = self.current()
        except StoreError:
            return 0
        return sum(meta["bytes"] for meta in generation.manifest["files"].values())
