"""The simulator's Datadog API over raw HTTP, and its world: auth, search syntax, pagination,
downtimes, faults, determinism by seed and flapping with a fake clock."""

from __future__ import annotations

import math
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from oncall_tui.config import load_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import Simulator, World, write_config_file
from oncall_tui.simulator.datadog import DEFAULT_APP_KEY, DatadogApp, parse_query
from oncall_tui.simulator.datadog_world import (
    BAD_STATES,
    STATES,
    DatadogWorld,
    scope_matches,
)
from oncall_tui.simulator.scenarios import HOUR, SCENARIOS

AUTH = {"DD-API-KEY": "sim-dd-api-key", "DD-APPLICATION-KEY": DEFAULT_APP_KEY}
TEAM = "tag:team:benefits"
START = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


@pytest.fixture
def dd(simulator: Simulator) -> Iterator[httpx.Client]:
    verify = ssl.create_default_context(cafile=str(simulator.ca_pem_path))
    with httpx.Client(
        base_url=simulator.provider_url("datadog"), verify=verify, headers=AUTH
    ) as client:
        yield client


@pytest.fixture
def control(simulator: Simulator) -> Iterator[httpx.Client]:
    verify = ssl.create_default_context(cafile=str(simulator.ca_pem_path))
    with httpx.Client(base_url=simulator.url, verify=verify) as client:
        yield client


def search(dd: httpx.Client, query: str = "", **params: Any) -> dict[str, Any]:
    answer = dd.get("/api/v1/monitor/search", params={"query": query, **params})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def all_monitors(dd: httpx.Client, query: str = "") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 0
    while True:
        body = search(dd, query, page=page, per_page=7)
        found += body["monitors"]
        page += 1
        if page >= body["metadata"]["page_count"]:
            return found


def world_state(simulator: Simulator) -> dict[str, Any]:
    return dict(simulator.world.snapshot()["datadog"])


def team_monitors(simulator: Simulator) -> list[dict[str, Any]]:
    return [m for m in world_state(simulator)["monitors"] if "team:benefits" in m["tags"]]


def create_body(**attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "downtime", "attributes": attributes}}


def errors_of(answer: httpx.Response, status: int) -> list[str]:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"errors"} and all(isinstance(e, str) for e in body["errors"])
    return list(body["errors"])


# --------------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"DD-API-KEY": "sim-dd-api-key"},
        {"DD-APPLICATION-KEY": DEFAULT_APP_KEY},
        {"DD-API-KEY": "wrong", "DD-APPLICATION-KEY": DEFAULT_APP_KEY},
        {"DD-API-KEY": "sim-dd-api-key", "DD-APPLICATION-KEY": "wrong"},
        {"DD-API-KEY": DEFAULT_APP_KEY, "DD-APPLICATION-KEY": "sim-dd-api-key"},
    ],
)
def test_both_keys_are_required_else_403_forbidden(
    simulator: Simulator, headers: dict[str, str]
) -> None:
    verify = ssl.create_default_context(cafile=str(simulator.ca_pem_path))
    with httpx.Client(base_url=simulator.provider_url("datadog"), verify=verify) as client:
        for path in ("/api/v1/monitor/search", "/api/v2/downtime"):
            assert errors_of(client.get(path, headers=headers), 403) == ["Forbidden"]


def test_custom_api_key(simulator: Simulator) -> None:
    with Simulator(simulator.world, tokens={"datadog": "other"}) as sim:
        verify = ssl.create_default_context(cafile=str(sim.ca_pem_path))
        with httpx.Client(base_url=sim.provider_url("datadog"), verify=verify) as client:
            headers = {**AUTH, "DD-API-KEY": "other"}
            assert client.get("/api/v1/monitor/search", headers=headers).status_code == 200
            assert client.get("/api/v1/monitor/search", headers=AUTH).status_code == 403


