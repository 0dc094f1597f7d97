"""One writer at a time per index folder: an OS lock on a file inside it.

``flock`` belongs to the open file, so the kernel releases it when the process ends however it
ends (SIGKILL, a crash, a power cut): a lock is never left stale and nothing has to be cleaned
up by hand. The file also says who holds it (pid, host, command, start time) for the message
a second writer gets. Readers (`ask`, `chat`, the bot) never take it: they read the committed
generation CURRENT names, which a writer only ever replaces atomically.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shlex
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from retrieval.store import StoreError

LOCK_FILE = ".writer.lock"
POLL_SECONDS = 0.2
# How often a waiting writer repeats who it is waiting for.
REMIND_SECONDS = 30.0


class WriterBusy(StoreError):
    """Another process is writing this index folder and did not finish within the wait."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the writer lock, as it wrote itself into the lock file."""

    pid: int | None
    host: str
    command: str
    started: str

    @classmethod
    def me(cls) -> Holder:
        return cls(
            os.getpid(),
            socket.gethostname(),
            shlex.join(_command()),
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )

    @classmethod
    def read(cls, path: Path) -> Holder:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(int(data["pid"]), str(data["host"]), str(data["command"]), str(data["started"]))
        except (OSError, ValueError, KeyError, TypeError):
            return cls(None, "?", "?", "?")  # written an instant ago and not yet filled in

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} (`{self.command}`, started {self.started})"


def _command() -> list[str]:
    argv = list(sys.argv) or ["?"]
    argv[0] = Path(argv[0]).name
    return argv


class WriterLock:
    """``with WriterLock(folder, wait=300):`` holds the folder's writer lock inside the block."""

    def __init__(self, folder: Path, wait: float = 0.0, echo: Callable[[str], None] | None = None):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self.wait = max(0.0, float(wait))
        self.echo = echo
        self._fd: int | None = None
        self._depth = 0

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, waiting up to ``wait`` seconds; WriterBusy naming the holder otherwise."""
        if self._fd is not None:
            self._depth += 1  # the same writer nesting (an index run that first seeds)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait
        told_at = None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise
                now = time.monotonic()
                if now >= deadline:
                    raise WriterBusy(
                        f"the index at {self.folder} is being written by {Holder.read(self.path).describe()}; "
                        f"waited {self.wait:g} s: try again when it has finished, or give --wait SECONDS"
                    )
                if self.echo and (told_at is None or now - told_at >= REMIND_SECONDS):
                    self.echo(
                        f"waiting up to {deadline - now:.0f} s for {Holder.read(self.path).describe()} "
                        f"to finish writing the index at {self.folder}"
                    )
                    told_at = now
                time.sleep(min(POLL_SECONDS, max(0.0, deadline - now)))
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._depth = fd, 1
        self._write_holder(fd)

    def _write_holder(self, fd: int) -> None:
        # Who holds it, for the next writer's message; a failure here (a full disk) must not
        # cost the run its lock, which is the flock itself, not this text.
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(Holder.me().__dict__).encode("utf-8"), 0)
        except OSError:
            pass

    def release(self) -> None:
        if self._fd is None:
            return
        self._depth -= 1
        if self._depth > 0:
            return
        fd, self._fd = self._fd, None
        # The file stays: removing it would let a waiting writer lock a file no longer in the
        # folder while a third one creates and locks a new one.
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
