"""Answers as Telegram HTML, split into messages under Telegram's length limit.

All text from users and articles goes through :func:`escape`; the only tags produced are
``<b>``, ``<i>`` and ``<a href>``, which Telegram's HTML parse mode accepts.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from retrieval.types import Answer, Evidence

# Telegram counts message length in UTF-16 code units; 4096 is the Bot API maximum.
MESSAGE_LIMIT = 4096
_TAG = re.compile(r"(<[^>]*>)")
_ATOM = re.compile(r"&(?:[A-Za-z]+|#\d+|#[xX][0-9A-Fa-f]+);|.", re.DOTALL)
_WORD = re.compile(r"\S+\s*|\s+")


def escape(text: str) -> str:
    """Escape text for Telegram HTML (it only needs &, < and >)."""
    return html.escape(text, quote=False)


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji counts as two)."""
    return len(text.encode("utf-16-le")) // 2


# Longer links are shown as plain text: a link's opening tag is repeated in every message a long
# paragraph is split into, so it must leave room for the text (browsers stop at about 2,000 too).
MAX_HREF = 2048


def _link(label: str, url: str) -> str:
    if re.match(r"^https?://\S+$", url or ""):
        href = html.escape(url, quote=True)
        if len(href) <= MAX_HREF:
            return f'<a href="{href}">{escape(label)}</a>'
    return escape(label)


def highlight(text: str, spans: Iterable[Sequence[int]]) -> str:
    """Escape ``text`` with the [start, end) spans in bold; bad or overlapping spans are skipped."""
    parts, cursor = [], 0
    for start, end in sorted((int(s), int(e)) for s, e in spans):
        end = min(end, len(text))
        if start < cursor or start >= end:
            continue
        parts += [escape(text[cursor:start]), f"<b>{escape(text[start:end])}</b>"]
        cursor = end
    parts.append(escape(text[cursor:]))
    return "".join(parts)


def source_line(evidence: Evidence) -> str:
    """'2022-02-10 · Source' with the source linked when the article has a url."""
    source = evidence.source or evidence.title or "unknown source"
    line = f"{escape(evidence.date or 'undated')} · {_link(source, evidence.url)}"
    if evidence.also_in:
        line += f" · reported by {evidence.also_in + 1} sources, first on {escape(evidence.date or 'an unknown date')}"
    return f"<i>{line}</i>"


def evidence_block(number: int, evidence: Evidence) -> str:
    """One numbered evidence sentence, its highlights in bold, with date and source beneath."""
    return f"{number}. {highlight(evidence.text.strip(), evidence.highlights)}\n{source_line(evidence)}"


def answer_blocks(answer: Answer, follows: str | None = None) -> list[str]:
    """The answer as self-contained HTML paragraphs (each one's tags are balanced); ``follows``
    is the previous question a follow-up was read against, shown under the question searched."""
    blocks = [f"🔎 <b>{escape(answer.question.strip())}</b>"]
    if follows:
        blocks[0] += f"\n<i>following “{escape(follows.strip())}”</i>"
    if answer.filters.active:
        blocks[0] += f"\n<i>only {escape(answer.filters.describe())}</i>"
    evidence = [evidence_block(i, e) for i, e in enumerate(answer.evidence, 1)]
    if answer.answered and answer.evidence:
        blocks += evidence
        if answer.timeline:
            lines = [
                f"• {escape(t.date or 'undated')} · {escape(t.figure)} ({escape(t.source or 'unknown source')})"
                for t in answer.timeline
            ]
            blocks.append("<b>Figures over time</b>, newest first:\n" + "\n".join(lines))
        if answer.note:
            blocks.append(f"<i>{escape(answer.note)}</i>")
        return blocks
    if answer.note:
        blocks.append(f"🤷 {escape(answer.note)}")
    elif answer.evidence:
        blocks.append("🤷 No good answer in the archive. The closest sentences, which may not answer it:")
    else:
        blocks.append("🤷 No good answer in the archive.")
    if not re.search(r"[A-Za-z]", answer.question):
        blocks.append("The archive is in English; asking in English works best.")
    if not answer.evidence:
        blocks.append("Try other words, or ask about people, places or events in the news.")
    return blocks + evidence


def format_answer(answer: Answer, limit: int = MESSAGE_LIMIT, follows: str | None = None) -> list[str]:
    """The answer as one or more Telegram HTML messages, each at most ``limit`` long."""
    return pack(answer_blocks(answer, follows), limit)


