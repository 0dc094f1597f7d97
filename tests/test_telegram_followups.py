"""The bot's per-chat follow-ups and the "more", "newer" and "older" buttons under an answer."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from telegram import Update
from test_telegram_bot import BOT_USER, HEADLINE, Harness, StubAnswerer, answerer, bot, evidence, make_bot_with

from bot.telegram_memory import parse_callback
from retrieval.filters import nothing_matches_note
from retrieval.types import Answer, Filters, TimeReading

_ids = itertools.count(10_000)


class DatedAnswerer(StubAnswerer):
    """Eight dated sentences, newest first, filtered by date as the answering core would."""

    def __init__(self) -> None:
        super().__init__()
        self.ks: list[int] = []
        self.evidence = [
            evidence(f"Report {n}: troops to Poland.", f"2022-02-{20 - n:02d}", f"wire {n}") for n in range(1, 9)
        ]

    def ask(self, question: str, k: int = 5, filters: Filters | None = None) -> Answer:
        self.questions.append(question)
        self.filters.append(filters)
        self.ks.append(k)
        filters = filters or Filters()
        kept = [
            e
            for e in self.evidence
            if (not filters.since or e.date >= filters.since) and (not filters.until or e.date <= filters.until)
        ]
        return Answer(question=question, evidence=kept[:k], filters=filters)


def callback_update(data: str, *, user: int = 1, chat: int | None = None) -> dict:
    chat_id = user if chat is None else chat
    chat_data = {"id": chat_id, "type": "private"} if chat_id > 0 else {"id": chat_id, "type": "group", "title": "D"}
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": str(next(_ids)),
            "from": {"id": user, "is_bot": False, "first_name": "Ann"},
            "chat_instance": "c1",
            "data": data,
            "message": {
                "message_id": next(_ids),
                "date": 1_700_000_000,
                "chat": chat_data,
                "text": "an answer",
                "from": BOT_USER,
            },
        },
    }


async def press(harness: Harness, data: str, **kwargs) -> tuple[list[str], list[dict[str, Any]]]:
    """Press a button; return the messages sent and the callback answers."""
    before = len(harness.request.calls)
    await harness.app.process_update(Update.de_json(callback_update(data, **kwargs), harness.app.bot))
    calls = harness.request.calls[before:]
    return (
        [c.params["text"] for c in calls if c.method == "sendMessage"],
        [c.params for c in calls if c.method == "answerCallbackQuery"],
    )


def buttons(harness: Harness) -> dict[str, str]:
    """The last answer's buttons: label -> callback data."""
    [last] = [c for c in harness.request.sent()[-1:]]
    rows = last.params["reply_markup"]["inline_keyboard"]
    return {button["text"].split()[1]: button["callback_data"] for row in rows for button in row}


@pytest.fixture
async def dated():
    harness = await make_bot_with(DatedAnswerer(), k=3)
    try:
        yield harness
    finally:
        await harness.app.shutdown()


async def test_a_follow_up_in_a_chat_is_searched_with_the_previous_subject_and_says_so(bot):
    await bot.say(HEADLINE)
    [reply] = await bot.say("and when?")
    assert bot.answerer.questions == [HEADLINE, "when US troops to Poland?"]
    assert "🔎 <b>when US troops to Poland?</b>" in reply and f"following “{HEADLINE}”" in reply


async def test_a_new_period_or_name_replaces_the_one_in_the_chats_previous_question(bot):
    await bot.say(HEADLINE)
    await bot.say("and in March?")
    await bot.say("and in June?")
    [reply] = await bot.say("what about Germany?")
    assert bot.answerer.questions == [
        HEADLINE,
        "how many US troops to Poland in March?",
        "how many US troops to Poland in June?",
        "how many US troops to Germany in June?",
    ]
    assert "🔎 <b>how many US troops to Germany in June?</b>" in reply


class NothingIn2021(StubAnswerer):
    """Finds no article for a question about 2021, and says so as the answering core does."""

    def ask(self, question: str, k: int = 5, filters: Filters | None = None) -> Answer:
        if "2021" not in question:
            return super().ask(question, k=k, filters=filters)
        self.questions.append(question)
        self.filters.append(filters)
        applied = (filters or Filters()).narrowed("2021-01-01", "2022-01-31")

        class Facets:
            def sources_by_count(self) -> list[str]:
                return ["Pentagon wire"]

        note = nothing_matches_note(applied, Facets(), "2022-02-10", "2022-02-17", "in 2021")
        read = [TimeReading("in 2021", "period", "2021-01-01", "2021-12-31")]
        return Answer(question=question, evidence=[], answered=False, note=note, filters=applied, time=read)


async def test_a_period_carried_over_that_matches_nothing_is_not_blamed_on_the_person():
    harness = await make_bot_with(NothingIn2021())
    try:
        [typed] = await harness.say("how many US troops to Poland in 2021?")
        assert "Widen the dates or check the source name." in typed
        [reply] = await harness.say("what about Germany?")
        assert harness.answerer.questions[-1] == "how many US troops to Germany in 2021?"
        assert "No article matches the period carried over from your last question" in reply
        assert "check the source name" not in reply
    finally:
        await harness.app.shutdown()


async def test_follow_ups_keep_to_their_own_chat(bot):
    await bot.say(HEADLINE, user=1)
    await bot.say("and when?", user=2)
    assert bot.answerer.questions[-1] == "and when?"


