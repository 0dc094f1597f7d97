"""Writing an evaluation run out: summary.json, results.jsonl, report.md, hit_at_k.png and the terminal table."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from retrieval.evaluation.gold import GoldSet
from retrieval.evaluation.metrics import QuestionOutcome, hit_curve

# Rows of the summary table, in reading order: what is scored, how well, how fast.
TABLE_ROWS = (
    "n",
    "n_answerable",
    "skipped",
    "hit@1",
    "hit@3",
    "hit@5",
    "hit@10",
    "mrr@10",
    "date_acc",
    "source_acc",
    "noans_correct",
    "noans_false",
    "p50_ms",
    "p95_ms",
)
WORST_MISSES = 10
SKIPPED_LISTED = 20


def summary_object(gold: GoldSet, summaries: Mapping[str, dict[str, Any]], compare: bool) -> dict[str, Any]:
    """summary.json: one mode's metrics at top level, or with --compare one object per mode under "modes"."""
    head = {"gold": str(gold.path), "format": gold.format}
    if not compare:
        (summary,) = summaries.values()
        return {**head, **summary}
    first = next(iter(summaries.values()))
    return {**head, "k": first["k"], "n": first["n"], "skipped": first["skipped"], "modes": dict(summaries)}


def result_lines(outcomes: Mapping[str, Sequence[QuestionOutcome]]) -> list[dict[str, Any]]:
    """results.jsonl: per question and mode, the gold, the shown evidence and the first hit's rank."""
    lines = []
    for mode, judged in outcomes.items():
        for o in judged:
            lines.append(
                {
                    "mode": mode,
                    **o.gold.to_dict(),
                    "answered": o.answered,
                    "rank": o.rank,
                    "latency_ms": round(o.latency_ms, 2),
                    "error": o.error or None,
                    "evidence": [
                        {
                            "rank": i,
                            "hit": hit,
                            "text": e.text,
                            "article_id": e.article_id,
                            "date": e.date,
                            "source": e.source,
                            "url": e.url,
                            "score": e.score,
                        }
                        for i, (e, hit) in enumerate(zip(o.evidence, o.relevant), start=1)
                    ],
                }
            )
    return lines


def format_table(summaries: Mapping[str, dict[str, Any]]) -> str:
    """A Markdown table, metrics down and modes across, readable on a terminal as is."""
    modes = list(summaries)
    rows = table_rows(summaries)
    cells = [["metric", *modes]] + [[row, *(cell(row, summaries[m].get(row)) for m in modes)] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]

    def fmt(line: list[str]) -> str:
        return (
            "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))) + " |"
        )

    rule = "|" + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths)) + "|"
    return "\n".join([fmt(cells[0]), rule, *map(fmt, cells[1:])])


def table_rows(summaries: Mapping[str, dict[str, Any]]) -> list[str]:
    """The metrics the summary table lists, in reading order (any extra hit@k / mrr@k last)."""
    rows = [r for r in TABLE_ROWS if any(r in s for s in summaries.values())]
    extra = [key for s in summaries.values() for key in s if key.startswith(("hit@", "mrr@")) and key not in rows]
    return rows + list(dict.fromkeys(extra))


def cell(row: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if row.endswith("_ms"):
        return f"{value:.1f}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def markdown_report(
    gold: GoldSet,
    summaries: Mapping[str, dict[str, Any]],
    outcomes: Mapping[str, Sequence[QuestionOutcome]],
    primary: str,
    command: str,
    corpus: str,
) -> str:
    """report.md: what was run, the summary table, what was skipped and the worst misses."""
    parts = [
        "# newsdesk evaluation",
        "",
        f"- command: `{command}`",
        f"- gold: `{gold.path}` ({gold.format}), corpus: {corpus}",
        "- hit@k and MRR count answerable questions only; an evidence sentence is a hit when it "
        "contains a gold answer after normalisation (see docs/evaluation.md).",
        *([f"- {gold.as_of_summary()}."] if gold.as_of_summary() else []),
        "",
        "## Summary",
        "",
        format_table(summaries),
        "",
    ]
    if gold.skipped:
        parts += [f"## Skipped gold entries ({len(gold.skipped)})", ""]
        parts += [f"- {s}" for s in gold.skipped[:SKIPPED_LISTED]]
        if len(gold.skipped) > SKIPPED_LISTED:
            parts.append(f"- … and {len(gold.skipped) - SKIPPED_LISTED} more")
        parts.append("")
    parts += _worst_misses(outcomes, primary)
    parts += _false_confidence(outcomes[primary], primary)
    return "\n".join(parts).rstrip() + "\n"


