"""newsdesk's cost at 10k, 100k and 1M sentences: `python -m bench.run` (or `make bench`).

Prints and writes bench/out/results.json, results.md and latency_memory.png. See bench/README.md
for what is measured and how the corpora and their vectors are made.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench import corpus, measure, report, stores  # noqa: E402
from retrieval.config import PROJECT_ROOT  # noqa: E402
from retrieval.store import IndexStore  # noqa: E402

BENCH = PROJECT_ROOT / "bench"


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def realism(texts: list[str], real: np.ndarray, queries: np.ndarray) -> dict:
    """Is approximate search as hard on synthetic vectors as on real ones for the same sentences?"""
    from bench.synthetic_vectors import CentroidResidualModel
    from retrieval.vectors import HnswVectors

    synthetic = CentroidResidualModel().fit(texts, real, seed=1).vectors(texts)
    out = {}
    for name, vectors in (("real", real), ("synthetic", synthetic)):
        index = HnswVectors.build(vectors)
        hits, nearest = [], []
        for query in queries:
            scores = vectors @ query
            truth = set(np.argpartition(-scores, 10)[:10].tolist())
            found, _ = index.search(query, 10, None)
            hits.append(len(truth & set(found.tolist())) / 10)
            nearest.append(float(scores.max()))
        out[name] = {
            "recall_at_10": round(float(np.mean(hits)), 4),
            "top1_cosine_p50": round(float(np.median(nearest)), 4),
        }
    out["same_sentence_cosine_mean"] = round(float(np.mean(np.sum(real * synthetic, axis=1))), 4)
    return out


def run(args) -> dict:
    started = time.perf_counter()
    out, cache, work = Path(args.out), Path(args.cache), Path(args.out) / "work"
    for folder in (out, cache, work):
        folder.mkdir(parents=True, exist_ok=True)
    embeddings = cache / "embeddings.sqlite"
    sizes = sorted(parse_size(s) for s in args.sizes.split(","))
    real_limit = min(parse_size(args.real_limit), sizes[-1])
    log(f"corpus of {sizes[-1]:,} sentences")
    articles, counts = corpus.build_corpus(sizes[-1])
    from retrieval.embed import SentenceTransformerEncoder

    encoder = SentenceTransformerEncoder("minilm")
    questions = corpus.questions(args.questions)
    query_vectors = encoder.encode(questions)
    results: dict = {
        "command": "python -m bench.run " + " ".join(sys.argv[1:]),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "sizes": [],
        "questions": len(questions),
        "corpus": {
            "articles": len(articles),
            "sentences": sum(counts),
            "generator": corpus.GENERATOR_VERSION,
            "real_articles": len(corpus.real_articles()),
        },
    }

    log("seed index: cold start and chat")
    seed_index = work / "seed-index"
    shutil.rmtree(seed_index, ignore_errors=True)
    from retrieval.indexer import Indexer

    Indexer(measure.settings_for(seed_index), seed_index, progress=False, encoder=encoder).index_paths(
        [PROJECT_ROOT / "seeds"]
    )
    if not args.skip_cold:
        results["cold_start"] = measure.cold_start(seed_index, "how many US troops to Poland?", rounds=args.cold_rounds)
        log(f"cold start {results['cold_start']}")
    results["chat_seed"] = measure.chat(seed_index, questions[:20])

    first = corpus.prefix_for(counts, sizes[0])
    log(f"indexing throughput on {sum(counts[:first]):,} sentences (pipeline vs raw model.encode, interleaved)")
    texts = stores.embed_texts(articles[:first])
    jsonl = corpus.write_jsonl(articles[:first], work / "throughput.jsonl")
    results["throughput"] = measure.throughput(encoder, articles[:first], work, embeddings, rounds=args.rounds)
    log(f"throughput {results['throughput']}")
    if args.int8:
        results["int8"] = int8_path(texts, jsonl, work, questions, embeddings, args)
        log(f"int8 {results['int8']}")

    real_articles = corpus.prefix_for(counts, real_limit)
    real_texts = stores.embed_texts(articles[:real_articles])
    log(f"real vectors for {len(real_texts):,} sentences (encoded once, then cached in {embeddings})")
    real = stores.real_vectors(real_texts, encoder, embeddings)
    if args.realism:
        results["synthetic_realism"] = realism(real_texts, real, query_vectors)
        log(f"synthetic realism {results['synthetic_realism']}")

    for target in sizes:
        n = corpus.prefix_for(counts, target)
        subset = articles[:n]
        size_texts = real_texts[: sum(counts[:n])] if n <= real_articles else stores.embed_texts(subset)
        log(f"store of {len(size_texts):,} sentences")
        if n <= real_articles:
            folder, seconds = stores.real_store(subset, encoder, cache, embeddings)
            vectors, source, timings = real[: len(size_texts)], "model", {}
        else:
            folder, vectors, seconds, timings = stores.synthetic_store(subset, size_texts, len(real_texts), real, cache)
            source = f"model for {len(real_texts):,}, synthetic for the rest"
        stored = IndexStore(folder).current().manifest["counts"]["sentences"]
        if stored != len(size_texts):
            raise SystemExit(
                f"{folder} holds {stored:,} sentences, not the {len(size_texts):,} of this corpus: "
                "remove it (or bench/cache) and run again"
            )
        entry = {
            "sentences_target": target,
            "sentences": len(size_texts),
            "articles": n,
            "vectors_source": source,
            "build_seconds": round(seconds, 1) if seconds else None,
            "build_timings": timings,
            "store": str(folder),
        }
        entry["disk"] = measure.disk(folder)
        entry["latency"] = measure.latency(folder, questions, encoder)
        entry["recall"] = measure.recall_at_10(folder, vectors, query_vectors)
        entry["memory"] = measure.memory(folder, questions, query_vectors)
        log(
            f"{len(size_texts):,}: {entry['latency']} {entry['recall']} {entry['memory']['bytes_per_sentence']} B/sentence"
        )
        results["sizes"].append(entry)
        del vectors
        gc.collect()

    largest = Path(results["sizes"][-1]["store"])
    copy = measure.hardlink_copy(largest, work / "largest-copy")
    generator = corpus.NewsGenerator()
    today = corpus.write_jsonl([generator.article(90_000_001)], work / "today.jsonl")
    results["add_article"] = {
        "index_sentences": results["sizes"][-1]["sentences"],
        **measure.add_one_article(copy, generator.article(90_000_000), encoder, today),
    }
    log(f"add one article {results['add_article']}")
    results["chat_largest"] = measure.chat(copy, questions[:20])
    shutil.rmtree(copy, ignore_errors=True)
    if args.serve:
        results["serve"] = serve_levels(results["sizes"], out)
        log(f"newsdesk serve {results['serve']}")
    results["wall_minutes"] = (time.perf_counter() - started) / 60
    results["floors"] = report.floors(results)
    return results


def serve_levels(sizes: list[dict], out: Path) -> dict:
    """`newsdesk serve` over the store nearest 100k sentences: requests/s, p50/p95 at 1, 8, 32 clients."""
    from bench import serve

    size = min(sizes, key=lambda s: abs(s["sentences_target"] - 100_000))
    serve.main(["--index", size["store"], "--out", str(out / "serve.json")])
    return json.loads((out / "serve.json").read_text(encoding="utf-8"))


def int8_path(texts: list[str], jsonl: Path, work: Path, questions: list[str], embeddings: Path, args) -> dict:
    """The optional ONNX int8 encoder on the same text: throughput, question encoding, cold start."""
    from retrieval.indexer import Indexer
    from retrieval.onnx_encoder import OnnxMiniLMEncoder

    encoder = OnnxMiniLMEncoder()
    started, cpu = time.perf_counter(), time.process_time()
    raw = encoder.encode(texts)
    raw_rate, raw_cpu = len(texts) / (time.perf_counter() - started), len(texts) / (time.process_time() - cpu)
    rate, rate_cpu, _ = measure.pipeline_rate(
        encoder, jsonl, work / "int8-index", work / "int8-cache.sqlite", "minilm-int8"
    )
    torch_vectors = cached(texts, embeddings)
    encode_ms = []
    for question in questions:
        clock = time.perf_counter()
        encoder.encode([question])
        encode_ms.append((time.perf_counter() - clock) * 1000)
    out = {
        "pipeline_rate": round(rate, 1),
        "raw_rate": round(raw_rate, 1),
        "efficiency": round(rate / raw_rate, 3),
        "efficiency_cpu": round(rate_cpu / raw_cpu, 3),
        "cosine_to_torch_mean": round(float(np.mean(np.sum(raw * torch_vectors, axis=1))), 5),
        "cosine_to_torch_min": round(float(np.min(np.sum(raw * torch_vectors, axis=1))), 5),
        "encode_p50_ms": round(measure.percentile(encode_ms, 50), 2),
    }
    if not args.skip_cold:
        seed8 = work / "seed-index-int8"
        shutil.rmtree(seed8, ignore_errors=True)
        Indexer(measure.settings_for(seed8, "minilm-int8"), seed8, progress=False, encoder=encoder).index_paths(
            [PROJECT_ROOT / "seeds"]
        )
        out["cold_ask_seconds"] = measure.cold_ask(
            seed8, "how many US troops to Poland?", "minilm-int8", args.cold_rounds
        )
    return out


def cached(texts: list[str], embeddings: Path) -> np.ndarray:
    """The PyTorch model's vectors for ``texts``, from the benchmark's embedding cache."""
    from retrieval.embed import EmbeddingCache

    cache = EmbeddingCache(embeddings, "minilm:384", 384)
    try:
        found = cache.get_many(texts)
    finally:
        cache.close()
    return np.vstack([found[i] for i in range(len(texts))])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1M", help="corpus sizes in sentences (default 10k,100k,1M)")
    parser.add_argument(
        "--real-limit",
        default="100k",
        help="sentences encoded by the real model; larger sizes get synthetic vectors beyond this (default 100k)",
    )
    parser.add_argument("--questions", type=int, default=200, help="questions per size (default 200)")
    parser.add_argument(
        "--rounds", type=int, default=10, help="interleaved rounds of the throughput comparison (default 10)"
    )
    parser.add_argument("--cold-rounds", type=int, default=5, help="cold-start runs of each process (default 5)")
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold-start comparison")
    parser.add_argument("--no-int8", dest="int8", action="store_false", help="skip the ONNX int8 encoder")
    parser.add_argument(
        "--no-realism", dest="realism", action="store_false", help="skip the check of synthetic against real vectors"
    )
    parser.add_argument(
        "--no-serve", dest="serve", action="store_false", help="skip the HTTP server's requests/s at 1, 8, 32 clients"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run in minutes: 2k and 20k sentences")
    parser.add_argument("--out", default=str(BENCH / "out"), help="results folder (default bench/out)")
    parser.add_argument("--cache", default=str(BENCH / "cache"), help="cache folder (default bench/cache)")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.real_limit, args.questions, args.cold_rounds, args.rounds = "2k,20k", "2k", 40, 2, 2
    results = run(args)
    out = Path(args.out)
    (out / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (out / "results.md").write_text(report.markdown(results) + "\n", encoding="utf-8")
    report.plot(results, out / "latency_memory.png")
    print(report.markdown(results))
    print(f"\nwrote {out / 'results.json'}, {out / 'results.md'} and {out / 'latency_memory.png'}")


if __name__ == "__main__":
    main()