def test_rate_limit_headers_on_every_answer(dd: httpx.Client) -> None:
    first = dd.get("/api/v1/monitor/search")
    second = dd.get("/api/v2/downtime")
    missing = dd.get("/api/v1/nothing")
    for answer in (first, second, missing):
        assert answer.headers["X-RateLimit-Limit"] == "1000"
        assert answer.headers["X-RateLimit-Period"] == "60"
        assert answer.headers["X-RateLimit-Name"]
        assert int(answer.headers["X-RateLimit-Reset"]) >= 1
    assert int(second.headers["X-RateLimit-Remaining"]) == (
        int(first.headers["X-RateLimit-Remaining"]) - 1
    )
    assert errors_of(missing, 404)


def test_faults_answer_in_datadogs_format(simulator: Simulator, dd: httpx.Client) -> None:
    simulator.set_fault("datadog", "429", count=1, retry_after=17)
    limited = dd.get("/api/v1/monitor/search")
    assert errors_of(limited, 429)
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["X-RateLimit-Reset"] == "17"
    simulator.set_fault("datadog", "500", count=1)
    assert errors_of(dd.get("/api/v1/monitor/search"), 500)
    simulator.set_fault("datadog", "401", count=1)
    # Datadog refuses a bad key with 403 Forbidden, never 401.
    assert errors_of(dd.get("/api/v1/monitor/search"), 403) == ["Forbidden"]
    # Good keys without the permission: 403 too, saying so.
    simulator.set_fault("datadog", "403", count=1)
    assert errors_of(dd.get("/api/v1/monitor/search"), 403) == [
        "Failed permission authorization checks"
    ]
    assert dd.get("/api/v1/monitor/search").status_code == 200


@pytest.mark.parametrize(
    ("mode", "reason"), [("502", "Bad Gateway"), ("503", "Service Unavailable")]
)
def test_gateway_faults_answer_like_datadogs_edge(
    simulator: Simulator, dd: httpx.Client, mode: str, reason: str
) -> None:
    simulator.set_fault("datadog", mode, count=1)
    answer = dd.get("/api/v1/monitor/search")
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "status": "error",
        "code": int(mode),
        "errors": [reason],
        "statuspage": "http://status.datadoghq.com",
        "twitter": "http://twitter.com/datadogops",
        "email": "support@datadoghq.com",
    }
    assert answer.status_code == int(mode)
    assert "X-RateLimit-Remaining" in answer.headers


def test_own_rate_limit_answers_429(simulator: Simulator) -> None:
    app = DatadogApp()
    app.rate_limit = 3
    with Simulator(simulator.world, apps=[app]) as sim:
        verify = ssl.create_default_context(cafile=str(sim.ca_pem_path))
        with httpx.Client(
            base_url=sim.provider_url("datadog"), verify=verify, headers=AUTH
        ) as client:
            codes = [client.get("/api/v2/downtime").status_code for _ in range(4)]
            assert codes == [200, 200, 200, 429]


# --------------------------------------------------------------------------- search


def test_the_team_query_leaves_other_teams_out(simulator: Simulator, dd: httpx.Client) -> None:
    everything = all_monitors(dd)
    team = all_monitors(dd, TEAM)
    assert len(everything) == len(world_state(simulator)["monitors"])
    assert len(team) == SCENARIOS["default"].datadog.team_monitors == 25
    assert all("team:benefits" in m["tags"] for m in team)
    assert len(everything) > len(team)
    assert {m["id"] for m in all_monitors(dd, 'tag:"team:benefits"')} == {m["id"] for m in team}
    assert {m["id"] for m in all_monitors(dd, "team:benefits")} == {m["id"] for m in team}


def test_status_filter_and_or_values(simulator: Simulator, dd: httpx.Client) -> None:
    bad = [m for m in team_monitors(simulator) if m["overall_state"] != "OK"]
    assert bad, "the default world starts with some team monitors alerting"
    query = f'{TEAM} status:(alert OR warn OR "no data")'
    found = all_monitors(dd, query)
    assert {m["id"] for m in found} == {m["id"] for m in bad}
    assert all(m["status"] in BAD_STATES for m in found)
    alerts = all_monitors(dd, f"{TEAM} status:alert")
    assert {m["id"] for m in alerts} == {m["id"] for m in bad if m["overall_state"] == "Alert"}
    ok = all_monitors(dd, f"{TEAM} -status:ok")
    assert {m["id"] for m in ok} == {m["id"] for m in bad}


