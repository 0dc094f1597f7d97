"""The bot's handlers, driven by Bot API updates through a transport that records every call.

Like python-telegram-bot's own tests, nothing leaves the process: a ``BaseRequest`` subclass
answers each Bot API method the way Telegram would and keeps what the bot sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from telegram import Update
from telegram.error import InvalidToken
from telegram.request import BaseRequest

from bot.telegram_bot import build_application, make_bot
from bot.telegram_format import MESSAGE_LIMIT, tg_len
from bot.telegram_settings import Secret, TelegramSettings
from retrieval.types import Answer, Evidence, Filters, QuestionError

TOKEN = "123456789:AAHsecretsecretsecretsecretXYZ"
BOT_USER = {
    "id": 666,
    "is_bot": True,
    "first_name": "Newsdesk",
    "username": "NewsdeskTestBot",
    "supports_inline_queries": True,
}
HEADLINE = "how many US troops to Poland?"
_ids = itertools.count(1)


@dataclass
class Call:
    method: str
    params: dict[str, Any]


class RecordingRequest(BaseRequest):
    """A Bot API transport that records every call and answers like Telegram would."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, tuple[int, str]] = {}

    @property
    def read_timeout(self) -> float:
        return 5.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, url, method, request_data=None, *args, **kwargs) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        self.calls.append(Call(name, params))
        if name in self.failures:
            code, description = self.failures[name]
            return code, json.dumps({"ok": False, "error_code": code, "description": description}).encode()
        return 200, json.dumps({"ok": True, "result": self._result(name, params)}).encode()

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name == "sendMessage":
            chat = {"id": params["chat_id"], "type": "private" if int(params["chat_id"]) > 0 else "group"}
            return {
                "message_id": next(_ids),
                "date": 1_700_000_000,
                "chat": chat,
                "text": params["text"],
                "from": BOT_USER,
            }
        return True

    def sent(self, since: int = 0) -> list[Call]:
        return [c for c in self.calls[since:] if c.method == "sendMessage"]


def evidence(text: str, date: str, source: str, url: str = "") -> Evidence:
    return Evidence(text=text, article_id=source, title="", date=date, source=source, url=url, score=1.0)


class StubAnswerer:
    """Answers every question with the Poland evidence; records what was asked and on which thread."""

    def __init__(self) -> None:
        self.questions: list[str] = []
        self.threads: list[str] = []
        self.filters: list[Filters | None] = []
        self.release = threading.Event()
        self.release.set()
        self.evidence = [
            evidence(
                "About 1,700 U.S. soldiers are going to Poland.", "2022-02-10", "Pentagon wire", "https://example.com/a"
            ),
            evidence(
                "The U.S. has started deploying 5,000 troops to Poland and Romania.", "2022-02-17", "Daily <News>"
            ),
        ]

    def ask(self, question: str, k: int = 5, filters: Filters | None = None) -> Answer:
        self.questions.append(question)
        self.filters.append(filters)
        self.threads.append(threading.current_thread().name)
        if "explode" in question:
            raise RuntimeError("the index went away")
        if "vague" in question:
            raise QuestionError("The question is too vague; name a person, place or event.")
        if "slow" in question:
            self.release.wait(timeout=30)
        return Answer(question=question, evidence=self.evidence[:k])

    def stats(self) -> dict[str, Any]:
        return {"articles": 2, "sentences": 47, "date_min": "2022-02-10", "date_max": "2022-02-17", "model": "stub"}


