"""Integration: `PagerDutySource` through the real `pagerduty` SDK against the simulator.

Nothing is mocked: the source builds its own SDK client from `PagerDutySettings` (as the
demo does), talks HTTPS to the simulator on 127.0.0.1, and is checked against the
simulator's world. Faults are injected in the simulator, so the source sees exactly what
PagerDuty would send. The world runs on a `FakeClock`; only the round trips and the
deliberately slow answers take wall time.
"""

from __future__ import annotations

import asyncio
import math
import random
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from oncall_tui.config import PagerDutySettings, Secret, Settings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.domain.models import Event, Page, Snapshot
from oncall_tui.engine.poller import Freshness, Poller
from oncall_tui.simulator import Simulator, World
from oncall_tui.simulator.pagerduty import WEB_URL
from oncall_tui.simulator.scenarios import DAY, SCENARIOS
from oncall_tui.sources.base import (
    AuthFailed,
    BadResponse,
    RateLimited,
    SourceError,
    Unavailable,
)
from oncall_tui.sources.pagerduty import PagerDutySource

OPEN = ("triggered", "acknowledged")


# --------------------------------------------------------------------------- helpers


def settings_for(simulator: Simulator, **changes: Any) -> PagerDutySettings:
    """The demo's PagerDuty settings for `simulator` (URL, CA, token, From, policies)."""
    return replace(demo_settings(Settings(), simulator).pagerduty, **changes)


@contextmanager
def source_for(simulator: Simulator, **changes: Any) -> Iterator[PagerDutySource]:
    source = PagerDutySource(settings_for(simulator, **changes), simulator.world.clock)
    try:
        yield source
    finally:
        source.close()


@contextmanager
def running(scenario: Any) -> Iterator[Simulator]:
    """A simulator of its own, for worlds other than the default one."""
    with Simulator(World(seed=7, clock=FakeClock(), scenario=scenario)) as sim:
        yield sim


def world_open(simulator: Simulator) -> list[dict[str, Any]]:
    """The world's open incidents, as `/_sim/state` describes them."""
    incidents = simulator.world.snapshot()["pagerduty"]["incidents"]
    return [i for i in incidents if i["status"] in OPEN]


def user_name(simulator: Simulator, email: str) -> str:
    user = simulator.world.pagerduty.user_by_email(email)
    assert user is not None, email
    return user.name


def incident_requests(simulator: Simulator) -> list[dict[str, list[str]]]:
    return [dict(e.request.query) for e in simulator.exchanges if e.request.path == "/incidents"]


def sent(simulator: Simulator) -> int:
    return simulator.request_counts["pagerduty"]


# --------------------------------------------------------------------------- fetch


def test_fetch_returns_every_open_incident_of_the_world(
    simulator: Simulator, sim_clock: FakeClock
) -> None:
    with source_for(simulator) as source:
        snapshot = source.fetch()
    expected = world_open(simulator)
    assert len(expected) >= 5, "the default world should have open pages"
    keys = [page.key for page in snapshot.items]
    assert len(keys) == len(set(keys)), "a page is listed twice"
    assert set(keys) == {i["id"] for i in expected}
    assert snapshot.source == "pages"
    assert snapshot.taken_at == sim_clock.now()
    assert snapshot.me == simulator.world.pagerduty.me.name
    assert snapshot.truncated is False


def test_pages_are_sorted_triggered_first_then_urgency_then_oldest(
    simulator: Simulator,
) -> None:
    with source_for(simulator) as source:
        pages: list[Page] = list(source.fetch().items)  # type: ignore[arg-type]
    assert {p.status for p in pages} == set(OPEN), "the world should have both states"
    assert {p.urgency for p in pages} == {"high", "low"}
    status_rank = {"triggered": 0, "acknowledged": 1}
    urgency_rank = {"high": 0, "low": 1}
    keys = [(status_rank[p.status], urgency_rank[p.urgency], p.created_at) for p in pages]
    assert keys == sorted(keys)
    # The same order from the world's side, so the mapping cannot hide a wrong order.
    expected = sorted(
        world_open(simulator),
        key=lambda i: (
            status_rank[i["status"]],
            urgency_rank[i["urgency"]],
            datetime.fromisoformat(i["created_at"]),
        ),
    )
    assert [(p.status, p.urgency) for p in pages] == [(i["status"], i["urgency"]) for i in expected]