def test_tag_type_text_id_and_priority_terms(dd: httpx.Client) -> None:
    rabbit = all_monitors(dd, 'tag:"service:rabbitmq"')
    assert rabbit and all("service:rabbitmq" in m["tags"] for m in rabbit)
    assert all_monitors(dd, "tag:service:rabbit*") == rabbit
    logs = all_monitors(dd, f"{TEAM} type:log")
    assert logs and {m["type"] for m in logs} == {"log alert"}
    checks = all_monitors(dd, f'{TEAM} type:"service check"')
    assert checks and {m["type"] for m in checks} == {"service check"}
    latency = all_monitors(dd, f"{TEAM} latency")
    assert latency and all("latency" in m["name"].lower() for m in latency)
    one = rabbit[0]
    assert [m["id"] for m in all_monitors(dd, f"id:{one['id']}")] == [one["id"]]
    if one["priority"] is not None:
        assert one["id"] in {m["id"] for m in all_monitors(dd, f"priority:p{one['priority']}")}


def test_bad_queries_are_400(dd: httpx.Client) -> None:
    for query in ("colour:red", 'tag:"unbalanced', "status:(alert OR", "status:purple", "a OR b"):
        answer = dd.get("/api/v1/monitor/search", params={"query": query})
        assert errors_of(answer, 400), query
    assert errors_of(dd.get("/api/v1/monitor/search", params={"sort": "colour,asc"}), 400)
    assert errors_of(dd.get("/api/v1/monitor/search", params={"per_page": 0}), 400)
    assert errors_of(dd.get("/api/v1/monitor/search", params={"page": -1}), 400)
    assert errors_of(dd.get("/api/v1/monitor/search", params={"page": "x"}), 400)


def test_pagination_metadata_and_pages_cover_everything_once(dd: httpx.Client) -> None:
    whole = search(dd, TEAM, per_page=1000)
    total = whole["metadata"]["total_count"]
    first = search(dd, TEAM, per_page=4)
    assert first["metadata"] == {
        "page": 0,
        "page_count": math.ceil(total / 4),
        "per_page": 4,
        "total_count": total,
    }
    ids = [m["id"] for page in range(first["metadata"]["page_count"]) for m in
           search(dd, TEAM, per_page=4, page=page)["monitors"]]  # fmt: skip
    assert ids == [m["id"] for m in whole["monitors"]]
    assert len(set(ids)) == total
    past = search(dd, TEAM, per_page=4, page=99)
    assert past["monitors"] == [] and past["metadata"]["page"] == 99
    assert search(dd, TEAM, per_page=5000)["metadata"]["per_page"] == 1000
    assert search(dd, TEAM)["metadata"]["per_page"] == 30  # Datadog's default


def test_default_order_is_worst_first_and_sort_works(dd: httpx.Client) -> None:
    monitors = search(dd, TEAM, per_page=100)["monitors"]
    ranks = [STATES.index(m["status"]) for m in monitors]
    assert ranks == sorted(ranks)
    by_name = search(dd, TEAM, per_page=100, sort="name,asc")["monitors"]
    assert [m["name"].lower() for m in by_name] == sorted(m["name"].lower() for m in by_name)
    desc = search(dd, TEAM, per_page=100, sort="name,desc")["monitors"]
    assert [m["id"] for m in desc] != [m["id"] for m in by_name]


def test_counts_describe_the_whole_match(dd: httpx.Client) -> None:
    body = search(dd, TEAM, per_page=2)
    total = body["metadata"]["total_count"]
    counts = body["counts"]
    for facet in ("status", "type", "muted"):
        assert sum(item["count"] for item in counts[facet]) == total, facet
    assert {item["name"] for item in counts["muted"]} <= {True, False}
    tags = {item["name"]: item["count"] for item in counts["tag"]}
    assert tags["team:benefits"] == total


def test_search_result_has_the_recorded_fields(dd: httpx.Client) -> None:
    monitor = search(dd, TEAM, per_page=1)["monitors"][0]
    assert set(monitor) == {
        "status", "scopes", "classification", "creator", "metrics", "notifications",
        "muted_until_ts", "query", "id", "last_triggered_ts", "name", "tags", "org_id",
        "priority", "overall_state_modified", "restricted_roles", "type",
    }  # fmt: skip
    assert set(monitor["creator"]) == {"handle", "id", "name"}
    assert monitor["status"] in BAD_STATES
    assert isinstance(monitor["last_triggered_ts"], int | None)


