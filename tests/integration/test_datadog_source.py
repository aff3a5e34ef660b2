"""Integration: `DatadogSource` through the real `datadog-api-client` against the simulator.

Nothing is mocked: the source builds its own SDK client from `DatadogSettings` (as the demo
does), talks HTTPS to the simulator on 127.0.0.1, and is checked against the simulator's
world. Faults are injected in the simulator, so the source sees what Datadog would send.
The world runs on a `FakeClock`; only the round trips and the deliberately slow answers
take wall time.
"""

from __future__ import annotations

import asyncio
import math
import random
import ssl
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from oncall_tui.config import DatadogSettings, Secret, Settings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.domain.models import Event, Monitor, Snapshot
from oncall_tui.engine.poller import Freshness, Poller
from oncall_tui.simulator import SimRequest, SimResponse, Simulator, World
from oncall_tui.simulator.datadog import DEFAULT_APP_KEY, DatadogApp
from oncall_tui.simulator.server import RequestContext
from oncall_tui.sources.base import (
    AuthFailed,
    BadResponse,
    RateLimited,
    SourceError,
    Unavailable,
)
from oncall_tui.sources.datadog import DatadogSource, scope_covers, search_query
from oncall_tui.sources.factory import build_sources

WATCHED = ("Alert", "Warn", "No Data")
RANK = {"Alert": 0, "Warn": 1, "No Data": 2, "OK": 3}


# --------------------------------------------------------------------------- helpers


def settings_for(simulator: Simulator, **changes: Any) -> DatadogSettings:
    """The demo's Datadog settings for `simulator` (URL, CA, keys, site, query)."""
    return replace(demo_settings(Settings(), simulator).datadog, **changes)


@contextmanager
def source_for(
    simulator: Simulator, *, per_page: int = 100, **changes: Any
) -> Iterator[DatadogSource]:
    source = DatadogSource(
        settings_for(simulator, **changes), simulator.world.clock, per_page=per_page
    )
    try:
        yield source
    finally:
        source.close()


def world_monitors(simulator: Simulator) -> dict[int, dict[str, Any]]:
    """The world's team monitors, as `/_sim/state` describes them."""
    monitors = simulator.world.snapshot()["datadog"]["monitors"]
    return {m["id"]: m for m in monitors if "team:benefits" in m["tags"]}


def watched(simulator: Simulator, states: tuple[str, ...] = WATCHED) -> dict[int, dict[str, Any]]:
    return {i: m for i, m in world_monitors(simulator).items() if m["overall_state"] in states}


def monitors_of(snapshot: Snapshot) -> dict[int, Monitor]:
    found = {}
    for item in snapshot.items:
        assert isinstance(item, Monitor)
        found[item.id] = item
    return found


def sent(simulator: Simulator) -> int:
    return simulator.request_counts["datadog"]


def paths(simulator: Simulator) -> list[str]:
    return [e.request.path for e in simulator.exchanges if e.request.provider == "datadog"]


def force(simulator: Simulator, monitor_id: int, status: str, **extra: Any) -> None:
    response = httpx.post(
        simulator.url + "/_sim/datadog/monitor_state",
        json={"monitor_id": monitor_id, "status": status, **extra},
        verify=ssl.create_default_context(cafile=str(simulator.ca_pem_path)),
    )
    response.raise_for_status()


# --------------------------------------------------------------------------- fetch


def test_fetch_returns_the_teams_monitors_in_the_watched_states(
    simulator: Simulator, sim_clock: FakeClock
) -> None:
    with source_for(simulator) as source:
        snapshot = source.fetch()
        assert source.label == "Datadog (ddog-gov.com)"
    expected = watched(simulator)
    assert len(expected) >= 5, "the default world should have alerting monitors"
    found = monitors_of(snapshot)
    assert set(found) == set(expected)
    assert len(snapshot.items) == len(found), "a monitor is listed twice"
    assert snapshot.source == "monitors"
    assert snapshot.taken_at == sim_clock.now()
    assert snapshot.truncated is False
    others = {m["id"] for m in simulator.world.snapshot()["datadog"]["monitors"]} - set(
        world_monitors(simulator)
    )
    assert others and not others & set(found), "another team's monitor slipped in"