def test_fields_are_mapped_from_the_provider(simulator: Simulator) -> None:
    with source_for(simulator) as source:
        pages: list[Page] = list(source.fetch().items)  # type: ignore[arg-type]
    world = simulator.world.pagerduty
    by_id = {i["id"]: i for i in world_open(simulator)}
    assert any(p.acknowledgers for p in pages) and any(p.priority for p in pages)
    for page in pages:
        state = by_id[page.id]
        incident = world.incidents[page.id]
        assert page.number == state["number"]
        assert page.title == state["title"]
        assert page.status == state["status"]
        assert page.urgency == state["urgency"]
        assert page.priority == state["priority"]
        assert page.service_name == state["service"]
        assert page.service_id == incident.service.id
        assert page.escalation_policy == state["escalation_policy"]
        assert page.assignees == tuple(user_name(simulator, e) for e in state["assignees"])
        assert page.acknowledgers == tuple(user_name(simulator, e) for e in state["acknowledgers"])
        assert page.created_at == datetime.fromisoformat(state["created_at"])
        assert page.last_status_change_at == incident.last_status_change_at.replace(microsecond=0)
        assert page.html_url == f"{WEB_URL}/incidents/{page.id}"
        assert page.url == page.html_url
        assert page.alerts_triggered == 1


def test_fetch_includes_open_pages_older_than_a_month() -> None:
    # A world whose pages were all opened 0-45 days ago and are still open.
    scale = SCENARIOS["scale"]
    long_lived = replace(
        scale,
        pagerduty=replace(
            scale.pagerduty,
            open_pages=30,
            max_age=45 * DAY,
            initial_lifetime=(60 * DAY, 90 * DAY),
            trigger_gap=0,
        ),
    )
    with running(long_lived) as sim, source_for(sim) as source:
        snapshot = source.fetch()
        expected = {i["id"] for i in world_open(sim)}
        now = sim.world.clock.now()
        old = [
            i for i in world_open(sim) if (now - datetime.fromisoformat(i["created_at"])).days > 31
        ]
    assert old, "the world should have pages open for more than a month"
    assert {p.key for p in snapshot.items} == expected


# --------------------------------------------------------------------------- pagination


def test_pagination_goes_past_100_pages() -> None:
    with running("scale:250") as sim, source_for(sim) as source:
        snapshot = source.fetch()
        expected = {i["id"] for i in world_open(sim)}
        requests = incident_requests(sim)
    assert len(expected) == 250
    assert {p.key for p in snapshot.items} == expected
    assert len(snapshot.items) == 250 and not snapshot.truncated
    assert [(r["offset"], r["limit"]) for r in requests] == [
        (["0"], ["100"]),
        (["100"], ["100"]),
        (["200"], ["100"]),
    ]


def test_pagination_stops_at_10000_and_says_truncated() -> None:
    with running("scale:10150") as sim, source_for(sim) as source:
        snapshot = source.fetch()
        expected = {i["id"] for i in world_open(sim)}
        exchanges = [e for e in sim.exchanges if e.request.path == "/incidents"]
    assert len(expected) == 10150
    assert snapshot.truncated is True
    assert len(snapshot.items) == 10_000
    keys = {p.key for p in snapshot.items}
    assert len(keys) == 10_000 and keys <= expected
    for exchange in exchanges:
        offset = int(exchange.request.first("offset") or 0)
        limit = int(exchange.request.first("limit") or 25)
        assert offset + limit <= 10_000, exchange.request.raw_path
        assert exchange.response.status == 200
    assert len(exchanges) == 100