def test_group_search_lists_the_groups_of_multi_alert_monitors(
    simulator: Simulator, dd: httpx.Client
) -> None:
    answer = dd.get("/api/v1/monitor/groups/search", params={"query": TEAM, "per_page": 1000})
    assert answer.status_code == 200
    body = answer.json()
    groups = body["groups"]
    assert body["metadata"]["total_count"] == len(groups)
    world = {m["id"]: m for m in team_monitors(simulator)}
    assert {g["monitor_id"] for g in groups} == set(world)
    multi = [g for g in groups if g["group"] != "*"]
    assert multi, "the default world has multi-alert monitors"
    for group in multi:
        assert group["group"].startswith("env:prod,")
        assert group["group_tags"] == group["group"].split(",")
        expected = next(
            g for g in world[group["monitor_id"]]["groups"] if g["name"] == group["group"]
        )
        assert group["status"] == expected["status"]
    alerting = dd.get(
        "/api/v1/monitor/groups/search", params={"query": f"{TEAM} group_status:alert"}
    ).json()
    assert alerting["groups"] and {g["status"] for g in alerting["groups"]} == {"Alert"}
    assert sum(c["count"] for c in body["counts"]["status"]) == len(groups)


def test_get_monitor_with_group_states_and_downtimes(
    simulator: Simulator, dd: httpx.Client
) -> None:
    muted = next(m for m in team_monitors(simulator) if m["muted"])
    body = dd.get(
        f"/api/v1/monitor/{muted['id']}",
        params={"group_states": "all", "with_downtimes": "true"},
    ).json()
    assert body["id"] == muted["id"] and body["overall_state"] == muted["overall_state"]
    assert set(body["state"]["groups"]) == {g["name"] for g in muted["groups"]}
    assert body["matching_downtimes"]
    plain = dd.get(f"/api/v1/monitor/{muted['id']}").json()
    assert "state" not in plain and "matching_downtimes" not in plain
    assert errors_of(dd.get("/api/v1/monitor/123"), 404)
    assert errors_of(dd.get("/api/v1/monitor/abc"), 400)


# --------------------------------------------------------------------------- downtimes


def test_the_world_starts_with_muted_monitors_and_a_reason(
    simulator: Simulator, dd: httpx.Client
) -> None:
    body = dd.get("/api/v2/downtime", params={"current_only": "true"}).json()
    assert body["meta"]["page"]["total_filtered_count"] == len(body["data"]) == 2
    kinds = {tuple(d["attributes"]["monitor_identifier"]) for d in body["data"]}
    assert kinds == {("monitor_id",), ("monitor_tags",)}
    assert all(d["attributes"]["message"] for d in body["data"])
    assert all(d["attributes"]["schedule"]["end"] for d in body["data"])
    muted = all_monitors(dd, f"{TEAM} muted:true")
    assert muted and {m["id"] for m in muted} == {
        m["id"] for m in team_monitors(simulator) if m["muted"]
    }
    assert all(m["muted_until_ts"] for m in muted)


def test_list_includes_creator_and_monitor_when_asked(dd: httpx.Client) -> None:
    body = dd.get("/api/v2/downtime", params={"include": "created_by,monitor"}).json()
    types = {item["type"] for item in body["included"]}
    assert types == {"users", "monitors"}
    assert "included" not in dd.get("/api/v2/downtime").json()
    assert errors_of(dd.get("/api/v2/downtime", params={"include": "everything"}), 400)


def test_list_pages_by_offset_and_limit(dd: httpx.Client) -> None:
    first = dd.get("/api/v2/downtime", params={"page[limit]": 1}).json()
    second = dd.get("/api/v2/downtime", params={"page[limit]": 1, "page[offset]": 1}).json()
    assert len(first["data"]) == len(second["data"]) == 1
    assert first["data"][0]["id"] != second["data"][0]["id"]
    assert first["meta"]["page"]["total_filtered_count"] == 2


