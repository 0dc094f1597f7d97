"""The index store on disk: immutable segments, and generations that list them, swapped in atomically.

Layout of ``index/`` (see index/README.md):
    CURRENT              name of the live generation, replaced atomically (os.replace)
    gen-<n>/manifest.json one state of the index: the segments it uses, the articles deleted
                          from them (tombstones), counts, model, and every file's size and checksum
    segments/seg-<n>/    one immutable batch of articles: texts, arrays, BM25 postings, vectors
    embeddings.sqlite    cache of vectors keyed by (model, text), shared across generations

Adding articles writes one small new segment and a new generation that lists it beside the
old ones; nothing already on disk is rewritten. Every folder is written under a temporary
name, fsynced and renamed into place, and only then does CURRENT move, so a crash at any
moment leaves the previous generation, and the segments it lists, loadable.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from retrieval.errors import NewsdeskError
from retrieval.mapped import map_array, map_file

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
SEGMENT_MANIFEST = "segment.json"
CURRENT = "CURRENT"
CACHE_FILE = "embeddings.sqlite"
SEGMENTS = "segments"
# verify() checksums files up to this size and checks only the size of larger ones; loading for
# questions and updates calls verify(full=True), which checksums everything.
LOAD_CHECKSUM_BYTES = 16 << 20


class SegmentContents(Protocol):
    """A new segment in memory, able to write its own files into a folder the store chose."""

    def save(self, folder: Path) -> dict[str, Any]:
        """Write the files; returns the segment's description for the manifests."""
        ...


class StoreError(NewsdeskError, RuntimeError):
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
    for folder in sorted({p.parent for p in root.rglob("*")} | {root}):
        _fsync_dir(folder)


def _fsync_dir(path: Path) -> None:
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _number(name: str, prefix: str) -> int | None:
    tail = name[len(prefix) :] if name.startswith(prefix) else ""
    return int(tail) if tail.isdigit() else None


def _well_formed(manifest: Any) -> bool:
    """The fields the store and loader rely on are there with the right types."""
    try:
        files, segments, counts = manifest["files"], manifest["segments"], manifest["counts"]
        return (
            isinstance(files, dict)
            and isinstance(segments, list)
            and isinstance(counts, dict)
            and all(isinstance(m["bytes"], int) and isinstance(m["blake2b"], str) for m in files.values())
            and all(
                _number(s["name"], "seg-") is not None
                and isinstance(s["sentences"], int)
                and isinstance(s["articles"], int)
                and isinstance(s["chunks"], int)
                and isinstance(s.get("deleted_articles", []), list)
                for s in segments
            )
            and all(isinstance(counts[k], int) for k in ("articles", "sentences"))
            and isinstance(manifest["dates"], dict)
        )
    except (KeyError, TypeError, AttributeError):
        return False


class SentenceTexts:
    """All sentence texts in one UTF-8 blob with offsets: loads instantly, decodes on demand."""

    def __init__(self, blob: bytes | np.ndarray, offsets: np.ndarray):
        self._blob = blob
        self._offsets = offsets

    @classmethod
    def build(cls, texts: list[str]) -> SentenceTexts:
        encoded = [t.encode("utf-8") for t in texts]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return cls(b"".join(encoded), offsets)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> str:
        return self._blob[self._offsets[i] : self._offsets[i + 1]].decode("utf-8")

    def save(self, folder: Path) -> None:
        (folder / "sentences.txt.bin").write_bytes(bytes(self._blob))
        np.save(folder / "sentence_offsets.npy", self._offsets)

    @classmethod
    def load(cls, folder: Path) -> SentenceTexts:
        return cls(map_file(folder / "sentences.txt.bin"), map_array(folder / "sentence_offsets.npy"))


@dataclass
class Generation:
    """One state of the index: its manifest, and the store root its file names are relative to."""

    path: Path
    manifest: dict[str, Any]

    @property
    def root(self) -> Path:
        return self.path.parent

    def segment_path(self, name: str) -> Path:
        return self.root / SEGMENTS / name


