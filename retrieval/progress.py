"""Progress for runs nobody watches on a terminal: a plain line every few seconds.

A progress bar redraws one line with carriage returns, which a cron mail or a log file shows
as nothing until the end (or as garbage). A 45-minute build run from cron should say, now and
then, how far it is, how fast it goes and how long is left.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class ProgressLog:
    """Counts work done and says so through ``echo`` at most every ``every`` seconds."""

    def __init__(
        self,
        total: int,
        every: float,
        echo: Callable[[str], None],
        what: str = "embedding",
        unit: str = "sentences",
        clock: Callable[[], float] = time.monotonic,
    ):
        self.total, self.every, self.echo, self.what, self.unit, self.clock = total, every, echo, what, unit, clock
        self.done = 0
        self.started = self.last = clock()

    def update(self, count: int) -> None:
        self.done += count
        now = self.clock()
        if now - self.last >= self.every and self.done < self.total:
            self.last = now
            self.echo(self.line(now))

    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        share = 100.0 * self.done / self.total if self.total else 100.0
        eta = _duration(left) if left != float("inf") else "unknown"
        return (
            f"{self.what}: {self.done:,} of {self.total:,} {self.unit} ({share:.0f}%), "
            f"{rate:,.0f} {self.unit}/s, about {eta} left"
        )


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
