"""End-to-end helpers: the Bot API emulator, the real answerer, simulated people, a served bot,
and Telegram's HTML rules.

The emulator is telegram-test-api plus the compatibility layer in emulator/server.js; `make
setup` installs it with `npm ci`. Without node or the installed package these tests skip.
Fixtures live here rather than in a conftest.py so that this folder adds no second module
named ``conftest`` beside the one in tests/.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram_html import telegram_html_problems, visible_text

EMULATOR_DIR = Path(__file__).parent / "emulator"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
REPLY_WAIT_SECONDS = 120  # generous: the first answer on a slow CI machine includes warm-up
_bot_numbers = itertools.count(7_000_001)


@dataclass
class Emulator:
    url: str

    def new_token(self) -> str:
        """A fresh bot token, so each test talks to its own bot and sees only its own messages."""
        return f"{next(_bot_numbers)}:emulator-token-for-tests-only"

    async def webhook_of(self, token: str, wait: bool = True) -> str:
        """The webhook URL the bot registered; waits for one to be registered unless told not to."""
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            deadline = asyncio.get_running_loop().time() + REPLY_WAIT_SECONDS
            while True:
                url = (await client.post(f"/bot{token}/getWebhookInfo")).json()["result"]["url"]
                if url or not wait or asyncio.get_running_loop().time() > deadline:
                    return url
                await asyncio.sleep(0.1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class BotCommand:
    """`newsdesk bot` in its own process, as an operator runs it, talking to the emulator."""

    def __init__(self, emulator: Emulator, token: str, workdir: Path, **env: str) -> None:
        environment = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": token,
            "NEWSDESK_TELEGRAM_BASE_URL": emulator.url,
            # The command itself is under test here, not answer quality: the fast encoder will do.
            "NEWSDESK_MODEL": "hashing",
            "HF_HUB_OFFLINE": "1",
            **env,
        }
        newsdesk = [sys.executable, "-c", "from bot.cli import main; main()"]
        # The bot answers only from a committed index; the operator builds it first.
        subprocess.run(
            [*newsdesk, "index", str(PROJECT_ROOT / "seeds"), "--index", str(workdir / "index")],
            cwd=PROJECT_ROOT,
            env=environment,
            check=True,
            capture_output=True,
        )
        command = [*newsdesk, "bot", "--index", str(workdir / "index")]
        self.log_path = workdir / "bot.log"
        with open(self.log_path, "w") as log:  # a file, not a pipe, so a chatty run never blocks on a full pipe
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
            )

    async def stop(self, signal_number: int) -> tuple[int, str]:
        """Send the signal; once the command has exited, return its exit status and everything it printed."""
        self.process.send_signal(signal_number)
        try:
            status = await asyncio.to_thread(self.process.wait, timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        return status, self.log_path.read_text()


class TelegramUser:
    """Someone chatting with the bot through the emulator: sends messages, reads the replies."""

    def __init__(self, emulator: Emulator, token: str, user_id: int, chat_id: int | None = None) -> None:
        self.token = token
        self.user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "username": f"user{user_id}"}
        self.chat_id = user_id if chat_id is None else chat_id
        kind = {"type": "private"} if self.chat_id > 0 else {"type": "group", "title": "Newsroom"}
        self.chat = {"id": self.chat_id, **kind}
        self.client = httpx.AsyncClient(base_url=emulator.url, timeout=30)

    async def close(self) -> None:
        await self.client.aclose()

    async def _post(self, route: str, payload: dict[str, Any]) -> Any:
        response = await self.client.post(route, json=payload)
        response.raise_for_status()
        return response.json()["result"]

    async def send(self, **content: Any) -> None:
        """Send any kind of message: text=..., sticker=..., photo=[...]."""
        message = {"botToken": self.token, "from": self.user, "chat": self.chat, "date": int(time.time()), **content}
        text = content.get("text") or ""
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
            await self._post("/sendCommand", message)
        else:
            await self._post("/sendMessage", message)

    async def replies(self, quiet_seconds: float = 0.5) -> list[dict[str, Any]]:
        """Wait for the bot's reply, then collect any further parts that follow straight after."""
        received: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REPLY_WAIT_SECONDS
        quiet_until = None
        while True:
            batch = await self._post("/getUpdates", {"token": self.token, "chatId": self.chat_id})
            if batch:
                received += [item["message"] for item in batch]
                quiet_until = loop.time() + quiet_seconds
            elif quiet_until is not None and loop.time() >= quiet_until:
                return received
            elif quiet_until is None and loop.time() >= deadline:
                raise AssertionError(f"user {self.user['id']} got no reply from the bot")
            await asyncio.sleep(0.05)

    async def ask(self, text: str) -> list[dict[str, Any]]:
        await self.send(text=text)
        return await self.replies()

    async def press(self, reply: dict[str, Any], label: str) -> list[dict[str, Any]]:
        """Press the button whose label starts with ``label`` under one of the bot's replies."""
        rows = reply["reply_markup"]["inline_keyboard"]
        [data] = [b["callback_data"] for row in rows for b in row if b["text"].split()[1] == label]
        message = {"message_id": 1, "date": int(time.time()), "chat": self.chat, "text": reply["text"]}
        await self._post("/sendCallback", {"botToken": self.token, "from": self.user, "message": message, "data": data})
        return await self.replies()

    async def inline(self, query: str) -> dict[str, Any]:
        """Type `@bot query` and return what the bot offered (its answerInlineQuery call)."""
        sent = await self._post("/sendInlineQuery", {"botToken": self.token, "from": self.user, "query": query})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REPLY_WAIT_SECONDS
        while loop.time() < deadline:
            answers = await self._post(
                "/getInlineAnswers", {"token": self.token, "inlineQueryId": sent["inline_query_id"]}
            )
            if answers:
                return answers[0]
            await asyncio.sleep(0.05)
        raise AssertionError("the bot never answered the inline query")


