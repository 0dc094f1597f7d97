"""The benchmark's results as Markdown tables (per size, and each floor met or not) and a PNG plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def size_table(results: dict[str, Any]) -> str:
    rows = [
        "| sentences | vectors | query p50 ms | query p95 ms | first stage p50 / p95 ms | of which encode p50 ms "
        "| recall@10 vs exact | index resident B/sentence (process) | disk B/sentence | build s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in results["sizes"]:
        latency, recall, memory, disk = (size.get(k, {}) for k in ("latency", "recall", "memory", "disk"))
        rows.append(
            f"| {_fmt(size['sentences'])} | {size['vectors_source']} | {_fmt(latency.get('p50_ms'))} "
            f"| {_fmt(latency.get('p95_ms'))} "
            f"| {_fmt(latency.get('first_stage_p50_ms'))} / {_fmt(latency.get('first_stage_p95_ms'))} "
            f"| {_fmt(latency.get('encode_p50_ms'))} "
            f"| {_fmt(recall.get('recall_at_10'), 3)} ({recall.get('vector_index', '-')}) "
            f"| {_fmt(memory.get('bytes_per_sentence'), 0)} ({_fmt(memory.get('process_bytes_per_sentence'), 0)}) "
            f"| {_fmt(disk.get('bytes_per_sentence'), 0)} "
            f"| {_fmt(size.get('build_seconds'))} |"
        )
    return "\n".join(rows)


def floors(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each floor of the issue with its target, what was measured, and whether it is met."""
    by_size = {s["sentences_target"]: s for s in results["sizes"]}
    out = []

    def add(name: str, target: str, value, ok: bool | None):
        out.append({"floor": name, "target": target, "measured": value, "met": ok})

    for target, key, label, limit in (
        (100_000, "p50_ms", "question p50, reranker on", 60.0),
        (100_000, "p95_ms", "question p95, reranker on", 120.0),
        (100_000, "first_stage_p50_ms", "first stage p50", 15.0),
        (1_000_000, "first_stage_p50_ms", "first stage p50", 50.0),
    ):
        size = by_size.get(target)
        value = size["latency"].get(key) if size and "latency" in size else None
        add(f"{label} at {target:,}", f"<= {limit:.0f} ms", value, None if value is None else value <= limit)
    throughput = results.get("throughput", {})
    ratio = throughput.get("efficiency")
    add("indexing vs raw encode", ">= 0.90", ratio, None if ratio is None else ratio >= 0.9)
    add_article = results.get("add_article", {})
    seconds = add_article.get("in_process_seconds")
    add(
        f"add one article to {add_article.get('index_sentences', 0):,} (in process)",
        "<= 5 s",
        seconds,
        None
        if seconds is None
        else seconds <= 5 and add_article.get("encoded") == add_article.get("article_sentences"),
    )
    cli = add_article.get("cli_seconds")
    add("add one article, fresh `newsdesk index` process", "<= 5 s", cli, None if cli is None else cli <= 5)
    largest = results["sizes"][-1] if results["sizes"] else {}
    memory = largest.get("memory", {}).get("bytes_per_sentence")
    add(
        f"index resident bytes/sentence at {largest.get('sentences', 0):,}",
        "<= 1,024",
        memory,
        None if memory is None else memory <= 1024,
    )
    recalls = [
        s["recall"]["recall_at_10"] for s in results["sizes"] if s.get("recall", {}).get("vector_index") != "flat"
    ]
    worst = min(recalls) if recalls else None
    add("recall@10 of approximate index", ">= 0.95", worst, None if worst is None else worst >= 0.95)
    cold = results.get("cold_start", {}).get("ratio")
    add("cold `newsdesk ask` / bare model process", "<= 1.3", cold, None if cold is None else cold <= 1.3)
    chat = results.get("chat_largest", {}).get("after_first_p50_ms")
    add(
        f"`newsdesk chat` after the first question ({largest.get('sentences', 0):,})",
        "<= 100 ms",
        chat,
        None if chat is None else chat <= 100,
    )
    return out


def floor_table(results: dict[str, Any]) -> str:
    rows = ["| floor | target | measured | met |", "|---|---|---|---|"]
    for floor in results["floors"]:
        met = {True: "yes", False: "**no**", None: "not measured"}[floor["met"]]
        rows.append(f"| {floor['floor']} | {floor['target']} | {_fmt(floor['measured'], 2)} | {met} |")
    return "\n".join(rows)


def markdown(results: dict[str, Any]) -> str:
    throughput = results.get("throughput", {})
    lines = [
        f"Command: `{results['command']}` ({results['machine']}, {results['wall_minutes']:.0f} min).",
        "",
        size_table(results),
        "",
        f"Indexing {_fmt(throughput.get('sentences'))} sentences: pipeline {_fmt(throughput.get('pipeline_rate'))} "
        f"sentences/s, raw `model.encode` {_fmt(throughput.get('raw_rate'))} sentences/s on the same text "
        f"(efficiency {_fmt(throughput.get('efficiency'), 3)}).",
        "",
        floor_table(results),
    ]
    if results.get("serve"):
        from bench.serve import markdown as serve_markdown

        lines += ["", serve_markdown(results["serve"])]
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [s for s in results["sizes"] if "latency" in s]
    x = [s["sentences"] for s in sizes]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(x, [s["latency"]["p50_ms"] for s in sizes], "o-", label="p50")
    left.plot(x, [s["latency"]["p95_ms"] for s in sizes], "s--", label="p95")
    left.plot(x, [s["latency"]["encode_p50_ms"] for s in sizes], "^:", label="question encoding p50")
    left.set(xscale="log", xlabel="sentences", ylabel="ms", title="Query latency, end to end in process")
    left.legend()
    left.grid(alpha=0.3)
    right.plot(x, [s.get("memory", {}).get("bytes_per_sentence", float("nan")) for s in sizes], "o-", label="resident")
    right.plot(x, [s.get("disk", {}).get("bytes_per_sentence", float("nan")) for s in sizes], "s--", label="on disk")
    right.axhline(1024, color="grey", lw=0.8, ls=":", label="1 KB floor (resident)")
    right.set(xscale="log", xlabel="sentences", ylabel="bytes per sentence", title="Memory and disk per sentence")
    right.legend()
    right.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
