"""Security: the allow-list holds for messages, commands, inline queries and button callbacks;
the per-user rate limit holds under bursts and across chats; the bot token never appears in
logs, errors or reprs; article text and questions with ``<script>``, unclosed tags or ``&``
are escaped in replies; and nothing a person types makes newsdesk read a file or run a
command.

The bot is the real Application with the recording transport of tests/test_telegram_bot.py.
"""

from __future__ import annotations

import asyncio
import collections
import http.server
import itertools
import json
import logging
import re
import sys
import threading
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Update
from telegram_html import telegram_html_problems, visible_text
from test_reliability_fuzz import hostile_answerer  # noqa: F401 (a fixture used below)
from test_reliability_report import LoopBot, record_figures, texts_sent
from test_telegram_bot import TOKEN, inline_update, make_bot_with, message_update

from bot.cli import main
from bot.telegram_access import RateLimiter
from bot.telegram_bot import bot_command
from bot.telegram_settings import Secret, redact_logs
from retrieval.config import PROJECT_ROOT
from retrieval.types import Answer, Evidence

SECRET_SENTENCE = "The vault code is CLASSIFIED-7731."
ARCHIVE_SIZE = 424_242
_ids = itertools.count(10_000)
tally = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def report_checks():
    yield
    record_figures("security", **tally)


