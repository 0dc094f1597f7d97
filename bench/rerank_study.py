"""Fit and ablate the reading stage: which cross-encoder, how many candidates, what fusion weight.

    python -m bench.rerank_study collect GOLD [--articles PATH] --out study.jsonl [--top 30]
        [--model NAME --precision int8|float32]...
    python -m bench.rerank_study fit study.jsonl [study2.jsonl ...]

``collect`` asks every gold question once through the answering core with the cross-encoder
off, keeps the top ``--top`` evidence sentences with their feature scores and whether each
holds a gold answer, and scores them with every (model, precision) asked for, timing each.
``fit`` then replays rankings offline: features only, cross-encoder only, and the fused
``z(cross) + w * z(features)`` over the top N, with w chosen by 5-fold cross-validation
grouped by article (so a question never tunes the weight it is scored with). Final numbers
come from ``newsdesk eval``; this only chooses the settings it runs with.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from retrieval.reading import zscore

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
CANDIDATES = (5, 10, 20, 30)


def collect(args: argparse.Namespace) -> None:
    from retrieval.config import Settings
    from retrieval.cross_encoder import CrossEncoder
    from retrieval.evaluation.gold import load_gold
    from retrieval.evaluation.normalize import matches_any
    from retrieval.evaluation.runner import prepared_answerer

    settings = Settings.load(overrides={"rerank": {"cross_encoder": ""}})
    gold = load_gold(Path(args.gold))
    if args.articles and gold.articles is not None:
        gold = gold.without_sources()
    depths = args.depth or [args.top] * len(args.model)
    scorers = [
        (f"{m}:{p}", CrossEncoder(m, p, cache_size=0, threads=1), d)
        for m, p, d in zip(args.model, args.precision, depths)
    ]
    questions = [q for q in gold.questions if q.answers or args.unanswerable]
    if args.limit:
        questions = questions[: args.limit]
    with (
        prepared_answerer(
            settings, gold, [Path(p) for p in args.articles], Path(args.index) if args.index else None
        ) as (answerer, corpus),
        open(args.out, "w", encoding="utf-8") as out,
    ):
        print(f"collecting {len(questions)} questions over {corpus}", file=sys.stderr)
        for n, question in enumerate(questions, 1):
            started = time.perf_counter()
            answer = answerer.ask(question.question, k=args.top, rerank=False)
            first_ms = (time.perf_counter() - started) * 1000
            texts = [e.text for e in answer.evidence]
            row = {
                "id": question.id,
                "group": _group(question),
                "answerable": bool(question.answers),
                "features": [e.score for e in answer.evidence],
                "first_ms": round(first_ms, 2),
                "hits": [matches_any(t, list(question.answers)) if question.answers else False for t in texts],
                "lengths": [len(t) for t in texts],
                "cross": {},
                "ms": {},
            }
            for name, scorer, depth in scorers:
                for n_ in CANDIDATES:  # time each candidate count as the answering core would run it
                    if n_ <= min(len(texts), depth) and n <= args.time_questions:
                        started = time.perf_counter()
                        scorer._run(question.question, texts[:n_])
                        row["ms"][f"{name}@{n_}"] = round((time.perf_counter() - started) * 1000, 2)
                row["cross"][name] = [round(float(x), 4) for x in scorer._run(question.question, texts[:depth])]
            out.write(json.dumps(row) + "\n")
            if n % 50 == 0:
                print(f"{n}/{len(questions)}", file=sys.stderr, flush=True)


def _group(question) -> str:
    """Cross-validation group: the SQuAD article (title before '#'), else the gold source."""
    source = question.source or question.id
    return source.split("#")[0]


def rank_of_first_hit(order: list[int], hits: list[bool], k: int = 10) -> int | None:
    for position, i in enumerate(order[:k], 1):
        if hits[i]:
            return position
    return None


def reorder(row: dict, scorer: str | None, n: int, weight: float | None) -> list[int]:
    """Positions in the new order: the first n re-sorted (cross only when weight is None)."""
    size = len(row["features"])
    if scorer is None or size == 0:
        return list(range(size))
    n = min(n, size, len(row["cross"][scorer]))
    cross = np.array(row["cross"][scorer][:n])
    feats = np.array(row["features"][:n])
    fused = zscore(cross) if weight is None else zscore(cross) + weight * zscore(feats)
    head = list(np.argsort(-fused, kind="stable"))
    return [int(i) for i in head] + list(range(n, size))


def decisive(row: dict, margin: float) -> bool:
    """The first stage leads by ``margin`` feature points: the reading stage would be skipped."""
    f = row["features"]
    return margin > 0 and len(f) > 1 and f[0] - f[1] >= margin


def metrics(
    rows: list[dict], scorer: str | None, n: int, weight: float | None, margin: float = 0.0
) -> dict[str, float]:
    ranks = [
        rank_of_first_hit(reorder(r, None if decisive(r, margin) else scorer, n, weight), r["hits"])
        for r in rows
        if r["answerable"]
    ]
    return {
        "hit1": _share([r == 1 for r in ranks]),
        "hit3": _share([r is not None and r <= 3 for r in ranks]),
        "mrr": round(statistics.mean([1 / r if r else 0.0 for r in ranks]), 4),
    }


def cross_validated(rows: list[dict], scorer: str, n: int, folds: int = 5) -> tuple[dict[str, float], list[float]]:
    """Weight chosen on 4/5 of the article groups, scored on the other fifth."""
    groups = sorted({r["group"] for r in rows})
    random.Random(0).shuffle(groups)
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    ranks: list[int | None] = []
    chosen = []
    for fold in range(folds):
        train = [r for r in rows if fold_of[r["group"]] != fold]
        test = [r for r in rows if fold_of[r["group"]] == fold and r["answerable"]]
        best = max(WEIGHTS, key=lambda w: (metrics(train, scorer, n, w)["hit1"], metrics(train, scorer, n, w)["mrr"]))
        chosen.append(best)
        ranks += [rank_of_first_hit(reorder(r, scorer, n, best), r["hits"]) for r in test]
    result = {
        "hit1": _share([r == 1 for r in ranks]),
        "mrr": round(statistics.mean([1 / r if r else 0.0 for r in ranks]), 4),
    }
    return result, chosen


def no_answer(rows: list[dict], scorer: str, n: int, weight: float) -> None:
    """Error rates of 'answered = cross score of the new top sentence >= t' for a range of t."""
    tops = []
    for r in rows:
        if not r["features"]:
            continue
        order = reorder(r, scorer, n, weight)
        tops.append((r["answerable"], r["cross"][scorer][order[0]] if order[0] < len(r["cross"][scorer]) else None))
    unanswerable = [s for a, s in tops if not a and s is not None]
    answerable = [s for a, s in tops if a and s is not None]
    if not unanswerable:
        return
    cells = []
    for t in (-4, -3, -2, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3):
        declined = sum(s < t for s in unanswerable) / len(unanswerable)
        wrongly = sum(s < t for s in answerable) / max(len(answerable), 1)
        cells.append(f"t={t}: {declined:.2f}/{wrongly:.3f}")
    print(
        f"  no answer ({len(unanswerable)} unanswerable, {len(answerable)} answerable; declined/wrongly): "
        + "  ".join(cells)
    )


def fit(paths: list[str]) -> None:
    for path in paths:
        rows = [json.loads(line) for line in open(path, encoding="utf-8")]
        scorers = sorted(rows[0]["cross"]) if rows else []
        print(f"\n## {path}: {sum(r['answerable'] for r in rows)} answerable questions")
        base = metrics(rows, None, 0, None)
        first = statistics.median(r["first_ms"] for r in rows)
        print(
            f"features only: hit@1 {base['hit1']:.3f} hit@3 {base['hit3']:.3f} MRR {base['mrr']:.3f} "
            f"(first stage p50 {first:.1f} ms)"
        )
        for scorer in scorers:
            depth = max(len(r["cross"][scorer]) for r in rows)
            for n in [c for c in CANDIDATES if c <= depth]:
                ms = [r["ms"].get(f"{scorer}@{n}") for r in rows if f"{scorer}@{n}" in r["ms"]]
                p50 = statistics.median(ms) if ms else float("nan")
                p95 = float(np.percentile(ms, 95)) if ms else float("nan")
                alone = metrics(rows, scorer, n, None)
                fixed = metrics(rows, scorer, n, 0.5)
                cv, chosen = cross_validated(rows, scorer, n)
                skips = []
                for margin in (2.0, 4.0, 6.0, 8.0):
                    share = sum(decisive(r, margin) for r in rows) / max(len(rows), 1)
                    skips.append(
                        f"m{margin:g}: {metrics(rows, scorer, n, 0.5, margin)['hit1']:.3f} ({share:.0%} skipped)"
                    )
                print(
                    f"{scorer} top {n:>2}: cross only {alone['hit1']:.3f}/{alone['mrr']:.3f}  "
                    f"fused w=0.5 {fixed['hit1']:.3f}/{fixed['mrr']:.3f}  "
                    f"fused CV {cv['hit1']:.3f}/{cv['mrr']:.3f} (w {chosen})  "
                    f"cross p50 {p50:.1f} ms p95 {p95:.1f} ms"
                )
                print("  skip when decisive (w=0.5): " + "  ".join(skips))
                if n == 10:
                    no_answer(rows, scorer, n, 0.5)


def _share(flags: list[bool]) -> float:
    return round(sum(flags) / max(len(flags), 1), 4)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("collect")
    c.add_argument("gold")
    c.add_argument("--articles", action="append", default=[])
    c.add_argument("--index", default=None)
    c.add_argument("--out", required=True)
    c.add_argument("--top", type=int, default=30)
    c.add_argument("--limit", type=int, default=0)
    c.add_argument("--unanswerable", action="store_true", help="keep questions without answers too")
    c.add_argument("--model", action="append", default=[])
    c.add_argument("--precision", action="append", default=[])
    c.add_argument("--depth", action="append", type=int, default=[], help="sentences each model reads (default --top)")
    c.add_argument("--time-questions", type=int, default=150, help="time candidate counts on this many questions")
    f = sub.add_parser("fit")
    f.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "collect":
        if len(args.model) != len(args.precision):
            parser.error("give one --precision per --model")
        collect(args)
    else:
        fit(args.paths)


if __name__ == "__main__":
    main()