def test_monitors_are_sorted_alert_warn_no_data_then_priority_then_oldest(
    simulator: Simulator,
) -> None:
    force(simulator, next(iter(world_monitors(simulator))), "No Data")
    with source_for(simulator) as source:
        items = list(monitors_of(source.fetch()).values())
    assert {m.overall_state for m in items} == set(WATCHED)
    keys = [m.sort_key() for m in items]
    assert keys == sorted(keys)
    assert [m.overall_state for m in items] == sorted(
        (m.overall_state for m in items), key=RANK.__getitem__
    )


def test_fields_are_mapped_from_the_provider(simulator: Simulator) -> None:
    with source_for(simulator) as source:
        found = monitors_of(source.fetch())
    world = simulator.world.datadog
    for monitor_id, monitor in found.items():
        sim = world.monitors[monitor_id]
        assert monitor.name == sim.name
        assert monitor.type == sim.type
        assert monitor.priority == sim.priority
        assert monitor.tags == sim.tags
        assert monitor.overall_state == sim.overall_state
        assert monitor.key == str(monitor_id)
        assert monitor.url == f"https://app.ddog-gov.com/monitors/{monitor_id}"
        bad = [g for g in sim.groups.values() if g.status in WATCHED]
        expected_since = min(
            (g.last_nodata if g.status == "No Data" else g.last_triggered) or g.since for g in bad
        )
        assert monitor.since == expected_since
        if sim.multi:
            order = sorted(bad, key=lambda g: (RANK[g.status], g.name))
            assert monitor.groups_alerting == tuple(g.name for g in order)
            counts = Counter(g.status for g in sim.groups.values())
            assert dict(monitor.group_counts) == dict(counts)
            ranks = [RANK[state] for state, _ in monitor.group_counts]
            assert ranks == sorted(ranks)
        else:
            assert monitor.groups_alerting == () and monitor.group_counts == ()
    assert any(world.monitors[i].multi for i in found), "no multi-alert monitor is alerting"


def test_a_monitor_that_recovers_leaves_and_one_that_triggers_arrives(
    simulator: Simulator,
) -> None:
    with source_for(simulator) as source:
        before = monitors_of(source.fetch())
        leaving = next(iter(before))
        arriving = next(
            i for i, m in world_monitors(simulator).items() if m["overall_state"] == "OK"
        )
        force(simulator, leaving, "OK")
        force(simulator, arriving, "Alert")
        after = monitors_of(source.fetch())
    assert leaving not in after
    assert after[arriving].overall_state == "Alert"
    assert after[arriving].since == simulator.world.now


def test_pagination_uses_page_and_per_page_and_stops_on_page_count(
    simulator: Simulator,
) -> None:
    with source_for(simulator, per_page=100) as source:
        whole = source.fetch()
    simulator.clear_exchanges()
    with source_for(simulator, per_page=2) as source:
        paged = source.fetch()
    assert paged.items == whole.items
    searches = [e for e in simulator.exchanges if e.request.path == "/api/v1/monitor/search"]
    groups = [e for e in simulator.exchanges if e.request.path == "/api/v1/monitor/groups/search"]
    assert len(searches) == math.ceil(len(whole.items) / 2), "pages past page_count were asked"
    assert [e.request.query["page"] for e in searches] == [[str(n)] for n in range(len(searches))]
    assert all(e.request.query["per_page"] == ["2"] for e in searches + groups)
    group_total = groups[0].response.json()["metadata"]["total_count"]
    assert len(groups) == math.ceil(group_total / 2)


def test_a_world_that_moves_between_pages_lists_no_monitor_twice(
    simulator: Simulator, sim_clock: FakeClock
) -> None:
    class MovingApp(DatadogApp):
        """Twenty minutes pass after every page of monitor search."""

        def handle(self, request: SimRequest, ctx: RequestContext) -> SimResponse:
            answer = super().handle(request, ctx)
            if request.path.startswith("/api/v1/monitor/"):
                sim_clock.advance(20 * 60)
            return answer

    with Simulator(simulator.world, apps=[MovingApp()]) as moving:
        settings = settings_for(
            simulator, base_url=moving.provider_url("datadog"), ca_bundle=moving.ca_pem_path
        )
        source = DatadogSource(settings, sim_clock, per_page=2)
        try:
            for _ in range(3):
                items = source.fetch().items
                keys = [item.key for item in items]
                assert len(keys) == len(set(keys)), "a monitor is listed twice"
                for item in items:
                    assert isinstance(item, Monitor)
                    assert len(set(item.groups_alerting)) == len(item.groups_alerting)
        finally:
            source.close()