class SpyAnswerer:
    """Answers from a 'secret' archive and records who got to ask it anything."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.stats_calls = 0

    def ask(self, question: str, k: int = 5, filters=None) -> Answer:
        self.asked.append(question)
        evidence = Evidence(
            text=SECRET_SENTENCE, article_id="vault", title="", date="2024-01-01", source="Vault", url="", score=1.0
        )
        return Answer(question=question, evidence=[evidence])

    def stats(self) -> dict[str, Any]:
        self.stats_calls += 1
        return {"articles": ARCHIVE_SIZE, "sentences": 9, "date_min": "2024-01-01", "date_max": "2024-01-02"}


def leaks_archive(text: str) -> bool:
    return "CLASSIFIED-7731" in text or "424,242" in text or "424242" in text


# --- the allow-list ---------------------------------------------------------------------------

MEMBER, GROUP_MEMBER, STRANGER = 1, 2, 3
ALLOWED_GROUP, OTHER_GROUP = -100, -200
QUESTION = "what is the vault code?"


def callback_update(user: int, chat: int) -> dict:
    sender = {"id": user, "is_bot": False, "first_name": "Ann"}
    chat_data = {"id": chat, "type": "private"} if chat > 0 else {"id": chat, "type": "group", "title": "Desk"}
    message = {"message_id": next(_ids), "date": 1_700_000_000, "chat": chat_data, "text": "an old answer"}
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": str(next(_ids)),
            "from": sender,
            "chat_instance": "c1",
            "data": f"ask:{QUESTION}",
            "message": message,
        },
    }


# kind -> (builds the update for user and chat, the chat it is sent in, asks a question, asks for stats)
KINDS = {
    "private message": (lambda u, c: message_update(QUESTION, user=u), "private", True, False),
    "private /ask": (lambda u, c: message_update(f"/ask {QUESTION}", user=u), "private", True, False),
    "private /start": (lambda u, c: message_update("/start", user=u), "private", False, True),
    "private /help": (lambda u, c: message_update("/help", user=u), "private", False, True),
    "private unknown command": (lambda u, c: message_update("/vault", user=u), "private", False, False),
    "private sticker": (
        lambda u, c: message_update(
            user=u,
            sticker={
                "file_id": "s",
                "file_unique_id": "s",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            },
        ),
        "private",
        False,
        False,
    ),
    "private edited message": (lambda u, c: message_update(QUESTION, user=u, edited=True), "private", False, False),
    "group /ask": (lambda u, c: message_update(f"/ask {QUESTION}", user=u, chat=c), "group", True, False),
    "group /ask@bot": (
        lambda u, c: message_update(f"/ask@NewsdeskTestBot {QUESTION}", user=u, chat=c),
        "group",
        True,
        False,
    ),
    "group mention": (
        lambda u, c: message_update(f"@NewsdeskTestBot {QUESTION}", user=u, chat=c),
        "group",
        True,
        False,
    ),
    "group /help": (lambda u, c: message_update("/help", user=u, chat=c), "group", False, True),
    "group chatter": (lambda u, c: message_update(QUESTION, user=u, chat=c), "group", False, False),
    "group edited mention": (
        lambda u, c: message_update(f"@NewsdeskTestBot {QUESTION}", user=u, chat=c, edited=True),
        "group",
        False,
        False,
    ),
    "inline query": (lambda u, c: inline_update(QUESTION, user=u), "inline", True, False),
    "button callback": (lambda u, c: callback_update(u, c), "private", False, False),
    "button callback in a group": (lambda u, c: callback_update(u, c), "group", False, False),
}


def admitted(user: int, chat: int | None) -> bool:
    """The documented rule: listed users anywhere, anyone inside a listed chat; inline has no chat."""
    return user == MEMBER or chat == ALLOWED_GROUP


def cases():
    for kind, (_, where, _, _) in KINDS.items():
        chats = {"private": [None], "inline": [None], "group": [ALLOWED_GROUP, OTHER_GROUP]}[where]
        for user in (MEMBER, GROUP_MEMBER, STRANGER):
            for chat in chats:
                yield kind, user, (user if where == "private" else chat)


def test_the_allow_list_holds_for_messages_commands_inline_queries_and_callbacks():
    spy = SpyAnswerer()
    bot = LoopBot(
        spy,
        allowed_users=frozenset({MEMBER}),
        allowed_chats=frozenset({ALLOWED_GROUP}),
        questions_per_window=0,
        inline_queries_per_window=0,
    )
    problems = []
    try:
        for kind, user, chat in cases():
            build, where, asks, wants_stats = KINDS[kind]
            asked, stats_calls = len(spy.asked), spy.stats_calls
            calls = bot.send(build(user, chat))
            sent = texts_sent(calls) + [
                c.params.get("button", {}).get("text", "")
                for c in calls
                if c.method == "answerInlineQuery" and c.params.get("button")
            ]
            allowed = admitted(user, None if where == "inline" else chat)
            case = f"{kind} from user {user} in chat {chat}"
            tally["allow-list cases"] += 1
            if not allowed and (
                len(spy.asked) > asked or spy.stats_calls > stats_calls or any(map(leaks_archive, sent))
            ):
                problems.append(f"{case}: a stranger reached the archive")
            if allowed and asks and len(spy.asked) != asked + 1:
                problems.append(f"{case}: a member's question was not answered")
            if allowed and wants_stats and spy.stats_calls != stats_calls + 1:
                problems.append(f"{case}: a member's /help was not answered")
            if not asks and len(spy.asked) > asked:
                problems.append(f"{case}: searched the archive for something that is not a question")
            acted = [c.method for c in calls if c.method != "answerCallbackQuery"]
            if "callback" in kind and acted:
                problems.append(f"{case}: acted on a button press it never made: {acted}")
            for call in calls:
                if call.method == "sendMessage" and call.params["chat_id"] != chat:
                    problems.append(f"{case}: replied into chat {call.params['chat_id']}")
    finally:
        bot.close()
    assert not problems, "\n".join(problems)


# --- the rate limit ---------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 5),
    st.floats(1, 120),
    st.lists(st.tuples(st.integers(0, 3), st.floats(0, 40)), max_size=120),
    st.sampled_from([0, 1100]),
)
def test_no_one_gets_more_than_the_limit_in_any_window_and_a_refusal_says_exactly_when_to_retry(
    limit, window, events, crowd
):
    tally["rate-limit sequences"] += 1
    clock = Clock()
    limiter = RateLimiter(limit, window, clock=clock)
    for stranger in range(crowd):  # many other people, so that it starts forgetting idle ones
        limiter.acquire(10_000 + stranger)
    admitted_at: dict[int, list[float]] = collections.defaultdict(list)
    for user, gap in events:
        clock.now += gap
        recent = [t for t in admitted_at[user] if clock.now - t < window]
        wait = limiter.acquire(user)
        if len(recent) < limit:
            assert wait == 0.0, "refused although under the limit"
            admitted_at[user].append(clock.now)
        else:
            exact = max(recent[-limit] + window - clock.now, 0.001)
            assert wait > 0 and abs(wait - exact) < 1e-6, "the wait is not exact"
    for user, times in admitted_at.items():
        for i in range(len(times) - limit):
            assert times[i + limit] - times[i] >= window, f"user {user} got {limit + 1} questions within one window"


class SlowSpy(SpyAnswerer):
    def ask(self, question: str, k: int = 5, filters=None) -> Answer:
        threading.Event().wait(0.02)  # answering takes a while, so the burst overlaps
        return super().ask(question, k)


async def test_a_burst_from_one_person_across_chats_gets_exactly_the_limit_answered():
    spy = SlowSpy()
    harness = await make_bot_with(spy, questions_per_window=4, rate_window_seconds=3600, inline_queries_per_window=3)
    updates = [
        message_update(QUESTION, user=5),
        message_update(f"/ask {QUESTION}", user=5, chat=ALLOWED_GROUP),
        message_update(f"@NewsdeskTestBot {QUESTION}", user=5, chat=OTHER_GROUP),
    ] * 6
    updates += [message_update(QUESTION, user=6)] + [inline_update(QUESTION, user=5) for _ in range(8)]
    try:
        await harness.app.start()
        for update in updates:
            await harness.app.update_queue.put(Update.de_json(update, harness.app.bot))
        expected_calls = 18 + 1 + 8
        for _ in range(3000):
            done = [c for c in harness.request.calls if c.method in ("sendMessage", "answerInlineQuery")]
            if len(done) >= expected_calls:
                break
            await asyncio.sleep(0.01)
    finally:
        await harness.app.stop()
        await harness.app.shutdown()
    replies = [c for c in harness.request.calls if c.method == "sendMessage"]
    answered = [c for c in replies if "CLASSIFIED-7731" in c.params["text"]]
    slowed = [c for c in replies if "faster than I can keep up" in c.params["text"]]
    assert len(replies) == 19, "every message gets exactly one reply"
    assert len(answered) == 4 + 1 and len(slowed) == 14, "four for user 5 wherever they ask, one for user 6"
    assert spy.asked.count(QUESTION) == 4 + 1 + 3
    cards = [c.params for c in harness.request.calls if c.method == "answerInlineQuery"]
    assert (
        sum(bool(p["results"]) for p in cards) == 3
        and sum("Slow down" in p["button"]["text"] for p in cards if p.get("button")) == 5
    )
    tally["burst questions"] += len(updates)


# --- the token --------------------------------------------------------------------------------

SECRET_HALF = TOKEN.split(":", 1)[1]  # the bot id before the colon is public; this part is the secret


def shows_token(text: str) -> bool:
    """The secret in any form: whole, URL-quoted, on its own, or lower-cased (as PTB words some errors)."""
    return SECRET_HALF.lower() in text.lower()


class LeakyAnswerer(SpyAnswerer):
    """An answering core whose failures quote the token, as a careless bug might."""

    def ask(self, question: str, k: int = 5, filters=None) -> Answer:
        if "crash" in question:
            raise RuntimeError(
                f"request to https://api.telegram.org/bot{TOKEN}/sendMessage failed "
                f"(token {urllib.parse.quote(TOKEN, safe='')}, secret {SECRET_HALF})"
            )
        return super().ask(question, k)


def test_the_token_never_shows_in_logs_replies_or_reprs_even_when_things_fail(caplog):
    restore = redact_logs(Secret(TOKEN))
    bot = None
    try:
        with caplog.at_level(logging.DEBUG):
            bot = LoopBot(LeakyAnswerer())
            bot.request.failures["sendChatAction"] = (400, f"Bad Request: no such chat at /bot{TOKEN}/sendChatAction")
            sent = []
            for update in (
                message_update("please crash", user=1),
                message_update(QUESTION, user=1),
                inline_update("crash now", user=1),
                message_update("/start", user=1),
            ):
                sent += texts_sent(bot.send(update))
            logging.getLogger("newsdesk.telegram").warning("base url is %s", bot.app.bot.base_url)
            shown = [
                repr(bot.app),
                str(bot.app),
                repr(bot.app.bot),
                repr(bot.app.updater),
                repr(bot.settings),
                str(bot.settings),
                f"{bot.settings}",
                repr(bot.app.bot_data),
                repr(bot.settings.token),
            ]
    finally:
        if bot:
            bot.close()
        restore()
    assert "failed to handle update" in caplog.text and "Traceback" in caplog.text, "the failure itself is logged"
    logged = caplog.text + "".join(
        logging.Formatter().formatException(r.exc_info) for r in caplog.records if r.exc_info and r.exc_text is None
    )
    assert not shows_token(logged), "the token shows in the logs"
    assert not any(map(shows_token, sent)), "the token was sent to a person"
    assert not any(map(shows_token, shown)), "the token shows in a repr"
    assert "CLASSIFIED-7731" in "".join(sent)
    tally["token checks"] += len(shown) + len(caplog.records) + len(sent)


class FakeBotAPI(http.server.ThreadingHTTPServer):
    """A Bot API server on 127.0.0.1 that fails getMe in a chosen way, quoting the request path."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.paths: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                server.paths.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.dumps(
                    {"ok": False, "error_code": server.status, "description": f"cannot serve {self.path} right now"}
                ).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join()


