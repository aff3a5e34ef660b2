"""The outbox: every write goes to the journal first, then to the provider, exactly once.

`submit()` persists the write and returns at once, so the cockpit can show the new state
while it is pending. One task sends the writes one at a time, oldest first. A transient
failure (rate limit, 5xx, timeout, network) keeps the write pending and retries it with
backoff; a refusal from the provider (a 4xx that retrying cannot fix) marks it rejected with
the provider's reason. An answer that cannot be read (`BadResponse`: broken JSON, the wrong
shape) is no refusal: the write may well have landed, so it is retried like a lost answer.
Writes still pending (or caught mid-flight) when the cockpit stops are sent when it starts
again.

Exactly once: the attempt counter is committed *before* a write is sent, so a write that was
in flight when the response (or the process) was lost is retried with `attempt >= 1`, and the
writer then checks whether the provider already applied it (a note already posted, an
incident already resolved) before sending it again.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

from oncall_tui.domain.clock import Clock
from oncall_tui.engine.poller import backoff, cancel_and_wait, wait_or_wake
from oncall_tui.sources.base import (
    AuthFailed,
    BadResponse,
    RateLimited,
    SourceError,
    Unavailable,
)
from oncall_tui.store.journal import Journal, OutboxEntry


@runtime_checkable
class Writer(Protocol):
    """A source that can apply writes."""

    def apply(
        self, action: str, targets: Sequence[str], payload: Mapping[str, Any], *, attempt: int
    ) -> None:
        """Apply one write; `attempt` > 0 means an earlier try may already have landed."""
        ...


class ReadOnly(Exception):
    """The cockpit runs read-only: the write was not queued."""


class Outbox:
    """Queues writes durably and applies them in the background."""

    def __init__(
        self,
        journal: Journal,
        writers: Mapping[str, Writer],
        clock: Clock,
        *,
        read_only: bool = False,
        on_change: Callable[[OutboxEntry], None] | None = None,
        timeout: float = 120.0,
        backoff_base: float = 5.0,
        backoff_cap: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        self.journal = journal
        self.writers = dict(writers)
        self.read_only = read_only
        self.timeout = timeout
        self._clock = clock
        self._on_change = on_change or (lambda entry: None)
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # A write that timed out may still be running in its thread; it is not sent again
        # until that thread has finished, so two attempts never race.
        self._stragglers: dict[int, asyncio.Future[None]] = {}

    # -- the cockpit's side --------------------------------------------------------------

    def submit(
        self, source: str, action: str, targets: Sequence[str], payload: Mapping[str, Any]
    ) -> OutboxEntry:
        """Persist a write and schedule it; raises `ReadOnly` in read-only mode."""
        if self.read_only:
            raise ReadOnly(f"read-only mode: {action} was not sent")
        if source not in self.writers:
            raise SourceError(f"{source} is not configured for writes")
        entry = self.journal.add_outbox(
            created_at=self._clock.now(),
            source=source,
            action=action,
            targets=targets,
            payload=payload,
        )
        self._on_change(entry)
        self._wake.set()
        return entry

    def open_entries(self) -> list[OutboxEntry]:
        return self.journal.open_outbox()

    def cancel(self, entry_id: int) -> OutboxEntry:
        """Drop a write that has not been applied yet."""
        entry = self.journal.outbox_entry(entry_id)
        if entry.state != "pending":
            return entry
        entry = self.journal.update_outbox(
            entry_id, state="cancelled", last_error=entry.last_error, done_at=self._clock.now()
        )
        self._on_change(entry)
        return entry

    def retry_now(self) -> None:
        """Send every pending write now, ignoring its backoff."""
        for entry in self.journal.open_outbox():
            if entry.next_attempt_at is not None:
                self.journal.update_outbox(
                    entry.id, state="pending", last_error=entry.last_error, next_attempt_at=None
                )
        self._wake.set()

    # -- the loop ------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self.run(), name="outbox")
        return self._task

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    async def run(self) -> None:
        # Writes caught in flight by a crash or a quit go back to pending: their attempt
        # count already says an earlier try may have landed.
        for entry in self.journal.open_outbox():
            if entry.state == "in_flight":
                entry = self.journal.update_outbox(
                    entry.id,
                    state="pending",
                    last_error=entry.last_error,
                    next_attempt_at=entry.next_attempt_at,
                )
            self._on_change(entry)
        while True:
            delay = await self.drain()
            await wait_or_wake(self._clock, delay, self._wake)

    async def drain(self) -> float:
        """Send every due write; return the seconds until the next one is due (or a long nap)."""
        self._wake.clear()
        if self.read_only:
            # Read-only sends nothing, not even writes queued by an earlier, writable
            # session: they stay pending (and shown so) until a writable cockpit starts.
            return 3600.0
        next_due: float | None = None
        for entry in self.journal.open_outbox():
            now = self._clock.now()
            straggler = self._stragglers.get(entry.id)
            if straggler is not None and not straggler.done():
                next_due = 1.0 if next_due is None else min(next_due, 1.0)
                continue
            self._stragglers.pop(entry.id, None)
            if entry.next_attempt_at is not None and entry.next_attempt_at > now:
                wait = (entry.next_attempt_at - now).total_seconds()
                next_due = wait if next_due is None else min(next_due, wait)
                continue
            retry_in = await self._send(entry)
            if retry_in is not None:
                next_due = retry_in if next_due is None else min(next_due, retry_in)
        return next_due if next_due is not None else 3600.0

    async def _send(self, entry: OutboxEntry) -> float | None:
        writer = self.writers.get(entry.source)
        if writer is None:
            self._finish(entry, "rejected", f"{entry.source} is no longer configured")
            return None
        attempt = entry.attempts
        entry = self.journal.update_outbox(
            entry.id, state="in_flight", attempts=attempt + 1, last_error=entry.last_error
        )
        self._on_change(entry)
        call = asyncio.ensure_future(
            asyncio.to_thread(
                writer.apply, entry.action, entry.targets, entry.payload, attempt=attempt
            )
        )
        try:
            await asyncio.wait_for(asyncio.shield(call), timeout=self.timeout)
        except TimeoutError:
            self._stragglers[entry.id] = call
            call.add_done_callback(self._straggler_done)
            return self._retry(entry, Unavailable(f"no answer within {self.timeout:g} s"))
        except (RateLimited, Unavailable, AuthFailed, BadResponse) as exc:
            # BadResponse: the provider answered, but not readably; the write may have
            # landed, and the retry (attempt >= 1) looks for it before sending it again.
            return self._retry(entry, exc)
        except SourceError as exc:
            self._finish(entry, "rejected", exc.message)
            return None
        except Exception as exc:  # an adapter bug must not kill the loop or lose the write
            return self._retry(entry, SourceError(f"unexpected {type(exc).__name__}: {exc}"))
        self._finish(entry, "done", None)
        return None

    def _straggler_done(self, future: asyncio.Future[None]) -> None:
        """A timed-out write's thread ended: its retry may go now (when it is due)."""
        if not future.cancelled():
            future.exception()  # retrieved, so asyncio does not log it as never read
        self._wake.set()

    def _retry(self, entry: OutboxEntry, error: SourceError) -> float:
        delay = backoff(
            entry.attempts, base=self._backoff_base, cap=self._backoff_cap, rng=self._rng
        )
        if isinstance(error, RateLimited) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        entry = self.journal.update_outbox(
            entry.id,
            state="pending",
            last_error=error.message,
            next_attempt_at=self._clock.now() + timedelta(seconds=delay),
        )
        self._on_change(entry)
        return delay

    def _finish(self, entry: OutboxEntry, state: str, error: str | None) -> None:
        entry = self.journal.update_outbox(
            entry.id,
            state="done" if state == "done" else "rejected",
            last_error=error,
            done_at=self._clock.now(),
        )
        self._on_change(entry)
