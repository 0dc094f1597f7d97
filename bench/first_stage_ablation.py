"""What each speed-up of a question gives, every variant timed on every question in turn.

    python -m bench.first_stage_ablation STORE [--questions 150]

STORE is a store `make bench` built (bench/cache/store-...). Variants of the first stage
(``ask(rerank=False)``): float32 or int8 question encoder ([model] query_precision), the
question encoded before the lexical search or beside it (retrieval/question_vector.py; "before"
is made by handing ``ask`` an already finished encoding), and 30 instead of 50 candidates; and
end to end with the reading stage for float32 and int8. The per-sentence caches (word pieces,
duplicate keys, article records) and the reader's score cache are emptied before every
question, so each variant meets the question's candidates for the first time. Prints p50 /
p95 ms per variant; compare within one run only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import Future
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _encoded_before(encoder, text: str) -> Future:
    """``question_vector.encode_soon`` as it was: the vector encoded before anything else."""
    done: Future = Future()
    done.set_result(encoder.encode([text])[0])
    return done


def _cold(answerer) -> None:
    matcher = answerer.reranker.matcher
    if matcher is not None:
        matcher._pieces.clear()
    answerer.duplicates._cache.clear()
    answerer.index._article.cache_clear()
    if answerer.reader is not None:
        answerer.reader.scorer.clear_cache()


def main(argv: list[str] | None = None) -> None:
    import numpy as np

    from bench import corpus
    from retrieval import answer as answer_module
    from retrieval.answer import open_answerer
    from retrieval.config import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--questions", type=int, default=150)
    args = parser.parse_args(argv)

    def settings(query: str, reader: str, candidates: int = 50) -> Settings:
        return Settings.load(
            overrides={
                "index": {"dir": str(args.store)},
                "model": {"name": "minilm", "query_precision": query},
                "rerank": {"ce_precision": reader},
                "retrieval": {"candidates": candidates},
            }
        )

    answerers = {
        "float32": open_answerer(settings("float32", "float32"), args.store),
        "int8": open_answerer(settings("int8", "int8"), args.store),
        "int8, 30 candidates": open_answerer(settings("int8", "int8", 30), args.store),
    }
    beside = answer_module.encode_soon
    first_stage = [
        ("float32", "before"),
        ("float32", "beside"),
        ("int8", "before"),
        ("int8", "beside"),
        ("int8, 30 candidates", "beside"),
    ]
    questions = corpus.questions(args.questions)
    for question in questions[:5]:
        for answerer in answerers.values():
            answerer.ask(question)
    times: dict[str, list[float]] = {f"first stage, {a}, encoded {e}": [] for a, e in first_stage}
    times.update({f"end to end, {a}": [] for a in ("float32", "int8")})
    try:
        for question in questions:
            for name, encoding in first_stage:
                answer_module.encode_soon = beside if encoding == "beside" else _encoded_before
                _cold(answerers[name])
                clock = time.perf_counter()
                answerers[name].ask(question, rerank=False)
                times[f"first stage, {name}, encoded {encoding}"].append((time.perf_counter() - clock) * 1000)
            answer_module.encode_soon = beside
            for name in ("float32", "int8"):
                _cold(answerers[name])
                clock = time.perf_counter()
                answerers[name].ask(question)
                times[f"end to end, {name}"].append((time.perf_counter() - clock) * 1000)
    finally:
        answer_module.encode_soon = beside
    for label, values in times.items():
        print(f"{label}: p50 {np.percentile(values, 50):.1f} ms, p95 {np.percentile(values, 95):.1f} ms")
    print(f"load average {[round(x, 2) for x in os.getloadavg()]}")


if __name__ == "__main__":
    sys.exit(main())