def test_the_query_asks_for_the_watched_states_only(simulator: Simulator) -> None:
    with source_for(simulator, states=("Alert",)) as source:
        found = monitors_of(source.fetch())
    assert set(found) == set(watched(simulator, ("Alert",)))
    query = simulator.exchanges[0].request.query["query"][0]
    assert query == "tag:team:benefits status:alert"
    assert search_query("tag:team:benefits", WATCHED) == (
        'tag:team:benefits status:(alert OR warn OR "no data")'
    )
    assert search_query("", ("No Data",)) == 'status:"no data"'


def test_nothing_alerting_asks_nothing_more(simulator: Simulator) -> None:
    with source_for(simulator, query="tag:team:nobody") as source:
        assert source.fetch().items == ()
    assert paths(simulator) == ["/api/v1/monitor/search"]


@pytest.mark.parametrize(
    ("site", "app"),
    [
        ("datadoghq.com", "https://app.datadoghq.com"),
        ("datadoghq.eu", "https://app.datadoghq.eu"),
        ("ddog-gov.com", "https://app.ddog-gov.com"),
        ("us3.datadoghq.com", "https://us3.datadoghq.com"),
        ("us5.datadoghq.com", "https://us5.datadoghq.com"),
        ("us2.ddog-gov.com", "https://us2.ddog-gov.com"),
        ("ap1.datadoghq.com", "https://ap1.datadoghq.com"),
    ],
)
def test_urls_point_at_the_sites_web_app(simulator: Simulator, site: str, app: str) -> None:
    with source_for(simulator, site=site) as source:
        items = monitors_of(source.fetch())
        assert source.label == f"Datadog ({site})"
    assert all(m.url == f"{app}/monitors/{i}" for i, m in items.items())


def test_the_site_decides_the_api_host_unless_base_url_is_set(simulator: Simulator) -> None:
    settings = settings_for(simulator, base_url="", site="us2.ddog-gov.com", ca_bundle=None)
    source = DatadogSource(settings, FakeClock())
    try:
        assert source._client.configuration.host == "https://api.us2.ddog-gov.com"
    finally:
        source.close()


def test_rate_budget_comes_from_the_x_ratelimit_headers(simulator: Simulator) -> None:
    with source_for(simulator) as source:
        assert source.rate_budget().limit is None
        source.fetch()
        budget = source.rate_budget()
    assert budget.limit == 1000
    assert budget.remaining == 1000 - sent(simulator)
    assert budget.reset_after is not None and 1 <= budget.reset_after <= 60


# --------------------------------------------------------------------------- muting


def test_a_monitor_muted_at_the_start_says_until_when_and_why(simulator: Simulator) -> None:
    world = simulator.world.datadog
    by_id = next(d for d in world.downtimes.values() if d.monitor_id is not None)
    with source_for(simulator) as source:
        found = monitors_of(source.fetch())
    monitor = found[by_id.monitor_id]  # type: ignore[index]
    assert monitor.muted is True
    assert monitor.muted_until == by_id.end
    assert monitor.mute_reason == by_id.message
    assert monitor.downtime_ids == (by_id.id,)
    assert sum(1 for m in found.values() if m.muted) == 1


def test_mute_then_the_monitor_shows_muted_until_then_unmute(
    simulator: Simulator, sim_clock: FakeClock
) -> None:
    with source_for(simulator) as source:
        target = next(m for m in monitors_of(source.fetch()).values() if not m.muted)
        until = sim_clock.now() + timedelta(hours=2)
        downtime_id = source.mute(target.id, None, until, "deploying the fix, see #123")
        muted = monitors_of(source.fetch())[target.id]
        assert (muted.muted, muted.muted_until) == (True, until)
        assert muted.mute_reason == "deploying the fix, see #123"
        assert muted.downtime_ids == (downtime_id,)
        state = simulator.world.snapshot()["datadog"]["downtimes"]
        assert any(d["id"] == downtime_id and d["status"] == "active" for d in state)

        source.unmute(downtime_id)
        source.unmute(downtime_id)  # twice is fine, as on Datadog
        source.unmute("00000000-0000-0000-0000-000000000000")  # gone counts as cancelled
        unmuted = monitors_of(source.fetch())[target.id]
        assert (unmuted.muted, unmuted.muted_until, unmuted.downtime_ids) == (False, None, ())


