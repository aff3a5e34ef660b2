"""Muting and unmuting monitors through `DatadogSource.apply()`, as the outbox sends them,
against the simulator: v2 downtimes created and cancelled, Datadog's refusals as final
errors in its words, retries that find the earlier try landed, and the outbox end to end
with a real journal."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from oncall_tui.config import Settings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.domain.models import Monitor
from oncall_tui.engine.outbox import Outbox, Writer
from oncall_tui.simulator import Simulator
from oncall_tui.simulator.datadog_world import Downtime, SimMonitor
from oncall_tui.sources.base import (
    AuthFailed,
    BadResponse,
    RateLimited,
    SourceError,
    Unavailable,
)
from oncall_tui.sources.datadog import DatadogSource
from oncall_tui.store.journal import Journal

TRANSIENT = (RateLimited, Unavailable, AuthFailed)


@pytest.fixture
def source(simulator: Simulator, sim_clock: FakeClock) -> Iterator[DatadogSource]:
    settings = replace(demo_settings(Settings(), simulator).datadog, timeout=5.0)
    made = DatadogSource(settings, sim_clock)
    yield made
    made.close()


def unmuted(sim: Simulator) -> list[SimMonitor]:
    world = sim.world.datadog
    return [
        m
        for m in world.monitors.values()
        if m.team == "benefits" and not world.muted_groups(m) and m.overall_state != "OK"
    ]


def downtimes_of(sim: Simulator, monitor_id: int, status: str = "active") -> list[Downtime]:
    now = sim.world.datadog.now
    return [
        d
        for d in sim.world.datadog.downtimes.values()
        if d.monitor_id == monitor_id and d.status(now) == status
    ]


def shown(sim: Simulator, monitor_id: int) -> list[dict[str, Any]]:
    """The monitor's downtimes as `/_sim/state` shows them."""
    state = sim.world.snapshot()["datadog"]["downtimes"]
    return [d for d in state if d["monitor_id"] == monitor_id]


def fetched(source: DatadogSource, monitor_id: int) -> Monitor:
    item = next(i for i in source.fetch().items if isinstance(i, Monitor) and i.id == monitor_id)
    assert isinstance(item, Monitor)
    return item


def posts(sim: Simulator) -> list[int]:
    return [
        e.response.status
        for e in sim.exchanges
        if e.request.provider == "datadog" and e.request.method == "POST"
    ]


# --------------------------------------------------------------------------- mute


def test_the_source_is_an_outbox_writer(source: DatadogSource) -> None:
    assert isinstance(source, Writer)


def test_mute_until_a_time_with_a_reason(
    simulator: Simulator, sim_clock: FakeClock, source: DatadogSource
) -> None:
    monitor = unmuted(simulator)[0]
    until = sim_clock.now() + timedelta(hours=4)
    payload = {"scope": None, "end": until.isoformat(), "reason": "deploying the fix, #123"}
    source.apply("mute", [str(monitor.id)], payload, attempt=0)
    [downtime] = downtimes_of(simulator, monitor.id)
    assert (downtime.scope, downtime.end, downtime.message) == ("*", until, payload["reason"])
    assert downtime.start == sim_clock.now()
    [state] = shown(simulator, monitor.id)
    assert (state["status"], state["message"], state["canceled"]) == (
        "active",
        "deploying the fix, #123",
        None,
    )
    row = fetched(source, monitor.id)
    assert (row.muted, row.muted_until, row.mute_reason) == (True, until, payload["reason"])
    assert row.downtime_ids == (downtime.id,)