# --------------------------------------------------------------------------- scope


def test_service_ids_scope_the_pages(simulator: Simulator) -> None:
    every = world_open(simulator)
    services = {i["service"] for i in every}
    chosen_names = sorted(services)[:2]
    world = simulator.world.pagerduty
    chosen = tuple(world.service_by_name_or_id(n).id for n in chosen_names)  # type: ignore[union-attr]
    with source_for(simulator, service_ids=chosen) as source:
        snapshot = source.fetch()
    expected = {i["id"] for i in every if i["service"] in chosen_names}
    assert expected and len(expected) < len(every)
    assert {p.key for p in snapshot.items} == expected
    assert all(p.service_id in chosen for p in snapshot.items)  # type: ignore[union-attr]


def test_team_ids_scope_the_pages(simulator: Simulator) -> None:
    team = simulator.world.pagerduty.team.id
    with source_for(simulator, team_ids=(team,)) as source:
        mine = source.fetch()
    with source_for(simulator, team_ids=("PNOTEAM",)) as source:
        other = source.fetch()
    assert {p.key for p in mine.items} == {i["id"] for i in world_open(simulator)}
    assert other.items == ()
    assert incident_requests(simulator)[-1]["team_ids[]"] == ["PNOTEAM"]


def test_only_mine_shows_the_pages_assigned_to_the_token_owner(simulator: Simulator) -> None:
    me = simulator.world.pagerduty.me
    every = world_open(simulator)
    expected = {i["id"] for i in every if me.email in i["assignees"]}
    assert expected and len(expected) < len(every), "the world should assign some pages to me"
    with source_for(simulator, only_mine=True) as source:
        snapshot = source.fetch()
    assert {p.key for p in snapshot.items} == expected
    assert all(me.name in p.assignees for p in snapshot.items)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- on call


def _world_oncalls(simulator: Simulator) -> list[dict[str, Any]]:
    return list(simulator.world.snapshot()["pagerduty"]["oncalls"])


def test_on_call_lists_every_level_of_the_configured_policies(
    simulator: Simulator, sim_clock: FakeClock
) -> None:
    with source_for(simulator) as source:
        snapshot = source.fetch()
    expected = {
        (o["escalation_policy"], o["level"], o["user"], o["start"], o["end"])
        for o in _world_oncalls(simulator)
    }
    now = sim_clock.now()
    upcoming = [o for o in snapshot.on_call if o.start is not None and o.start > now]
    assert upcoming, "the next day's shifts say who comes next"
    assert all(o.start is not None and o.start <= now + timedelta(hours=24) for o in upcoming)
    current = [o for o in snapshot.on_call if o.start is None or o.start <= now]
    got = {
        (
            o.escalation_policy,
            o.level,
            o.user_email,
            o.start.strftime("%Y-%m-%dT%H:%M:%SZ") if o.start else None,
            o.end.strftime("%Y-%m-%dT%H:%M:%SZ") if o.end else None,
        )
        for o in current
    }
    assert got == expected
    assert {o.level for o in snapshot.on_call} == {1, 2}
    assert all(o.end is not None and o.end > sim_clock.now() for o in snapshot.on_call)
    assert all(o.user_name for o in snapshot.on_call)
    order = [(o.escalation_policy, o.level, o.user_name) for o in snapshot.on_call]
    assert order == sorted(order)
    assert snapshot.me == "Alex Rivera"


def test_on_call_for_one_policy_only(simulator: Simulator) -> None:
    world = simulator.world.pagerduty
    policy = next(iter(world.policies.values()))
    with source_for(simulator, escalation_policy_ids=(policy.id,)) as source:
        snapshot = source.fetch()
    on_call = [o for o in snapshot.on_call if o.start is None or o.start <= snapshot.taken_at]
    assert on_call and {o.escalation_policy for o in snapshot.on_call} == {policy.name}
    assert len(on_call) == len(policy.rules)


