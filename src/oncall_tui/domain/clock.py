"""Clocks: the real one, and a fake one that tests and the simulator move by hand.

Everything that asks "what time is it" or "wait this long" takes a `Clock`, so a test can
run an hour of polling in a millisecond and a snapshot can freeze the time on screen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Wall-clock time for display and provider timestamps, plus an awaitable sleep."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards, for intervals."""
        ...

    def sleep(self, seconds: float) -> Awaitable[None]:
        """Wait `seconds` on this clock, counted from the call (not from the first await)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> Awaitable[None]:
        return asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that moves only when told to (`advance`), for tests and frozen snapshots.

    Sleepers wake when `advance` carries the time past their deadline, so a poll loop under
    a fake clock runs exactly as it would in real time, only as fast as the test drives it.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
        self._mono = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has passed."""
        self._now += timedelta(seconds=seconds)
        self._mono += seconds
        due = [s for s in self._sleepers if s[0] <= self._mono]
        self._sleepers = [s for s in self._sleepers if s[0] > self._mono]
        for _, future in due:
            if not future.done():
                future.set_result(None)

    def sleep(self, seconds: float) -> Awaitable[None]:
        # The deadline is fixed now, at the call: were it fixed when a task first runs the
        # sleep, an `advance` in between would push it out and the sleeper would never wake.
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if seconds <= 0:
            future.set_result(None)
        else:
            self._sleepers.append((self._mono + seconds, future))
        return future

    @property
    def sleepers(self) -> int:
        """How many tasks are waiting on this clock (tests wait for a loop to park)."""
        return sum(1 for _, f in self._sleepers if not f.done())
