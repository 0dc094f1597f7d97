"""Run a Milvus Lite server on this machine, bound to 127.0.0.1: for tests, benchmarks and trying newsdesk on Milvus.

Milvus Lite 2.5 (the ``milvus-lite`` package, with ``pymilvus`` 2.5) runs Milvus's own C++
engine as one process, with the same BM25 and vector search as Milvus Distributed; it has no
authentication, so it is only ever bound to the loopback address.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from retrieval.errors import NewsdeskError

HOST = "127.0.0.1"


class LiteUnavailable(NewsdeskError, RuntimeError):
    """Milvus Lite is not installed or would not start; the message says why."""


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _binary() -> Path:
    # Found without importing the package: its __init__ needs pkg_resources, which recent
    # setuptools no longer ships, and only the server binary is wanted here.
    spec = importlib.util.find_spec("milvus_lite")
    if spec is None or not spec.submodule_search_locations:
        raise LiteUnavailable(
            "milvus-lite is not installed: `pip install -e '.[milvus]'` (or `make setup` for development)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "lib" / "milvus"
    if not path.is_file():
        raise LiteUnavailable(f"milvus-lite has no server binary at {path} (this platform is not supported)")
    return path


@dataclass
class LiteServer:
    """One running Milvus Lite process: its URI, data folder and process id."""

    process: subprocess.Popen
    port: int
    data_dir: Path

    @property
    def uri(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, kill: bool = False) -> None:
        """Stop the server (SIGKILL with ``kill``, as a crash would) and wait for it to go."""
        if self.process.poll() is not None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_lite(data_dir: Path, port: int | None = None, wait_seconds: float = 30.0) -> LiteServer:
    """Start Milvus Lite on 127.0.0.1 with its data in ``data_dir``; returns once it accepts connections."""
    binary = _binary()
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = f"{binary.parent}:{env.get('LD_LIBRARY_PATH', '')}"
    log = (data_dir / "milvus-lite.log").open("ab")
    process = subprocess.Popen(
        [str(binary), str(data_dir / "milvus.db"), f"{HOST}:{port}", "ERROR"],
        cwd=str(data_dir),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    server = LiteServer(process, port, data_dir)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LiteUnavailable(
                f"Milvus Lite exited at start (code {process.returncode}); see {data_dir / 'milvus-lite.log'}"
            )
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop(kill=True)
    raise LiteUnavailable(f"Milvus Lite did not listen on {HOST}:{port} within {wait_seconds:.0f} s")