async def test_the_context_expires_after_the_configured_time(answerer, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("bot.telegram_bot.monotonic", lambda: clock[0])
    harness = await make_bot_with(answerer, followup_seconds=120)
    try:
        await harness.say(HEADLINE)
        clock[0] += 100
        await harness.say("and when?")
        clock[0] += 121
        await harness.say("and why?")
        assert answerer.questions == [HEADLINE, "when US troops to Poland?", "and why?"]
    finally:
        await harness.app.shutdown()


async def test_no_follow_ups_when_they_are_turned_off(answerer):
    harness = await make_bot_with(answerer, followup_seconds=0)
    try:
        await harness.say(HEADLINE)
        await harness.say("and when?")
        assert answerer.questions[-1] == "and when?"
    finally:
        await harness.app.shutdown()


async def test_an_answer_carries_more_newer_and_older_buttons_with_small_safe_data(dated):
    await dated.say(HEADLINE)
    keys = buttons(dated)
    assert set(keys) == {"more", "newer", "older"}
    for data in keys.values():
        assert len(data.encode()) < 64 and re.fullmatch(r"(more|newer|older):[0-9a-f]{8}", data)
        assert HEADLINE not in data


async def test_more_shows_the_next_evidence_numbered_on(dated):
    await dated.say(HEADLINE)
    [reply], [ack] = await press(dated, buttons(dated)["more"])
    assert dated.answerer.ks[-1] == 6 and ack.get("text") is None
    assert "4. Report 4" in reply and "6. Report 6" in reply and "Report 3" not in reply
    assert "more" in buttons(dated)  # and the next page has its own buttons


async def test_newer_and_older_ask_again_after_or_before_the_dates_shown(dated):
    await dated.say(HEADLINE)  # shows 2022-02-19 to 2022-02-17
    keys = buttons(dated)
    [older], _ = await press(dated, keys["older"])
    assert dated.answerer.filters[-1] == Filters(until="2022-02-16")
    assert "Report 4" in older and "Report 1" not in older
    await press(dated, keys["newer"])
    assert dated.answerer.filters[-1] == Filters(since="2022-02-20")
    assert dated.answerer.questions[-1] == HEADLINE


async def test_newer_keeps_the_source_filter_of_the_question(dated):
    await dated.say(f"source:wire {HEADLINE}")
    await press(dated, buttons(dated)["newer"])
    assert dated.answerer.filters[-1] == Filters(since="2022-02-20", sources=("wire",))


@pytest.mark.parametrize("data", ["ask:what is the vault code?", "more:zzzz", "more:0123456789abcdef0", "", "x" * 64])
async def test_a_forged_button_searches_nothing(dated, data):
    sent, [ack] = await press(dated, data)
    assert sent == [] and dated.answerer.questions == []
    assert ack["show_alert"] is True


async def test_a_button_from_another_chat_or_an_unknown_answer_has_expired(dated):
    await dated.say(HEADLINE, user=1)
    sent, [ack] = await press(dated, buttons(dated)["more"], user=2)
    assert sent == [] and "expired" in ack["text"]
    sent, [ack] = await press(dated, "more:0badcafe")
    assert sent == [] and "expired" in ack["text"]
    assert dated.answerer.questions == [HEADLINE]


async def test_a_stranger_pressing_a_button_is_refused(answerer):
    harness = await make_bot_with(DatedAnswerer(), allowed_users=frozenset({1}), k=3)
    try:
        await harness.say(HEADLINE, user=1)
        sent, [ack] = await press(harness, buttons(harness)["more"], user=2, chat=1)
        assert sent == [] and "private" in ack["text"] and harness.answerer.questions == [HEADLINE]
    finally:
        await harness.app.shutdown()


async def test_button_presses_count_against_the_rate_limit(answerer):
    harness = await make_bot_with(DatedAnswerer(), questions_per_window=1, k=3)
    try:
        await harness.say(HEADLINE)
        sent, [ack] = await press(harness, buttons(harness)["more"])
        assert sent == [] and "Slow down" in ack["text"] and harness.answerer.questions == [HEADLINE]
    finally:
        await harness.app.shutdown()


async def test_help_documents_follow_ups_and_the_buttons(bot):
    [reply] = await bot.say("/help")
    assert "and when?" in reply and "more" in reply and "newer" in reply and "older" in reply


def test_callback_data_is_read_strictly():
    assert parse_callback("newer:0a1b2c3d") == ("newer", "0a1b2c3d")
    assert parse_callback("newer:0a1b2c3d\n") is None and parse_callback(None) is None


@pytest.mark.parametrize("word", ["help", "Help", "?"])
async def test_help_alone_in_a_private_chat_is_help_not_a_question(bot, word):
    [reply] = await bot.say(word)
    assert "Try for example" in reply and bot.answerer.questions == []


async def test_clear_forgets_the_chats_previous_question(bot):
    await bot.say(HEADLINE)
    [reply] = await bot.say("/clear")
    await bot.say("and when?")
    assert "Forgotten" in reply and bot.answerer.questions == [HEADLINE, "and when?"]


async def test_newer_under_an_undated_answer_is_refused_not_a_failure(answerer):
    answerer.evidence = [evidence("Troops are going to Poland.", None, "wire")]
    harness = await make_bot_with(answerer)
    try:
        await harness.say(HEADLINE)
        assert "reply_markup" not in harness.request.sent()[-1].params  # no dates, no more: no buttons
        [answer_id] = harness.app.bot_data["newsdesk"].answers._answers  # a press forged with its real id
        sent, [ack] = await press(harness, f"newer:{answer_id}")
        assert sent == [] and "expired" in ack["text"] and answerer.questions == [HEADLINE]
    finally:
        await harness.app.shutdown()