def message_update(
    text: str | None = None, *, user: int = 1, chat: int | None = None, edited: bool = False, **content
) -> dict:
    chat_id = user if chat is None else chat
    message: dict[str, Any] = {
        "message_id": next(_ids),
        "date": 1_700_000_000,
        "chat": {"id": chat_id, "type": "private"}
        if chat_id > 0
        else {"id": chat_id, "type": "group", "title": "Desk"},
        "from": {"id": user, "is_bot": False, "first_name": "Ann", "username": f"user{user}"},
        **content,
    }
    if text is not None:
        message["text"] = text
        entities, command_end = [], 0
        if text.startswith("/"):
            command_end = len(text.split()[0])
            entities.append({"type": "bot_command", "offset": 0, "length": command_end})
        entities += [
            {"type": "mention", "offset": m.start(), "length": len(m.group())}
            for m in re.finditer(r"@\w+", text)
            if m.start() >= command_end
        ]
        if entities:
            message["entities"] = entities
    return {"update_id": next(_ids), "edited_message" if edited else "message": message}


def inline_update(query: str, *, user: int = 1) -> dict:
    sender = {"id": user, "is_bot": False, "first_name": "Ann"}
    return {
        "update_id": next(_ids),
        "inline_query": {"id": str(next(_ids)), "from": sender, "query": query, "offset": ""},
    }


class Harness:
    """A built Application wired to the recording transport and a stub answerer."""

    def __init__(self, answerer: StubAnswerer, **settings: Any) -> None:
        self.answerer = answerer
        self.request = RecordingRequest()
        self.settings = TelegramSettings(token=Secret(TOKEN), **settings)
        self.app = build_application(self.settings, answerer, bot=make_bot(self.settings, self.request))

    async def send(self, update: dict) -> list[str]:
        """Process one update; return the texts the bot sent in reply."""
        before = len(self.request.calls)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return [call.params["text"] for call in self.request.sent(before)]

    async def say(self, text: str | None = None, **kwargs) -> list[str]:
        return await self.send(message_update(text, **kwargs))

    async def inline(self, query: str, **kwargs) -> dict[str, Any]:
        before = len(self.request.calls)
        await self.app.process_update(Update.de_json(inline_update(query, **kwargs), self.app.bot))
        [call] = [c for c in self.request.calls[before:] if c.method == "answerInlineQuery"]
        return call.params


@pytest.fixture
def answerer() -> StubAnswerer:
    return StubAnswerer()


@pytest.fixture
async def bot(answerer):
    harness = Harness(answerer)
    async with harness.app:
        yield harness


async def make_bot_with(answerer: StubAnswerer, **settings: Any):
    harness = Harness(answerer, **settings)
    await harness.app.initialize()
    return harness


async def test_a_private_text_message_is_answered_with_dated_sourced_evidence(bot):
    [reply] = await bot.say(HEADLINE)
    assert "About 1,700 U.S. soldiers are going to Poland." in reply
    assert '2022-02-10 · <a href="https://example.com/a">Pentagon wire</a>' in reply
    assert "2022-02-17 · Daily &lt;News&gt;" in reply
    assert bot.answerer.questions == [HEADLINE]


async def test_replies_are_html_without_link_previews(bot):
    await bot.say(HEADLINE)
    [call] = bot.request.sent()
    assert call.params["parse_mode"] == "HTML"
    assert call.params["link_preview_options"]["is_disabled"] is True


async def test_answering_runs_on_a_worker_thread_not_the_event_loop(bot):
    await bot.say(HEADLINE)
    assert bot.answerer.threads[0].startswith("newsdesk-answer")


@pytest.mark.parametrize("command", ["/start", "/help"])
async def test_start_and_help_tell_what_the_archive_holds_with_examples(bot, command):
    [reply] = await bot.say(command)
    assert "2 articles" in reply and "2022-02-10 to 2022-02-17" in reply
    assert HEADLINE in reply and "/ask" in reply and "@NewsdeskTestBot" in reply


@pytest.mark.parametrize("text", [f"/ask {HEADLINE}", f"/ask@NewsdeskTestBot {HEADLINE}"])
async def test_ask_in_a_group_is_answered(bot, text):
    [reply] = await bot.say(text, chat=-100123)
    assert "5,000 troops" in reply and bot.answerer.questions == [HEADLINE]


async def test_a_group_message_mentioning_the_bot_is_answered_without_the_mention(bot):
    [reply] = await bot.say(f"@NewsdeskTestBot {HEADLINE}", chat=-100123)
    assert "1,700" in reply and bot.answerer.questions == [HEADLINE]


