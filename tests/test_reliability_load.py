"""Load: 50 people asking at once through the bot (private messages, /ask and mentions in
groups, inline queries). Every question is answered exactly once, in the right chat, with the
answer the answering core gives; and the event loop, which serves everyone, never stalls for
100 ms or more while the answers are computed on worker threads.

The bot is the real Application fed through its update queue, as long polling feeds it, with
the recording transport of tests/test_telegram_bot.py and python-telegram-bot's flood limiter
(Telegram's 30 messages a second), so answer times are what people would see. The stall is
the longest lateness of a coroutine that wakes every 5 ms.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from pathlib import Path

import pytest
from telegram import Update
from test_reliability_crash import news_archive
from test_reliability_fuzz import hashing
from test_reliability_report import record_figures
from test_telegram_bot import TOKEN, RecordingRequest, inline_update, message_update

from bot import telegram_format as fmt
from bot.telegram_bot import build_application, make_bot
from bot.telegram_settings import Secret, TelegramSettings
from retrieval.answer import open_answerer
from retrieval.indexer import Indexer

pytestmark = pytest.mark.slow

USERS = 50
STALL_LIMIT = 0.100
TICK = 0.005


class TimedRequest(RecordingRequest):
    """The recording transport, noting when each call reached 'Telegram'."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    async def do_request(self, url, method, request_data=None, *args, **kwargs):
        self.times.append(time.perf_counter())
        return await super().do_request(url, method, request_data, *args, **kwargs)


class CountingAnswerer:
    """The real answering core, noting each question, the thread it ran on and how long it took."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.asked: list[str] = []
        self.threads: set[str] = set()
        self.seconds: list[float] = []
        self._lock = threading.Lock()

    def ask(self, question: str, k: int = 5, filters=None):
        started = time.perf_counter()
        answer = self.inner.ask(question, k=k)
        with self._lock:
            self.asked.append(question)
            self.threads.add(threading.current_thread().name)
            self.seconds.append(time.perf_counter() - started)
        return answer

    def stats(self):
        return self.inner.stats()


async def ticker(stop: asyncio.Event, lateness: list[float]) -> None:
    """Wake every 5 ms; record how late each wake-up was (the time the loop was busy elsewhere)."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + TICK
        await asyncio.sleep(TICK)
        lateness.append(loop.time() - due)


def people(questions: list[str]) -> list[dict]:
    """Who asks what, and how: private messages, /ask and mentions in their groups, inline queries."""
    out = []
    for number, question in enumerate(questions):
        user = 1000 + number
        route = (
            "private",
            "private",
            "private",
            "private",
            "private",
            "private",
            "private",
            "ask",
            "mention",
            "inline",
        )[number % 10]
        chat = user if route == "private" else -user
        if route == "inline":
            update = inline_update(question, user=user)
        elif route == "private":
            update = message_update(question, user=user)
        else:
            text = f"/ask {question}" if route == "ask" else f"@NewsdeskTestBot {question}"
            update = message_update(text, user=user, chat=chat)
        out.append({"user": user, "chat": chat, "route": route, "question": question, "update": update})
    return out


async def serve_everyone_at_once(answerer, questions: list[str]):
    """Feed all questions at once; return the people, the transport and the loop's lateness."""
    settings = TelegramSettings(token=Secret(TOKEN))  # the shipped defaults: 4 worker threads
    request = TimedRequest()
    counting = CountingAnswerer(answerer)
    app = build_application(settings, counting, bot=make_bot(settings, request))
    crowd = people(questions)
    idle, busy = [], []
    stop = asyncio.Event()
    async with app:
        await app.start()
        try:
            baseline = asyncio.create_task(ticker(stop, idle))  # the loop with nothing to do, for comparison
            await asyncio.sleep(0.5)
            stop.set()
            await baseline
            stop.clear()
            watch = asyncio.create_task(ticker(stop, busy))
            started = time.perf_counter()
            for person in crowd:
                await app.update_queue.put(Update.de_json(person["update"], app.bot))
            for _ in range(60_000):
                if len(replied(request, crowd)) == len(crowd) and not app.update_queue.qsize():
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # anything sent twice would arrive now
            stop.set()
            await watch
        finally:
            await app.stop()
    return crowd, request, counting, started, idle, busy


def replied(request: TimedRequest, crowd: list[dict]) -> dict[int, float]:
    """When each person's answer arrived (the last message of it), by user id."""
    done: dict[int, float] = {}
    by_chat = {p["chat"]: p for p in crowd if p["route"] != "inline"}
    by_query = {p["update"]["inline_query"]["id"]: p for p in crowd if p["route"] == "inline"}
    for call, when in zip(request.calls, request.times):
        if call.method == "sendMessage" and call.params["chat_id"] in by_chat:
            done[by_chat[call.params["chat_id"]]["user"]] = when
        elif call.method == "answerInlineQuery" and call.params["inline_query_id"] in by_query:
            done[by_query[call.params["inline_query_id"]]["user"]] = when
    return done


