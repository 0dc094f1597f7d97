"""Who may ask the bot, and how often."""

from __future__ import annotations

from bot.telegram_access import AccessPolicy, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_empty_allow_list_lets_everyone_ask():
    assert AccessPolicy().allows(42, 42) and AccessPolicy().allows(None, None)


def test_a_listed_user_may_ask_in_any_chat():
    policy = AccessPolicy(users=frozenset({7}))
    assert policy.allows(7, 7) and policy.allows(7, -100123)


def test_anyone_may_ask_inside_a_listed_group():
    policy = AccessPolicy(chats=frozenset({-100123}))
    assert policy.allows(99, -100123) and policy.allows(None, -100123)


def test_strangers_are_not_allowed_when_a_list_is_set():
    policy = AccessPolicy(users=frozenset({7}), chats=frozenset({-100123}))
    assert not policy.allows(8, 8) and not policy.allows(None, None) and not policy.allows(8, -5)


def test_the_rate_limit_allows_the_quota_then_says_how_long_to_wait():
    clock = Clock()
    limiter = RateLimiter(limit=3, window=60, clock=clock)
    assert [limiter.acquire(1) for _ in range(3)] == [0.0, 0.0, 0.0]
    clock.now += 10
    assert limiter.acquire(1) == 50


def test_the_rate_limit_is_per_user():
    limiter = RateLimiter(limit=1, window=60, clock=Clock())
    assert limiter.acquire(1) == 0.0 and limiter.acquire(2) == 0.0
    assert limiter.acquire(1) > 0


def test_questions_are_allowed_again_once_the_window_has_passed():
    clock = Clock()
    limiter = RateLimiter(limit=2, window=60, clock=clock)
    limiter.acquire(1), limiter.acquire(1)
    clock.now += 30
    assert limiter.acquire(1) > 0
    clock.now += 30
    assert limiter.acquire(1) == 0.0


def test_refused_attempts_do_not_use_up_the_quota():
    clock = Clock()
    limiter = RateLimiter(limit=1, window=60, clock=clock)
    limiter.acquire(1)
    for _ in range(5):
        limiter.acquire(1)
    clock.now += 60
    assert limiter.acquire(1) == 0.0


def test_a_limit_of_zero_turns_the_rate_limit_off():
    limiter = RateLimiter(limit=0, window=60, clock=Clock())
    assert all(limiter.acquire(1) == 0.0 for _ in range(100))
