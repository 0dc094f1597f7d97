"""End to end: the real bot long-polling a Bot API emulator, with simulated people asking it.

Everything between the person and the answering core is real: HTTP, python-telegram-bot's
Application and Updater, the handlers, the worker threads and the real model over the seeds.
"""

from __future__ import annotations

import asyncio
import logging
import signal

import httpx
import pytest
from telegram_emulator import (  # emulator, people and real_answerer are fixtures
    BotCommand,
    emulator,
    free_port,
    parse_telegram_html,
    people,
    real_answerer,
    serving,
)

pytestmark = [pytest.mark.e2e, pytest.mark.model]

HEADLINE = "how many US troops to Poland?"
SENTENCE_1700 = "About 1,700 U.S. soldiers from the 82nd Airborne Division are going to Poland"
SENTENCE_5000 = "The U.S. has started deploying 5,000 troops to Poland and Romania."
STICKER = {
    "file_id": "s1",
    "file_unique_id": "su1",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
    "type": "regular",
}


def read_messages(messages: list[dict]) -> str:
    """Check each message is Telegram HTML within the length limit; return what the person sees."""
    seen = []
    for message in messages:
        assert message["parse_mode"] == "HTML"
        assert len(message["text"].encode("utf-16-le")) // 2 <= 4096
        visible, problems = parse_telegram_html(message["text"])
        assert problems == [], message["text"]
        seen.append(visible)
    return "\n".join(seen)