def test_schedule_mutes_then_cancel_unmutes(
    simulator: Simulator, sim_clock: FakeClock, dd: httpx.Client
) -> None:
    target = next(m for m in team_monitors(simulator) if not m["muted"])
    end = (sim_clock.now() + timedelta(hours=1)).isoformat()
    created = dd.post(
        "/api/v2/downtime",
        json=create_body(
            monitor_identifier={"monitor_id": target["id"]},
            scope="*",
            message="deploying the fix",
            schedule={"start": None, "end": end},
        ),
    )
    assert created.status_code == 200, created.text
    body = created.json()
    downtime_id = body["data"]["id"]
    attributes = body["data"]["attributes"]
    assert attributes["status"] == "active" and attributes["message"] == "deploying the fix"
    assert attributes["schedule"]["end"] == end
    assert body["data"]["relationships"]["monitor"]["data"] == {
        "type": "monitors",
        "id": str(target["id"]),
    }
    assert [i["type"] for i in body["included"]] == ["users"]
    found = search(dd, f"id:{target['id']}")["monitors"][0]
    assert found["muted_until_ts"] == int((sim_clock.now() + timedelta(hours=1)).timestamp())
    matches = dd.get(f"/api/v2/monitor/{target['id']}/downtime_matches").json()
    assert [m["id"] for m in matches["data"]] == [downtime_id]
    assert matches["data"][0]["attributes"]["groups"] == ["*"]

    cancelled = dd.delete(f"/api/v2/downtime/{downtime_id}")
    assert cancelled.status_code == 204 and cancelled.content == b""
    assert cancelled.headers["Content-Type"].startswith("text/html")
    assert dd.delete(f"/api/v2/downtime/{downtime_id}").status_code == 204  # as recorded
    assert search(dd, f"id:{target['id']}")["monitors"][0]["muted_until_ts"] is None
    current = dd.get("/api/v2/downtime", params={"current_only": "true"}).json()
    assert downtime_id not in {d["id"] for d in current["data"]}
    fetched = dd.get(f"/api/v2/downtime/{downtime_id}").json()
    assert fetched["data"]["attributes"]["status"] == "canceled"
    assert fetched["data"]["attributes"]["canceled"] is not None
    assert errors_of(dd.delete("/api/v2/downtime/no-such-downtime"), 404)


def test_schedule_by_tags_with_a_scope_mutes_only_matching_groups(
    simulator: Simulator, dd: httpx.Client
) -> None:
    multi = next(m for m in team_monitors(simulator) if m["multi"] and not m["muted"])
    group = multi["groups"][0]["name"]
    host_tag = group.split(",")[1]
    service_tag = next(t for t in multi["tags"] if t.startswith("service:"))
    created = dd.post(
        "/api/v2/downtime",
        json=create_body(
            monitor_identifier={"monitor_tags": [service_tag, "team:benefits"]},
            scope=f"env:prod,{host_tag}",
            message="one host is being replaced",
        ),
    )
    assert created.status_code == 200, created.text
    assert created.json()["data"]["attributes"]["schedule"]["end"] is None
    matches = dd.get(f"/api/v2/monitor/{multi['id']}/downtime_matches").json()
    assert matches["data"][0]["attributes"]["groups"] == [group]
    groups = dd.get(
        "/api/v1/monitor/groups/search", params={"query": f"id:{multi['id']}", "per_page": 100}
    ).json()["groups"]
    assert {g["group"] for g in groups if g["muted"]} == {group}
    assert all(g["muted_until_ts"] is None for g in groups)


