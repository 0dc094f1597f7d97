"""What the Telegram bot remembers between messages: each chat's previous question (for
follow-ups) and each answer's buttons ("more", "newer", "older").

Both live in memory, bounded, and are lost on restart: a follow-up then reads as a new
question and an old button says to ask again. Callback data holds only an action and a
random answer id (``more:3f9a1c2e``), never the question, so it stays far under Telegram's
64 bytes and a forged press can name nothing but an answer given in that same chat.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from retrieval.followup import Conversation, Reading
from retrieval.types import Evidence, Filters

MORE, NEWER, OLDER = "more", "newer", "older"
_CALLBACK = re.compile(r"(?P<action>more|newer|older):(?P<id>[0-9a-f]{8})")
# How many chats and answers are remembered; the oldest are forgotten first.
MAX_CHATS = 10_000
MAX_ANSWERS = 10_000


class ChatContexts:
    """Each chat's conversation, forgotten after ``ttl_seconds`` of silence (0: no follow-ups)."""

    def __init__(self, ttl_seconds: float, limit: int = MAX_CHATS) -> None:
        self.ttl_seconds, self.limit = ttl_seconds, limit
        self._chats: OrderedDict[int, Conversation] = OrderedDict()

    def read(self, chat_id: int, text: str, now: float) -> Reading:
        """How to search ``text`` in this chat: a follow-up builds on the chat's last question."""
        conversation = self._chats.get(chat_id)
        if conversation is None:  # none is kept when ttl_seconds <= 0
            return Reading(" ".join(text.split()))
        return conversation.read(text, now)

    def remember(self, chat_id: int, question: str, now: float) -> None:
        if self.ttl_seconds <= 0:
            return
        conversation = self._chats.pop(chat_id, None) or Conversation(self.ttl_seconds)
        conversation.remember(question, now)
        self._chats[chat_id] = conversation
        while len(self._chats) > self.limit:
            self._chats.popitem(last=False)

    def forget(self, chat_id: int) -> None:
        self._chats.pop(chat_id, None)


@dataclass(frozen=True)
class ShownAnswer:
    """An answer's message, as its buttons need it: what was asked and what was shown."""

    chat_id: int
    question: str
    filters: Filters
    shown: int  # evidence sentences shown so far (the next "more" starts after them)
    newest: str | None
    oldest: str | None


def dates_of(evidence: Sequence[Evidence]) -> tuple[str | None, str | None]:
    """The newest and oldest dates among the evidence shown (None when none is dated)."""
    days = sorted(e.date for e in evidence if e.date)
    return (days[-1], days[0]) if days else (None, None)


def day_after(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


class AnswerBook:
    """The answers whose buttons can still be pressed, by a random id."""

    def __init__(self, limit: int = MAX_ANSWERS) -> None:
        self.limit = limit
        self._answers: OrderedDict[str, ShownAnswer] = OrderedDict()

    def add(self, shown: ShownAnswer) -> str:
        answer_id = secrets.token_hex(4)
        while answer_id in self._answers:
            answer_id = secrets.token_hex(4)
        self._answers[answer_id] = shown
        while len(self._answers) > self.limit:
            self._answers.popitem(last=False)
        return answer_id

    def get(self, answer_id: str, chat_id: int) -> ShownAnswer | None:
        """The answer, only in the chat it was given in."""
        shown = self._answers.get(answer_id)
        return shown if shown is not None and shown.chat_id == chat_id else None


def parse_callback(data: str | None) -> tuple[str, str] | None:
    """(action, answer id) from a button's callback data; None for anything not made here."""
    match = _CALLBACK.fullmatch(data or "")
    return (match.group("action"), match.group("id")) if match else None


def keyboard(answer_id: str, shown: ShownAnswer, more: bool) -> InlineKeyboardMarkup | None:
    """The buttons under an answer: "more" when there may be further evidence, "newer" and
    "older" when the evidence shown has dates."""
    buttons = []
    if more:
        buttons.append(InlineKeyboardButton("➕ more", callback_data=f"{MORE}:{answer_id}"))
    if shown.newest:
        buttons.append(InlineKeyboardButton(f"⏩ newer than {shown.newest}", callback_data=f"{NEWER}:{answer_id}"))
    if shown.oldest:
        buttons.append(InlineKeyboardButton(f"⏪ older than {shown.oldest}", callback_data=f"{OLDER}:{answer_id}"))
    return InlineKeyboardMarkup([buttons]) if buttons else None
