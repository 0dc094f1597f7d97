"""Typed settings for the Telegram bot: the [telegram] config section plus environment overrides.

The bot token is read only from ``TELEGRAM_BOT_TOKEN`` and kept in a :class:`Secret`, whose
``repr``/``str`` never show it; :func:`redact_logs` keeps it out of every log line as well.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from retrieval.config import ConfigError, Settings

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
BASE_URL_ENV = "NEWSDESK_TELEGRAM_BASE_URL"
ALLOWED_USERS_ENV = "NEWSDESK_TELEGRAM_ALLOWED_USERS"
ALLOWED_CHATS_ENV = "NEWSDESK_TELEGRAM_ALLOWED_CHATS"
MODES = ("polling", "webhook")
# BotFather tokens look like "123456789:AAE..."; checked so a pasted placeholder fails early.
TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
REDACTED = "<redacted>"


class Secret:
    """A string that shows as ``<redacted>`` in repr, str, f-strings and tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value, for the one place that must send it (the Bot API client)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class TelegramSettings:
    """Everything the bot needs to run; built by :func:`load_telegram_settings`."""

    token: Secret
    base_url: str = "https://api.telegram.org"
    mode: str = "polling"
    poll_timeout: int = 10
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_path: str = "telegram"
    allowed_users: frozenset[int] = frozenset()
    allowed_chats: frozenset[int] = frozenset()
    questions_per_window: int = 6
    inline_queries_per_window: int = 30
    rate_window_seconds: float = 60.0
    k: int = 5
    max_question_chars: int = 1000
    workers: int = 4
    examples: tuple[str, ...] = ("how many US troops to Poland?",)
    # How long a chat's last question stays the subject of its follow-ups (0: no follow-ups).
    followup_seconds: float = 300.0

    @property
    def api_url(self) -> str:
        """Base URL in python-telegram-bot's form: the root plus ``/bot``, the token follows."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        return f"{self.base_url}/file/bot"


def _ids(value: Any, name: str) -> frozenset[int]:
    """Parse ids from a TOML list or a comma-separated string; names the setting on failure."""
    parts = value.split(",") if isinstance(value, str) else list(value or [])
    ids = set()
    for part in parts:
        text = str(part).strip()
        if not text:
            continue
        try:
            ids.add(int(text))
        except ValueError:
            raise ConfigError(
                f"{name}: {text!r} is not a Telegram id; use numbers such as 123456789 (groups are negative)"
            ) from None
    return frozenset(ids)


def _number(section: Mapping[str, Any], key: str, minimum: float, kind: type = int) -> Any:
    value = section[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ConfigError(f"[telegram] {key} = {value!r}: use a number of at least {minimum}")
    return kind(value)


def _base_url(value: str) -> str:
    url = value.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(f"Bot API base URL {value!r} is not an http(s) server root; use e.g. http://127.0.0.1:8081")
    if re.search(r"/bot[^/]*$", url):
        raise ConfigError(f"Bot API base URL {value!r} should be the server root, without /bot<token>")
    return url


def read_token(env: Mapping[str, str]) -> Secret:
    """The bot token from TELEGRAM_BOT_TOKEN; errors never echo what was found."""
    raw = env.get(TOKEN_ENV, "").strip()
    if not raw:
        raise ConfigError(
            f"{TOKEN_ENV} is not set; create a bot with @BotFather and export {TOKEN_ENV}=<token> (see docs/telegram.md)"
        )
    if not TOKEN_SHAPE.match(raw):
        raise ConfigError(f"{TOKEN_ENV} does not look like a bot token; copy it again from @BotFather (digits:letters)")
    return Secret(raw)


def load_telegram_settings(settings: Settings, env: Mapping[str, str] | None = None) -> TelegramSettings:
    """Combine the [telegram] section with the environment; raise ConfigError with one line."""
    env = os.environ if env is None else env
    token = read_token(env)
    section = settings.section("telegram")
    mode = section["mode"]
    if mode not in MODES:
        raise ConfigError(f'[telegram] mode = {mode!r}: use "polling" or "webhook"')
    webhook_url = section["webhook_url"].strip()
    # Telegram's own servers only call https:// webhooks; a self-hosted Bot API server may use http://.
    if mode == "webhook" and not re.match(r"^https?://[^/\s]+", webhook_url):
        raise ConfigError(
            '[telegram] mode = "webhook" needs webhook_url, the public https:// address Telegram posts to'
        )
    users = _ids(env[ALLOWED_USERS_ENV], ALLOWED_USERS_ENV) if env.get(ALLOWED_USERS_ENV) else None
    chats = _ids(env[ALLOWED_CHATS_ENV], ALLOWED_CHATS_ENV) if env.get(ALLOWED_CHATS_ENV) else None
    examples = section["examples"]
    examples = [examples] if isinstance(examples, str) else examples
    examples = tuple(str(e) for e in examples if str(e).strip()) or TelegramSettings.examples
    return TelegramSettings(
        token=token,
        base_url=_base_url(env.get(BASE_URL_ENV) or section["base_url"]),
        mode=mode,
        poll_timeout=_number(section, "poll_timeout", 0),
        webhook_url=webhook_url,
        webhook_listen=section["webhook_listen"],
        webhook_port=_number(section, "webhook_port", 1),
        webhook_path=section["webhook_path"].strip("/"),
        allowed_users=users if users is not None else _ids(section["allowed_users"], "[telegram] allowed_users"),
        allowed_chats=chats if chats is not None else _ids(section["allowed_chats"], "[telegram] allowed_chats"),
        questions_per_window=_number(section, "questions_per_window", 0),
        inline_queries_per_window=_number(section, "inline_queries_per_window", 0),
        rate_window_seconds=_number(section, "rate_window_seconds", 1, float),
        k=_number(section, "k", 1),
        max_question_chars=_number(section, "max_question_chars", 1),
        workers=_number(section, "workers", 1),
        examples=examples,
        followup_seconds=_number(section, "followup_minutes", 0, float) * 60,
    )


def redactor(secret: Secret) -> Callable[[str], str]:
    """A function that replaces the secret in any text: whole, URL-quoted (``%3A``), lower-cased
    (python-telegram-bot lower-cases the rest of some error descriptions) or its secret part
    alone. The bot id before the colon is public (it is the bot's user id) and may stay."""
    value = secret.reveal()
    if not value:
        return lambda text: text
    bot_id, _, secret_part = value.rpartition(":")
    prefix = rf"(?:{re.escape(bot_id)}(?::|%3A))?" if bot_id else ""
    pattern = re.compile(prefix + re.escape(secret_part or value), re.IGNORECASE)

    def redact(text: str) -> str:
        return pattern.sub(REDACTED, text)

    return redact


def redact_logs(secret: Secret) -> Callable[[], None]:
    """Scrub the secret from every log record, whichever logger or handler emits it.

    A record factory is used rather than a handler filter because filters do not see records
    that propagate from child loggers (httpx logs each request URL, which holds the token).
    Returns a function that restores the previous factory.
    """
    redact = redactor(secret)
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call; let logging report it as usual
            return record
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(factory)
    return lambda: logging.setLogRecordFactory(previous)