def more_evidence(question: str, evidence: Sequence[Evidence], first: int, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Further evidence for a question already answered, numbered on from ``first``."""
    header = f"🔎 <b>{escape(question.strip())}</b>\n<i>more evidence</i>"
    return pack([header, *(evidence_block(n, e) for n, e in enumerate(evidence, first))], limit)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def answer_cards(answer: Answer, limit: int = 50) -> list[tuple[str, str, str]]:
    """Inline-mode cards as (title, description, HTML message): the whole answer, then each sentence."""
    first = format_answer(answer)[0]
    question = answer.question.strip()
    if not (answer.answered and answer.evidence):
        return [("No good answer in the archive", _clip(answer.note or question, 200), first)]
    cards = [(_clip(f"Answer: {question}", 100), _clip(answer.evidence[0].text, 200), first)]
    header = f"🔎 <b>{escape(question)}</b>"
    for number, evidence in enumerate(answer.evidence[: limit - 1], 1):
        title = f"{evidence.date or 'undated'} · {evidence.source or evidence.title or 'unknown source'}"
        text = split_html(f"{header}\n\n{evidence_block(number, evidence)}")[0]
        cards.append((_clip(title, 100), _clip(evidence.text, 200), text))
    return cards


def welcome(stats: Mapping[str, Any], examples: Sequence[str], username: str | None) -> str:
    """What /start and /help say: what the archive holds and how to ask."""
    articles = int(stats.get("articles") or 0)
    if articles:
        span = ""
        if stats.get("date_min") and stats.get("date_max"):
            span = f", {escape(str(stats['date_min']))} to {escape(str(stats['date_max']))}"
        holds = f"<b>{articles:,} article{'s' if articles != 1 else ''}</b>{span}"
    else:
        holds = "<b>no articles yet</b> (ask the bot's owner to index some)"
    mention = f"@{escape(username)}" if username else "the bot"
    lines = [
        f"👋 I answer questions from the newsdesk archive: {holds}.",
        "Each answer quotes the sentences that say it, with their date and source.",
        "",
        "Try for example:",
        *[f"• {escape(example)}" for example in examples],
        "",
        "In a private chat just send the question. In a group use /ask <i>question</i> "
        f"or mention {mention}. In any chat type {mention} <i>question</i> for answer cards.",
        "",
        "Narrow an answer to a period or a source: <i>/ask since:2022-02-15 source:reuters how many US troops to Poland?</i> "
        "(<code>since:</code>, <code>until:</code> take YYYY-MM-DD; <code>source:</code> any part of a source's name, "
        "repeated for several, in quotes when it has spaces). Time words work too: <i>latest</i>, <i>now</i>, "
        "<i>in February 2022</i>, <i>last month</i>, <i>before July 20</i>.",
        "",
        "Follow up in a few words and I keep the subject for a few minutes: after "
        "<i>how many US troops to Poland?</i> ask <i>and when?</i> or <i>what about Germany?</i>; "
        "the answer shows what I searched for. /clear forgets the previous question.",
        "",
        "Buttons under an answer: <b>➕ more</b> shows the next evidence, <b>⏩ newer</b> and "
        "<b>⏪ older</b> ask again for evidence after or before the dates shown.",
    ]
    return "\n".join(lines)


def pack(blocks: Sequence[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join paragraphs into as few messages as fit; split a paragraph only when it alone is too long."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        for piece in split_html(block, limit):
            candidate = f"{current}\n\n{piece}" if current else piece
            if tg_len(candidate) <= limit:
                current = candidate
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages


def _closers(stack: Sequence[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


class _Chunker:
    """Collects HTML into chunks no longer than the limit, closing and reopening tags at cuts."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[str] = []
        self.stack: list[tuple[str, str]] = []  # (name, opening tag) of the tags enclosing the cursor
        self.parts: list[str] = []
        self.size = 0
        self.has_text = False  # the chunk holds something besides tags and spaces

    def fits(self, piece: str, stack: Sequence[tuple[str, str]] | None = None) -> bool:
        stack = self.stack if stack is None else stack
        return self.size + tg_len(piece) + sum(len(name) + 3 for name, _ in stack) <= self.limit

    def add(self, piece: str, visible: bool) -> None:
        self.parts.append(piece)
        self.size += tg_len(piece)
        self.has_text = self.has_text or visible

    def cut(self) -> None:
        self.chunks.append("".join(self.parts) + _closers(self.stack))
        reopen = "".join(tag for _, tag in self.stack)
        self.parts, self.size, self.has_text = [reopen], tg_len(reopen), False

    def tag(self, tag: str) -> None:
        closing = tag.startswith("</")
        name = re.match(r"</?\s*([A-Za-z0-9-]+)", tag)
        after = self.stack[:-1] if closing else [*self.stack, (name.group(1).lower() if name else "", tag)]
        if not self.fits(tag, after) and self.has_text:
            self.cut()
        self.add(tag, False)
        self.stack = after

    def text(self, word: str) -> None:
        visible = not word.isspace()
        if not self.fits(word) and self.has_text:
            self.cut()
            if not visible:  # the cut stands in for the whitespace
                return
        if self.fits(word):
            self.add(word, visible)
            return
        for atom in _ATOM.findall(word):  # a word longer than a whole message
            if not self.fits(atom):
                if not self.has_text:
                    raise ValueError(f"cannot fit HTML into {self.limit} characters")
                self.cut()
            self.add(atom, not atom.isspace())


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split balanced HTML into chunks of at most ``limit``, each with balanced tags.

    Cuts fall between words when possible, never inside a tag or an entity such as ``&amp;``;
    tags open at a cut are closed before it and reopened after it.
    """
    if tg_len(text) <= limit:
        return [text]
    chunker = _Chunker(limit)
    for token in _TAG.split(text):
        if token.startswith("<"):
            chunker.tag(token)
        elif token:
            for word in _WORD.findall(token):
                chunker.text(word)
    if chunker.has_text:
        chunker.cut()
    return chunker.chunks