def test_mute_without_an_end_is_indefinite_and_ends_count_on_the_clock(
    simulator: Simulator, sim_clock: FakeClock
) -> None:
    with source_for(simulator) as source:
        first, second = [m for m in monitors_of(source.fetch()).values() if not m.muted][:2]
        force(simulator, first.id, first.overall_state, hold=24 * 3600)
        force(simulator, second.id, second.overall_state, hold=24 * 3600)
        source.mute(first.id, None, None, "until the vendor fixes it")
        source.mute(second.id, None, sim_clock.now() + timedelta(minutes=30), "half an hour")
        found = monitors_of(source.fetch())
        assert (found[first.id].muted, found[first.id].muted_until) == (True, None)
        assert found[second.id].muted
        sim_clock.advance(31 * 60)
        found = monitors_of(source.fetch())
        assert found[first.id].muted
        assert not found[second.id].muted


def test_a_scoped_mute_on_one_group_is_only_partly_muted(
    simulator: Simulator, sim_clock: FakeClock
) -> None:
    world = simulator.world.datadog
    multi = next(m for m in world.monitors.values() if m.multi and m.team == "benefits")
    names = list(multi.groups)
    force(simulator, multi.id, "Alert", hold=24 * 3600)
    with source_for(simulator) as source:
        source.mute(multi.id, names[0], sim_clock.now() + timedelta(hours=1), "host rebuild")
        partly = monitors_of(source.fetch())[multi.id]
        assert partly.muted is False
        assert partly.mute_reason == f"partly muted (1 of {len(names)} groups): host rebuild"
        assert len(partly.downtime_ids) == 1
        source.mute(multi.id, "env:prod", sim_clock.now() + timedelta(hours=3), "all of prod")
        whole = monitors_of(source.fetch())[multi.id]
        assert whole.muted is True
        # Each group stays muted until its last covering downtime ends.
        assert whole.muted_until == sim_clock.now() + timedelta(hours=3)
        assert set(whole.mute_reason.split("; ")) == {"host rebuild", "all of prod"}


def test_scope_covers_the_conjunctive_subset_and_never_guesses() -> None:
    group = frozenset({"env:prod", "host:a"})
    assert scope_covers("*", group)
    assert scope_covers("env:prod", group)
    assert scope_covers("env:prod,host:a", group)
    assert scope_covers("env:prod AND host:a", group)
    assert not scope_covers("env:prod,host:b", group)
    assert not scope_covers("env:prod,!host:a", group)
    assert not scope_covers("env:prod AND NOT host:a", group)
    # OR and parentheses are not understood: shown as not muted rather than guessed.
    assert not scope_covers("host:a OR host:b", group)
    assert not scope_covers("env:(prod OR staging)", group)


def test_a_downtime_on_monitor_tags_mutes_every_monitor_with_those_tags(
    simulator: Simulator,
) -> None:
    world = simulator.world.datadog
    by_tags = next(d for d in world.downtimes.values() if d.monitor_tags)
    tagged = [m for m in world.monitors.values() if set(by_tags.monitor_tags) <= set(m.tags)]
    for monitor in tagged:
        force(simulator, monitor.id, "Warn")
    with source_for(simulator) as source:
        found = monitors_of(source.fetch())
    for monitor in tagged:
        assert found[monitor.id].muted
        assert found[monitor.id].mute_reason == by_tags.message
        assert found[monitor.id].muted_until == by_tags.end


def test_mute_needs_an_aware_end(simulator: Simulator) -> None:
    with source_for(simulator) as source, pytest.raises(ValueError):
        source.mute(1, None, datetime(2026, 1, 1), "naive")