def test_mute_indefinitely_and_with_a_z_time(
    simulator: Simulator, sim_clock: FakeClock, source: DatadogSource
) -> None:
    first, second = unmuted(simulator)[:2]
    source.apply("mute", [str(first.id)], {"end": None, "reason": "vendor bug"}, attempt=0)
    end = (sim_clock.now() + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    source.apply("mute", [str(second.id)], {"end": end, "reason": "half an hour"}, attempt=0)
    assert [d.end for d in downtimes_of(simulator, first.id)] == [None]
    assert [d.end for d in downtimes_of(simulator, second.id)] == [
        sim_clock.now().replace(microsecond=0) + timedelta(minutes=30)
    ]


def test_mute_one_groups_scope(
    simulator: Simulator, sim_clock: FakeClock, source: DatadogSource
) -> None:
    world = simulator.world.datadog
    multi = next(m for m in world.monitors.values() if m.multi and m.team == "benefits")
    group = next(iter(multi.groups))
    end = (sim_clock.now() + timedelta(hours=1)).isoformat()
    source.apply("mute", [str(multi.id)], {"scope": group, "end": end, "reason": "x"}, attempt=0)
    [downtime] = downtimes_of(simulator, multi.id)
    assert downtime.scope == group
    assert set(world.muted_groups(multi)) == {group}


def test_a_retried_mute_that_landed_does_not_mute_twice(
    simulator: Simulator, sim_clock: FakeClock, source: DatadogSource
) -> None:
    monitor = unmuted(simulator)[0]
    end = (sim_clock.now() + timedelta(hours=1)).isoformat()
    payload = {"scope": "env:prod", "end": end, "reason": "rollback in progress"}
    source.apply("mute", [str(monitor.id)], payload, attempt=0)
    sim_clock.advance(60)
    source.apply("mute", [str(monitor.id)], payload, attempt=1)
    assert len(downtimes_of(simulator, monitor.id)) == 1
    # A different reason or scope is a different mute.
    source.apply("mute", [str(monitor.id)], {**payload, "reason": "other"}, attempt=1)
    assert len(downtimes_of(simulator, monitor.id)) == 2


def test_a_mute_whose_answer_was_lost_is_not_sent_again(
    simulator: Simulator, sim_clock: FakeClock, source: DatadogSource
) -> None:
    monitor = unmuted(simulator)[0]
    payload = {"scope": None, "end": None, "reason": "until the vendor fixes it"}
    simulator.app("datadog").lose_write_answers = 1  # type: ignore[attr-defined]
    with pytest.raises(Unavailable, match="500"):
        source.apply("mute", [str(monitor.id)], payload, attempt=0)
    assert len(downtimes_of(simulator, monitor.id)) == 1, "it landed, the answer was lost"
    source.apply("mute", [str(monitor.id)], payload, attempt=1)
    assert len(downtimes_of(simulator, monitor.id)) == 1
    assert posts(simulator) == [500]


@pytest.mark.parametrize("mode", ["truncated", "bad_json", "wrong_shape"])
def test_a_mute_answered_unreadably_is_retried_and_lands_once(
    simulator: Simulator, source: DatadogSource, mode: str
) -> None:
    # The downtime is made, but its answer cannot be read: a BadResponse, which the outbox
    # retries (the write may have landed), and the retry finds the downtime.
    monitor = unmuted(simulator)[0]
    payload = {"scope": None, "end": None, "reason": f"answered {mode}"}
    simulator.set_fault("datadog", mode, count=1)
    with pytest.raises(BadResponse):
        source.apply("mute", [str(monitor.id)], payload, attempt=0)
    assert len(downtimes_of(simulator, monitor.id)) == 1
    source.apply("mute", [str(monitor.id)], payload, attempt=1)
    assert len(downtimes_of(simulator, monitor.id)) == 1


@pytest.mark.parametrize(
    ("mode", "error"), [("403", AuthFailed), ("502", Unavailable), ("503", Unavailable)]
)
def test_a_mute_refused_by_a_status_fault_is_retried(
    simulator: Simulator, source: DatadogSource, mode: str, error: type[SourceError]
) -> None:
    monitor = unmuted(simulator)[0]
    payload = {"scope": None, "end": None, "reason": f"after {mode}"}
    simulator.set_fault("datadog", mode, count=1)
    with pytest.raises(error):
        source.apply("mute", [str(monitor.id)], payload, attempt=0)
    assert downtimes_of(simulator, monitor.id) == []
    source.apply("mute", [str(monitor.id)], payload, attempt=1)
    assert len(downtimes_of(simulator, monitor.id)) == 1


def test_a_retry_after_a_failed_mute_mutes(simulator: Simulator, source: DatadogSource) -> None:
    monitor = unmuted(simulator)[0]
    payload = {"scope": None, "end": None, "reason": "flapping"}
    simulator.set_fault("datadog", "500", count=1)
    with pytest.raises(Unavailable):
        source.apply("mute", [str(monitor.id)], payload, attempt=0)
    assert downtimes_of(simulator, monitor.id) == []
    source.apply("mute", [str(monitor.id)], payload, attempt=1)
    assert len(downtimes_of(simulator, monitor.id)) == 1


def test_refusals_are_final_and_in_datadogs_words(
    simulator: Simulator, sim_clock: FakeClock, source: DatadogSource
) -> None:
    monitor = unmuted(simulator)[0]
    past = (sim_clock.now() - timedelta(hours=1)).isoformat()
    cases: list[tuple[str, list[str], dict[str, Any], str]] = [
        ("mute", [str(monitor.id)], {"end": past, "reason": "x"}, "must end after it starts"),
        ("mute", ["1"], {"end": None, "reason": "x"}, "monitor 1 does not exist"),
        ("mute", [str(monitor.id)], {"end": "2026-11-27T15:00:00", "reason": "x"}, "time zone"),
        ("mute", [str(monitor.id)], {"end": "tomorrow", "reason": "x"}, "ISO-8601"),
        ("mute", ["monitor-1"], {"end": None, "reason": "x"}, "not a Datadog monitor id"),
        ("unmute", [str(monitor.id)], {"downtime_ids": "abc"}, "list of downtime ids"),
        ("silence", [str(monitor.id)], {}, "Datadog cannot silence"),
    ]
    for action, targets, payload, reason in cases:
        with pytest.raises(SourceError) as raised:
            source.apply(action, targets, payload, attempt=0)
        assert not isinstance(raised.value, TRANSIENT), raised.value
        assert reason in raised.value.message
    first = next(
        e for e in simulator.exchanges if e.request.method == "POST" and e.response.status == 400
    )
    assert b"must end after it starts" in first.response.body
    assert downtimes_of(simulator, monitor.id) == []


# --------------------------------------------------------------------------- unmute


def test_unmute_cancels_each_downtime_and_gone_ones_are_fine(
    simulator: Simulator, sim_clock: FakeClock, source: DatadogSource
) -> None:
    monitor = unmuted(simulator)[0]
    for reason in ("one", "two"):
        source.apply("mute", [str(monitor.id)], {"end": None, "reason": reason}, attempt=0)
    ids = [d.id for d in downtimes_of(simulator, monitor.id)]
    gone = "00000000-0000-0000-0000-000000000000"
    source.apply("unmute", [str(monitor.id)], {"downtime_ids": [*ids, gone]}, attempt=0)
    assert downtimes_of(simulator, monitor.id) == []
    assert {d["status"] for d in shown(simulator, monitor.id)} == {"canceled"}
    assert all(d["canceled"] for d in shown(simulator, monitor.id))
    source.apply("unmute", [str(monitor.id)], {"downtime_ids": ids}, attempt=1)  # again: fine
    row = fetched(source, monitor.id)
    assert (row.muted, row.downtime_ids) == (False, ())


def test_unmute_without_ids_cancels_the_monitors_own_downtimes(
    simulator: Simulator, source: DatadogSource
) -> None:
    world = simulator.world.datadog
    by_tags = next(d for d in world.downtimes.values() if d.monitor_tags)
    monitor = unmuted(simulator)[0]
    source.apply("mute", [str(monitor.id)], {"end": None, "reason": "x"}, attempt=0)
    source.apply("unmute", [str(monitor.id)], {}, attempt=0)
    assert downtimes_of(simulator, monitor.id) == []
    assert by_tags.canceled is None, "a downtime by tags mutes others too: left alone"


def test_sim_control_loses_write_answers(simulator: Simulator) -> None:
    verify = ssl.create_default_context(cafile=str(simulator.ca_pem_path))
    url = simulator.url + "/_sim/datadog/lose_answers"
    assert httpx.post(url, json={"writes": 1}, verify=verify).json() == {"lose_write_answers": 1}
    assert simulator.app("datadog").lose_write_answers == 1  # type: ignore[attr-defined]
    assert httpx.post(url, json={"writes": "x"}, verify=verify).status_code == 400


# --------------------------------------------------------------------------- the outbox


async def test_outbox_end_to_end_500_then_recover_mutes_once(
    simulator: Simulator, sim_clock: FakeClock, source: DatadogSource
) -> None:
    monitor = unmuted(simulator)[0]
    journal = Journal.memory()
    box = Outbox(journal, {"monitors": source}, sim_clock, backoff_base=5)
    end = (sim_clock.now() + timedelta(hours=1)).isoformat()
    simulator.set_fault("datadog", "500", count=1)
    mute = box.submit("monitors", "mute", [str(monitor.id)], {"end": end, "reason": "on it"})
    await box.drain()
    entry = journal.outbox_entry(mute.id)
    assert entry.state == "pending" and "500" in (entry.last_error or "")
    simulator.app("datadog").lose_write_answers = 1  # type: ignore[attr-defined]
    for _ in range(5):
        sim_clock.advance(await box.drain())
        if not journal.open_outbox():
            break
    entry = journal.outbox_entry(mute.id)
    assert (entry.state, entry.attempts) == ("done", 3)
    [downtime] = downtimes_of(simulator, monitor.id)
    assert downtime.message == "on it"

    unmute = box.submit("monitors", "unmute", [str(monitor.id)], {"downtime_ids": [downtime.id]})
    await box.drain()
    assert journal.outbox_entry(unmute.id).state == "done"
    assert downtimes_of(simulator, monitor.id) == []


async def test_outbox_shows_a_refused_mute_with_datadogs_reason(
    simulator: Simulator, sim_clock: FakeClock, source: DatadogSource
) -> None:
    journal = Journal.memory()
    box = Outbox(journal, {"monitors": source}, sim_clock)
    entry = box.submit("monitors", "mute", ["1"], {"end": None, "reason": "x"})
    await box.drain()
    refused = journal.outbox_entry(entry.id)
    assert refused.state == "rejected"
    assert refused.last_error == "Datadog mute answered 400: monitor 1 does not exist"
