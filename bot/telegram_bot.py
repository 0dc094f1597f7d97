"""`newsdesk bot`: the archive's answers in Telegram, over long polling or a webhook.

Handlers are small and async; answering itself is CPU-bound and runs on worker threads so
one slow question never holds up the others. See docs/telegram.md for setting a bot up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import re
import secrets
import signal
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from time import monotonic
from typing import Any, Protocol, TypeVar

import click
from telegram import (
    BotCommand,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    ExtBot,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot import telegram_format as fmt
from bot.ask_params import K_TYPE
from bot.chat import archive_sources
from bot.telegram_access import AccessPolicy, RateLimiter
from bot.telegram_memory import (
    MORE,
    NEWER,
    AnswerBook,
    ChatContexts,
    ShownAnswer,
    dates_of,
    day_after,
    day_before,
    keyboard,
    parse_callback,
)
from bot.telegram_query import HELP as FILTER_HELP
from bot.telegram_query import split_filters
from bot.telegram_settings import TelegramSettings, load_telegram_settings, redact_logs, redactor
from retrieval.config import ConfigError, Settings
from retrieval.filters import FilterError, unknown_source_note
from retrieval.followup import conversation_note
from retrieval.types import Answer, Filters, QuestionError

log = logging.getLogger("newsdesk.telegram")
ALLOWED_UPDATES = [Update.MESSAGE, Update.INLINE_QUERY, Update.CALLBACK_QUERY]
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Awaitable[None]]
T = TypeVar("T")

APOLOGY = "😕 Sorry, something went wrong while answering that. It has been logged; please try again in a moment."
REFUSAL = "🔒 Sorry, this bot is private. To get access, send your user id <code>{user_id}</code> to its owner."
# "more" stops where `ask --k` does: an answer is a handful of sentences, not the archive.
MAX_EVIDENCE = K_TYPE.max
EXPIRED = "This answer's buttons have expired; please ask the question again."
NOT_TEXT = "I can only read text questions; stickers, photos and other media carry nothing I can search."


class Answerer(Protocol):
    """What the bot needs from the answering core (retrieval.answer.open_answerer)."""

    def ask(self, question: str, k: int = 5, filters: Filters | None = None) -> Answer: ...

    def stats(self) -> dict[str, Any]: ...


@dataclass
class BotState:
    """Shared by all handlers through ``context.bot_data``."""

    settings: TelegramSettings
    answerer: Answerer
    access: AccessPolicy
    questions: RateLimiter
    inline_queries: RateLimiter
    executor: ThreadPoolExecutor
    contexts: ChatContexts
    answers: AnswerBook

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking work on a worker thread so the event loop keeps serving other chats."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))


class NewsdeskBot(ExtBot):
    """An ExtBot whose repr and start-up errors never show the token (PTB's include it)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"NewsdeskBot[username={self._bot_user.username if self._bot_user else None}]"

    async def initialize(self) -> None:
        try:
            await super().initialize()
            return
        except InvalidToken:
            pass
        # Raised outside the except block so PTB's message, which quotes the token, is not chained.
        raise InvalidToken("Telegram rejected TELEGRAM_BOT_TOKEN")


def _state(context: Context) -> BotState:
    return context.bot_data["newsdesk"]


def _example(state: BotState) -> str:
    return f"for example: <i>{fmt.escape(state.settings.examples[0])}</i>"


def question_problem(question: str, state: BotState) -> str | None:
    """Why the text cannot be asked as it is, in words for the person; None when it can."""
    limit = state.settings.max_question_chars
    if not question.strip():
        return f"Please send a question in words, {_example(state)}"
    if len(question) > limit:
        return (
            f"That message is {len(question):,} characters; questions can be up to {limit:,}. "
            f"Please send just the question, {_example(state)}"
        )
    if not any(ch.isalnum() for ch in question):
        return (
            "I search the archive by words, and emoji or symbols alone match nothing. "
            f"Please ask in words, {_example(state)}"
        )
    return None


def _inline_button(text: str) -> InlineQueryResultsButton:
    return InlineQueryResultsButton(text=text[:64], start_parameter="help")


async def _admitted(update: Update, context: Context) -> bool:
    """True for people on the allow-list; everyone else gets one short refusal, and it is logged."""
    user, chat = update.effective_user, update.effective_chat
    if _state(context).access.allows(user.id if user else None, chat.id if chat else None):
        return True
    log.warning(
        "refused user %s (@%s) in chat %s: not on the allow-list",
        user.id if user else None,
        user.username if user else None,
        chat.id if chat else None,
    )
    if update.inline_query:
        await update.inline_query.answer(
            [], button=_inline_button("This bot is private"), cache_time=0, is_personal=True
        )
    elif update.callback_query:
        await update.callback_query.answer("🔒 Sorry, this bot is private.", show_alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(REFUSAL.format(user_id=user.id if user else "unknown"))
    return False


def members_only(handler: Handler) -> Handler:
    """Run the handler only for people the allow-list admits."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        if await _admitted(update, context):
            await handler(update, context)

    return guarded


async def _typing(update: Update, context: Context) -> None:
    # Only a courtesy; a server that lacks it must not cost the person their answer.
    try:
        await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)
    except TelegramError as exc:
        log.debug("typing indicator failed: %s", exc)


async def answer_question(update: Update, context: Context, question: str) -> None:
    """Check the question, apply the rate limit, answer it on a worker thread and reply."""
    state, message = _state(context), update.effective_message
    try:
        question, filters = split_filters(question)
    except FilterError as exc:
        await message.reply_text(f"{fmt.escape(str(exc))}.\n{FILTER_HELP}")
        return
    unknown = await _unknown_source(state, filters)
    if unknown:  # said now, rather than as an answer that matches nothing
        await message.reply_text(f"{fmt.escape(unknown)} Nothing was asked; please send the question again.")
        return
    problem = question_problem(question, state)
    if problem:
        await message.reply_text(problem)
        return
    wait = state.questions.acquire(_asker(update))
    if wait:
        await message.reply_text(_slow_down(state, wait))
        return
    chat_id = update.effective_chat.id
    reading = state.contexts.read(chat_id, question, monotonic())
    await _typing(update, context)
    try:
        answer = await state.run(state.answerer.ask, reading.question.strip(), k=state.settings.k, filters=filters)
    except QuestionError as exc:
        await message.reply_text(fmt.escape(str(exc)))
        return
    state.contexts.remember(chat_id, answer.question, monotonic())
    answer.note = conversation_note(answer, reading)
    await _reply_with_buttons(
        message, state, chat_id, answer, filters, fmt.format_answer(answer, follows=reading.follows)
    )


async def _unknown_source(state: BotState, filters: Filters) -> str | None:
    """What to say when a source: word picks none of the archive's sources ("No source matches
    'reutrs'; did you mean Reuters?"); None when each picks one, or the answerer cannot list them."""
    sources = archive_sources(state.answerer) if filters.sources else None
    if sources is None:
        return None
    return unknown_source_note(filters.sources, await state.run(sources))


def _asker(update: Update) -> int:
    return update.effective_user.id if update.effective_user else update.effective_chat.id


def _slow_down(state: BotState, wait: float) -> str:
    return (
        f"⏳ You're asking faster than I can keep up: up to {state.questions.limit} questions "
        f"every {state.settings.rate_window_seconds:g} seconds. Please try again in {max(1, round(wait))} s."
    )


async def _reply_with_buttons(
    message: Message,
    state: BotState,
    chat_id: int,
    answer: Answer,
    filters: Filters,
    parts: list[str],
    shown_before: int = 0,
) -> None:
    """Send the answer's messages, the last one with its "more", "newer" and "older" buttons."""
    markup = None
    if answer.answered and answer.evidence:
        newest, oldest = dates_of(answer.evidence[shown_before:])
        shown = ShownAnswer(chat_id, answer.question, filters, len(answer.evidence), newest, oldest)
        # "more" only when the page came back full: a short one was all there is.
        full = len(answer.evidence) - shown_before >= state.settings.k
        markup = keyboard(state.answers.add(shown), shown, more=full)
    for number, part in enumerate(parts, 1):
        await message.reply_text(part, reply_markup=markup if number == len(parts) else None)


async def button(update: Update, context: Context) -> None:
    """Carry out a press of "more", "newer" or "older" under an answer given in this chat."""
    query, state = update.callback_query, _state(context)
    if not await _admitted(update, context):
        return
    parsed = parse_callback(query.data)
    shown = state.answers.get(parsed[1], update.effective_chat.id) if parsed and update.effective_chat else None
    if shown is None or query.message is None or (parsed[0] != MORE and not shown.newest):
        # An undated answer never shows "newer" or "older"; such a press was not made here either.
        await query.answer(EXPIRED if parsed else "That button is not one of mine.", show_alert=True)
        return
    wait = state.questions.acquire(_asker(update))
    if wait:
        await query.answer(f"Slow down: try again in {max(1, round(wait))} s.", show_alert=True)
        return
    await query.answer()
    action, k = parsed[0], state.settings.k
    filters = shown.filters
    if action == MORE:
        k = min(shown.shown + state.settings.k, MAX_EVIDENCE)
    elif action == NEWER:
        filters = filters.narrowed(since=day_after(shown.newest))
    else:
        filters = filters.narrowed(until=day_before(shown.oldest))
    await _typing(update, context)
    try:
        answer = await state.run(state.answerer.ask, shown.question, k=k, filters=filters)
    except QuestionError as exc:
        await query.message.reply_text(fmt.escape(str(exc)))
        return
    if action != MORE:
        await _reply_with_buttons(query.message, state, shown.chat_id, answer, filters, fmt.format_answer(answer))
        return
    further = answer.evidence[shown.shown :]
    if not further:
        await query.message.reply_text(f"That was all the evidence I have for <i>{fmt.escape(shown.question)}</i>.")
        return
    parts = fmt.more_evidence(shown.question, further, shown.shown + 1)
    await _reply_with_buttons(query.message, state, shown.chat_id, answer, filters, parts, shown_before=shown.shown)


@members_only
async def start(update: Update, context: Context) -> None:
    """Say what the archive holds and give example questions (/start and /help)."""
    await _welcome(update, context)


async def _welcome(update: Update, context: Context) -> None:
    state = _state(context)
    stats = await state.run(state.answerer.stats)
    await update.effective_message.reply_text(fmt.welcome(stats, state.settings.examples, context.bot.username))


@members_only
async def ask_command(update: Update, context: Context) -> None:
    """Answer `/ask question`; explain the usage when the question is missing."""
    parts = (update.effective_message.text or "").split(maxsplit=1)
    if len(parts) < 2:
        example = fmt.escape(_state(context).settings.examples[0])
        await update.effective_message.reply_text(f"Put your question after /ask, for example: <i>/ask {example}</i>")
        return
    await answer_question(update, context, parts[1])


@members_only
async def clear_command(update: Update, context: Context) -> None:
    """Forget the chat's previous question, so the next one is read on its own (/clear)."""
    _state(context).contexts.forget(update.effective_chat.id)
    await update.effective_message.reply_text("Forgotten: your next question starts afresh.")


@members_only
async def private_text(update: Update, context: Context) -> None:
    """Treat a plain text message in a private chat as a question ("help" alone is /help)."""
    text = update.effective_message.text or ""
    if text.strip().lower() in ("help", "help?", "?"):
        await _welcome(update, context)
        return
    await answer_question(update, context, text)


async def group_mention(update: Update, context: Context) -> None:
    """Answer a group message that mentions the bot; mentions of anyone else are not for us."""
    message, username = update.effective_message, context.bot.username
    mentions = message.parse_entities([MessageEntity.MENTION]).values()
    if not any(m.lower() == f"@{username}".lower() for m in mentions) or not await _admitted(update, context):
        return
    question = re.sub(rf"@{re.escape(username)}\b", " ", message.text or "", flags=re.IGNORECASE)
    if not question.strip():
        await message.reply_text(f"Ask after the mention, {_example(_state(context))}")
        return
    await answer_question(update, context, question)


@members_only
async def unknown_command(update: Update, context: Context) -> None:
    """Point unknown commands in a private chat to /help."""
    command = (update.effective_message.text or "").split(maxsplit=1)[0]
    if len(command) > 40:  # Telegram commands have at most 32 letters; the reply must stay short
        command = command[:40] + "…"
    await update.effective_message.reply_text(
        f"I don't know {fmt.escape(command)}. Send your question as a message, or /help for examples."
    )


@members_only
async def not_text(update: Update, context: Context) -> None:
    """Explain that only text questions are understood (stickers, photos, voice, files...)."""
    await update.effective_message.reply_text(f"{NOT_TEXT} Please type your question, {_example(_state(context))}")


async def inline_query(update: Update, context: Context) -> None:
    """Answer `@bot question` with cards: the whole answer first, then one card per sentence."""
    query, state = update.inline_query, _state(context)
    if not await _admitted(update, context):
        return
    personal = {"cache_time": 0, "is_personal": True}
    if not query.query.strip():
        await query.answer([], button=_inline_button("Type your question after the bot's name"), **personal)
        return
    if question_problem(query.query, state):
        await query.answer([], button=_inline_button("Ask in words, in one short question"), **personal)
        return
    wait = state.inline_queries.acquire(query.from_user.id)
    if wait:
        await query.answer([], button=_inline_button(f"Slow down: try again in {max(1, round(wait))} s"), **personal)
        return
    try:
        answer = await state.run(state.answerer.ask, query.query.strip(), k=state.settings.k)
    except QuestionError as exc:
        await query.answer([], button=_inline_button(str(exc)), **personal)
        return
    results = [
        InlineQueryResultArticle(
            id=str(i), title=title, description=description, input_message_content=InputTextMessageContent(text)
        )
        for i, (title, description, text) in enumerate(fmt.answer_cards(answer))
    ]
    await query.answer(results, **personal)


async def on_error(update: object, context: Context) -> None:
    """Log the failure with its traceback and tell the person something went wrong."""
    log.error("failed to handle update %s", getattr(update, "update_id", "?"), exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.inline_query:
            await update.inline_query.answer(
                [], button=_inline_button("Sorry, that failed; please try again"), cache_time=0
            )
        elif update.effective_message:
            await update.effective_message.reply_text(APOLOGY)
    except TelegramError:
        log.warning("could not send the apology", exc_info=True)


def make_bot(
    tg: TelegramSettings, request: BaseRequest | None = None, updates_request: BaseRequest | None = None
) -> NewsdeskBot:
    """The Bot API client: HTML replies without link previews, flood limits respected."""
    return NewsdeskBot(
        tg.token.reveal(),
        base_url=tg.api_url,
        base_file_url=tg.file_url,
        # Many chats are answered at once, so the connection pool must not be the bottleneck.
        request=request or HTTPXRequest(connection_pool_size=64),
        get_updates_request=updates_request or request or HTTPXRequest(),
        defaults=Defaults(
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            # The answer still arrives when the question was deleted while it was being answered.
            allow_sending_without_reply=True,
        ),
        rate_limiter=AIORateLimiter(max_retries=3),
    )


async def _announce(app: Application) -> None:
    """Log what the bot serves and register its command menu once it is connected."""
    state = app.bot_data["newsdesk"]
    stats = await state.run(state.answerer.stats)
    log.info(
        "answering as @%s from %s articles (%s to %s)",
        app.bot.username,
        stats.get("articles"),
        stats.get("date_min"),
        stats.get("date_max"),
    )
    commands = [
        BotCommand("help", "What I know, with example questions"),
        BotCommand("ask", "Ask a question"),
        BotCommand("clear", "Forget the previous question"),
    ]
    try:
        await app.bot.set_my_commands(commands)
    except TelegramError as exc:
        log.warning("could not register the command menu: %s", exc)


async def _release(app: Application) -> None:
    """Let the worker threads go when the application shuts down."""
    app.bot_data["newsdesk"].executor.shutdown(wait=False, cancel_futures=True)


def build_application(tg: TelegramSettings, answerer: Answerer, bot: NewsdeskBot | None = None) -> Application:
    """Wire the handlers, limits and worker threads; nothing talks to Telegram until started."""
    concurrent = max(32, 8 * tg.workers)
    builder = Application.builder().bot(bot or make_bot(tg)).concurrent_updates(concurrent)
    app = builder.post_init(_announce).post_shutdown(_release).build()
    app.bot_data["newsdesk"] = BotState(
        settings=tg,
        answerer=answerer,
        access=AccessPolicy(tg.allowed_users, tg.allowed_chats),
        questions=RateLimiter(tg.questions_per_window, tg.rate_window_seconds),
        inline_queries=RateLimiter(tg.inline_queries_per_window, tg.rate_window_seconds),
        executor=ThreadPoolExecutor(max_workers=tg.workers, thread_name_prefix="newsdesk-answer"),
        contexts=ChatContexts(tg.followup_seconds),
        answers=AnswerBook(),
    )
    new = filters.UpdateType.MESSAGE  # edits are not new questions
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    app.add_handler(CommandHandler(["start", "help"], start, filters=new))
    app.add_handler(CommandHandler("ask", ask_command, filters=new))
    app.add_handler(CommandHandler("clear", clear_command, filters=new))
    app.add_handler(MessageHandler(new & private & filters.TEXT & ~filters.COMMAND, private_text))
    mentions = filters.Entity(MessageEntity.MENTION)
    app.add_handler(MessageHandler(new & groups & filters.TEXT & ~filters.COMMAND & mentions, group_mention))
    app.add_handler(MessageHandler(new & private & filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(new & private & ~filters.TEXT, not_text))
    app.add_handler(InlineQueryHandler(inline_query))
    app.add_handler(CallbackQueryHandler(button))
    app.add_error_handler(on_error)
    return app


def run_application(app: Application, tg: TelegramSettings) -> None:
    """Serve until SIGINT or SIGTERM, then finish in-flight updates and stop cleanly."""
    if tg.mode == "webhook":
        app.run_webhook(
            listen=tg.webhook_listen,
            port=tg.webhook_port,
            url_path=tg.webhook_path,
            webhook_url=tg.webhook_url,
            # Telegram echoes this secret on every call, so forged posts to the URL are rejected.
            secret_token=secrets.token_urlsafe(32),
            allowed_updates=ALLOWED_UPDATES,
            stop_signals=STOP_SIGNALS,
        )
    else:
        app.run_polling(
            allowed_updates=ALLOWED_UPDATES, timeout=dt.timedelta(seconds=tg.poll_timeout), stop_signals=STOP_SIGNALS
        )


def _quiet_startup_failures(record: logging.LogRecord) -> bool:
    # PTB logs a full traceback when it cannot start; bot_command reports the cause in one line.
    return not (record.levelno >= logging.ERROR and "(Bootstrap" in record.getMessage())


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, which holds the token; redaction covers it, quiet is better.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("telegram.ext").addFilter(_quiet_startup_failures)


@click.command("bot")
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Index store to answer from (default: [index] dir, env NEWSDESK_INDEX_DIR).",
)
def bot_command(index_dir: str | None) -> None:
    """Answer questions in Telegram (token from TELEGRAM_BOT_TOKEN; see docs/telegram.md)."""
    try:
        settings = Settings.load(overrides={"index": {"dir": index_dir}})
        tg = load_telegram_settings(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    restore_logging = redact_logs(tg.token)
    _configure_logging()
    redact = redactor(tg.token)
    try:
        from bot.opening import open_for_questions  # loads the model stack; only when running

        # The bot follows the index: articles committed while it runs are answered from.
        answerer = open_for_questions(settings, live=True)
        try:
            run_application(build_application(tg, answerer), tg)
        finally:
            answerer.stop()  # no watcher outlives the bot
    except InvalidToken:
        raise click.ClickException(
            "Telegram rejected TELEGRAM_BOT_TOKEN; copy the token again from @BotFather"
        ) from None
    except NetworkError as exc:
        raise click.ClickException(
            f"cannot reach the Bot API at {tg.base_url} ({redact(str(exc))}); check the network or [telegram] base_url"
        ) from None
    except TelegramError as exc:
        raise click.ClickException(
            f"the Bot API at {tg.base_url} refused to start the bot: {redact(str(exc))}"
        ) from None
    finally:
        restore_logging()
    log.info("stopped")