def test_writes_raise_the_same_error_classes(simulator: Simulator, sim_clock: FakeClock) -> None:
    end = sim_clock.now() + timedelta(hours=1)
    with source_for(simulator) as source:
        monitor_id = next(iter(world_monitors(simulator)))
        for mode, error in (("429", RateLimited), ("500", Unavailable), ("401", AuthFailed)):
            simulator.set_fault("datadog", mode, count=2, retry_after=9)
            with pytest.raises(error):
                source.mute(monitor_id, None, end, "x")
            with pytest.raises(error):
                source.unmute("some-id")
        with pytest.raises(SourceError) as caught:
            source.mute(1, None, end, "no such monitor")
        assert caught.value.status == 400 and "\n" not in caught.value.message


# --------------------------------------------------------------------------- faults


def test_429_is_rate_limited_after_exactly_one_request_then_recovers(
    simulator: Simulator,
) -> None:
    with source_for(simulator) as source:
        simulator.set_fault("datadog", "429", count=2, retry_after=42)
        for _ in range(2):
            before = sent(simulator)
            with pytest.raises(RateLimited) as caught:
                source.fetch()
            # enable_retry is off: the engine owns backoff, so one request per fetch.
            assert sent(simulator) - before == 1
            assert caught.value.retry_after == 42.0
            assert caught.value.status == 429
            assert "\n" not in caught.value.message
        budget = source.rate_budget()
        assert (budget.limit, budget.remaining, budget.reset_after) == (1000, 0, 42.0)
        assert set(monitors_of(source.fetch())) == set(watched(simulator))
        assert (source.rate_budget().remaining or 0) > 0


def test_the_providers_own_limit_mid_pagination_stops_the_fetch(simulator: Simulator) -> None:
    app = DatadogApp()
    app.rate_limit = 2  # the third request of the minute is refused
    with Simulator(simulator.world, apps=[app]) as limited:
        settings = settings_for(
            simulator, base_url=limited.provider_url("datadog"), ca_bundle=limited.ca_pem_path
        )
        source = DatadogSource(settings, simulator.world.clock, per_page=3)
        with pytest.raises(RateLimited) as caught:
            source.fetch()
        source.close()
        assert len(limited.exchanges) == 3
        assert [e.response.status for e in limited.exchanges] == [200, 200, 429]
        assert caught.value.retry_after == 60.0  # X-RateLimit-Reset: the window's end
        assert source.rate_budget().remaining == 0


def test_500_is_unavailable_then_recovers(simulator: Simulator) -> None:
    with source_for(simulator) as source:
        simulator.set_fault("datadog", "500")
        before = sent(simulator)
        with pytest.raises(Unavailable) as caught:
            source.fetch()
        assert sent(simulator) - before == 1
        assert caught.value.status == 500
        assert "500" in caught.value.message and "Internal Server Error" in caught.value.message
        simulator.set_fault("datadog", None)
        assert set(monitors_of(source.fetch())) == set(watched(simulator))


def test_wrong_keys_are_auth_failed_without_the_keys(simulator: Simulator) -> None:
    api_canary = "canary-dd-api-3f9b21Zq9XaQ"
    app_canary = "canary-dd-app-7e1c44Lm2PwR"
    for changes in (
        {"api_key": Secret(api_canary)},
        {"app_key": Secret(app_canary)},
        {"api_key": Secret(api_canary), "app_key": Secret(app_canary)},
    ):
        with source_for(simulator, **changes) as source, pytest.raises(AuthFailed) as caught:
            source.fetch()
        assert caught.value.status == 403
        assert "check [datadog] api_key / app_key" in caught.value.message
        for text in (caught.value.message, str(caught.value), repr(caught.value)):
            for canary in (api_canary, app_canary, "sim-dd-api-key", DEFAULT_APP_KEY):
                assert canary not in text


def test_injected_401_is_auth_failed(simulator: Simulator) -> None:
    simulator.set_fault("datadog", "401", count=1)
    with source_for(simulator) as source, pytest.raises(AuthFailed) as caught:
        source.fetch()
    assert "Forbidden" in caught.value.message
    assert simulator.tokens["datadog"] not in caught.value.message


