"""The simulator's PagerDuty API over raw HTTP: auth, From, writes, validation, pagination."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import Simulator, World

ME = "alex.rivera@example.com"
JORDAN = "jordan.lee@example.com"
READ = {
    "Authorization": "Token token=sim-pd-token",
    "Accept": "application/vnd.pagerduty+json;version=2",
}
WRITE = {**READ, "From": ME}


@pytest.fixture
def pd(simulator: Simulator) -> Iterator[httpx.Client]:
    verify = ssl.create_default_context(cafile=str(simulator.ca_pem_path))
    with httpx.Client(base_url=simulator.pagerduty_url, verify=verify) as client:
        yield client


def open_ids(pd: httpx.Client, **params: Any) -> list[str]:
    query: dict[str, Any] = {"statuses[]": ["triggered", "acknowledged"], "limit": 100, **params}
    return [i["id"] for i in pd.get("/incidents", params=query, headers=READ).json()["incidents"]]


def triggered_id(pd: httpx.Client) -> str:
    query: dict[str, Any] = {"statuses[]": "triggered", "limit": 1}
    return str(pd.get("/incidents", params=query, headers=READ).json()["incidents"][0]["id"])


def world_incident(simulator: Simulator, incident_id: str) -> dict[str, Any]:
    state = simulator.world.snapshot()["pagerduty"]["incidents"]
    return next(i for i in state if i["id"] == incident_id)


def assert_pd_error(answer: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    return dict(error)


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Token token=wrong", "Bearer sim-pd-token", "sim-pd-token", "Token sim-pd-token"],
)
def test_anything_but_the_token_is_refused(pd: httpx.Client, authorization: str | None) -> None:
    headers = {"Accept": READ["Accept"]}
    if authorization is not None:
        headers["Authorization"] = authorization
    error = assert_pd_error(pd.get("/incidents", headers=headers), 401, 2006)
    assert error["message"] == "Authentication failed"


def test_answers_in_the_media_type_asked_for(pd: httpx.Client) -> None:
    vendor = pd.get("/users/me", headers=READ)
    assert vendor.headers["content-type"] == "application/vnd.pagerduty+json;version=2"
    plain = pd.get("/users/me", headers={"Authorization": READ["Authorization"]})
    assert plain.headers["content-type"].startswith("application/json")
    assert vendor.json() == plain.json()


def test_users_me_is_the_token_owner(pd: httpx.Client) -> None:
    user = pd.get("/users/me", headers=READ).json()["user"]
    assert user["email"] == ME
    assert user["type"] == "user"
    assert user["teams"][0]["summary"] == "Benefits Platform"


def test_writes_need_a_from_header(simulator: Simulator, pd: httpx.Client) -> None:
    incident_id = triggered_id(pd)
    body = {"incident": {"type": "incident_reference", "status": "acknowledged"}}
    error = assert_pd_error(pd.put(f"/incidents/{incident_id}", json=body, headers=READ), 400, 2016)
    assert '"From" header' in error["message"]
    unknown = {**READ, "From": "nobody@example.com"}
    error = assert_pd_error(
        pd.put(f"/incidents/{incident_id}", json=body, headers=unknown), 400, 2001
    )
    assert error["errors"] == ["Requester User Not Found"]
    note = {"note": {"content": "x"}}
    assert_pd_error(pd.post(f"/incidents/{incident_id}/notes", json=note, headers=READ), 400, 2016)
    assert_pd_error(
        pd.post(f"/incidents/{incident_id}/snooze", json={"duration": 60}, headers=READ), 400, 2016
    )
    assert_pd_error(pd.put("/incidents", json={"incidents": []}, headers=READ), 400, 2016)
    assert world_incident(simulator, incident_id)["status"] == "triggered"


def test_acknowledge_records_the_acknowledger(simulator: Simulator, pd: httpx.Client) -> None:
    incident_id = triggered_id(pd)
    body = {"incident": {"type": "incident_reference", "status": "acknowledged"}}
    answer = pd.put(f"/incidents/{incident_id}", json=body, headers={**READ, "From": JORDAN})
    assert answer.status_code == 200
    incident = answer.json()["incident"]
    assert incident["status"] == "acknowledged"
    assert [a["acknowledger"]["summary"] for a in incident["acknowledgements"]] == ["Jordan Lee"]
    assert incident["last_status_change_by"]["summary"] == "Jordan Lee"
    assert world_incident(simulator, incident_id)["acknowledgers"] == [JORDAN]
    entries = pd.get(f"/incidents/{incident_id}/log_entries", headers=READ).json()["log_entries"]
    assert entries[0]["type"] == "acknowledge_log_entry"
    assert entries[0]["agent"]["summary"] == "Jordan Lee"


def test_resolve_then_no_more_changes(simulator: Simulator, pd: httpx.Client) -> None:
    incident_id = triggered_id(pd)
    body = {"incident": {"type": "incident", "status": "resolved", "resolution": "rolled back"}}
    incident = pd.put(f"/incidents/{incident_id}", json=body, headers=WRITE).json()["incident"]
    assert incident["status"] == "resolved"
    assert incident["resolved_at"] == "2026-11-27T14:00:00Z"
    assert incident["assignments"] == []
    state = world_incident(simulator, incident_id)
    assert state["status"] == "resolved"
    assert state["notes"][0]["content"] == "rolled back"
    again = {"incident": {"type": "incident", "status": "acknowledged"}}
    error = assert_pd_error(
        pd.put(f"/incidents/{incident_id}", json=again, headers=WRITE), 400, 2001
    )
    assert error["errors"] == ["Incident Already Resolved"]


def test_reassign_to_users(simulator: Simulator, pd: httpx.Client) -> None:
    users = pd.get("/users", params={"query": "jordan"}, headers=READ).json()["users"]
    jordan = users[0]["id"]
    incident_id = triggered_id(pd)
    body = {
        "incident": {
            "type": "incident_reference",
            "assignments": [{"assignee": {"id": jordan, "type": "user_reference"}}],
        }
    }
    incident = pd.put(f"/incidents/{incident_id}", json=body, headers=WRITE).json()["incident"]
    assert [a["assignee"]["id"] for a in incident["assignments"]] == [jordan]
    assert incident["assigned_via"] == "direct_assignment"
    assert world_incident(simulator, incident_id)["assignees"] == [JORDAN]


def test_reassign_to_a_policy_and_escalate(simulator: Simulator, pd: httpx.Client) -> None:
    policies = pd.get("/escalation_policies", headers=READ).json()["escalation_policies"]
    data = next(p for p in policies if p["name"] == "Benefits Data & Messaging")
    incident_id = triggered_id(pd)
    body: dict[str, Any] = {
        "incident": {
            "type": "incident_reference",
            "escalation_policy": {"id": data["id"], "type": "escalation_policy_reference"},
        }
    }
    incident = pd.put(f"/incidents/{incident_id}", json=body, headers=WRITE).json()["incident"]
    assert incident["escalation_policy"]["id"] == data["id"]
    assert world_incident(simulator, incident_id)["escalation_level"] == 1
    level_one = incident["assignments"][0]["assignee"]["id"]
    body = {"incident": {"type": "incident_reference", "escalation_level": 2}}
    incident = pd.put(f"/incidents/{incident_id}", json=body, headers=WRITE).json()["incident"]
    assert incident["assignments"][0]["assignee"]["id"] != level_one
    assert world_incident(simulator, incident_id)["escalation_level"] == 2
    body = {"incident": {"type": "incident_reference", "escalation_level": 3}}
    assert_pd_error(pd.put(f"/incidents/{incident_id}", json=body, headers=WRITE), 400, 2001)


@pytest.mark.parametrize(
    "body",
    [
        {"incident": {"type": "thing", "status": "acknowledged"}},
        {"incident": {"status": "acknowledged"}},
        {"incident": {"type": "incident", "status": "open"}},
        {"incident": {"type": "incident", "escalation_level": "two"}},
        {"incident": {"type": "incident", "urgency": "medium"}},
        {"incident": {"type": "incident", "assignments": [{"assignee": {"id": "PNOBODY"}}]}},
        {"incident": {"type": "incident", "escalation_policy": {"id": "PNONE"}}},
        {"incident": "acknowledged"},
        {"status": "acknowledged"},
    ],
)
def test_malformed_updates_are_refused(
    simulator: Simulator, pd: httpx.Client, body: dict[str, Any]
) -> None:
    incident_id = triggered_id(pd)
    before = world_incident(simulator, incident_id)
    error = assert_pd_error(
        pd.put(f"/incidents/{incident_id}", json=body, headers=WRITE), 400, 2001
    )
    assert error["message"] == "Invalid Input Provided"
    assert error["errors"]
    assert world_incident(simulator, incident_id) == before


def test_not_json_is_refused(pd: httpx.Client) -> None:
    answer = pd.put(
        f"/incidents/{triggered_id(pd)}",
        content=b"{not json",
        headers={**WRITE, "Content-Type": "application/json"},
    )
    assert_pd_error(answer, 400, 2001)


def test_permission_fault_is_access_denied(simulator: Simulator, pd: httpx.Client) -> None:
    simulator.set_fault("pagerduty", "403", count=1)
    answer = pd.get("/incidents", headers=READ)
    assert answer.headers["content-type"] == "application/vnd.pagerduty+json;version=2"
    assert answer.json() == {"error": {"message": "Access Denied", "code": 2010}}
    assert_pd_error(answer, 403, 2010)


@pytest.mark.parametrize(
    ("mode", "title"), [("502", "502 Bad Gateway"), ("503", "503 Service Temporarily Unavailable")]
)
def test_gateway_faults_are_the_load_balancers_html(
    simulator: Simulator, pd: httpx.Client, mode: str, title: str
) -> None:
    simulator.set_fault("pagerduty", mode, count=1)
    answer = pd.get("/incidents", headers=READ)
    assert answer.status_code == int(mode)
    assert answer.headers["content-type"] == "text/html"
    assert f"<title>{title}</title>" in answer.text
    with pytest.raises(ValueError):
        answer.json()
    assert pd.get("/incidents", headers=READ).status_code == 200


def test_unknown_incident_is_404(pd: httpx.Client) -> None:
    assert assert_pd_error(pd.get("/incidents/QNOPE", headers=READ), 404, 2100)
    body = {"incident": {"type": "incident", "status": "acknowledged"}}
    assert_pd_error(pd.put("/incidents/QNOPE", json=body, headers=WRITE), 404, 2100)


def test_bulk_update(simulator: Simulator, pd: httpx.Client) -> None:
    ids = open_ids(pd, **{"statuses[]": "triggered"})[:3]
    body = {
        "incidents": [
            {"id": i, "type": "incident_reference", "status": "acknowledged"} for i in ids
        ]
    }
    answer = pd.put("/incidents", json=body, headers=WRITE)
    assert answer.status_code == 200
    assert [i["status"] for i in answer.json()["incidents"]] == ["acknowledged"] * 3
    assert answer.json()["more"] is False
    assert all(world_incident(simulator, i)["acknowledgers"] == [ME] for i in ids)


def test_bulk_update_is_all_or_nothing(simulator: Simulator, pd: httpx.Client) -> None:
    incident_id = triggered_id(pd)
    body = {
        "incidents": [
            {"id": incident_id, "type": "incident_reference", "status": "acknowledged"},
            {"id": "QNOPE", "type": "incident_reference", "status": "acknowledged"},
        ]
    }
    assert_pd_error(pd.put("/incidents", json=body, headers=WRITE), 400, 2001)
    assert world_incident(simulator, incident_id)["status"] == "triggered"


def test_bulk_update_is_limited_to_250(pd: httpx.Client) -> None:
    incident_id = triggered_id(pd)
    items = [{"id": incident_id, "type": "incident_reference", "status": "acknowledged"}] * 251
    answer = pd.put("/incidents", json={"incidents": items}, headers=WRITE)
    assert answer.status_code == 413
    assert answer.json()["error"]["errors"]


def test_notes(simulator: Simulator, pd: httpx.Client) -> None:
    incident_id = triggered_id(pd)
    answer = pd.post(
        f"/incidents/{incident_id}/notes", json={"note": {"content": "checking"}}, headers=WRITE
    )
    assert answer.status_code == 200
    note = answer.json()["note"]
    assert note["content"] == "checking"
    assert note["user"]["summary"] == "Alex Rivera"
    notes = pd.get(f"/incidents/{incident_id}/notes", headers=READ).json()["notes"]
    assert [n["content"] for n in notes] == ["checking"]
    assert world_incident(simulator, incident_id)["notes"][0]["by"] == ME
    empty = {"note": {"content": "  "}}
    error = assert_pd_error(
        pd.post(f"/incidents/{incident_id}/notes", json=empty, headers=WRITE), 400, 2001
    )
    assert error["errors"] == ["Content cannot be empty."]


def test_snooze(simulator: Simulator, sim_clock: FakeClock, pd: httpx.Client) -> None:
    incident_id = triggered_id(pd)
    snooze = {"duration": 1800}
    error = assert_pd_error(
        pd.post(f"/incidents/{incident_id}/snooze", json=snooze, headers=WRITE), 400, 2001
    )
    assert "acknowledged" in error["errors"][0]
    ack = {"incident": {"type": "incident_reference", "status": "acknowledged"}}
    pd.put(f"/incidents/{incident_id}", json=ack, headers=WRITE)
    answer = pd.post(f"/incidents/{incident_id}/snooze", json=snooze, headers=WRITE)
    assert answer.status_code == 201
    pending = answer.json()["incident"]["pending_actions"]
    assert {"type": "unacknowledge", "at": "2026-11-27T14:30:00Z"} in pending
    for bad in ({"duration": 0}, {"duration": 604801}, {"duration": "1h"}, {}):
        assert_pd_error(
            pd.post(f"/incidents/{incident_id}/snooze", json=bad, headers=WRITE), 400, 2001
        )
    sim_clock.advance(1801)
    assert pd.get(f"/incidents/{incident_id}", headers=READ).json()["incident"]["status"] in (
        "triggered",
        "resolved",
    )


def test_default_limit_clamp_and_more(simulator: Simulator, pd: httpx.Client) -> None:
    simulator.world.pagerduty.trigger_now()
    for _ in range(30):
        simulator.world.pagerduty.trigger_now()
    default = pd.get("/incidents", headers=READ).json()
    assert default["limit"] == 25
    assert default["offset"] == 0
    assert default["more"] is True
    assert default["total"] is None
    assert len(default["incidents"]) == 25
    clamped = pd.get("/incidents", params={"limit": 500, "total": "true"}, headers=READ).json()
    assert clamped["limit"] == 100
    assert clamped["total"] == len(clamped["incidents"])
    assert clamped["more"] is False
    second = pd.get("/incidents", params={"limit": 25, "offset": 25}, headers=READ).json()
    assert second["offset"] == 25
    assert [i["id"] for i in second["incidents"]] == [i["id"] for i in clamped["incidents"][25:50]]


@pytest.mark.parametrize(
    "params",
    [
        {"offset": 9950, "limit": 100},
        {"offset": 10000},
        {"offset": -1},
        {"limit": "ten"},
    ],
)
def test_pagination_limits(pd: httpx.Client, params: dict[str, Any]) -> None:
    assert_pd_error(pd.get("/incidents", params=params, headers=READ), 400, 2001)


def test_offset_plus_limit_at_10000_is_fine(pd: httpx.Client) -> None:
    answer = pd.get("/incidents", params={"offset": 9900, "limit": 100}, headers=READ)
    assert answer.status_code == 200
    assert answer.json()["incidents"] == []


def test_bare_list_parameters_are_ignored(pd: httpx.Client) -> None:
    everything = pd.get("/incidents", params={"limit": 100}, headers=READ).json()["incidents"]
    bare = pd.get("/incidents", params={"statuses": "resolved", "limit": 100}, headers=READ).json()[
        "incidents"
    ]
    bracketed = pd.get(
        "/incidents", params={"statuses[]": "resolved", "limit": 100}, headers=READ
    ).json()["incidents"]
    assert len(bare) == len(everything)
    assert {i["status"] for i in everything} == {"triggered", "acknowledged", "resolved"}
    assert {i["status"] for i in bracketed} == {"resolved"}


def test_incident_filters(simulator: Simulator, pd: httpx.Client) -> None:
    world = simulator.world.pagerduty
    claims = next(s.id for s in world.services.values() if s.name == "claims-api")
    by_service = pd.get(
        "/incidents", params={"service_ids[]": claims, "limit": 100}, headers=READ
    ).json()["incidents"]
    assert {i["service"]["id"] for i in by_service} <= {claims}
    high = pd.get("/incidents", params={"urgencies[]": "high"}, headers=READ).json()["incidents"]
    assert high and {i["urgency"] for i in high} == {"high"}
    mine = pd.get(
        "/incidents", params={"user_ids[]": world.me.id, "limit": 100}, headers=READ
    ).json()["incidents"]
    assert mine
    for incident in mine:
        assert incident["status"] != "resolved"
        assert world.me.id in [a["assignee"]["id"] for a in incident["assignments"]]
    other_team = pd.get("/incidents", params={"team_ids[]": "PNOTEAM"}, headers=READ).json()
    assert other_team["incidents"] == []
    team = pd.get("/incidents", params={"team_ids[]": world.team.id}, headers=READ).json()
    assert team["incidents"]
    assert_pd_error(pd.get("/incidents", params={"statuses[]": "open"}, headers=READ), 400, 2001)
    assert_pd_error(pd.get("/incidents", params={"urgencies[]": "mid"}, headers=READ), 400, 2001)


def test_incident_sorting_and_dates(pd: httpx.Client) -> None:
    newest = pd.get(
        "/incidents", params={"sort_by": "created_at:desc", "limit": 100}, headers=READ
    ).json()["incidents"]
    created = [i["created_at"] for i in newest]
    assert created == sorted(created, reverse=True)
    by_urgency = pd.get(
        "/incidents", params={"sort_by": "urgency,incident_number:desc"}, headers=READ
    ).json()["incidents"]
    assert [i["urgency"] for i in by_urgency] == sorted(i["urgency"] for i in by_urgency)
    assert_pd_error(pd.get("/incidents", params={"sort_by": "title"}, headers=READ), 400, 2001)
    recent = pd.get(
        "/incidents",
        params={"since": "2026-11-27T13:00:00Z", "until": "2026-11-27T14:00:01Z"},
        headers=READ,
    ).json()["incidents"]
    assert recent and all(i["created_at"] >= "2026-11-27T13:00:00Z" for i in recent)
    old = pd.get(
        "/incidents",
        params={"since": "2026-10-01T00:00:00Z", "until": "2026-10-02T00:00:00Z"},
        headers=READ,
    ).json()["incidents"]
    assert old == []
    everything = pd.get("/incidents", params={"date_range": "all"}, headers=READ)
    assert everything.status_code == 200
    assert_pd_error(pd.get("/incidents", params={"since": "yesterday"}, headers=READ), 400, 2004)


def test_includes_expand_references(pd: httpx.Client) -> None:
    plain = pd.get(f"/incidents/{triggered_id(pd)}", headers=READ).json()["incident"]
    assert plain["service"]["type"] == "service_reference"
    assert plain["assignments"][0]["assignee"]["type"] == "user_reference"
    include = ["services", "assignees", "escalation_policies", "teams", "first_trigger_log_entries"]
    full = pd.get(f"/incidents/{plain['id']}", params={"include[]": include}, headers=READ).json()[
        "incident"
    ]
    assert full["service"]["type"] == "service"
    assert full["service"]["status"] == "critical"
    assert full["assignments"][0]["assignee"]["email"].endswith("@example.com")
    assert full["escalation_policy"]["escalation_rules"]
    assert full["teams"][0]["type"] == "team"
    assert full["first_trigger_log_entry"]["type"] == "trigger_log_entry"


def test_oncalls(simulator: Simulator, pd: httpx.Client) -> None:
    world = simulator.world.pagerduty
    now = pd.get("/oncalls", headers=READ).json()
    assert {(o["escalation_policy"]["summary"], o["escalation_level"]) for o in now["oncalls"]} == {
        ("Benefits Platform", 1),
        ("Benefits Platform", 2),
        ("Benefits Data & Messaging", 1),
        ("Benefits Data & Messaging", 2),
    }
    platform = next(p for p in world.policies.values() if p.name == "Benefits Platform")
    mine = pd.get(
        "/oncalls",
        params={"escalation_policy_ids[]": platform.id, "include[]": "users"},
        headers=READ,
    ).json()["oncalls"]
    level_one = next(o for o in mine if o["escalation_level"] == 1)
    assert level_one["user"]["email"] == ME
    assert level_one["start"] <= "2026-11-27T14:00:00Z" < level_one["end"] == "2026-11-27T19:00:00Z"
    week = pd.get(
        "/oncalls",
        params={
            "user_ids[]": world.me.id,
            "since": "2026-11-27T14:00:00Z",
            "until": "2026-12-04T14:00:00Z",
            "limit": 100,
        },
        headers=READ,
    ).json()["oncalls"]
    assert len(week) > 2
    assert {o["user"]["id"] for o in week} == {world.me.id}
    earliest = pd.get(
        "/oncalls",
        params={
            "user_ids[]": world.me.id,
            "since": "2026-11-27T14:00:00Z",
            "until": "2026-12-04T14:00:00Z",
            "earliest": "true",
        },
        headers=READ,
    ).json()["oncalls"]
    assert len(earliest) == len(
        {(o["escalation_policy"]["id"], o["escalation_level"]) for o in week}
    )
    backwards = {"since": "2026-11-28T00:00:00Z", "until": "2026-11-27T00:00:00Z"}
    assert_pd_error(pd.get("/oncalls", params=backwards, headers=READ), 400, 2001)
    too_long = {"since": "2026-11-27T00:00:00Z", "until": "2027-06-01T00:00:00Z"}
    assert_pd_error(pd.get("/oncalls", params=too_long, headers=READ), 400, 2001)


def test_users_and_policies(pd: httpx.Client) -> None:
    users = pd.get("/users", headers=READ).json()
    assert len(users["users"]) == 6
    assert users["more"] is False
    policies = pd.get("/escalation_policies", params={"sort_by": "name:desc"}, headers=READ).json()
    names = [p["name"] for p in policies["escalation_policies"]]
    assert names == ["Benefits Platform", "Benefits Data & Messaging"]
    for policy in policies["escalation_policies"]:
        assert len(policy["escalation_rules"]) == 2
    me = pd.get("/users/me", headers=READ).json()["user"]["id"]
    mine = pd.get("/escalation_policies", params={"user_ids[]": me}, headers=READ).json()
    assert len(mine["escalation_policies"]) == 2


def test_the_sdk_world_moves_between_polls(sim_clock: FakeClock, pd: httpx.Client) -> None:
    before = set(open_ids(pd))
    sim_clock.advance(3 * 3600)
    after = set(open_ids(pd))
    assert after - before
    assert before - after


def test_same_seed_same_answers() -> None:
    answers = []
    for _ in range(2):
        world = World(seed=11, clock=FakeClock())
        with Simulator(world) as sim:
            verify = ssl.create_default_context(cafile=str(sim.ca_pem_path))
            with httpx.Client(base_url=sim.pagerduty_url, verify=verify) as client:
                body = client.get("/incidents", params={"limit": 100}, headers=READ).text
            answers.append(body.replace(sim.url, "https://simulator"))
    assert answers[0] == answers[1]