def keep_logging_state():
    """The bot command sets up logging for its process; put things back for the tests after it."""
    names = ("", "httpx", "telegram.ext")
    saved = {
        name: (
            logging.getLogger(name).level,
            list(logging.getLogger(name).filters),
            list(logging.getLogger(name).handlers),
        )
        for name in names
    }

    def restore() -> None:
        for name, (level, filters, handlers) in saved.items():
            logger = logging.getLogger(name)
            logger.setLevel(level)
            logger.filters[:] = filters
            logger.handlers[:] = handlers

    return restore


@pytest.mark.parametrize("status", [400, 401, 404, 409, 500, 502], ids=lambda s: f"HTTP {s}")
def test_the_bot_command_failing_to_start_never_shows_the_token(tmp_path, monkeypatch, caplog, status):
    server = FakeBotAPI(status)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("NEWSDESK_TELEGRAM_BASE_URL", server.url)
    monkeypatch.setenv("NEWSDESK_MODEL", "hashing")
    built = CliRunner().invoke(main, ["index", str(PROJECT_ROOT / "seeds"), "--index", str(tmp_path / "index")])
    assert built.exit_code == 0, built.output  # the bot answers only from a committed index
    loop = asyncio.new_event_loop()  # run_polling runs on the current loop and closes it, as in a real process
    asyncio.set_event_loop(loop)
    logging_state = keep_logging_state()
    try:
        with caplog.at_level(logging.DEBUG):
            result = CliRunner().invoke(bot_command, ["--index", str(tmp_path / "index")])
    finally:
        logging_state()
        server.close()
        loop.close()
        asyncio.set_event_loop(None)
    assert any(TOKEN in path for path in server.paths), "the token is used where it belongs: in the request"
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    [error] = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert "TELEGRAM_BOT_TOKEN" in error or server.url in error
    assert not shows_token(result.output) and not shows_token(caplog.text)
    tally["token checks"] += 1


