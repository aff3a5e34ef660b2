"""The poll engine under a fake clock: spacing, no overlap, backoff, Retry-After, freshness."""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from datetime import UTC, datetime, timedelta

import pytest

from oncall_tui.domain.clock import FakeClock
from oncall_tui.domain.models import Event, Page, Snapshot
from oncall_tui.engine.poller import Freshness, Poller, backoff
from oncall_tui.sources.base import AuthFailed, RateBudget, RateLimited, SourceError, Unavailable

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def page(pid: str, status: str = "triggered") -> Page:
    return Page(
        id=pid,
        number=int(pid.strip("P") or 0),
        title=f"page {pid}",
        status=status,  # type: ignore[arg-type]
        urgency="high",
        service_id="S1",
        service_name="claims-api",
        created_at=T0,
        last_status_change_at=T0,
        html_url=f"https://example.pagerduty.com/incidents/{pid}",
    )


class ScriptedSource:
    """A source whose answers are scripted per call; counts calls and concurrent calls."""

    name = "pages"
    label = "Scripted"

    def __init__(self, clock: FakeClock, script: list[object]) -> None:
        self.clock = clock
        self.script = list(script)
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.release: threading.Event | None = None
        self._lock = threading.Lock()

    def fetch(self) -> Snapshot:
        with self._lock:
            self.calls += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.release is not None:
                self.release.wait(5)
            answer = self.script.pop(0) if self.script else ()
            if isinstance(answer, Exception):
                raise answer
            assert isinstance(answer, tuple)
            return Snapshot(source="pages", taken_at=self.clock.now(), items=answer)
        finally:
            with self._lock:
                self.in_flight -= 1

    def rate_budget(self) -> RateBudget:
        return RateBudget(limit=960, remaining=900)

    def close(self) -> None:
        pass


class Recorder:
    def __init__(self) -> None:
        self.snapshots: list[tuple[Snapshot, tuple[Event, ...]]] = []
        self.freshness: list[Freshness] = []

    def on_snapshot(self, snapshot: Snapshot, events: tuple[Event, ...], _: Freshness) -> None:
        self.snapshots.append((snapshot, events))

    def on_freshness(self, freshness: Freshness) -> None:
        self.freshness.append(freshness)


async def settle(clock: FakeClock, sleepers: int = 1) -> None:
    """Let the loop run until the poller parks on the clock again."""
    for _ in range(500):
        await asyncio.sleep(0.001)
        if clock.sleepers >= sleepers:
            return
    raise AssertionError("the poller never went back to sleep")


def make(source: ScriptedSource, clock: FakeClock, rec: Recorder, **kw: object) -> Poller:
    return Poller(
        source,
        interval=30,
        clock=clock,
        on_snapshot=rec.on_snapshot,
        on_freshness=rec.on_freshness,
        rng=random.Random(1),
        **kw,  # type: ignore[arg-type]
    )


async def test_next_poll_is_interval_after_the_previous_one_ended() -> None:
    clock = FakeClock(T0)
    source = ScriptedSource(clock, [(page("P1"),), (page("P1"), page("P2"))])
    rec = Recorder()
    poller = make(source, clock, rec)
    poller.start()
    await settle(clock)
    assert source.calls == 1
    clock.advance(29)
    await asyncio.sleep(0.01)
    assert source.calls == 1, "polled before the interval passed"
    clock.advance(1)
    await settle(clock)
    assert source.calls == 2
    _, events = rec.snapshots[-1]
    assert [(e.kind, e.key) for e in events] == [("added", "P2")]
    assert poller.freshness.last_success == T0 + timedelta(seconds=30)
    assert poller.freshness.next_poll == T0 + timedelta(seconds=60)
    await poller.stop()


async def test_polls_never_overlap_even_when_refresh_is_hammered() -> None:
    clock = FakeClock(T0)
    source = ScriptedSource(clock, [(), (), ()])
    source.release = threading.Event()
    rec = Recorder()
    poller = make(source, clock, rec)
    poller.start()
    await asyncio.sleep(0.02)
    for _ in range(10):
        poller.refresh_now()
    await asyncio.sleep(0.02)
    assert source.in_flight == 1
    source.release.set()
    await settle(clock)
    # The refreshes asked during the slow poll collapse into (at most) one more poll.
    assert source.max_in_flight == 1
    assert source.calls <= 2
    await poller.stop()