def test_slow_answer_is_unavailable_within_the_timeout(simulator: Simulator) -> None:
    with source_for(simulator, timeout=0.3) as source:
        simulator.set_fault("datadog", "slow", count=1, delay=3.0)
        before = sent(simulator)
        started = time.monotonic()
        with pytest.raises(Unavailable) as caught:
            source.fetch()
        elapsed = time.monotonic() - started
        # urllib3 would silently retry a read timeout three times; the source lets it not.
        assert 0.25 <= elapsed < 2.5, f"took {elapsed:.2f}s with a 0.3s timeout (3 s delay)"
        assert sent(simulator) - before == 1
        assert "0.3 s" in caught.value.message and "\n" not in caught.value.message
        assert set(monitors_of(source.fetch())) == set(watched(simulator))


@pytest.mark.parametrize("mode", ["truncated", "bad_json", "wrong_shape"])
def test_unreadable_answers_are_bad_responses(simulator: Simulator, mode: str) -> None:
    with source_for(simulator) as source:
        simulator.set_fault("datadog", mode, count=1)
        before = sent(simulator)
        with pytest.raises(BadResponse) as caught:
            source.fetch()
        assert sent(simulator) - before == 1
        assert caught.value.message == "Datadog monitor search: the answer does not parse"
        assert set(monitors_of(source.fetch())) == set(watched(simulator))


@pytest.mark.parametrize(
    ("mode", "reason"), [("502", "Bad Gateway"), ("503", "Service Unavailable")]
)
def test_gateway_errors_are_unavailable_after_one_request(
    simulator: Simulator, mode: str, reason: str
) -> None:
    with source_for(simulator) as source:
        simulator.set_fault("datadog", mode)
        before = sent(simulator)
        with pytest.raises(Unavailable) as caught:
            source.fetch()
        # Neither the SDK's retry (enable_retry) nor urllib3's Retry sends it again.
        assert sent(simulator) - before == 1
        assert caught.value.status == int(mode)
        assert caught.value.message == f"Datadog failed on its side ({mode}: {reason})"
        simulator.set_fault("datadog", None)
        assert set(monitors_of(source.fetch())) == set(watched(simulator))


def test_403_with_good_keys_says_they_lack_permission(simulator: Simulator) -> None:
    with source_for(simulator) as source:
        simulator.set_fault("datadog", "403", count=1)
        before = sent(simulator)
        with pytest.raises(AuthFailed) as caught:
            source.fetch()
        assert sent(simulator) - before == 1
        assert caught.value.status == 403
        assert caught.value.message == (
            "Datadog keys lack permission for monitor search (403: Failed permission "
            "authorization checks): give [datadog] app_key the scopes it needs "
            "(monitors_read, monitors_downtime)"
        )
        # A bare "Forbidden" is Datadog's answer to a wrong key, and says so.
        simulator.set_fault("datadog", "401", count=1)
        with pytest.raises(AuthFailed, match=r"refused the keys \(403: Forbidden\)"):
            source.fetch()


def test_connection_refused_is_unavailable_at_once() -> None:
    sim = Simulator(World(seed=7, clock=FakeClock())).start()
    try:
        source = DatadogSource(settings_for(sim), sim.world.clock)
    finally:
        sim.stop()
    try:
        started = time.monotonic()
        with pytest.raises(Unavailable) as caught:
            source.fetch()
        assert time.monotonic() - started < 1.0
        assert "unreachable" in caught.value.message
    finally:
        source.close()


def test_an_untrusted_certificate_says_check_the_ca_bundle(simulator: Simulator) -> None:
    with source_for(simulator, ca_bundle=None) as source, pytest.raises(Unavailable) as caught:
        source.fetch()
    assert "ca_bundle" in caught.value.message


# --------------------------------------------------------------------------- environment


