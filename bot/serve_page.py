"""The web page at `/`: a search form and the answer as cards, rendered on the server.

Plain HTML and a little CSS, no script and nothing fetched from elsewhere, so it works offline
and in any browser. Every string that came from an article or a person passes through
`escape` (text and attribute values alike); a link is made only of http(s) URLs.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any
from urllib.parse import urlencode, urlsplit

from bot.ask_params import FILTERS, MODES
from retrieval.types import Answer, Evidence

FORM_FIELDS = ("q", "k", "mode", *FILTERS)
# The most of each submitted field the page writes back: the question up to the form's own
# maxlength, the rest far beyond any valid value, so a pasted page is never echoed whole.
FIELD_CHARS = {"q": 1000}
OTHER_FIELD_CHARS = 100
TITLE_CHARS = 200

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:1.5rem auto;padding:0 1rem;color:#1d1d1f}
header{display:flex;align-items:baseline;gap:1rem;flex-wrap:wrap}
h1{font-size:1.4rem;margin:0}h1 a{color:inherit;text-decoration:none}
.stats,.meta,.foot{color:#5f6368;font-size:.9rem}
form{margin:1rem 0}.ask{display:flex;gap:.5rem}
.ask input{flex:1;font-size:1.05rem;padding:.5rem .6rem;border:1px solid #9aa0a6;border-radius:6px}
button{font-size:1rem;padding:.5rem 1rem;border-radius:6px;border:0;background:#1a5fb4;color:#fff}
details{margin-top:.5rem}details label{margin-right:.8rem;font-size:.9rem}
.note{font-weight:600}.error{background:#fce8e6;color:#a50e0e;padding:.6rem .8rem;border-radius:6px}
.card{list-style:none;border:1px solid #dadce0;border-radius:8px;padding:.7rem .9rem;margin:.6rem 0}
ol.cards{padding:0}.card p{margin:.2rem 0}mark{background:#fde293;padding:0 .1em;border-radius:2px}
.timeline{border-left:4px solid #1a5fb4;padding:.2rem .9rem;margin:1rem 0;background:#f1f5fb}
.timeline h2{font-size:1rem;margin:.3rem 0}.timeline ol{margin:.2rem 0;padding-left:1.2rem}
.figure{font-weight:700}
"""


def render_page(
    form: Mapping[str, str],
    *,
    answer: Answer | None = None,
    error: str | None = None,
    stats: Mapping[str, Any] | None = None,
) -> str:
    """The whole page; ``form`` holds the submitted fields, to refill the form and make the permalink."""
    question = form.get("q", "")
    if len(question) > TITLE_CHARS:
        question = question[:TITLE_CHARS] + "…"
    title = f"{question} · newsdesk" if question else "newsdesk"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        '<header><h1><a href="/">newsdesk</a></h1>',
        f'<span class="stats">{escape(_stats_line(stats))}</span></header>',
        _form(form),
        "<main>",
    ]
    if error:
        parts.append(f'<p class="error" role="alert">{escape(error)}</p>')
    if answer is not None:
        parts.append(_answer(answer, form))
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _stats_line(stats: Mapping[str, Any] | None) -> str:
    if not stats:
        return ""
    line = f"{stats.get('articles', 0):,} articles · {stats.get('sentences', 0):,} sentences"
    if stats.get("date_min"):
        line += f" · {stats['date_min']} to {stats.get('date_max')}"
    return line


def _form(form: Mapping[str, str]) -> str:
    value = {name: escape(form.get(name, "")[: FIELD_CHARS.get(name, OTHER_FIELD_CHARS)]) for name in FORM_FIELDS}
    modes = "".join(
        f'<option value="{m}"{" selected" if form.get("mode") == m else ""}>{m or "default"}</option>'
        for m in ["", *MODES]
    )
    filtered = any(form.get(name) for name in ("k", "mode", *FILTERS))
    return (
        '<form method="get" action="/" role="search">'
        '<div class="ask"><input type="search" name="q" aria-label="question" required maxlength="1000" '
        f'placeholder="how many US troops to Poland?" value="{value["q"]}" autofocus>'
        '<button type="submit">Ask</button></div>'
        f"<details{' open' if filtered else ''}><summary>Filters</summary>"
        f'<label>since <input type="date" name="since" value="{value["since"]}"></label>'
        f'<label>until <input type="date" name="until" value="{value["until"]}"></label>'
        f'<label>source <input type="text" name="source" size="12" value="{value["source"]}"></label>'
        f'<label>mode <select name="mode">{modes}</select></label>'
        f'<label>sentences <input type="number" name="k" min="1" max="100" value="{value["k"]}"></label>'
        "</details></form>"
    )


def _answer(answer: Answer, form: Mapping[str, str]) -> str:
    parts = []
    if answer.note:
        parts.append(f'<p class="note">{escape(answer.note)}</p>')
    if answer.timeline:
        rows = "".join(
            f'<li><time datetime="{escape(t.date or "")}">{escape(t.date or "undated")}</time> '
            f'<span class="figure">{escape(t.figure)}</span> · {escape(t.source)}</li>'
            for t in answer.timeline
        )
        parts.append(f'<section class="timeline"><h2>Figures over time (newest first)</h2><ol>{rows}</ol></section>')
    cards = "".join(_card(e) for e in answer.evidence)
    parts.append(f'<ol class="cards">{cards}</ol>')
    query = urlencode({name: form[name] for name in FORM_FIELDS if form.get(name)})
    parts.append(
        f'<p class="foot"><a class="permalink" href="/?{escape(query)}">permalink</a> · '
        f'<a href="/ask?{escape(query)}">JSON</a> · {answer.mode} · {answer.elapsed_ms:.0f} ms</p>'
    )
    return "\n".join(parts)


def _card(evidence: Evidence) -> str:
    meta = [f'<time datetime="{escape(evidence.date or "")}">{escape(evidence.date or "undated")}</time>']
    source = escape(evidence.source or evidence.article_id)
    url = safe_url(evidence.url)
    meta.append(f'<a href="{escape(url)}" rel="noopener noreferrer nofollow">{source}</a>' if url else source)
    if evidence.title and evidence.title != evidence.source:
        meta.append(f"<cite>{escape(evidence.title)}</cite>")
    if evidence.also_in:
        meta.append(f"reported by {evidence.also_in + 1} sources")
    return (
        f'<li class="card"><p class="sentence">{marked(evidence.text, evidence.highlights)}</p>'
        f'<p class="meta">{" · ".join(meta)}</p></li>'
    )


def marked(text: str, spans: list[tuple[int, int]] | list[list[int]]) -> str:
    """``text`` escaped, with each highlight span in <mark> (overlapping spans are skipped)."""
    out, last = [], 0
    for start, end in sorted((int(s), int(e)) for s, e in spans):
        if start < last or start >= end:
            continue
        out += [escape(text[last:start]), "<mark>", escape(text[start:end]), "</mark>"]
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


def safe_url(url: str) -> str:
    """``url`` when it is an http(s) link, else "" (a javascript: or data: URL is never a link)."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return ""
    return url.strip() if scheme in ("http", "https") else ""