@pytest.mark.parametrize(
    ("attributes", "fragment"),
    [
        ({"monitor_identifier": {"monitor_id": 1}}, "scope"),
        ({"scope": "*"}, "monitor_identifier"),
        ({"scope": "*", "monitor_identifier": {"monitor_id": 1, "monitor_tags": ["a"]}}, "one"),
        ({"scope": "*", "monitor_identifier": {"monitor_tags": []}}, "monitor_tags"),
        ({"scope": "*", "monitor_identifier": {"monitor_id": 123}}, "does not exist"),
        ({"scope": "*", "monitor_identifier": {"monitor_tags": ["a"]}, "colour": 1}, "colour"),
        (
            {
                "scope": "*",
                "monitor_identifier": {"monitor_tags": ["a"]},
                "schedule": {"recurrences": [{"rrule": "FREQ=DAILY"}]},
            },
            "recurring",
        ),
        (
            {
                "scope": "*",
                "monitor_identifier": {"monitor_tags": ["a"]},
                "schedule": {"end": "2020-01-01T00:00:00+00:00"},
            },
            "end after",
        ),
        (
            {
                "scope": "*",
                "monitor_identifier": {"monitor_tags": ["a"]},
                "notify_end_states": ["purple"],
            },
            "notify_end_states",
        ),
    ],
)
def test_schedule_refuses_bad_bodies(
    dd: httpx.Client, attributes: dict[str, Any], fragment: str
) -> None:
    errors = errors_of(dd.post("/api/v2/downtime", json=create_body(**attributes)), 400)
    assert fragment in " ".join(errors)


def test_schedule_refuses_a_body_that_is_not_a_downtime(dd: httpx.Client) -> None:
    assert errors_of(dd.post("/api/v2/downtime", content=b"{"), 400)
    assert errors_of(dd.post("/api/v2/downtime", json={"data": {"type": "monitor"}}), 400)


def test_downtimes_end_on_the_clock_and_are_forgotten_later(
    simulator: Simulator, sim_clock: FakeClock, dd: httpx.Client
) -> None:
    before = dd.get("/api/v2/downtime").json()["meta"]["page"]["total_filtered_count"]
    sim_clock.advance(5 * HOUR)
    listed = dd.get("/api/v2/downtime").json()["data"]
    assert len(listed) == before
    assert {d["attributes"]["status"] for d in listed} == {"ended"}
    assert dd.get("/api/v2/downtime", params={"current_only": "true"}).json()["data"] == []
    assert not any(m["muted"] for m in team_monitors(simulator))
    sim_clock.advance(3 * 24 * HOUR)
    assert dd.get("/api/v2/downtime").json()["data"] == []


# --------------------------------------------------------------------------- world


def test_same_seed_same_world_different_seed_different_world() -> None:
    one = DatadogWorld(7, SCENARIOS["default"], START).snapshot()
    two = DatadogWorld(7, SCENARIOS["default"], START).snapshot()
    other = DatadogWorld(8, SCENARIOS["default"], START).snapshot()
    assert one == two
    assert one["monitors"] != other["monitors"]


def test_the_world_is_the_same_however_finely_it_is_advanced() -> None:
    coarse = DatadogWorld(7, SCENARIOS["default"], START)
    fine = DatadogWorld(7, SCENARIOS["default"], START)
    end = START + timedelta(hours=12)
    coarse.advance_to(end)
    at = START
    while at < end:
        at += timedelta(seconds=137)
        fine.advance_to(min(at, end))
    assert coarse.snapshot() == fine.snapshot()


def test_monitors_flap_through_every_state_with_the_clock() -> None:
    clock = FakeClock(START)
    world = World(seed=7, clock=clock)
    seen: dict[int, set[str]] = {}
    changes = 0
    previous: dict[int, str] = {}
    for _ in range(12 * 12):  # twelve hours, five minutes at a time
        clock.advance(300)
        world.tick()
        for monitor in world.datadog.monitors.values():
            state = monitor.overall_state
            seen.setdefault(monitor.id, set()).add(state)
            if previous.get(monitor.id, state) != state:
                changes += 1
            previous[monitor.id] = state
    everywhere = set().union(*seen.values())
    assert everywhere == set(STATES)
    assert sum(1 for states in seen.values() if len(states) > 1) >= 15
    assert changes >= 40, f"only {changes} state changes in twelve hours"


def test_overall_state_is_the_worst_group_and_since_moves_on_changes() -> None:
    world = DatadogWorld(7, SCENARIOS["default"], START)
    for monitor in world.monitors.values():
        worst = min((g.status for g in monitor.groups.values()), key=STATES.index)
        assert monitor.overall_state == worst
    multi = next(m for m in world.monitors.values() if m.multi and m.overall_state == "OK")
    first = next(iter(multi.groups))
    world.force_state(multi.id, "Alert", group=first, hold=600)
    assert multi.overall_state == "Alert"
    assert multi.overall_modified == START
    group = multi.groups[first]
    assert (group.since, group.last_triggered) == (START, START)
    world.advance_to(START + timedelta(seconds=599))
    assert group.status == "Alert"
    world.advance_to(START + timedelta(seconds=601))
    assert group.changes == 1 and group.status != "Alert", "the held state flapped on"