# --- escaping ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_bot(hostile_answerer):
    bot = LoopBot(
        hostile_answerer,
        questions_per_window=0,
        inline_queries_per_window=0,
        examples=("<b>bold</b> & <i>unclosed", "what did AT&T buy?"),
    )
    yield bot
    bot.close()


MARKUP_QUESTIONS = [
    "what did <script>alert('owned')</script> show on the harbour site?",
    "<b>unclosed harbour & bridge",
    "what does &lt;b&gt; &amp; mean in the harbour notice?",
    "who bought the ferry line: AT&T?",
    '<a href="javascript:alert(1)">harbour tickets</a>',
    "harbour authority report online",
]


@pytest.mark.parametrize("question", MARKUP_QUESTIONS)
def test_markup_in_questions_and_articles_reaches_the_reader_as_text_never_as_html(
    hostile_bot, hostile_answerer, question
):
    calls = hostile_bot.send(message_update(question, user=7))
    calls += hostile_bot.send(inline_update(question[:256], user=7))
    sent = texts_sent(calls)
    assert sent
    answer = hostile_answerer.ask(question)
    for message in sent:
        assert telegram_html_problems(message) == [], message
        assert "<script" not in message
    shown = "".join(visible_text(m) for m in sent if "🔎" in m)
    assert answer.question in shown, "the question is shown exactly as typed"
    for evidence in answer.evidence:
        assert " ".join(evidence.text.split()) in " ".join(shown.split()), "article text is shown exactly as written"
    for url in re.findall(r'<a href="([^"]*)"', "".join(sent)):
        target = visible_text(url)
        assert target in {e.url for e in answer.evidence} and target.startswith(("http://", "https://"))
    tally["markup replies checked"] += len(sent)


def test_markup_in_commands_and_configured_examples_is_escaped(hostile_bot):
    sent = texts_sent(hostile_bot.send(message_update("/<b>vault</b>&amp;", user=8)))
    sent += texts_sent(hostile_bot.send(message_update("/help", user=8)))
    sent += texts_sent(hostile_bot.send(message_update("/ask", user=8)))
    for message in sent:
        assert telegram_html_problems(message) == [], message
    seen = "\n".join(visible_text(m) for m in sent)
    assert "/<b>vault</b>&amp;" in seen and "<b>bold</b> & <i>unclosed" in seen


# --- no files, no commands --------------------------------------------------------------------

SPAWN_EVENTS = (
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "pty.spawn",
    "os.startfile",
)