@contextlib.asynccontextmanager
async def serving(emulator: Emulator, answerer: Any, **settings: Any) -> AsyncIterator[Any]:
    """The real Application long-polling the emulator, as `newsdesk bot` runs it; yields its settings."""
    from bot.telegram_bot import ALLOWED_UPDATES, build_application
    from bot.telegram_settings import Secret, TelegramSettings

    telegram = TelegramSettings(token=Secret(emulator.new_token()), base_url=emulator.url, **settings)
    app = build_application(telegram, answerer)
    async with app:
        await app.updater.start_polling(timeout=telegram.poll_timeout, allowed_updates=ALLOWED_UPDATES)
        await app.start()
        try:
            yield telegram
        finally:
            await app.updater.stop()
            await app.stop()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory) -> Iterator[Emulator]:
    """The Bot API emulator on a free port of 127.0.0.1, stopped when the session ends."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the Telegram end-to-end tests need it to run the Bot API emulator")
    if not (EMULATOR_DIR / "node_modules" / "telegram-test-api").is_dir():
        pytest.skip("the Bot API emulator is not installed; run `npm ci` in tests/e2e/emulator (`make setup` does)")
    log_path = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with open(log_path, "w") as log:
        # stdin stays open for the emulator's lifetime: it exits when we do, even after a crash.
        process = subprocess.Popen(
            [node, "server.js"], cwd=EMULATOR_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
        )
    try:
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=10)
            pytest.fail(f"the Bot API emulator did not start:\n{log_path.read_text()}")
        yield Emulator(json.loads(line)["url"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdin.close()
        process.stdout.close()


@pytest.fixture(scope="session")
def real_answerer(tmp_path_factory):
    """The real answering core with the real model over the seed articles, in a fresh index."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    from retrieval.answer import open_answerer
    from retrieval.config import PROJECT_ROOT, Settings
    from retrieval.indexer import Indexer

    index_dir = tmp_path_factory.mktemp("index")
    settings = Settings.load(overrides={"index": {"dir": str(index_dir)}, "model": {"name": "minilm"}})
    Indexer(settings, index_dir, progress=False).index_paths([PROJECT_ROOT / "seeds"])
    return open_answerer(settings)


@pytest.fixture
async def people(emulator) -> AsyncIterator:
    """Make simulated users: ``people(token, user_id, chat_id=None)``; closed after the test."""
    made: list[TelegramUser] = []

    def make(token: str, user_id: int, chat_id: int | None = None) -> TelegramUser:
        made.append(TelegramUser(emulator, token, user_id, chat_id))
        return made[-1]

    yield make
    for user in made:
        await user.close()


def parse_telegram_html(text: str) -> tuple[str, list[str]]:
    """The visible text of a Telegram HTML message, and the reasons Telegram would reject it."""
    return visible_text(text), telegram_html_problems(text)