def test_dd_env_vars_never_leak_into_the_client(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DD_API_KEY", "canary-env-api-key")
    monkeypatch.setenv("DD_APP_KEY", "canary-env-app-key")
    monkeypatch.setenv("DD_SITE", "datadoghq.eu")
    with source_for(simulator) as source:
        source.fetch()
        configuration = source._client.configuration
        assert configuration.api_key == {
            "apiKeyAuth": "sim-dd-api-key",
            "appKeyAuth": DEFAULT_APP_KEY,
        }
        assert configuration.server_variables == {}
        assert configuration.host == simulator.provider_url("datadog")
    assert simulator.exchanges
    for exchange in simulator.exchanges:
        headers = exchange.request.headers
        assert headers["DD-API-KEY"] == "sim-dd-api-key"
        assert headers["DD-APPLICATION-KEY"] == DEFAULT_APP_KEY
        assert "canary" not in exchange.request.raw_path


def test_a_right_key_in_the_env_cannot_hide_a_wrong_one_in_the_config(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DD_API_KEY", "sim-dd-api-key")
    monkeypatch.setenv("DD_APP_KEY", DEFAULT_APP_KEY)
    with source_for(simulator, api_key=Secret("wrong")) as source, pytest.raises(AuthFailed):
        source.fetch()


def test_an_empty_key_is_refused_before_the_env_can_fill_it(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DD_API_KEY", "sim-dd-api-key")
    with pytest.raises(SourceError, match="empty"):
        DatadogSource(settings_for(simulator, api_key=Secret("")), FakeClock())


def test_the_site_from_dd_site_does_not_move_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DD_SITE", "datadoghq.eu")
    settings = DatadogSettings(
        api_key=Secret("a"), app_key=Secret("b"), site="ddog-gov.com", ca_bundle=None
    )
    source = DatadogSource(settings, FakeClock())
    try:
        assert source._client.configuration.host == "https://api.ddog-gov.com"
        assert source.label == "Datadog (ddog-gov.com)"
    finally:
        source.close()


def test_the_demo_builds_a_monitors_source(simulator: Simulator) -> None:
    sources = build_sources(demo_settings(Settings(), simulator), simulator.world.clock)
    try:
        assert isinstance(sources["monitors"], DatadogSource)
        assert sources["monitors"].fetch().items
    finally:
        for source in sources.values():
            source.close()


# --------------------------------------------------------------------------- poll engine


class Recorder:
    def __init__(self) -> None:
        self.snapshots: list[tuple[Snapshot, tuple[Event, ...]]] = []

    def on_snapshot(self, snapshot: Snapshot, events: tuple[Event, ...], _: Freshness) -> None:
        self.snapshots.append((snapshot, events))

    def on_freshness(self, _: Freshness) -> None:
        pass


async def settle(poller: Poller, clock: FakeClock, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = poller.freshness
        if fresh.last_attempt == clock.now() and not fresh.polling and clock.sleepers == 1:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"the poller did not settle: {poller.freshness}")


async def test_poller_honours_the_retry_after_of_a_429_then_recovers(
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
            assert first is not None and first.items

            simulator.set_fault("datadog", "429", retry_after=120)  # until cleared
            before = sent(simulator)
            sim_clock.advance(30)
            await settle(poller, sim_clock)
            fresh = poller.freshness
            assert sent(simulator) - before == 1, "the SDK retried the 429 itself"
            assert fresh.failures == 1 and "rate limit" in (fresh.last_error or "")
            assert fresh.next_poll is not None
            assert (fresh.next_poll - sim_clock.now()).total_seconds() >= 120
            assert poller.last_snapshot is first
            assert fresh.budget.remaining == 0

            simulator.set_fault("datadog", None)
            sim_clock.advance(60)
            deadline = time.monotonic() + 0.2
            while time.monotonic() < deadline:
                assert sent(simulator) - before == 1, "polled before the retry-after"
                await asyncio.sleep(0.01)

            arriving = next(
                i for i, m in world_monitors(simulator).items() if m["overall_state"] == "OK"
            )
            force(simulator, arriving, "Alert", hold=3600)
            sim_clock.advance(60)
            await settle(poller, sim_clock)
            fresh = poller.freshness
            assert fresh.failures == 0 and fresh.last_error is None
            assert fresh.last_success == sim_clock.now()
            assert str(arriving) in poller.last_snapshot.by_key()  # type: ignore[union-attr]
            _, events = recorder.snapshots[-1]
            assert ("added", str(arriving)) in {(e.kind, e.key) for e in events}
        finally:
            await poller.stop()


def test_since_is_utc(simulator: Simulator) -> None:
    with source_for(simulator) as source:
        items = monitors_of(source.fetch()).values()
    assert all(m.since is not None and m.since.tzinfo == UTC for m in items)
