"""The reliability report: docs/reliability.md names the test behind every property, and the
reliability tests record their figures (inputs tried, kills survived, users served, stall) in
.reliability/last-run.json.

The helpers here are shared by the other tests/test_reliability_*.py modules: the figures
recorder and a bot driven on its own event loop (the Telegram HTML checker is telegram_html.py).
"""

from __future__ import annotations

import ast
import fcntl
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from retrieval.config import PROJECT_ROOT

FIGURES = PROJECT_ROOT / ".reliability" / "last-run.json"
REPORT = PROJECT_ROOT / "docs" / "reliability.md"
TESTS = Path(__file__).resolve().parent


def record_figures(section: str, **figures: Any) -> None:
    """Merge one test's measurements into .reliability/last-run.json (and print them)."""
    FIGURES.parent.mkdir(exist_ok=True)
    entry = {**figures, "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    with open(FIGURES.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(FIGURES.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        data[section] = entry
        tmp = FIGURES.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, FIGURES)
    print(f"\n[reliability] {section}: {json.dumps(figures, ensure_ascii=False)}")


def reliability_tests() -> dict[str, list[str]]:
    """Every test function in tests/test_reliability_*.py, by module name."""
    found = {}
    for path in sorted(TESTS.glob("test_reliability_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found[path.stem] = [
            node.name
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")
        ]
    return found


def test_the_reliability_report_names_every_reliability_test_and_nothing_stale():
    report = REPORT.read_text(encoding="utf-8")
    tests = reliability_tests()
    missing = [f"{module}::{name}" for module, names in tests.items() for name in names if f"`{name}`" not in report]
    assert missing == [], "docs/reliability.md should name these tests"
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", report))
    known = {name for names in tests.values() for name in names} | set(tests)
    assert sorted(named - known) == [], "docs/reliability.md names tests that no longer exist"


def test_every_property_of_the_issue_has_a_section_in_the_report():
    report = REPORT.read_text(encoding="utf-8")
    headings = [line[3:].strip().lower() for line in report.splitlines() if line.startswith("## ")]
    for property_ in ("fuzz", "crash", "corrupt", "load", "security", "ingest"):
        assert any(property_ in heading for heading in headings), f"no section about {property_}"


# --- driving the real bot ---------------------------------------------------------------------


def unthrottled_bot(settings, request):
    """make_bot's client, minus Telegram's flood pacing (which only slows a fuzz run down)."""
    import functools
    from unittest import mock

    from telegram.ext import AIORateLimiter

    from bot import telegram_bot

    free = functools.partial(AIORateLimiter, overall_max_rate=0, group_max_rate=0, max_retries=3)
    with mock.patch.object(telegram_bot, "AIORateLimiter", free):
        return telegram_bot.make_bot(settings, request)


class LoopBot:
    """The real Application on its own event loop, fed one update at a time from plain code.

    Hypothesis drives plain functions, so the bot gets a loop of its own rather than pytest's.
    Replies go to the recording transport of tests/test_telegram_bot.py.
    """

    def __init__(self, answerer, throttled: bool = False, **settings: Any) -> None:
        import asyncio

        from test_telegram_bot import TOKEN, RecordingRequest

        from bot.telegram_bot import build_application, make_bot
        from bot.telegram_settings import Secret, TelegramSettings

        self.loop = asyncio.new_event_loop()
        self.request = RecordingRequest()
        self.settings = TelegramSettings(token=Secret(TOKEN), **settings)
        bot = make_bot(self.settings, self.request) if throttled else unthrottled_bot(self.settings, self.request)
        self.app = build_application(self.settings, answerer, bot=bot)
        self.loop.run_until_complete(self.app.initialize())

    def send(self, update: dict) -> list:
        """Process one update as Telegram delivers it; the Bot API calls it caused."""
        from telegram import Update

        before = len(self.request.calls)
        self.loop.run_until_complete(self.app.process_update(Update.de_json(update, self.app.bot)))
        return self.request.calls[before:]

    def close(self) -> None:
        self.loop.run_until_complete(self.app.shutdown())
        self.loop.close()


def texts_sent(calls: list) -> list[str]:
    """Every HTML text the bot sent: messages, and the messages behind inline answer cards."""
    texts = []
    for call in calls:
        if call.method == "sendMessage":
            texts.append(call.params["text"])
        elif call.method == "answerInlineQuery":
            results = call.params["results"]
            results = json.loads(results) if isinstance(results, str) else results
            texts += [r["input_message_content"]["message_text"] for r in results]
    return texts


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def telegram_message(text: str, *, user: int, chat: int | None = None) -> dict:
    """A message update as Telegram sends it: entity offsets and lengths in UTF-16 code units."""
    from test_telegram_bot import message_update

    update = message_update(None, user=user, chat=chat)
    message = update["message"]
    message["text"] = text
    entities, command_end = [], 0
    if text.startswith("/"):
        command = text.split()[0] if text.split() else "/"
        command_end = len(command)
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
    entities += [
        {"type": "mention", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for m in re.finditer(r"@\w+", text)
        if m.start() >= command_end
    ]
    if entities:
        message["entities"] = entities
    return update
