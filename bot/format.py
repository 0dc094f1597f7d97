"""Plain-text and JSON renderings of an `Answer` for the CLI harness."""

from __future__ import annotations

import json
import shutil
import textwrap

from retrieval.types import Answer, Evidence

BOLD, DIM, RESET = "\033[1m", "\033[2m", "\033[0m"
# How highlight spans are shown: ANSI bold (a terminal), [[...]] (plain text that keeps them), or not at all.
HIGHLIGHTS = ("bold", "brackets", "none")
_MARKERS = {"bold": (BOLD, RESET), "brackets": ("[[", "]]")}


def highlight_for(choice: str | None, terminal: bool) -> str:
    """The highlight mode to use: the one chosen, else bold on a terminal and none in a pipe."""
    return choice or ("bold" if terminal else "none")


def mark(text: str, spans: list[tuple[int, int]], highlight: str) -> str:
    """Mark highlight spans as ``highlight`` says: "bold", "brackets" or "none"."""
    if not spans or highlight not in _MARKERS:
        return text
    opening, closing = _MARKERS[highlight]
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out += [text[last:start], opening, text[start:end], closing]
        last = end
    out.append(text[last:])
    return "".join(out)


def provenance(evidence: Evidence) -> str:
    """'2022-02-10 · source (title) · url', plus how many others carried the same sentence."""
    parts = [evidence.date or "undated", evidence.source or evidence.article_id]
    if evidence.title and evidence.title != evidence.source:
        parts.append(evidence.title)
    if evidence.url:
        parts.append(evidence.url)
    line = " · ".join(parts)
    if evidence.also_in:
        line += f" · reported by {evidence.also_in + 1} sources, first on {evidence.date or 'an unknown date'}"
    return line


def render_text(answer: Answer, highlight: str = "none", width: int | None = None) -> str:
    """The answer for people: numbered sentences, each with its date and source.

    ``highlight`` is "bold" (ANSI, for a terminal; the source lines are dimmed too),
    "brackets" or "none" (plain text, for pipes and files)."""
    color = highlight == "bold"
    width = width or min(100, shutil.get_terminal_size((100, 20)).columns)
    lines = []
    if answer.note:
        lines.append(answer.note)
    read = [f'"{t.words}" as {_span(t.since, t.until)}' for t in answer.time if t.since or t.until]
    if read:
        lines.append(f"Read {', '.join(read)}.")
    if answer.filters.active:
        lines.append(f"Filtered: {answer.filters.describe()}.")
    if answer.timeline:
        lines.append("Figures differ over time (newest first):")
        for entry in answer.timeline:
            lines.append(f"  {entry.date or 'undated'}  {entry.figure}  ({entry.source})")
        lines.append("")
    for number, evidence in enumerate(answer.evidence, start=1):
        body = textwrap.fill(
            mark(evidence.text, evidence.highlights, highlight),
            width=width,
            initial_indent=f"{number:>2}. ",
            subsequent_indent="    ",
        )
        meta = provenance(evidence)
        lines.append(body)
        lines.append(f"    {DIM}{meta}{RESET}" if color else f"    — {meta}")
    return "\n".join(lines)


def _span(since: str | None, until: str | None) -> str:
    if since and until:
        return since if since == until else f"{since} to {until}"
    return f"from {since}" if since else f"up to {until}"


def render_json(answer: Answer) -> str:
    return json.dumps(answer.to_dict(), ensure_ascii=False)
