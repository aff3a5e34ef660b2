"""The poll loop: one asyncio task per source, never overlapping, backing off on failure.

The next poll starts `interval` seconds after the previous one *ended*, so a slow provider
slows the loop down instead of stacking requests. A failure keeps the last good snapshot
and waits `backoff(failures)` (exponential with full jitter, capped), or what the provider
asked for (`Retry-After`), whichever is longer. `refresh_now()` cuts any wait short.

The blocking SDK call runs in a worker thread (`asyncio.to_thread`) with a timeout, and so
does the diff against the previous snapshot; the thread only returns values, it never
touches the cockpit.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from oncall_tui.domain.clock import Clock
from oncall_tui.domain.diff import diff
from oncall_tui.domain.models import Event, Snapshot
from oncall_tui.sources.base import (
    AuthFailed,
    RateBudget,
    RateLimited,
    Source,
    SourceError,
    Unavailable,
)

STALE_FACTOR = 3.0
"""Data older than this many intervals is shown as stale."""


@dataclass(frozen=True, slots=True)
class Freshness:
    """How current a source's data is, for the pane title and `status`."""

    source: str
    label: str
    interval: float
    last_success: datetime | None = None
    last_attempt: datetime | None = None
    next_poll: datetime | None = None
    last_error: str | None = None
    failures: int = 0
    polling: bool = False
    budget: RateBudget = RateBudget()

    def age(self, now: datetime) -> float | None:
        """Seconds since the last good data, or None if there never was any."""
        if self.last_success is None:
            return None
        return max(0.0, (now - self.last_success).total_seconds())

    def is_stale(self, now: datetime) -> bool:
        """Past three intervals without fresh data (or never had any after an error)."""
        age = self.age(now)
        if age is None:
            return self.last_error is not None
        return age > STALE_FACTOR * self.interval


def backoff(failures: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait after `failures` consecutive failures: full jitter, capped.

    Full jitter (uniform between half and the whole exponential step) spreads out
    reconnecting clients; never less than `base` so a flapping provider is not hammered.
    """
    step = min(cap, base * (2 ** max(0, failures - 1)))
    return max(base, rng.uniform(step / 2, step))


async def cancel_and_wait(task: asyncio.Task[None]) -> None:
    """Cancel `task` and wait until it has ended.

    Cancelling once is not enough on Python 3.11: `asyncio.wait_for` swallows a cancel that
    lands just as the awaited call finishes, and the loop then goes on to its next sleep.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    if not task.cancelled():
        task.exception()  # retrieved: stopping never raises, and asyncio logs nothing


async def wait_or_wake(clock: Clock, delay: float, wake: asyncio.Event) -> None:
    """Sleep `delay` seconds on `clock`, or less if `wake` is set meanwhile."""
    sleeper = asyncio.ensure_future(clock.sleep(delay))
    waker = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, waker):
            task.cancel()
        # Let the cancelled helpers unwind so none outlives this wait.
        await asyncio.gather(sleeper, waker, return_exceptions=True)


SnapshotHandler = Callable[[Snapshot, tuple[Event, ...], Freshness], None]
FreshnessHandler = Callable[[Freshness], None]


class Poller:
    """Polls one source forever; reports snapshots and freshness through callbacks.

    Callbacks run on the event loop (never in the worker thread), so they may touch the UI.
    """

    def __init__(
        self,
        source: Source,
        *,
        interval: float,
        clock: Clock,
        on_snapshot: SnapshotHandler,
        on_freshness: FreshnessHandler,
        timeout: float = 30.0,
        backoff_base: float | None = None,
        backoff_cap: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        self.source = source
        self.interval = interval
        self.timeout = timeout
        self._clock = clock
        self._on_snapshot = on_snapshot
        self._on_freshness = on_freshness
        self._backoff_base = backoff_base if backoff_base is not None else min(5.0, interval)
        self._backoff_cap = backoff_cap
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_snapshot: Snapshot | None = None
        self.freshness = Freshness(source=source.name, label=source.label, interval=interval)

    def start(self) -> asyncio.Task[None]:
        """Start the loop on the running event loop (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self.run(), name=f"poll-{self.source.name}"
            )
        return self._task

    async def stop(self) -> None:
        """Stop the loop; an SDK call in flight finishes in its thread and is dropped."""
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    def refresh_now(self) -> None:
        """Poll as soon as the current poll (if any) ends; cuts a wait or backoff short."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            delay = await self.poll_once()
            await self._wait(delay)

    async def poll_once(self) -> float:
        """Poll once and report; returns how long to wait before the next poll."""
        self._wake.clear()
        self._set(polling=True, last_attempt=self._clock.now())
        try:
            snapshot, events = await asyncio.wait_for(
                asyncio.to_thread(self._fetch_and_diff), timeout=self.timeout
            )
        except TimeoutError:
            return self._failed(Unavailable(f"no answer within {self.timeout:g} s"))
        except SourceError as exc:
            return self._failed(exc)
        except Exception as exc:  # a bug in an adapter must not kill the loop
            return self._failed(SourceError(f"unexpected {type(exc).__name__}: {exc}"))
        self.last_snapshot = snapshot
        now = self._clock.now()
        self._set(
            polling=False,
            last_success=now,
            last_error=None,
            failures=0,
            next_poll=now + timedelta(seconds=self.interval),
            budget=self.source.rate_budget(),
        )
        self._on_snapshot(snapshot, events, self.freshness)
        return self.interval

    def _fetch_and_diff(self) -> tuple[Snapshot, tuple[Event, ...]]:
        """In the worker thread: the poll, and its comparison with the last one (5,000 pages
        take milliseconds to compare; the event loop has better things to do). Unchanged
        items keep their previous objects (`Snapshot.sharing`)."""
        snapshot = self.source.fetch().sharing(self.last_snapshot)
        return snapshot, diff(self.last_snapshot, snapshot)

    def _failed(self, error: SourceError) -> float:
        failures = self.freshness.failures + 1
        delay = backoff(failures, base=self._backoff_base, cap=self._backoff_cap, rng=self._rng)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        if isinstance(error, AuthFailed):
            # A refused token will not fix itself in seconds: wait the cap, `r` retries now.
            delay = self._backoff_cap
        now = self._clock.now()
        self._set(
            polling=False,
            failures=failures,
            last_error=error.message,
            next_poll=now + timedelta(seconds=delay),
            budget=self.source.rate_budget(),
        )
        return delay

    async def _wait(self, delay: float) -> None:
        await wait_or_wake(self._clock, delay, self._wake)

    def _set(self, **changes: object) -> None:
        self.freshness = replace(self.freshness, **changes)  # type: ignore[arg-type]
        self._on_freshness(self.freshness)