@pytest.mark.parametrize("text", ["lunch anyone?", "@someone_else how many US troops to Poland?"])
async def test_group_chatter_not_addressed_to_the_bot_gets_no_reply(bot, text):
    assert await bot.say(text, chat=-100123) == []
    assert bot.answerer.questions == []


async def test_media_in_a_group_is_not_addressed_to_the_bot(bot):
    assert await bot.say(chat=-100123, sticker=STICKER) == []


async def test_an_edited_message_is_not_answered_again(bot):
    assert await bot.say(HEADLINE, edited=True) == []


async def test_filter_words_in_a_question_become_filters_and_leave_the_question(bot):
    [reply] = await bot.say(f'/ask since:2022-02-15 source:reuters source:"the guardian" {HEADLINE}', chat=-100123)
    assert bot.answerer.questions == [HEADLINE]
    assert bot.answerer.filters == [Filters(since="2022-02-15", sources=("reuters", "the guardian"))]
    assert "5,000 troops" in reply
    await bot.say(f"until:2022-03-01 {HEADLINE}")
    assert bot.answerer.filters[-1] == Filters(until="2022-03-01")


async def test_a_bad_filter_word_is_explained_and_nothing_is_asked(bot):
    [reply] = await bot.say(f"/ask since:15.02.2022 {HEADLINE}")
    assert "is not a date" in reply and "YYYY-MM-DD" in reply and "source:reuters" in reply
    assert bot.answerer.questions == []


class SourcedIndex:
    def sources_by_count(self) -> list[str]:
        return ["Reuters", "Pentagon wire", "Daily <News>"]


async def test_a_source_word_that_matches_no_source_is_refused_naming_the_closest(bot):
    bot.answerer.index = SourcedIndex()
    [reply] = await bot.say(f"source:reutrs {HEADLINE}")
    assert reply.startswith("No source matches 'reutrs'; did you mean Reuters? Nothing was asked")
    [reply] = await bot.say(f"/ask source:dayly {HEADLINE}")
    assert "did you mean Daily &lt;News&gt;?" in reply
    assert bot.answerer.questions == []
    await bot.say(f"source:reuters source:daily {HEADLINE}")
    assert bot.answerer.questions == [HEADLINE]


async def test_help_documents_the_filter_words(bot):
    [reply] = await bot.say("/help")
    assert "since:2022-02-15 source:reuters" in reply and "until:" in reply and "latest" in reply


async def test_ask_without_a_question_explains_how_to_ask(bot):
    [reply] = await bot.say("/ask")
    assert "Put your question after /ask" in reply and HEADLINE in reply


STICKER = {
    "file_id": "s1",
    "file_unique_id": "su1",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
    "type": "regular",
}
BAD_INPUT = {
    "whitespace": ({"text": "   \n\t "}, "Please send a question in words"),
    "a 4,000-character message": ({"text": "why " * 1000}, "4,000 characters"),
    "emoji only": ({"text": "🤔🇵🇱🪖"}, "emoji or symbols alone"),
    "symbols only": ({"text": "?!...%"}, "emoji or symbols alone"),
    "an unknown command": ({"text": "/weather"}, "I don't know /weather"),
    "a sticker": ({"sticker": STICKER}, "I can only read text"),
    "a photo": (
        {"photo": [{"file_id": "p1", "file_unique_id": "pu1", "width": 90, "height": 90}]},
        "I can only read text",
    ),
    "a captioned photo": (
        {"photo": [{"file_id": "p1", "file_unique_id": "pu1", "width": 9, "height": 9}], "caption": HEADLINE},
        "I can only read text",
    ),
    "a voice message": ({"voice": {"file_id": "v1", "file_unique_id": "vu1", "duration": 3}}, "I can only read text"),
    "a location": ({"location": {"latitude": 52.23, "longitude": 21.01}}, "I can only read text"),
    "a document": (
        {"document": {"file_id": "d1", "file_unique_id": "du1", "file_name": "q.pdf"}},
        "I can only read text",
    ),
}