def test_on_call_without_policies_is_the_token_owners_own(simulator: Simulator) -> None:
    me = simulator.world.pagerduty.me
    with source_for(simulator, escalation_policy_ids=()) as source:
        snapshot = source.fetch()
    on_call = [o for o in snapshot.on_call if o.start is None or o.start <= snapshot.taken_at]
    expected = {
        (o["escalation_policy"], o["level"])
        for o in _world_oncalls(simulator)
        if o["user"] == me.email
    }
    assert expected, "the token owner should be on call somewhere"
    assert {(o.escalation_policy, o.level) for o in on_call} == expected
    assert {o.user_email for o in on_call} == {me.email}


# --------------------------------------------------------------------------- detail


def test_detail_returns_the_page_with_its_log_entries(simulator: Simulator) -> None:
    with source_for(simulator) as source:
        page = source.fetch().items[0]
        detail = source.detail(page.key)
    incident = simulator.world.pagerduty.incidents[page.key]
    assert detail.page == page
    assert detail.description.startswith(incident.title)
    assert "Runbook: https://" in detail.description
    assert [n.summary for n in detail.notes] == [n.content for n in incident.notes]
    newest_first = list(reversed(incident.log_entries))[:50]
    assert [e.id for e in detail.log_entries] == [e.id for e in newest_first]
    assert [e.type for e in detail.log_entries] == [e.type for e in newest_first]
    assert detail.log_entries[-1].type == "trigger_log_entry"
    assert all(e.summary for e in detail.log_entries)
    assert any(e.agent for e in detail.log_entries), "the trigger names its service"


def test_detail_of_an_unknown_page_is_a_source_error(simulator: Simulator) -> None:
    with source_for(simulator) as source, pytest.raises(SourceError) as caught:
        source.detail("QNOSUCHPAGE")
    assert caught.value.status == 404
    assert "\n" not in caught.value.message


# --------------------------------------------------------------------------- faults


def test_429_is_rate_limited_after_exactly_one_request_then_recovers(
    simulator: Simulator,
) -> None:
    with source_for(simulator) as source:
        simulator.set_fault("pagerduty", "429", count=2, retry_after=42)
        for _ in range(2):
            before = sent(simulator)
            with pytest.raises(RateLimited) as caught:
                source.fetch()
            # The SDK would retry a 429 forever; the engine owns backoff, so one request.
            assert sent(simulator) - before == 1
            assert caught.value.retry_after == 42.0
            assert caught.value.status == 429
        budget = source.rate_budget()
        assert (budget.limit, budget.remaining, budget.reset_after) == (960, 0, 42.0)
        assert len(source.fetch().items) == len(world_open(simulator))
        assert source.rate_budget().remaining is not None
        assert source.rate_budget().remaining > 0  # type: ignore[operator]


def test_429_on_a_later_page_request_is_one_request_too(simulator: Simulator) -> None:
    with source_for(simulator) as source:
        source.me()  # asked once, then cached: the next request is /incidents
        simulator.set_fault("pagerduty", "429", count=1, retry_after=7)
        before = sent(simulator)
        with pytest.raises(RateLimited) as caught:
            source.fetch()
        assert sent(simulator) - before == 1
        assert caught.value.retry_after == 7.0
        assert simulator.exchanges[-1].request.path == "/incidents"


def test_500_is_unavailable_then_recovers(simulator: Simulator) -> None:
    with source_for(simulator) as source:
        simulator.set_fault("pagerduty", "500")
        before = sent(simulator)
        with pytest.raises(Unavailable) as caught:
            source.fetch()
        assert sent(simulator) - before == 1
        assert caught.value.status == 500
        assert "500" in caught.value.message
        simulator.set_fault("pagerduty", None)
        assert len(source.fetch().items) == len(world_open(simulator))