class Audit:
    """Records, through Python's audit hooks, what files are opened and what processes start."""

    hooked = False
    current: Audit | None = None

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.spawned: list[str] = []
        self.compiled: list[str] = []

    @classmethod
    def hook(cls, event: str, args: tuple) -> None:
        audit = cls.current
        if audit is None:
            return
        if event == "open" and isinstance(args[0], (str, bytes, Path)):
            audit.opened.append(str(args[0]))
        elif event.startswith(SPAWN_EVENTS):
            audit.spawned.append(f"{event}{args!r:.200}")
        elif event == "compile" and isinstance(args[0], (str, bytes)):
            audit.compiled.append(args[0] if isinstance(args[0], str) else args[0].decode("utf-8", "replace"))

    def __enter__(self) -> Audit:
        if not Audit.hooked:
            sys.addaudithook(Audit.hook)  # cannot be removed; inert while no Audit is current
            Audit.hooked = True
        Audit.current = self
        return self

    def __exit__(self, *exc) -> None:
        Audit.current = None


def hostile_inputs(canary: Path, index_dir: Path) -> list[str]:
    relative = Path("../" * 12).joinpath(*canary.parts[1:])
    return [
        str(canary),
        f"file://{canary}",
        str(relative),
        f"{index_dir}/../../{canary.name}",
        "~/.ssh/id_rsa",
        "/etc/passwd",
        "../../../../etc/shadow",
        "C:\\Windows\\win.ini",
        f"$(cat {canary})",
        f"`cat {canary}`",
        f"; cat {canary}",
        f"| cat {canary}",
        "&& id",
        "${HOME}",
        "%(HOME)s",
        "{0.__class__.__mro__}",
        "{{7*7}}",
        "%s%s%s%n",
        "__import__('os').system('id')",
        'eval("1+1")',
        f"open('{canary}').read()",
        "\x00/etc/passwd",
        "nohup rm -rf / &",
    ]


def test_nothing_a_person_types_opens_a_file_or_starts_a_process(hostile_bot, hostile_answerer, tmp_path):
    canary = tmp_path / "private" / "canary.txt"
    canary.parent.mkdir()
    canary.write_text("CANARY-SECRET-5521 root:x:0:0")
    index_dir = cli_index_of(hostile_answerer)
    inputs = hostile_inputs(canary, index_dir)
    updates = []
    for text in inputs:
        updates += [
            message_update(text, user=9),
            message_update(f"/ask {text}", user=9, chat=-9),
            message_update(f"@NewsdeskTestBot {text}", user=9, chat=-9),
            inline_update(text[:256], user=9),
        ]
        updates += [
            message_update(f"/{command} {text}", user=9)
            for command in ("index", "bot", "eval", "exec", "stats", "start")
        ]
    sent, messages = [], 0
    with Audit() as audit:
        for update in updates:
            calls = hostile_bot.send(update)
            sent += texts_sent(calls)
            messages += sum(c.method == "sendMessage" for c in calls)
        cli = CliRunner().invoke(
            main,
            ["ask", "--json", "--index", str(cli_index_of(hostile_answerer))],
            input="".join(f"{' '.join(t.split())}\n" for t in inputs),
            env={"NEWSDESK_MODEL": "hashing"},
        )
    assert cli.exit_code == 0, cli.output
    assert any(str(cli_index_of(hostile_answerer)) in path for path in audit.opened), "the audit sees files opened"
    assert audit.spawned == [], "a process was started"
    typed = [t.replace("\x00", "") for t in inputs]
    suspicious = [
        p
        for p in audit.opened
        if "canary" in p
        or "passwd" in p
        or "shadow" in p
        or "id_rsa" in p
        or "win.ini" in p
        or any(p and p in t for t in typed)
    ]
    assert suspicious == [], "a file named in a message was opened"
    allowed = (
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        str(PROJECT_ROOT / "bot"),
        str(PROJECT_ROOT / "retrieval"),
        str(PROJECT_ROOT / "config"),
        str(cli_index_of(hostile_answerer)),
        "/dev/",
        "/proc/self/",
        "/sys/",
    )
    strays = sorted({p for p in audit.opened if not Path(p).resolve().as_posix().startswith(allowed)})
    assert strays == [], f"files opened outside the index and the program: {strays}"
    assert not [c for c in audit.compiled if any(t in c for t in typed if len(t) > 6)], (
        "text a person typed was compiled"
    )
    replies = "\n".join(sent) + cli.stdout
    assert "CANARY-SECRET" not in replies and "root:x:0" not in replies
    assert messages >= len(updates) - len(inputs), "every message still gets a reply"
    for command in ("index", "bot", "eval", "exec", "stats"):
        assert f"I don't know /{command}" in replies
    tally["hostile inputs"] += len(updates) + len(inputs)


def cli_index_of(answerer) -> Path:
    """The index folder the hostile answerer was opened from."""
    return Path(answerer.settings.index_dir)