@pytest.mark.parametrize("content, expected", BAD_INPUT.values(), ids=BAD_INPUT.keys())
async def test_bad_input_gets_one_helpful_reply_and_nothing_is_searched(bot, content, expected):
    content = dict(content)
    replies = await bot.say(content.pop("text", None), **content)
    assert len(replies) == 1 and expected in replies[0]
    assert bot.answerer.questions == []


async def test_a_mention_with_no_question_in_a_group_explains_how_to_ask(bot):
    [reply] = await bot.say("@NewsdeskTestBot", chat=-100123)
    assert "Ask after the mention" in reply


async def test_a_question_in_another_script_is_still_answered(bot):
    [reply] = await bot.say("Сколько американских войск в Польше?")
    assert "1,700" in reply and bot.answerer.questions == ["Сколько американских войск в Польше?"]


async def test_the_answerers_objection_to_a_question_is_passed_on(bot):
    [reply] = await bot.say("something vague")
    assert reply == "The question is too vague; name a person, place or event."


async def test_a_failing_question_gets_an_apology_and_the_next_question_still_works(bot, caplog):
    with caplog.at_level(logging.ERROR):
        [apology] = await bot.say("please explode")
    assert "Sorry, something went wrong" in apology
    [failure] = [r for r in caplog.records if r.name == "newsdesk.telegram" and r.levelno == logging.ERROR]
    assert failure.exc_info and "the index went away" in caplog.text and "Traceback" in caplog.text
    [reply] = await bot.say(HEADLINE)
    assert "1,700" in reply


async def test_a_long_answer_arrives_as_several_messages_under_the_limit(bot):
    bot.answerer.evidence = [evidence(f"Sentence {i}: " + "word " * 200, "2022-02-10", "Wire") for i in range(20)]
    replies = await bot.say(HEADLINE)
    assert len(replies) > 1 and all(tg_len(r) <= MESSAGE_LIMIT for r in replies)
    assert all(f"Sentence {i}:" in "".join(replies) for i in range(5))


async def test_the_typing_indicator_failing_does_not_cost_the_answer(bot):
    bot.request.failures["sendChatAction"] = (400, "Bad Request: method not supported here")
    [reply] = await bot.say(HEADLINE)
    assert "1,700" in reply


async def test_a_stranger_is_refused_told_nothing_from_the_archive_and_logged(answerer, caplog):
    harness = await make_bot_with(answerer, allowed_users=frozenset({1}))
    try:
        with caplog.at_level(logging.WARNING):
            for attempt in (HEADLINE, "/start", f"/ask {HEADLINE}"):
                [reply] = await harness.say(attempt, user=2)
                assert "this bot is private" in reply and "<code>2</code>" in reply
                assert "1,700" not in reply and "articles" not in reply
            assert (await harness.say(sticker=STICKER, user=2))[0].startswith("🔒")
        assert answerer.questions == []
        assert sum("refused user 2" in r.getMessage() for r in caplog.records) == 4
        assert "1,700" in (await harness.say(HEADLINE, user=1))[0]
    finally:
        await harness.app.shutdown()


async def test_anyone_in_an_allowed_group_may_ask(answerer):
    harness = await make_bot_with(answerer, allowed_chats=frozenset({-100123}))
    try:
        [reply] = await harness.say(f"/ask {HEADLINE}", user=99, chat=-100123)
        assert "1,700" in reply
        [refusal] = await harness.say(HEADLINE, user=99)
        assert "private" in refusal
    finally:
        await harness.app.shutdown()


