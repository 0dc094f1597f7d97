"""Who may ask the server, and how often: an optional bearer token and a per-client rate limit."""

from __future__ import annotations

import hmac

from bot.telegram_access import RateLimiter

TOKEN_ENV = "NEWSDESK_API_TOKEN"


class TokenCheck:
    """``Authorization: Bearer <token>`` compared in constant time; no token configured lets all in.

    The token is kept as bytes and never put in a message, a log line or a repr.
    """

    def __init__(self, token: str | None):
        self._token = token.encode("utf-8") if token else None

    @property
    def required(self) -> bool:
        return self._token is not None

    def allows(self, authorization: str | None) -> bool:
        if self._token is None:
            return True
        scheme, _, given = (authorization or "").partition(" ")
        # compare_digest takes the same time wherever the first wrong byte is.
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode("utf-8"), self._token)

    def __repr__(self) -> str:
        return f"TokenCheck(required={self.required})"


class ClientLimiter:
    """At most ``per_minute`` questions a minute from each client address (0 turns it off)."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._limiter = RateLimiter(per_minute, 60.0)

    def wait_seconds(self, client: str) -> float:
        """0.0 when the client may ask now (and counts the question), else seconds to wait."""
        return self._limiter.acquire(client)
