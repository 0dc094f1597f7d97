"""report.html: the evaluation as one self-contained page (`newsdesk eval ... --html`).

The summary table, the hit@k plot embedded as data, and every question of the primary mode with
its gold answers and the evidence shown, misses first, so a reader can click from a miss to what
newsdesk put in front of the answer. Nothing is fetched from elsewhere; every gold and article
string is escaped; the filter is a few lines of script that only hide and show rows.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from retrieval.evaluation.gold import GoldSet
from retrieval.evaluation.metrics import QuestionOutcome
from retrieval.evaluation.report import cell, table_rows

EVIDENCE_SHOWN = 3

# What each question's outcome is called on the page, in the order the page lists them.
STATUS_ORDER = ("miss", "error", "false-answer", "hit", "declined")
STATUS_LABEL = {
    "miss": "missed (no gold answer in the evidence)",
    "error": "error",
    "false-answer": "answered, but the archive holds no answer",
    "hit": "hit",
    "declined": "rightly declined",
}
# What each status means, for the legend under the filter (docs/evaluation.md, "Metrics").
STATUS_MEANING = {
    "miss": "the gold lists an answer, but none of the evidence sentences shown (the top k) contains it",
    "error": "newsdesk refused the question (QuestionError); it counts as a miss",
    "false-answer": "the gold says the archive holds no answer, yet newsdesk answered instead of declining",
    "hit": "an evidence sentence shown contains a gold answer; the rank is the first such sentence",
    "declined": "the gold says the archive holds no answer, and newsdesk said it has no good answer",
}

# What each row of the summary table means, in plain words (docs/evaluation.md defines them;
# "answerable" questions are those whose gold lists at least one answer). hit@c and mrr@c
# rows for any cutoff are worded by metric_meaning.
METRIC_MEANING = {
    "n": "questions scored",
    "n_answerable": "of them, questions whose gold lists an answer; hit@, mrr@ and the accuracies are over these",
    "n_unanswerable": "of them, questions whose gold says the archive holds no answer",
    "skipped": "gold entries skipped as unusable (report.md lists them with their line)",
    "errors": "questions newsdesk refused; each counts as a miss",
    "date_acc": (
        "date accuracy: of the answerable questions with a hit and a gold date, the share whose first "
        "hit sentence comes from an article of that date"
    ),
    "source_acc": (
        "source accuracy: of the answerable questions with a hit and a gold source, the share whose first "
        "hit sentence comes from that source (its name, article id or url)"
    ),
    "date_checked": "how many questions date_acc is computed over",
    "source_checked": "how many questions source_acc is computed over",
    "noans_correct": (
        "no-answer, correct: of the questions the archive cannot answer, the share where newsdesk rightly "
        "said it has no good answer (higher is better)"
    ),
    "noans_false": (
        "no-answer, false: of the answerable questions, the share where newsdesk wrongly said it has no "
        "good answer (lower is better)"
    ),
    "p50_ms": "median time of one question, in milliseconds (half the questions took longer)",
    "p95_ms": "95th-percentile time of one question, in milliseconds (1 question in 20 took longer)",
}

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;color:#1d1d1f}
table{border-collapse:collapse}td,th{border:1px solid #dadce0;padding:.2rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}code{font-size:.9em}
.q{border:1px solid #dadce0;border-left-width:5px;border-radius:6px;padding:.4rem .8rem;margin:.5rem 0}
.q.miss,.q.error{border-left-color:#c5221f}.q.false-answer{border-left-color:#e37400}
.q.hit{border-left-color:#188038}.q.declined{border-left-color:#1a73e8}
.q h3{font-size:1rem;margin:.2rem 0}.meta{color:#5f6368;font-size:.88rem}
.ev{margin:.2rem 0}.ev.hit{background:#e6f4ea}.filters{position:sticky;top:0;background:#fff;padding:.4rem 0}
.legend{color:#3c4043;font-size:.88rem;display:grid;grid-template-columns:max-content auto;gap:.1rem .8rem}
.legend dt{font-weight:600}.legend dd{margin:0}
"""

FILTER_SCRIPT = """
const show = () => { const s = document.getElementById('status').value, t = document.getElementById('text').value.toLowerCase();
  for (const q of document.querySelectorAll('.q')) q.hidden = (s && q.dataset.status !== s) || !q.textContent.toLowerCase().includes(t); };
document.getElementById('status').onchange = show; document.getElementById('text').oninput = show;
"""


def outcome_status(outcome: QuestionOutcome) -> str:
    if outcome.error:
        return "error"
    if outcome.gold.answerable:
        return "hit" if outcome.rank is not None else "miss"
    return "false-answer" if outcome.answered else "declined"