def test_401_is_auth_failed_without_the_token(simulator: Simulator) -> None:
    canary = "canary-pd-token-7f3e9b21Zq9X"
    with source_for(simulator, token=Secret(canary)) as source, pytest.raises(AuthFailed) as c:
        source.fetch()
    assert c.value.status == 401
    assert "token" in c.value.message
    for text in (c.value.message, str(c.value), repr(c.value)):
        assert canary not in text
        assert canary[-4:] not in text


def test_injected_401_is_auth_failed(simulator: Simulator) -> None:
    simulator.set_fault("pagerduty", "401", count=1)
    with source_for(simulator) as source, pytest.raises(AuthFailed) as caught:
        source.fetch()
    assert simulator.tokens["pagerduty"] not in caught.value.message


def test_slow_answer_is_unavailable_within_the_timeout(simulator: Simulator) -> None:
    with source_for(simulator, timeout=0.3) as source:
        simulator.set_fault("pagerduty", "slow", count=1, delay=3.0)
        started = time.monotonic()
        with pytest.raises(Unavailable) as caught:
            source.fetch()
        elapsed = time.monotonic() - started
        assert 0.25 <= elapsed < 2.5, f"took {elapsed:.2f}s with a 0.3s timeout (3 s delay)"
        assert "\n" not in caught.value.message
        assert len(source.fetch().items) == len(world_open(simulator))


def test_truncated_answer_is_bad_response(simulator: Simulator) -> None:
    with source_for(simulator) as source:
        simulator.set_fault("pagerduty", "truncated", count=1)
        with pytest.raises(BadResponse):
            source.fetch()
        source.me()
        simulator.set_fault("pagerduty", "truncated", count=1)
        with pytest.raises(BadResponse) as caught:
            source.fetch()
        assert "/incidents" in caught.value.message
        assert len(source.fetch().items) == len(world_open(simulator))


@pytest.mark.parametrize(
    ("mode", "says"),
    [("bad_json", "not valid JSON"), ("wrong_shape", "'incidents' is not a list")],
)
def test_unreadable_answers_are_bad_responses(simulator: Simulator, mode: str, says: str) -> None:
    with source_for(simulator) as source:
        source.me()
        simulator.set_fault("pagerduty", mode, count=1)
        before = sent(simulator)
        with pytest.raises(BadResponse) as caught:
            source.fetch()
        assert sent(simulator) - before == 1
        assert caught.value.message.startswith("PagerDuty /incidents: ")
        assert says in caught.value.message and "\n" not in caught.value.message
        assert len(source.fetch().items) == len(world_open(simulator))


@pytest.mark.parametrize("mode", ["bad_json", "wrong_shape", "truncated"])
def test_an_unreadable_users_me_is_a_bad_response(simulator: Simulator, mode: str) -> None:
    # The first request of a fresh source; a wrong shape there was an AttributeError.
    with source_for(simulator) as source:
        simulator.set_fault("pagerduty", mode, count=1)
        with pytest.raises(BadResponse) as caught:
            source.fetch()
        assert "/users/me" in caught.value.message
        assert len(source.fetch().items) == len(world_open(simulator))


@pytest.mark.parametrize(
    ("mode", "reason"), [("502", "Bad Gateway"), ("503", "Service Unavailable")]
)
def test_gateway_errors_are_unavailable_after_one_request(
    simulator: Simulator, mode: str, reason: str
) -> None:
    with source_for(simulator) as source:
        source.me()
        simulator.set_fault("pagerduty", mode)
        before = sent(simulator)
        with pytest.raises(Unavailable) as caught:
            source.fetch()
        # The SDK's retry table is empty: no retry of its own behind the engine's back.
        assert sent(simulator) - before == 1
        assert caught.value.status == int(mode)
        assert caught.value.message == f"PagerDuty failed on its side ({mode}: {reason})"
        simulator.set_fault("pagerduty", None)
        assert len(source.fetch().items) == len(world_open(simulator))