class ExplodingAnswerer:
    """The real answerer, except that questions mentioning "explode" fail inside the core."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def ask(self, question: str, k: int = 5, filters=None):
        if "explode" in question:
            raise RuntimeError("simulated failure inside the answering core")
        return self.inner.ask(question, k=k)

    def stats(self):
        return self.inner.stats()


async def test_the_headline_question_comes_back_with_both_troop_figures_dated_and_sourced(
    emulator, real_answerer, people
):
    async with serving(emulator, real_answerer) as telegram:
        replies = await people(telegram.token.reveal(), 1).ask(HEADLINE)
    lines = read_messages(replies).splitlines()
    evidence = real_answerer.ask(HEADLINE, k=telegram.k).evidence
    for sentence, date in ((SENTENCE_1700, "2022-02-10"), (SENTENCE_5000, "2022-02-17")):
        [source] = [e.source for e in evidence if sentence in e.text]
        where = next(i for i, line in enumerate(lines) if sentence in line)
        assert source and lines[where + 1].startswith(f"{date} · {source}")


async def test_start_tells_what_the_archive_holds(emulator, real_answerer, people):
    async with serving(emulator, real_answerer) as telegram:
        text = read_messages(await people(telegram.token.reveal(), 1).ask("/start"))
    assert "2 articles, 2022-02-10 to 2022-02-17" in text and HEADLINE in text


async def test_a_group_asks_with_ask_and_with_a_mention(emulator, real_answerer, people):
    async with serving(emulator, real_answerer) as telegram:
        group = people(telegram.token.reveal(), 3, chat_id=-100777)
        by_command = read_messages(await group.ask(f"/ask {HEADLINE}"))
        await group.send(text=f"@NewsdeskTestBot {HEADLINE}", entities=[{"type": "mention", "offset": 0, "length": 16}])
        by_mention = read_messages(await group.replies())
    assert SENTENCE_5000 in by_command and SENTENCE_5000 in by_mention


async def test_inline_mode_offers_answer_cards(emulator, real_answerer, people):
    async with serving(emulator, real_answerer) as telegram:
        offered = await people(telegram.token.reveal(), 1).inline(HEADLINE)
    cards = offered["results"]
    assert cards[0]["title"] == f"Answer: {HEADLINE}"
    whole = cards[0]["input_message_content"]
    text = read_messages([{"text": whole["message_text"], "parse_mode": whole["parse_mode"]}])
    assert SENTENCE_1700 in text and SENTENCE_5000 in text
    assert any(card["title"].startswith("2022-02-17 · ") for card in cards[1:])


async def test_a_stranger_is_refused_and_gets_nothing_from_the_archive(emulator, real_answerer, people, caplog):
    with caplog.at_level(logging.WARNING, logger="newsdesk.telegram"):
        async with serving(emulator, real_answerer, allowed_users=frozenset({1})) as telegram:
            [refusal] = await people(telegram.token.reveal(), 2).ask(HEADLINE)
            member = read_messages(await people(telegram.token.reveal(), 1).ask(HEADLINE))
    refused = read_messages([refusal])
    assert "this bot is private" in refused and "Poland" not in refused and "2022" not in refused
    assert SENTENCE_5000 in member
    assert "refused user 2" in caplog.text


async def test_the_rate_limit_bites_with_a_friendly_message(emulator, real_answerer, people):
    async with serving(emulator, real_answerer, questions_per_window=2) as telegram:
        asker = people(telegram.token.reveal(), 4)
        answers = [read_messages(await asker.ask(HEADLINE)) for _ in range(3)]
    assert SENTENCE_5000 in answers[0] and SENTENCE_5000 in answers[1]
    assert "faster than I can keep up" in answers[2] and "try again in" in answers[2]


async def test_a_failing_question_gets_an_apology_and_the_next_question_still_works(
    emulator, real_answerer, people, caplog
):
    with caplog.at_level(logging.ERROR, logger="newsdesk.telegram"):
        async with serving(emulator, ExplodingAnswerer(real_answerer)) as telegram:
            asker = people(telegram.token.reveal(), 5)
            apology = read_messages(await asker.ask("please explode"))
            after = read_messages(await asker.ask(HEADLINE))
    assert "Sorry, something went wrong" in apology
    assert "simulated failure inside the answering core" in caplog.text and "Traceback" in caplog.text
    assert SENTENCE_5000 in after


BAD_INPUT = {
    "empty text": ({"text": " \n "}, "Please send a question in words"),
    "a 4,000-character message": ({"text": "x" * 4000}, "questions can be up to"),
    "emoji only": ({"text": "🇵🇱🪖🤔"}, "emoji or symbols alone"),
    "non-Latin script": ({"text": "Сколько американских войск отправят в Польшу?"}, "Сколько американских войск"),
    "/ask with no question": ({"text": "/ask"}, "Put your question after /ask"),
    "a sticker": ({"sticker": STICKER}, "I can only read text"),
    "a photo": (
        {"photo": [{"file_id": "p1", "file_unique_id": "pu1", "width": 90, "height": 90}]},
        "I can only read text",
    ),
    "a voice message": ({"voice": {"file_id": "v1", "file_unique_id": "vu1", "duration": 2}}, "I can only read text"),
}


@pytest.mark.parametrize("content, expected", BAD_INPUT.values(), ids=BAD_INPUT.keys())
async def test_every_bad_input_gets_a_helpful_reply(emulator, real_answerer, people, content, expected):
    async with serving(emulator, real_answerer) as telegram:
        asker = people(telegram.token.reveal(), 6)
        await asker.send(**content)
        text = read_messages(await asker.replies())
        answer = read_messages(await asker.ask(HEADLINE))
    assert expected in text
    assert SENTENCE_5000 in answer, "the bot keeps working after bad input"


async def test_many_people_asking_at_once_each_get_their_own_answer(emulator, real_answerer, people):
    questions = [HEADLINE, "who expelled Bart Gorman?", "what did Stoltenberg say?", "where are troops going?"] * 2
    async with serving(emulator, real_answerer) as telegram:
        askers = [people(telegram.token.reveal(), 100 + i) for i in range(len(questions))]
        replies = await asyncio.gather(*(a.ask(q) for a, q in zip(askers, questions)))
    for question, reply in zip(questions, replies):
        assert read_messages(reply).startswith(f"🔎 {question}")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_the_bot_command_serves_then_stops_cleanly_on_a_signal(emulator, people, tmp_path, stop):
    token = emulator.new_token()
    bot = BotCommand(emulator, token, tmp_path)
    try:
        text = read_messages(await people(token, 1).ask("/start"))
    finally:
        status, output = await bot.stop(stop)
    assert "2 articles" in text
    assert status == 0, output
    assert "newsdesk.telegram: stopped" in output and "Traceback" not in output
    assert token not in output and token.split(":")[1] not in output


async def test_webhook_mode_receives_updates_from_the_bot_api_server(emulator, people, tmp_path):
    token, port = emulator.new_token(), free_port()
    config = tmp_path / "newsdesk.toml"
    config.write_text(
        f'[telegram]\nmode = "webhook"\nwebhook_url = "http://127.0.0.1:{port}/telegram"\n'
        f'webhook_listen = "127.0.0.1"\nwebhook_port = {port}\nwebhook_path = "telegram"\n'
    )
    bot = BotCommand(emulator, token, tmp_path, NEWSDESK_CONFIG=str(config))
    try:
        webhook = await emulator.webhook_of(token)
        assert webhook == f"http://127.0.0.1:{port}/telegram"
        text = read_messages(await people(token, 1).ask("/help"))
        async with httpx.AsyncClient() as stranger:
            forged = await stranger.post(webhook, json={"update_id": 1, "message": {"text": "/start"}})
    finally:
        status, output = await bot.stop(signal.SIGTERM)
    assert "2 articles" in text
    assert forged.status_code == 403, "a post without the registered secret is refused"
    assert status == 0, output
    assert token not in output


async def test_a_follow_up_and_the_more_button_work_through_the_bot_api(emulator, real_answerer, people):
    async with serving(emulator, real_answerer, k=2) as telegram:
        person = people(telegram.token.reveal(), 1)
        first = await person.ask(HEADLINE)
        more = await person.press(first[-1], "more")
        follow_up = read_messages(await person.ask("and when?"))
        pressed = await person._post("/getCallbackAnswers", {"token": telegram.token.reveal()})
    shown = read_messages(first)
    further = read_messages(more)
    assert "more evidence" in further and "\n3. " in f"\n{further}"
    next_sentence = real_answerer.ask(HEADLINE, k=3).evidence[2].text
    assert next_sentence in further and next_sentence not in shown
    assert [answer["show_alert"] for answer in pressed] == [False]
    assert "when US troops to Poland?" in follow_up and f"following “{HEADLINE}”" in follow_up
