"""Who may ask the bot, and how often."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class AccessPolicy:
    """An allow-list of user ids and chat ids; both empty means the bot is open to everyone."""

    users: frozenset[int] = frozenset()
    chats: frozenset[int] = frozenset()

    @property
    def restricted(self) -> bool:
        return bool(self.users or self.chats)

    def allows(self, user_id: int | None, chat_id: int | None) -> bool:
        """A listed user may ask anywhere; anyone may ask inside a listed chat."""
        if not self.restricted:
            return True
        return (user_id is not None and user_id in self.users) or (chat_id is not None and chat_id in self.chats)


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key, over a sliding window.

    Only ever called from the event loop thread, so it needs no lock.
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[Hashable, deque[float]] = {}

    def acquire(self, key: Hashable) -> float:
        """Record an event and return 0.0, or return the seconds until the key may try again."""
        if self.limit <= 0:
            return 0.0
        now = self._clock()
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self.window:
            events.popleft()
        if len(events) >= self.limit:
            return max(events[0] + self.window - now, 0.001)
        events.append(now)
        self._forget_idle(now)
        return 0.0

    def _forget_idle(self, now: float) -> None:
        # Keeps memory bounded by recent users rather than every user ever seen.
        if len(self._events) > 1024:
            idle = [key for key, events in self._events.items() if not events or now - events[-1] >= self.window]
            for key in idle:
                del self._events[key]