def check_every_answer(answerer, crowd, request, counting) -> None:
    """Each person got exactly the answer the core gives to their question, once, in their chat."""
    sent_to: dict[int, list[str]] = {}
    cards: dict[str, list] = {}
    for call in request.calls:
        if call.method == "sendMessage":
            sent_to.setdefault(call.params["chat_id"], []).append(call.params["text"])
        elif call.method == "answerInlineQuery":
            cards.setdefault(call.params["inline_query_id"], []).append(call.params["results"])
    chats = {p["chat"] for p in crowd if p["route"] != "inline"}
    assert set(sent_to) == chats, "messages went to chats nobody asked from"
    assert sorted(counting.asked) == sorted(p["question"] for p in crowd), "each question is answered once"
    assert all(name.startswith("newsdesk-answer") for name in counting.threads), "answers are computed off the loop"
    for person in crowd:
        expected = answerer.ask(person["question"], k=5)
        if person["route"] == "inline":
            [results] = cards[person["update"]["inline_query"]["id"]]
            whole = results[0]["input_message_content"]["message_text"]
            assert whole == fmt.format_answer(expected)[0], f"user {person['user']} got someone else's cards"
        else:
            assert sent_to[person["chat"]] == fmt.format_answer(expected), f"user {person['user']} got a wrong answer"


def seed_questions() -> list[str]:
    gold = [json.loads(line)["question"] for line in (Path(__file__).parent / "data" / "seed_gold.jsonl").open()]
    return [f"{gold[n % len(gold)]} ({n // len(gold) + 1})" if n >= len(gold) else gold[n] for n in range(USERS)]


@pytest.fixture(scope="module")
def archive_answerer(tmp_path_factory):
    """The real answering core over 12,000 sentences, with the fast hashing encoder."""
    work = tmp_path_factory.mktemp("load")
    Indexer(hashing(work / "index"), work / "index", progress=False).index_paths(
        [news_archive(work / "archive", 0, 1200)]
    )
    return open_answerer(hashing(work / "index"))


def archive_questions() -> list[str]:
    topics = ("council budget", "harbour ferry", "storm damage", "school teachers", "river flood", "court ruling")
    return [
        f"how many cases did the {topics[n * 7 % 1200 % 6]} report {n * 7 % 1200}-{n % 10} count?" for n in range(USERS)
    ]


# The stall limit is asserted with the real model, which is what people are served by: its
# encoder runs in torch, outside the GIL. The hashing encoder (tests only) is pure Python, so four
# worker threads contend with the loop for the GIL; its stall is reported as the worst case.
@pytest.mark.parametrize(
    "model, stall_limited", [("hashing", False), pytest.param("minilm", True, marks=pytest.mark.model)]
)
async def test_fifty_people_asking_at_once_each_get_their_answer_once_in_their_chat_and_the_loop_never_stalls(
    request, model, stall_limited
):
    if model == "minilm":
        answerer, questions = request.getfixturevalue("seed_answerer"), seed_questions()
    else:
        answerer, questions = request.getfixturevalue("archive_answerer"), archive_questions()
    answerer.ask(questions[0])  # warm up, as a running bot is
    assert len(set(questions)) == USERS
    attempts = []
    for _ in range(3 if stall_limited else 1):  # a stall the bot causes shows every time; a noisy neighbour's rarely
        crowd, transport, counting, started, idle, busy = await serve_everyone_at_once(answerer, questions)
        check_every_answer(answerer, crowd, transport, counting)
        attempts.append((max(busy), max(idle), len(busy)))
        if max(busy) < STALL_LIMIT:
            break
    times = sorted(when - started for when in replied(transport, crowd).values())
    computing = sorted(counting.seconds)
    figures = {
        "users": len(crowd),
        "routes": {r: sum(p["route"] == r for p in crowd) for r in ("private", "ask", "mention", "inline")},
        "answer_seconds_p50": round(statistics.median(times), 3),
        "answer_seconds_p95": round(statistics.quantiles(times, n=20)[18], 3),
        "answer_seconds_max": round(times[-1], 3),
        "compute_ms_p50": round(statistics.median(computing) * 1000, 1),
        "compute_ms_p95": round(statistics.quantiles(computing, n=20)[18] * 1000, 1),
        "max_stall_ms": round(attempts[-1][0] * 1000, 1),
        "idle_loop_max_lateness_ms": round(attempts[-1][1] * 1000, 1),
        "ticks": attempts[-1][2],
        "stall_ms_by_attempt": [round(a[0] * 1000, 1) for a in attempts],
    }
    record_figures(f"load ({model})", **figures)
    assert len(times) == USERS
    if stall_limited:
        assert attempts[-1][0] < STALL_LIMIT, f"the event loop stalled for {attempts[-1][0] * 1000:.0f} ms: {figures}"


async def test_the_stall_meter_sees_an_answer_computed_on_the_event_loop(archive_answerer):
    """The instrument itself: the same measurement catches a blocking call made on the loop."""
    stop, lateness = asyncio.Event(), []
    watch = asyncio.create_task(ticker(stop, lateness))
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    while time.perf_counter() - started < 0.15:  # what answering on the loop would do to everyone else
        archive_answerer.ask(archive_questions()[0])
    await asyncio.sleep(0.05)
    stop.set()
    await watch
    assert max(lateness) >= STALL_LIMIT