class IndexStore:
    """Reads the live generation and commits new segments and generations atomically."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def cache_path(self) -> Path:
        return self.root / CACHE_FILE

    def current(self) -> Generation:
        """The live generation, checked; raises StoreError naming the fix."""
        pointer = self.root / CURRENT
        if not pointer.exists():
            # Nothing committed yet: no folder, an empty one, or a first build still running or
            # killed (its segments and generation exist, CURRENT not yet). Readers never answer
            # from an uncommitted state, and never build one themselves.
            if any(self.root.glob("gen-*")):
                state = " (CURRENT is missing: a commit was cut short; `newsdesk index` finishes it)"
            elif self._has_build_files():
                state = " (a first build is unfinished or still running)"
            else:
                state = ""
            raise StoreMissing(f"no index at {self.root}{state}: run `newsdesk index PATH --index {self.root}`")
        try:
            name = pointer.read_text(encoding="utf-8").strip()
        except (OSError, ValueError):
            name = "?"
        return self._read_generation(name)

    def _has_build_files(self) -> bool:
        return any(self.root.glob(".gen-*")) or (self.root / SEGMENTS).exists()

    def is_fresh(self) -> bool:
        """Nothing was ever written here: no folder, or one holding at most its README."""
        try:
            return not self.root.exists() or all(p.name == "README.md" for p in self.root.iterdir())
        except OSError:
            return False

    def _read_generation(self, name: str) -> Generation:
        """The generation folder ``name``, checked; raises StoreError naming the fix."""
        path = self.root / name
        if _number(name, "gen-") is None or not (path / MANIFEST).is_file():
            raise StoreError(f"index at {self.root} is damaged (CURRENT names {name[:40]!r}): {self.rebuild_hint()}")
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
            manifest["format_version"], manifest["model"], manifest["dim"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"index manifest at {path} is unreadable ({exc}): {self.rebuild_hint()}") from None
        if manifest["format_version"] != FORMAT_VERSION:
            raise StoreError(
                f"index at {self.root} has format {manifest['format_version']}, this newsdesk reads format "
                f"{FORMAT_VERSION}: {self.rebuild_hint()}"
            )
        if not _well_formed(manifest):
            raise StoreError(f"index manifest at {path} is incomplete: {self.rebuild_hint()}")
        return Generation(path, manifest)

    def verify(self, generation: Generation, full: bool = False, names: Iterable[str] | None = None) -> None:
        """Every listed file (or those ``names`` of them) is there at its size; checksums of small
        files (all files when ``full``)."""
        files = generation.manifest["files"]
        for name in files if names is None else names:
            meta = files[name]
            path = self.root / name
            if not path.is_file() or path.stat().st_size != meta["bytes"]:
                raise StoreError(f"index file {path} is missing or truncated: {self.rebuild_hint()}")
            if (full or meta["bytes"] <= LOAD_CHECKSUM_BYTES) and _checksum(path) != meta["blake2b"]:
                raise StoreError(f"index file {path} is corrupted (checksum mismatch): {self.rebuild_hint()}")

    def _point_at(self, name: str) -> None:
        """Make generation ``name`` the live one, atomically."""
        pointer_tmp = self.root / f".{CURRENT}.tmp"
        try:
            pointer_tmp.write_text(name + "\n", encoding="utf-8")
            with pointer_tmp.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(pointer_tmp, self.root / CURRENT)
        except BaseException:
            pointer_tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(self.root)

    def recover_pointer(self) -> None:
        """Finish a commit that a crash cut short before CURRENT was written.

        With CURRENT gone, the newest generation that passes every check becomes live; with no
        generation at all, segments no generation lists are leftovers of a first build and go.
        Only writers (`newsdesk index`) call this: readers keep refusing a store without
        CURRENT, so no question is answered from a state nobody committed.
        """
        if (self.root / CURRENT).exists() or not self.root.is_dir():
            return
        numbered = [(n, p) for p in self.root.glob("gen-*") if (n := _number(p.name, "gen-")) is not None]
        for _, path in sorted(numbered, reverse=True):
            try:
                generation = self._read_generation(path.name)
                self.verify(generation, full=True)
            except StoreError:
                continue
            self._point_at(path.name)
            return
        if not numbered:
            for path in (self.root / SEGMENTS).glob("seg-*"):
                shutil.rmtree(path, ignore_errors=True)

    def rebuild_hint(self) -> str:
        return f"rebuild it with `newsdesk index --rebuild PATH...` (or delete {self.root} and run `newsdesk index PATH...`)"

    def write_segment(self, contents: SegmentContents) -> dict[str, Any]:
        """Write a new immutable segment of ``contents``; returns its entry.

        The store picks the segment's name and writes it under a temporary name, then fsyncs
        and renames it into place; a failed write leaves nothing behind.

        The entry (name, the description, and each file's size and checksum keyed by its path
        under the store root) is what a generation manifest lists for the segment.
        """
        segments = self.root / SEGMENTS
        segments.mkdir(parents=True, exist_ok=True)
        self._remove_leftovers()
        numbers = [_number(p.name, "seg-") for p in segments.iterdir()]
        name = f"seg-{max([n for n in numbers if n is not None], default=0) + 1:06d}"
        tmp = segments / f".{name}.tmp"
        tmp.mkdir()
        try:
            description = contents.save(tmp)
            description["format_version"] = FORMAT_VERSION
            (tmp / SEGMENT_MANIFEST).write_text(json.dumps(description, indent=2, sort_keys=True), encoding="utf-8")
            files = {
                f"{SEGMENTS}/{name}/{p.relative_to(tmp).as_posix()}": {
                    "bytes": p.stat().st_size,
                    "blake2b": _checksum(p),
                }
                for p in sorted(tmp.rglob("*"))
                if p.is_file()
            }
            _fsync_tree(tmp)
            os.rename(tmp, segments / name)
        except BaseException:
            # A failed write (a full disk above all) must not keep the space it took.
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _fsync_dir(segments)
        return {"name": name, **description, "files": files}

    def commit(self, manifest: dict[str, Any]) -> Generation:
        """Make a generation listing ``manifest["segments"]`` (entries from write_segment) live."""
        self.root.mkdir(parents=True, exist_ok=True)
        numbers = [_number(p.name, "gen-") for p in self.root.iterdir()]
        number = max([n for n in numbers if n is not None], default=0) + 1
        final = self.root / f"gen-{number}"
        tmp = self.root / f".gen-{number}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        files: dict[str, Any] = {}
        for segment in manifest["segments"]:
            files.update(segment["files"])
        manifest = {
            **manifest,
            "segments": [{k: v for k, v in s.items() if k != "files"} for s in manifest["segments"]],
            "format_version": FORMAT_VERSION,
            "generation": number,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": files,
        }
        try:
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
            _fsync_tree(tmp)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _fsync_dir(self.root)
        try:
            self._point_at(final.name)
        except BaseException:
            if self._live_name() != final.name:  # never made live: it only holds space
                shutil.rmtree(final, ignore_errors=True)
            raise
        self._remove_old(keep=final.name)
        return Generation(final, manifest)

    def _live_name(self) -> str | None:
        try:
            return (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except (OSError, ValueError):
            return None

    def discard_segment(self, name: str) -> None:
        """Remove a segment a failed commit wrote, unless a generation on disk lists it."""
        for path in self.root.glob("gen-*"):
            try:
                if any(
                    s["name"] == name for s in json.loads((path / MANIFEST).read_text(encoding="utf-8"))["segments"]
                ):
                    return
            except (OSError, ValueError, KeyError, TypeError):
                return  # cannot tell: keep it (the next commit's clean-up decides)
        shutil.rmtree(self.root / SEGMENTS / name, ignore_errors=True)

    @staticmethod
    def segment_entries(generation: Generation) -> list[dict[str, Any]]:
        """The generation's segments as write_segment returned them (files included), for the next commit."""
        files = generation.manifest["files"]
        entries = []
        for segment in generation.manifest["segments"]:
            prefix = f"{SEGMENTS}/{segment['name']}/"
            entries.append({**segment, "files": {k: v for k, v in files.items() if k.startswith(prefix)}})
        return entries

    def _remove_leftovers(self) -> None:
        for path in [*self.root.glob(".gen-*.tmp"), *(self.root / SEGMENTS).glob(".seg-*.tmp")]:
            shutil.rmtree(path, ignore_errors=True)

    def _remove_old(self, keep: str) -> None:
        # The generation before the live one stays, so a reader that opened it just before the
        # swap can finish; older generations go, then every segment neither of them lists.
        generations = sorted(
            (p for p in self.root.glob("gen-*") if _number(p.name, "gen-") is not None),
            key=lambda p: _number(p.name, "gen-"),
        )
        for path in generations[:-2]:
            if path.name != keep:
                shutil.rmtree(path, ignore_errors=True)
        used: set[str] = set()
        for path in generations[-2:]:
            try:
                used.update(s["name"] for s in json.loads((path / MANIFEST).read_text(encoding="utf-8"))["segments"])
            except (OSError, ValueError, KeyError, TypeError):
                return  # cannot tell what a generation uses: keep every segment
        for path in (self.root / SEGMENTS).glob("seg-*"):
            if path.name not in used:
                shutil.rmtree(path, ignore_errors=True)

    def size_bytes(self) -> int:
        try:
            generation = self.current()
        except StoreError:
            return 0
        return sum(meta["bytes"] for meta in generation.manifest["files"].values())