def test_403_says_the_token_lacks_permission(simulator: Simulator) -> None:
    with source_for(simulator) as source:
        source.me()
        simulator.set_fault("pagerduty", "403", count=1)
        before = sent(simulator)
        with pytest.raises(AuthFailed) as caught:
            source.fetch()
        assert sent(simulator) - before == 1
        assert caught.value.status == 403
        assert caught.value.message == (
            "PagerDuty token lacks permission for GET /incidents (403: Access Denied): "
            "check the role of [pagerduty] token's user"
        )
        page = source.fetch().items[0]
        simulator.set_fault("pagerduty", "403", count=1)
        with pytest.raises(AuthFailed) as write:
            source.apply("note", [page.id], {"content": "read-only?"}, attempt=0)
        assert f"POST /incidents/{page.id}/notes" in write.value.message
        assert "a read-only key cannot write" in write.value.message
        assert simulator.tokens["pagerduty"] not in write.value.message


@pytest.mark.parametrize("mode", ["bad_json", "wrong_shape", "truncated"])
def test_a_note_answered_unreadably_lands_once(simulator: Simulator, mode: str) -> None:
    # The note lands, its answer is spoiled: at worst a BadResponse (which the outbox
    # retries), and the retry finds the note instead of posting it again.
    with source_for(simulator) as source:
        page = source.fetch().items[0]
        incident = simulator.world.pagerduty.incidents[page.id]
        simulator.set_fault("pagerduty", mode, count=1)
        with suppress(BadResponse):
            source.apply("note", [page.id], {"content": f"checked {mode}"}, attempt=0)
        source.apply("note", [page.id], {"content": f"checked {mode}"}, attempt=1)
        assert [n.content for n in incident.notes].count(f"checked {mode}") == 1


def test_connection_refused_is_unavailable_at_once() -> None:
    sim = Simulator(World(seed=7, clock=FakeClock())).start()
    try:
        # Built (CA loaded) while the simulator runs, used after it stopped.
        source = PagerDutySource(settings_for(sim), sim.world.clock)
    finally:
        sim.stop()
    try:
        started = time.monotonic()
        with pytest.raises(Unavailable) as caught:
            source.fetch()
        # No SDK network retries: those sleep 1.5 s and more before trying again.
        assert time.monotonic() - started < 1.0
        assert "unreachable" in caught.value.message
    finally:
        source.close()


def test_plain_http_base_url_is_a_clear_source_error(simulator: Simulator) -> None:
    settings = settings_for(simulator, base_url="http://127.0.0.1:9/pagerduty", ca_bundle=None)
    with pytest.raises(SourceError) as caught:
        PagerDutySource(settings, FakeClock())
    assert "base_url" in caught.value.message and "https" in caught.value.message
    assert simulator.tokens["pagerduty"] not in caught.value.message


# --------------------------------------------------------------------------- poll engine


class Recorder:
    """Collects what a Poller reports."""

    def __init__(self) -> None:
        self.snapshots: list[tuple[Snapshot, tuple[Event, ...]]] = []

    def on_snapshot(self, snapshot: Snapshot, events: tuple[Event, ...], _: Freshness) -> None:
        self.snapshots.append((snapshot, events))

    def on_freshness(self, _: Freshness) -> None:
        pass


async def settle(poller: Poller, clock: FakeClock, timeout: float = 10.0) -> None:
    """Wait (in wall time) until the poller finished a poll at `clock.now()` and parked."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = poller.freshness
        if fresh.last_attempt == clock.now() and not fresh.polling and clock.sleepers == 1:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"the poller did not settle: {poller.freshness}")


async def quiet_for(check: Callable[[], bool], seconds: float = 0.2) -> None:
    """Give a wrongly woken poller time to show itself; `check` must hold throughout."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert check()
        await asyncio.sleep(0.01)


def sim_trigger(simulator: Simulator, title: str) -> str:
    response = httpx.post(
        simulator.url + "/_sim/trigger",
        json={"title": title, "urgency": "high"},
        verify=ssl.create_default_context(cafile=str(simulator.ca_pem_path)),
    )
    response.raise_for_status()
    return str(response.json()["incident"]["id"])