def test_control_route_forces_a_state(
    simulator: Simulator, sim_clock: FakeClock, dd: httpx.Client, control: httpx.Client
) -> None:
    target = next(m for m in team_monitors(simulator) if m["overall_state"] == "OK")
    forced = control.post(
        "/_sim/datadog/monitor_state",
        json={"monitor_id": target["id"], "status": "No Data", "hold": 1800},
    )
    assert forced.status_code == 200, forced.text
    assert forced.json()["monitor"]["status"] == "No Data"
    sim_clock.advance(1700)
    assert search(dd, f"id:{target['id']}")["monitors"][0]["status"] == "No Data"
    for body in (
        {"monitor_id": 1, "status": "Alert"},
        {"monitor_id": target["id"], "status": "Purple"},
        {"monitor_id": target["id"], "status": "Alert", "group": "nope"},
        {"monitor_id": "x", "status": "Alert"},
        {"monitor_id": target["id"], "status": "Alert", "extra": 1},
    ):
        answer = control.post("/_sim/datadog/monitor_state", json=body)
        assert answer.status_code == 400, body
        assert "error" in answer.json()
    assert simulator.request_counts["datadog"] == 1, "control calls are not counted"


def test_state_shows_monitors_and_downtimes(control: httpx.Client) -> None:
    state = control.get("/_sim/state").json()
    datadog = state["datadog"]
    assert datadog["site"] == "ddog-gov.com"
    assert len(datadog["monitors"]) == 31
    monitor = datadog["monitors"][0]
    assert {"id", "name", "overall_state", "muted", "groups", "tags", "priority"} <= set(monitor)
    assert len(datadog["downtimes"]) == 2
    assert state["request_counts"]["datadog"] == 0
    assert "datadog" in state["faults"] or state["faults"] == {}


def test_scale_scenario_has_two_thousand_alerting_team_monitors() -> None:
    world = DatadogWorld(7, SCENARIOS["scale"], START)
    team = [m for m in world.monitors.values() if m.team == "benefits"]
    assert len(team) == 2500
    assert sum(1 for m in team if m.overall_state != "OK") == 2000


def test_quiet_scenario_is_calmer() -> None:
    quiet = DatadogWorld(7, SCENARIOS["quiet"], START)
    team = [m for m in quiet.monitors.values() if m.team == "benefits"]
    assert sum(1 for m in team if m.overall_state != "OK") <= 3
    assert len(quiet.active_downtimes()) == 1


def test_query_parser() -> None:
    terms = parse_query('tag:"team:benefits" -muted:true status:(alert OR "no data") cpu')
    assert [(t.key, t.values, t.negated) for t in terms] == [
        ("tag", ("team:benefits",), False),
        ("muted", ("true",), True),
        ("status", ("alert", "no data"), False),
        (None, ("cpu",), False),
    ]


def test_scope_matching() -> None:
    tags = ("env:prod", "host:a")
    assert scope_matches("*", tags)
    assert scope_matches("env:prod", tags)
    assert scope_matches("env:prod,host:a", tags)
    assert scope_matches("env:prod AND host:a", tags)
    assert not scope_matches("env:prod,host:b", tags)
    assert not scope_matches("!host:a", tags)


def test_write_config_file_has_a_loadable_datadog_section(
    simulator: Simulator, tmp_path: Path
) -> None:
    path, ca = write_config_file(simulator, tmp_path / "config.toml")
    settings = load_settings(path, env={})
    datadog = settings.datadog
    assert datadog.configured
    assert datadog.site == "ddog-gov.com"
    assert datadog.api_url == simulator.provider_url("datadog")
    assert datadog.app_url == "https://app.ddog-gov.com"
    assert datadog.ca_bundle == ca
    assert datadog.query == TEAM
