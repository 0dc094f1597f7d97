"""The Milvus column of the benchmark: index time, question latency and server memory on Milvus Lite.

    python -m bench.milvus --sizes 10k,100k

Same corpus, questions, vectors and latency measurement as `python -m bench.run` (real model
vectors up to --real-limit sentences, synthetic ones past it), with the archive in a Milvus
Lite 2.5 server started on 127.0.0.1 for the run, and the segment store of the same corpus
measured right after it for comparison. Results go to bench/results/milvus.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import corpus, measure, stores, synthetic_vectors
from bench.run import parse_size
from retrieval.config import PROJECT_ROOT


def server_rss_mb(pid: int) -> float:
    """Resident memory of the server process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def run(args) -> dict:
    from retrieval.embed import SentenceTransformerEncoder
    from retrieval.indexer import Indexer
    from retrieval.milvus_indexer import MilvusIndexer
    from retrieval.milvus_lite import start_lite

    out, cache = Path(args.out), Path(args.cache)
    work = Path(tempfile.mkdtemp(prefix="newsdesk-bench-milvus-"))
    cache.mkdir(parents=True, exist_ok=True)
    embeddings = cache / "embeddings.sqlite"
    sizes = sorted(parse_size(s) for s in args.sizes.split(","))
    articles, counts = corpus.build_corpus(sizes[-1])
    encoder = SentenceTransformerEncoder("minilm")
    questions = corpus.questions(args.questions)
    real_articles = corpus.prefix_for(counts, min(parse_size(args.real_limit), sizes[-1]))
    real_texts = stores.embed_texts(articles[:real_articles])
    real = stores.real_vectors(real_texts, encoder, embeddings)
    server = start_lite(work / "milvus")
    results = {
        "command": "python -m bench.milvus " + " ".join(sys.argv[1:]),
        "engine": "Milvus Lite 2.5.1 (pymilvus 2.5.18), FLAT inner product, BM25 sparse inverted index",
        "machine": f"{os.cpu_count()} cores",
        "server_idle_rss_mb": server_rss_mb(server.pid),
        "sizes": [],
    }
    try:
        for target in sizes:
            n = corpus.prefix_for(counts, target)
            texts = stores.embed_texts(articles[:n])
            if n <= real_articles:
                vectors = real[: len(texts)]
            else:
                model = synthetic_vectors.CentroidResidualModel().fit(real_texts, real)
                vectors = np.vstack([real, model.vectors(texts[len(real_texts) :])])
            config = work / f"milvus-{target}.toml"
            # A busy benchmark machine can take longer than the default to answer a large upsert.
            config.write_text(
                f'[store]\ncollection_prefix = "bench{target}"\ntimeout_seconds = 120.0\n', encoding="utf-8"
            )
            os.environ.update(NEWSDESK_STORE="milvus", NEWSDESK_MILVUS_URI=server.uri, NEWSDESK_CONFIG=str(config))
            folder = work / f"cache-{target}"
            settings = measure.settings_for(folder)
            clock = time.perf_counter()
            report = MilvusIndexer(
                settings, folder, progress=False, encoder=stores.TableEncoder(texts, vectors), use_cache=False
            ).index_articles(articles[:n], scope="bench")
            seconds = time.perf_counter() - clock
            entry = {
                "sentences": report.sentences,
                "articles": report.articles,
                "index_seconds": round(seconds, 1),
                "latency": measure.latency(folder, questions, encoder),
                "server_rss_mb": server_rss_mb(server.pid),
            }
            # The segment store of the same corpus and vectors, measured now on the same machine
            # state, so the two columns compare.
            for var in ("NEWSDESK_STORE", "NEWSDESK_MILVUS_URI", "NEWSDESK_CONFIG"):
                os.environ.pop(var, None)
            local = work / f"local-{target}"
            clock = time.perf_counter()
            Indexer(
                measure.settings_for(local),
                local,
                progress=False,
                encoder=stores.TableEncoder(texts, vectors),
                use_cache=False,
            ).index_articles(articles[:n], scope="bench")
            entry["local_index_seconds"] = round(time.perf_counter() - clock, 1)
            entry["local_latency"] = measure.latency(local, questions, encoder)
            print(json.dumps(entry), flush=True)
            results["sizes"].append(entry)
    finally:
        server.stop()
        for var in ("NEWSDESK_STORE", "NEWSDESK_MILVUS_URI", "NEWSDESK_CONFIG"):
            os.environ.pop(var, None)
    out.mkdir(parents=True, exist_ok=True)
    (out / "milvus.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--real-limit", default="10k", help="sentences with real model vectors")
    parser.add_argument("--cache", default=str(PROJECT_ROOT / "bench" / "cache"))
    parser.add_argument("--out", default=str(PROJECT_ROOT / "bench" / "results"))
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