async def test_poller_on_the_real_source_rides_out_a_429(
    simulator: Simulator, sim_clock: FakeClock
) -> None:
    recorder = Recorder()
    with source_for(simulator) as source:
        poller = Poller(
            source,
            interval=30,
            clock=sim_clock,
            on_snapshot=recorder.on_snapshot,
            on_freshness=recorder.on_freshness,
            timeout=10,
            rng=random.Random(3),
        )
        poller.start()
        try:
            await settle(poller, sim_clock)
            first = poller.last_snapshot
            assert first is not None and len(first.items) == len(world_open(simulator))

            simulator.set_fault("pagerduty", "429", retry_after=120)  # until cleared
            before = sent(simulator)
            sim_clock.advance(30)
            await settle(poller, sim_clock)
            fresh = poller.freshness
            assert sent(simulator) - before == 1, "the SDK retried the 429 itself"
            assert fresh.failures == 1 and "rate limit" in (fresh.last_error or "")
            assert fresh.next_poll is not None
            assert (fresh.next_poll - sim_clock.now()).total_seconds() >= 120
            assert poller.last_snapshot is first, "the last good snapshot was dropped"
            assert fresh.budget.remaining == 0

            # The provider asked for 120 s: nothing is sent before that, fault or not.
            simulator.set_fault("pagerduty", None)
            sim_clock.advance(60)
            await quiet_for(lambda: sent(simulator) - before == 1)

            new_page = sim_trigger(simulator, "[Datadog] claims-api 5xx > 2% on env:prod")
            sim_clock.advance(60)
            await settle(poller, sim_clock)
            fresh = poller.freshness
            assert fresh.failures == 0 and fresh.last_error is None
            assert fresh.last_success == sim_clock.now()
            assert poller.last_snapshot is not first
            assert new_page in poller.last_snapshot.by_key()  # type: ignore[union-attr]
            _, events = recorder.snapshots[-1]
            assert ("added", new_page) in {(e.kind, e.key) for e in events}
        finally:
            await poller.stop()


async def test_poller_on_the_real_source_rides_out_a_500(
    simulator: Simulator, sim_clock: FakeClock
) -> None:
    recorder = Recorder()
    with source_for(simulator) as source:
        poller = Poller(
            source,
            interval=30,
            clock=sim_clock,
            on_snapshot=recorder.on_snapshot,
            on_freshness=recorder.on_freshness,
            timeout=10,
            rng=random.Random(5),
        )
        poller.start()
        try:
            await settle(poller, sim_clock)
            first = poller.last_snapshot
            assert first is not None

            simulator.set_fault("pagerduty", "500")
            sim_clock.advance(30)
            await settle(poller, sim_clock)
            for failures in (1, 2):
                fresh = poller.freshness
                assert fresh.failures == failures
                assert "failed on its side (500" in (fresh.last_error or "")
                assert poller.last_snapshot is first
                assert fresh.next_poll is not None
                # next_poll is rounded to microseconds: round the wait up, never short.
                wait = math.ceil((fresh.next_poll - sim_clock.now()).total_seconds())
                assert 5 <= wait <= 300, "backoff outside its bounds"
                if failures == 1:
                    sim_clock.advance(wait)
                    await settle(poller, sim_clock)
            assert len(recorder.snapshots) == 1

            simulator.set_fault("pagerduty", None)
            sim_clock.advance(wait)
            await settle(poller, sim_clock)
            fresh = poller.freshness
            assert fresh.failures == 0 and fresh.last_error is None
            assert fresh.last_success == sim_clock.now()
            assert len(recorder.snapshots) == 2
            recovered = poller.last_snapshot
            assert recovered is not None
            assert {p.key for p in recovered.items} == {i["id"] for i in world_open(simulator)}
        finally:
            await poller.stop()
