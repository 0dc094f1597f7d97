"""Answers off the event loop: a fixed set of worker threads and a bounded wait in front of them.

Encoding a question and ranking its candidates takes milliseconds of CPU (torch and numpy
release the GIL while they work); done on the event loop it would stall every other request.
Past ``workers + queue`` questions in flight a request is refused at once with a hint of when
to retry, so a burst is never answered by a hang.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class PoolFull(Exception):
    """Every worker is busy and the queue is full; ``retry_after`` is a guess in whole seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"the server is answering as many questions as it can; retry in {retry_after} s")
        self.retry_after = retry_after


class AnswerPool:
    def __init__(self, workers: int, queue: int):
        if workers < 1 or queue < 0:
            raise ValueError("an answer pool needs at least one worker and a queue of zero or more")
        self.workers = workers
        self.queue = queue
        self.in_flight = 0  # admitted and not finished: running plus waiting
        self._lock = threading.Lock()
        self._seconds = 0.05  # moving average of one answer's time, for Retry-After
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="newsdesk-answer")

    async def run(self, fn: Callable[..., T], *args) -> T:
        """``fn(*args)`` on a worker thread; PoolFull when the queue is full."""
        with self._lock:
            if self.in_flight >= self.workers + self.queue:
                raise PoolFull(self.retry_after())
            self.in_flight += 1
        try:
            future = self._executor.submit(self._timed, fn, *args)
        except BaseException:
            self._finished()
            raise
        # Counted down when the work ends, not when the client stops waiting: an abandoned
        # request still occupies its worker until it finishes.
        future.add_done_callback(self._on_done)
        return await asyncio.wrap_future(future)

    def retry_after(self) -> int:
        return max(1, math.ceil(self.in_flight * self._seconds / self.workers))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _timed(self, fn: Callable[..., T], *args) -> T:
        started = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self._seconds = 0.9 * self._seconds + 0.1 * (time.perf_counter() - started)

    def _on_done(self, _future: Future) -> None:
        self._finished()

    def _finished(self) -> None:
        with self._lock:
            self.in_flight -= 1