def _worst_misses(outcomes: Mapping[str, Sequence[QuestionOutcome]], primary: str) -> list[str]:
    """Answerable questions the primary mode missed, those missed by every mode first."""
    missed_by = {}
    for judged in outcomes.values():
        for o in judged:
            if o.gold.answerable and o.rank is None:
                missed_by[o.gold.id] = missed_by.get(o.gold.id, 0) + 1
    misses = [o for o in outcomes[primary] if o.gold.answerable and o.rank is None]
    misses.sort(key=lambda o: -missed_by[o.gold.id])
    lines = [f"## Worst misses ({primary}: {len(misses)} answerable questions without a hit)", ""]
    if not misses:
        return lines + ["None.", ""]
    for o in misses[:WORST_MISSES]:
        top = o.evidence[0] if o.evidence else None
        where = f"line {o.gold.line}, " if o.gold.line else ""
        if o.gold.as_of:
            where += f"asked as of {o.gold.as_of}, "
        lines.append(
            f"- **{o.gold.question}** ({where}id `{o.gold.id}`, missed in {missed_by[o.gold.id]} "
            f"of {len(outcomes)} modes)"
        )
        lines.append(f"  - gold: {' | '.join(o.gold.answers)}")
        if o.error:
            lines.append(f"  - error: {o.error}")
        elif top is None:
            lines.append("  - newsdesk returned no evidence")
        else:
            lines.append(f"  - top evidence ({top.source or top.article_id}, {top.date or 'undated'}): {top.text}")
    return lines + [""]


def _false_confidence(judged: Sequence[QuestionOutcome], primary: str) -> list[str]:
    """Unanswerable questions that newsdesk nevertheless answered."""
    wrong = [o for o in judged if not o.gold.answerable and o.answered]
    if not wrong:
        return []
    lines = [f"## Answered although the archive holds no answer ({primary}: {len(wrong)})", ""]
    for o in wrong[:WORST_MISSES]:
        top = f": {o.evidence[0].text}" if o.evidence else ""
        lines.append(f"- **{o.gold.question}**{top}")
    return lines + [""]


def plot_hit_curves(outcomes: Mapping[str, Sequence[QuestionOutcome]], k: int, path: Path) -> None:
    """hit_at_k.png: hit@1..k per mode, so modes can be compared at every depth."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    cutoffs = list(range(1, k + 1))
    for mode, judged in outcomes.items():
        ax.plot(cutoffs, hit_curve(judged, k), marker="o", label=mode)
    ax.set(
        xlabel="k (evidence sentences shown)",
        ylabel="hit@k (answerable questions)",
        ylim=(0, 1.02),
        title="newsdesk: answer hit@k",
    )
    if k <= 20:
        ax.set_xticks(cutoffs)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_outputs(
    out_dir: Path,
    gold: GoldSet,
    summaries: Mapping[str, dict[str, Any]],
    outcomes: Mapping[str, Sequence[QuestionOutcome]],
    *,
    k: int,
    primary: str,
    compare: bool,
    command: str,
    corpus: str,
) -> list[Path]:
    """Write the four output files into ``out_dir`` and return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / name for name in ("summary.json", "results.jsonl", "report.md", "hit_at_k.png")]
    paths[0].write_text(json.dumps(summary_object(gold, summaries, compare), indent=2) + "\n", encoding="utf-8")
    with paths[1].open("w", encoding="utf-8") as handle:
        for line in result_lines(outcomes):
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    paths[2].write_text(markdown_report(gold, summaries, outcomes, primary, command, corpus), encoding="utf-8")
    plot_hit_curves(outcomes, k, paths[3])
    return paths