def html_report(
    gold: GoldSet,
    summaries: Mapping[str, dict[str, Any]],
    outcomes: Sequence[QuestionOutcome],
    primary: str,
    command: str,
    corpus: str,
    plot_png: bytes | None,
) -> str:
    """The page as a string; ``outcomes`` are the primary mode's."""
    ordered = sorted(outcomes, key=lambda o: (STATUS_ORDER.index(outcome_status(o)), -(o.rank or 0)))
    counts = {status: sum(outcome_status(o) == status for o in outcomes) for status in STATUS_ORDER}
    options = "".join(
        f'<option value="{s}">{escape(STATUS_LABEL[s])} ({counts[s]})</option>' for s in STATUS_ORDER if counts[s]
    )
    statuses = "".join(
        f"<dt>{escape(STATUS_LABEL[s])}</dt><dd>{escape(STATUS_MEANING[s])}</dd>" for s in STATUS_ORDER if counts[s]
    )
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        f"<title>newsdesk evaluation · {escape(gold.path.name)}</title><style>{STYLE}</style></head><body>",
        "<h1>newsdesk evaluation</h1>",
        (
            f'<p class="meta">command <code>{escape(command)}</code><br>gold <code>{escape(str(gold.path))}</code> '
            f"({escape(gold.format)}) · corpus {escape(corpus)} · questions listed for mode <b>{escape(primary)}</b>"
            f"{'<br>' + escape(gold.as_of_summary()) if gold.as_of_summary() else ''}</p>"
        ),
        "<h2>Summary</h2>",
        _summary_table(summaries),
    ]
    if plot_png:
        encoded = base64.b64encode(plot_png).decode("ascii")
        parts.append(f'<p><img alt="hit@k per mode" width="600" src="data:image/png;base64,{encoded}"></p>')
    parts += [
        f"<h2>Questions ({len(outcomes)}, misses first)</h2>",
        (
            '<div class="filters"><label>show <select id="status"><option value="">all</option>'
            f'{options}</select></label> <label>containing <input id="text" type="search"></label></div>'
        ),
        f'<dl class="legend">{statuses}</dl>',
        *(_question(o) for o in ordered),
        f"<script>{FILTER_SCRIPT}</script></body></html>",
    ]
    return "\n".join(parts)


def _summary_table(summaries: Mapping[str, dict[str, Any]]) -> str:
    modes, rows = list(summaries), table_rows(summaries)
    head = "".join(f"<th>{escape(m)}</th>" for m in modes)
    body = "".join(
        f"<tr><td>{escape(row)}</td>"
        + "".join(f"<td>{escape(cell(row, summaries[m].get(row)))}</td>" for m in modes)
        + "</tr>"
        for row in rows
    )
    legend = "".join(f"<dt><code>{escape(row)}</code></dt><dd>{escape(metric_meaning(row))}</dd>" for row in rows)
    return f'<table><tr><th>metric</th>{head}</tr>{body}</table>\n<dl class="legend">{legend}</dl>'


def metric_meaning(key: str) -> str:
    """A summary-table row's meaning in plain words (docs/evaluation.md has the exact definitions)."""
    if key in METRIC_MEANING:
        return METRIC_MEANING[key]
    name, _, cutoff = key.partition("@")
    if name == "hit" and cutoff.isdigit():
        shown = "the first evidence sentence" if cutoff == "1" else f"the first {cutoff} evidence sentences"
        return f"share of the answerable questions with a gold answer in {shown} shown (n/a when {cutoff} is more than --k)"
    if name == "mrr" and cutoff.isdigit():
        return (
            f"mean reciprocal rank: over the answerable questions, the average of 1/rank of the first evidence "
            f"sentence holding a gold answer, 0 when none of the first {cutoff} does (1.0: always first)"
        )
    return "see docs/evaluation.md"


def _question(outcome: QuestionOutcome) -> str:
    status = outcome_status(outcome)
    gold = outcome.gold
    where = f"line {gold.line} · " if gold.line else ""
    if gold.as_of:
        where += f"asked as of {gold.as_of} · "
    answers = " | ".join(gold.answers) if gold.answers else "(none: the archive holds no answer)"
    rank = f"first hit at rank {outcome.rank}" if outcome.rank else "no hit in the evidence shown"
    parts = [
        f'<section class="q {status}" data-status="{status}">',
        f"<h3>{escape(gold.question)}</h3>",
        (
            f'<p class="meta">{escape(where)}id <code>{escape(gold.id)}</code> · {escape(STATUS_LABEL[status])} · '
            f"{escape(rank)} · {'answered' if outcome.answered else 'declined'} · {outcome.latency_ms:.1f} ms</p>"
        ),
        f"<p>gold: <b>{escape(answers)}</b></p>",
    ]
    if outcome.error:
        parts.append(f"<p>error: {escape(outcome.error)}</p>")
    shown = list(range(min(EVIDENCE_SHOWN, len(outcome.evidence))))
    if outcome.rank and outcome.rank > EVIDENCE_SHOWN:
        shown.append(outcome.rank - 1)  # the first hit, wherever it ranked
    for i in shown:
        e, hit = outcome.evidence[i], outcome.relevant[i]
        parts.append(
            f'<p class="ev{" hit" if hit else ""}">{i + 1}. {escape(e.text)} '
            f'<span class="meta">— {escape(e.date or "undated")} · {escape(e.source or e.article_id)}'
            f"{' · hit' if hit else ''}</span></p>"
        )
    if not outcome.evidence and not outcome.error:
        parts.append('<p class="meta">newsdesk returned no evidence</p>')
    parts.append("</section>")
    return "\n".join(parts)