async def test_failure_keeps_last_good_snapshot_and_backs_off() -> None:
    clock = FakeClock(T0)
    source = ScriptedSource(
        clock, [(page("P1"),), Unavailable("PagerDuty failed on its side (500)"), (page("P1"),)]
    )
    rec = Recorder()
    poller = make(source, clock, rec, backoff_base=5.0)
    poller.start()
    await settle(clock)
    clock.advance(30)
    await settle(clock)
    assert source.calls == 2
    assert poller.last_snapshot is not None and poller.last_snapshot.items[0].id == "P1"
    assert poller.freshness.last_error == "PagerDuty failed on its side (500)"
    assert poller.freshness.failures == 1
    assert poller.freshness.last_success == T0  # the good data's time is kept
    wait = (poller.freshness.next_poll - clock.now()).total_seconds()  # type: ignore[operator]
    assert 2.5 <= wait <= 5.0 or wait == 5.0
    clock.advance(5)
    await settle(clock)
    assert source.calls == 3
    assert poller.freshness.last_error is None and poller.freshness.failures == 0
    await poller.stop()


async def test_retry_after_is_honoured_over_a_shorter_backoff() -> None:
    clock = FakeClock(T0)
    source = ScriptedSource(clock, [RateLimited("PagerDuty rate limit", retry_after=42), ()])
    rec = Recorder()
    poller = make(source, clock, rec, backoff_base=1.0)
    poller.start()
    await settle(clock)
    assert poller.freshness.next_poll == T0 + timedelta(seconds=42)
    clock.advance(41)
    await asyncio.sleep(0.01)
    assert source.calls == 1
    clock.advance(1)
    await settle(clock)
    assert source.calls == 2
    await poller.stop()


async def test_auth_failure_waits_the_cap_but_refresh_retries_now() -> None:
    clock = FakeClock(T0)
    source = ScriptedSource(clock, [AuthFailed("PagerDuty refused the token (401)"), ()])
    rec = Recorder()
    poller = make(source, clock, rec, backoff_cap=300.0)
    poller.start()
    await settle(clock)
    assert poller.freshness.next_poll == T0 + timedelta(seconds=300)
    poller.refresh_now()
    for _ in range(500):  # the wake, the second poll and the next sleep, in that order
        await asyncio.sleep(0.001)
        if source.calls == 2 and poller.freshness.last_error is None and clock.sleepers:
            break
    assert source.calls == 2
    assert poller.freshness.last_error is None
    await poller.stop()


async def test_a_hung_fetch_times_out_and_is_reported() -> None:
    clock = FakeClock(T0)
    source = ScriptedSource(clock, [()])
    source.release = threading.Event()
    rec = Recorder()
    poller = make(source, clock, rec, timeout=0.05)
    poller.start()
    await settle(clock)
    assert poller.freshness.last_error == "no answer within 0.05 s"
    source.release.set()
    await poller.stop()


async def test_an_adapter_bug_does_not_kill_the_loop() -> None:
    clock = FakeClock(T0)
    source = ScriptedSource(clock, [ZeroDivisionError("boom"), (page("P9"),)])
    rec = Recorder()
    poller = make(source, clock, rec, backoff_base=1.0)
    poller.start()
    await settle(clock)
    assert poller.freshness.last_error == "unexpected ZeroDivisionError: boom"
    clock.advance(1)
    await settle(clock)
    assert rec.snapshots and rec.snapshots[-1][0].items[0].id == "P9"
    await poller.stop()


def test_freshness_goes_stale_past_three_intervals() -> None:
    f = Freshness(source="pages", label="PD", interval=30, last_success=T0)
    assert not f.is_stale(T0 + timedelta(seconds=90))
    assert f.is_stale(T0 + timedelta(seconds=91))
    never = Freshness(source="pages", label="PD", interval=30, last_error="401")
    assert never.is_stale(T0)


@pytest.mark.parametrize("failures", range(1, 12))
def test_backoff_grows_with_jitter_and_stays_capped(failures: int) -> None:
    rng = random.Random(failures)
    waits = [backoff(failures, base=2.0, cap=60.0, rng=rng) for _ in range(200)]
    step = min(60.0, 2.0 * 2 ** (failures - 1))
    assert all(max(2.0, step / 2) <= w <= max(2.0, step) for w in waits)
    assert max(waits) <= 60.0
    if step > 4:
        assert len({round(w, 3) for w in waits}) > 50, "no jitter"


def test_source_errors_carry_one_line_messages() -> None:
    err = RateLimited("slow down", retry_after=3)
    assert isinstance(err, SourceError) and err.retry_after == 3 and err.status == 429


async def test_stop_ends_a_loop_that_swallowed_the_first_cancel() -> None:
    from oncall_tui.engine.poller import cancel_and_wait

    async def stubborn() -> None:
        # What asyncio.wait_for does on Python 3.11 when the call finishes meanwhile:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)
        await asyncio.sleep(3600)

    task = asyncio.get_running_loop().create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task), timeout=5)
    assert task.done()
