"""`newsdesk serve` under load: requests/second and p50/p95 latency for 1, 8 and 32 concurrent clients.

    python -m bench.serve                          # the seed articles, indexed into a temporary store
    python -m bench.serve --index bench/cache/...  # an existing store, e.g. the benchmark's 100k one

The server is the real `newsdesk serve` process on a loopback port (rate limit off, queue deep
enough for the most clients); each client is a thread with its own keep-alive connection
asking GET /ask in turn. Latency is measured at the client, so it includes HTTP and the wait
for a worker. On a machine with few cores the clients compete with the server for CPU: the
numbers are a floor. Writes the results as JSON (--out) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.corpus import questions as bench_questions  # noqa: E402
from bench.measure import percentile  # noqa: E402
from retrieval.config import PROJECT_ROOT  # noqa: E402

CONCURRENCY = (1, 8, 32)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(index_dir: Path, model: str, workers: int, work: Path) -> tuple[subprocess.Popen, int]:
    """`newsdesk serve` on a free loopback port, returned once /readyz says ready."""
    config = work / "serve.toml"
    config.write_text(f"[serve]\nrate_per_minute = 0\nqueue = {max(CONCURRENCY) * 2}\n", encoding="utf-8")
    port = free_port()
    env = {**os.environ, "NEWSDESK_MODEL": model, "NEWSDESK_CONFIG": str(config)}
    env.pop("NEWSDESK_API_TOKEN", None)
    command = [
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "serve",
        "--index",
        str(index_dir),
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=(work / "serve.log").open("w"))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"newsdesk serve exited; see {work / 'serve.log'}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit("newsdesk serve was not ready within 300 s")


def load(port: int, clients: int, asked: list[str]) -> dict[str, float]:
    """Every question in ``asked`` once, by ``clients`` threads; requests/s and latency percentiles."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    next_index = [0]

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(asked):
                return
            started = time.perf_counter()
            connection.request("GET", "/ask?" + urlencode({"q": asked[i]}))
            response = connection.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if response.status == 200:
                    latencies.append(elapsed)
                else:
                    errors.append(f"{response.status} {body[:80]!r}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(asked),
        "errors": len(errors),
        "requests_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
    }


def index_seeds(work: Path, model: str) -> Path:
    index_dir = work / "index"
    env = {**os.environ, "NEWSDESK_MODEL": model}
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from bot.cli import main; main()",
            "index",
            str(PROJECT_ROOT / "seeds"),
            "--index",
            str(index_dir),
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return index_dir


def markdown(results: dict) -> str:
    lines = [
        (
            f"`newsdesk serve`, {results['sentences']:,} sentences, {results['workers']} workers, "
            f"{results['requests']} requests per level, model {results['model']}"
        ),
        "",
        "| concurrent clients | requests/s | p50 ms | p95 ms | errors |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in results["levels"]:
        lines.append(
            f"| {row['clients']} | {row['requests_per_s']} | {row['p50_ms']} | {row['p95_ms']} | {row['errors']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="Store to serve (default: the seeds, indexed afresh).")
    parser.add_argument("--model", default="minilm", help="Encoder the store was built with (default minilm).")
    parser.add_argument("--requests", type=int, default=200, help="Questions asked at each concurrency level.")
    parser.add_argument("--workers", type=int, default=2, help="Server worker threads (default 2).")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "out" / "serve.json")
    args = parser.parse_args(argv)

    asked = bench_questions(args.requests)[: args.requests]
    with tempfile.TemporaryDirectory(prefix="newsdesk-serve-bench-") as tmp:
        work = Path(tmp)
        index_dir = args.index or index_seeds(work, args.model)
        process, port = start_server(index_dir, args.model, args.workers, work)
        try:
            load(port, 4, asked[:20])  # warm-up: first-question costs are not part of any level
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/stats")
            stats = json.loads(connection.getresponse().read())
            levels = [load(port, clients, asked) for clients in CONCURRENCY]
        finally:
            process.terminate()
            process.wait(30)
    results = {
        "sentences": stats["sentences"],
        "model": args.model,
        "workers": args.workers,
        "requests": len(asked),
        "cpus": os.cpu_count(),
        "levels": levels,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(markdown(results))


if __name__ == "__main__":
    main()
