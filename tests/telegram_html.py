"""What Telegram's HTML parse mode accepts, as a checker shared by every test that reads a reply."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Tags Telegram's HTML parse mode accepts (https://core.telegram.org/bots/api#html-style).
TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "span",
    "tg-spoiler",
    "tg-emoji",
    "blockquote",
}
TELEGRAM_ENTITIES = {"lt", "gt", "amp", "quot"}
MESSAGE_LIMIT = 4096


class _TelegramHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in TELEGRAM_TAGS:
            self.problems.append(f"<{tag}> is not a tag Telegram allows")
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if not re.match(r"^(https?|tg)://", href):
                self.problems.append(f"<a> with href {href[:40]!r}")
            if "a" in self.stack:
                self.problems.append("<a> inside <a>")
        self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.problems.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self.problems.append(f"</{tag}> does not close the open tag {self.stack[-1:]}")

    def handle_data(self, data):
        if "<" in data or ">" in data:
            self.problems.append(f"unescaped bracket in {data[:60]!r}")
        self.text.append(data)

    def handle_entityref(self, name):
        if name not in TELEGRAM_ENTITIES:
            self.problems.append(f"&{name}; is not an entity Telegram knows")
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name):
        self.text.append(html.unescape(f"&#{name};"))

    def handle_comment(self, data):
        self.problems.append("an HTML comment")

    def handle_decl(self, decl):
        self.problems.append(f"a declaration <!{decl[:20]}>")

    def handle_pi(self, data):
        self.problems.append(f"a processing instruction <?{data[:20]}>")

    def unknown_decl(self, data):
        self.problems.append(f"an unknown declaration {data[:20]!r}")


def telegram_html_problems(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Why Telegram would refuse ``text`` as an HTML message; empty when it would accept it."""
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    problems = parser.problems + [f"<{tag}> never closed" for tag in parser.stack]
    if re.search(r"&(?![A-Za-z]+;|#\d+;|#[xX][0-9A-Fa-f]+;)", text):
        problems.append("a bare & that is not an entity")
    if len(text.encode("utf-16-le")) // 2 > limit:
        problems.append(f"longer than {limit} UTF-16 code units")
    if not "".join(parser.text).strip():
        problems.append("no visible text (Telegram refuses an empty message)")
    return problems


def visible_text(text: str) -> str:
    """What the person reads: the message with tags removed and entities decoded."""
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    return "".join(parser.text)