async def test_the_rate_limit_bites_with_a_friendly_message_for_that_user_only(answerer):
    harness = await make_bot_with(answerer, questions_per_window=2, rate_window_seconds=60)
    try:
        for _ in range(2):
            assert "1,700" in (await harness.say(HEADLINE, user=5))[0]
        [slow_down] = await harness.say(HEADLINE, user=5)
        assert "up to 2 questions every 60 seconds" in slow_down and "try again in" in slow_down
        assert "1,700" in (await harness.say(HEADLINE, user=6))[0]
        assert len(answerer.questions) == 3
    finally:
        await harness.app.shutdown()


async def test_bad_input_does_not_use_up_the_question_quota(answerer):
    harness = await make_bot_with(answerer, questions_per_window=1)
    try:
        await harness.say("🤔")
        await harness.say(sticker=STICKER)
        assert "1,700" in (await harness.say(HEADLINE))[0]
    finally:
        await harness.app.shutdown()


async def test_a_slow_question_does_not_hold_up_other_peoples_answers(answerer):
    """Updates flow through the update queue exactly as long polling feeds them."""
    harness = await make_bot_with(answerer)
    answerer.release.clear()
    try:
        await harness.app.start()
        await harness.app.update_queue.put(Update.de_json(message_update("a slow question", user=7), harness.app.bot))
        await harness.app.update_queue.put(Update.de_json(message_update(HEADLINE, user=8), harness.app.bot))
        await wait_until(lambda: any(c.params["chat_id"] == 8 for c in harness.request.sent()))
        assert not any(c.params["chat_id"] == 7 for c in harness.request.sent())
        answerer.release.set()
        await wait_until(lambda: any(c.params["chat_id"] == 7 for c in harness.request.sent()))
    finally:
        answerer.release.set()
        await harness.app.stop()
        await harness.app.shutdown()


async def wait_until(condition, attempts: int = 1000) -> None:
    for _ in range(attempts):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the bot never replied")


async def test_inline_mode_returns_answer_cards_in_html(bot):
    params = await bot.inline(HEADLINE)
    results = params["results"]
    assert results[0]["title"] == f"Answer: {HEADLINE}"
    whole = results[0]["input_message_content"]
    assert "1,700" in whole["message_text"] and "5,000" in whole["message_text"] and whole["parse_mode"] == "HTML"
    assert [r["title"] for r in results[1:]] == ["2022-02-10 · Pentagon wire", "2022-02-17 · Daily <News>"]
    assert params["is_personal"] is True


async def test_an_empty_inline_query_gets_a_hint_and_searches_nothing(bot):
    params = await bot.inline("  ")
    assert params["results"] == [] and "Type your question" in params["button"]["text"]
    assert bot.answerer.questions == []


async def test_an_inline_query_from_a_stranger_gets_no_cards(answerer, caplog):
    harness = await make_bot_with(answerer, allowed_users=frozenset({1}))
    try:
        with caplog.at_level(logging.WARNING):
            params = await harness.inline(HEADLINE, user=2)
        assert params["results"] == [] and "private" in params["button"]["text"]
        assert answerer.questions == [] and "refused user 2" in caplog.text
    finally:
        await harness.app.shutdown()


async def test_a_failing_inline_query_is_logged_and_answered_with_an_apology(bot, caplog):
    with caplog.at_level(logging.ERROR):
        params = await bot.inline("explode now")
    assert params["results"] == [] and "Sorry" in params["button"]["text"]
    assert "the index went away" in caplog.text


async def test_the_token_never_shows_in_the_bot_or_application_repr(bot):
    for shown in (repr(bot.app), str(bot.app), repr(bot.app.bot), str(bot.app.bot)):
        assert TOKEN not in shown
    assert "NewsdeskTestBot" in repr(bot.app.bot)


async def test_a_token_telegram_rejects_is_reported_without_the_token(answerer):
    harness = Harness(answerer)
    harness.request.failures["getMe"] = (401, "Unauthorized")
    with pytest.raises(InvalidToken) as error:
        await harness.app.initialize()
    assert TOKEN not in str(error.value) and "TELEGRAM_BOT_TOKEN" in str(error.value)
    assert error.value.__cause__ is None and error.value.__context__ is None
