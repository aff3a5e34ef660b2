"""Contract: the real `pagerduty` SDK against the simulator, every exchange checked against
PagerDuty's official OpenAPI description (with the documented quirks, see `openapi.py`).

The SDK is driven through every endpoint the cockpit uses, including error answers; the
requests it sends and the answers the simulator gives must both fit the description.
"""

from __future__ import annotations

import dataclasses
import json
import ssl
from collections.abc import Iterator
from typing import Any

import pagerduty
import pytest
from openapi import (
    VENDOR_MEDIA_TYPE,
    ContractError,
    load_pagerduty_spec,
    request_errors,
    validate_pagerduty_exchange,
)

from oncall_tui.simulator import Exchange, Simulator

ME = "alex.rivera@example.com"


def make_client(sim: Simulator, token: str | None = None, **kw: Any) -> pagerduty.RestApiV2Client:
    client = pagerduty.RestApiV2Client(
        token or sim.tokens["pagerduty"],
        base_url=sim.pagerduty_url,
        verify=ssl.create_default_context(cafile=str(sim.ca_pem_path)),
        **kw,
    )
    client.max_network_attempts = 0
    # The SDK retries 429 on its own, sleeping in wall-clock time: make that sleep zero.
    client.sleep_timer = 0.0
    return client


@pytest.fixture
def client(simulator: Simulator) -> Iterator[pagerduty.RestApiV2Client]:
    sdk = make_client(simulator, default_from=ME)
    yield sdk
    sdk.close()


def validate_all(sim: Simulator, *, request: bool = True) -> list[Exchange]:
    exchanges = sim.exchanges
    assert exchanges, "nothing was recorded"
    for exchange in exchanges:
        validate_pagerduty_exchange(exchange, request=request)
    return exchanges


def open_incidents(client: pagerduty.RestApiV2Client) -> list[dict[str, Any]]:
    return client.list_all("/incidents", params={"statuses": ["triggered", "acknowledged"]})


def a_triggered_incident(client: pagerduty.RestApiV2Client) -> str:
    incidents = client.list_all("/incidents", params={"statuses[]": ["triggered"]})
    return str(incidents[0]["id"])


# --------------------------------------------------------------------------- reads


def test_list_incidents_paginated_with_filters(
    simulator: Simulator, client: pagerduty.RestApiV2Client
) -> None:
    world = simulator.world.pagerduty
    incidents = list(
        client.iter_all(
            "/incidents",
            params={
                "statuses": ["triggered", "acknowledged", "resolved"],
                "urgencies": ["high", "low"],
                "service_ids": list(world.services),
                "team_ids": [world.team.id],
                "sort_by": "created_at:desc",
                "date_range": "all",
            },
            page_size=5,
            total=True,
        )
    )
    assert len(incidents) == len(world.incidents)
    assert len(simulator.exchanges) > 3
    mine = client.list_all("/incidents", params={"user_ids": [world.me.id]})
    assert mine
    window = client.list_all(
        "/incidents", params={"since": "2026-11-27T12:00:00Z", "until": "2026-11-27T14:00:00Z"}
    )
    assert window
    validate_all(simulator)


def test_list_incidents_with_every_include(
    simulator: Simulator, client: pagerduty.RestApiV2Client
) -> None:
    include = [
        "acknowledgers",
        "agents",
        "assignees",
        "conference_bridge",
        "escalation_policies",
        "first_trigger_log_entries",
        "priorities",
        "services",
        "teams",
        "users",
    ]
    incidents = client.list_all("/incidents", params={"include": include, "date_range": "all"})
    assert any(i["acknowledgements"] for i in incidents)
    assert all(i["service"]["type"] == "service" for i in incidents)
    validate_all(simulator)


def test_get_incident_log_entries_and_notes(
    simulator: Simulator, client: pagerduty.RestApiV2Client
) -> None:
    for incident in client.list_all("/incidents", params={"date_range": "all"}):
        fetched = client.rget(f"/incidents/{incident['id']}")
        assert fetched["id"] == incident["id"]
        entries = client.list_all(f"/incidents/{incident['id']}/log_entries")
        assert entries[-1]["type"] == "trigger_log_entry"
        client.rget(f"/incidents/{incident['id']}/notes")
    entries = client.list_all(
        f"/incidents/{incident['id']}/log_entries",
        params={"is_overview": "true", "since": "2026-11-27T00:00:00Z", "time_zone": "UTC"},
    )
    assert all(e["type"] != "notify_log_entry" for e in entries)
    validate_all(simulator)


def test_oncalls(simulator: Simulator, client: pagerduty.RestApiV2Client) -> None:
    world = simulator.world.pagerduty
    now = client.list_all("/oncalls", params={"include": ["users"], "earliest": "true"})
    assert len(now) == 4
    assert all(o["user"]["type"] == "user" for o in now)
    week = client.list_all(
        "/oncalls",
        params={
            "escalation_policy_ids": list(world.policies),
            "user_ids": [world.me.id],
            "since": "2026-11-27T14:00:00Z",
            "until": "2026-12-04T14:00:00Z",
        },
    )
    assert week
    client.list_all("/oncalls", params={"schedule_ids": list(world.schedules)})
    validate_all(simulator)


def test_users_and_escalation_policies(
    simulator: Simulator, client: pagerduty.RestApiV2Client
) -> None:
    me = client.rget("/users/me")
    assert me["email"] == ME
    assert len(client.list_all("/users", params={"query": "a"})) >= 4
    assert client.list_all("/users", params={"team_ids": [simulator.world.pagerduty.team.id]})
    policies = client.list_all(
        "/escalation_policies", params={"user_ids": [me["id"]], "sort_by": "name:asc"}
    )
    assert len(policies) == 2
    validate_all(simulator)


# --------------------------------------------------------------------------- writes


def test_acknowledge_resolve_and_field_updates(
    simulator: Simulator, client: pagerduty.RestApiV2Client
) -> None:
    incident_id = a_triggered_incident(client)
    acknowledged = client.rput(
        f"/incidents/{incident_id}", json={"type": "incident_reference", "status": "acknowledged"}
    )
    assert acknowledged["status"] == "acknowledged"
    priorities = list(simulator.world.pagerduty.priorities)
    updated = client.rput(
        f"/incidents/{incident_id}",
        json={
            "type": "incident",
            "title": "claims-api latency (investigating)",
            "urgency": "low",
            "priority": {"id": priorities[0], "type": "priority_reference"},
        },
    )
    assert updated["urgency"] == "low"
    resolved = client.rput(
        f"/incidents/{incident_id}",
        json={"type": "incident_reference", "status": "resolved", "resolution": "recovered"},
    )
    assert resolved["status"] == "resolved"
    validate_all(simulator)


def test_reassign_and_escalate(simulator: Simulator, client: pagerduty.RestApiV2Client) -> None:
    world = simulator.world.pagerduty
    jordan = next(u.id for u in world.users.values() if u.key == "jordan")
    data_policy = next(p.id for p in world.policies.values() if p.name.startswith("Benefits Data"))
    incident_id = a_triggered_incident(client)
    client.rput(
        f"/incidents/{incident_id}",
        json={
            "type": "incident_reference",
            "assignments": [{"assignee": {"id": jordan, "type": "user_reference"}}],
        },
    )
    client.rput(
        f"/incidents/{incident_id}",
        json={
            "type": "incident_reference",
            "escalation_policy": {"id": data_policy, "type": "escalation_policy_reference"},
        },
    )
    escalated = client.rput(
        f"/incidents/{incident_id}", json={"type": "incident_reference", "escalation_level": 2}
    )
    assert escalated["escalation_policy"]["id"] == data_policy
    validate_all(simulator)


def test_bulk_update(simulator: Simulator, client: pagerduty.RestApiV2Client) -> None:
    ids = [i["id"] for i in open_incidents(client)[:4]]
    updated = client.rput(
        "/incidents",
        json=[{"id": i, "type": "incident_reference", "status": "acknowledged"} for i in ids],
    )
    assert [i["status"] for i in updated] == ["acknowledged"] * 4
    validate_all(simulator)


def test_notes_and_snooze(simulator: Simulator, client: pagerduty.RestApiV2Client) -> None:
    incident_id = a_triggered_incident(client)
    note = client.rpost(f"/incidents/{incident_id}/notes", json={"content": "looking"})
    assert note["content"] == "looking"
    assert [n["content"] for n in client.rget(f"/incidents/{incident_id}/notes")] == ["looking"]
    client.rput(
        f"/incidents/{incident_id}", json={"type": "incident_reference", "status": "acknowledged"}
    )
    snoozed = client.rpost(f"/incidents/{incident_id}/snooze", json={"duration": 3600})
    assert snoozed["pending_actions"][0]["type"] == "unacknowledge"
    entries = client.list_all(f"/incidents/{incident_id}/log_entries")
    assert {"snooze_log_entry", "annotate_log_entry", "acknowledge_log_entry"} <= {
        e["type"] for e in entries
    }
    validate_all(simulator)


# --------------------------------------------------------------------------- errors


def test_401_for_a_bad_token(simulator: Simulator) -> None:
    bad = make_client(simulator, token="not-the-token")
    with pytest.raises(pagerduty.HttpError) as raised:
        bad.get("/users/me")
    assert raised.value.response is not None
    assert raised.value.response.status_code == 401
    with pytest.raises(pagerduty.HttpError):
        bad.get("/incidents")
    validate_all(simulator)


def test_401_fault(simulator: Simulator, client: pagerduty.RestApiV2Client) -> None:
    simulator.set_fault("pagerduty", "401", count=1)
    with pytest.raises(pagerduty.HttpError):
        client.get("/oncalls")
    validate_all(simulator)


def test_400_without_from_header(simulator: Simulator) -> None:
    no_from = make_client(simulator)
    response = no_from.put(
        f"/incidents/{a_triggered_incident(no_from)}",
        json={"incident": {"type": "incident_reference", "status": "acknowledged"}},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 2016
    last = simulator.exchanges[-1]
    # The description requires From on writes, so the request itself is flagged...
    assert any("From" in line for line in request_errors(last.request))
    # ...while the 400 answer fits it.
    validate_pagerduty_exchange(last, request=False)


def test_400_answers(simulator: Simulator, client: pagerduty.RestApiV2Client) -> None:
    incident_id = a_triggered_incident(client)
    bad_status = client.put(
        f"/incidents/{incident_id}", json={"incident": {"type": "incident", "status": "open"}}
    )
    assert bad_status.status_code == 400
    assert request_errors(simulator.exchanges[-1].request), "the spec flags status=open too"
    validate_pagerduty_exchange(simulator.exchanges[-1], request=False)
    too_far = client.get("/incidents", params={"offset": 9950, "limit": 100})
    assert too_far.status_code == 400
    empty_note = client.post(f"/incidents/{incident_id}/notes", json={"note": {"content": ""}})
    assert empty_note.status_code == 400
    not_acked = client.post(f"/incidents/{incident_id}/snooze", json={"duration": 60})
    assert not_acked.status_code == 400
    for exchange in simulator.exchanges[-3:]:
        validate_pagerduty_exchange(exchange)


def test_404_answer(simulator: Simulator, client: pagerduty.RestApiV2Client) -> None:
    assert client.get("/incidents/QDOESNOTEXIST").status_code == 404
    assert client.get("/incidents/QDOESNOTEXIST/log_entries").status_code == 404
    validate_all(simulator)


def test_413_for_a_bulk_update_over_250(
    simulator: Simulator, client: pagerduty.RestApiV2Client
) -> None:
    incident_id = a_triggered_incident(client)
    items = [{"id": incident_id, "type": "incident_reference", "status": "acknowledged"}] * 251
    assert client.put("/incidents", json={"incidents": items}).status_code == 413
    validate_all(simulator)


def test_429_then_recovery(simulator: Simulator, client: pagerduty.RestApiV2Client) -> None:
    simulator.set_fault("pagerduty", "429", count=2, retry_after=1)
    incidents = open_incidents(client)  # the SDK retries 429 by itself
    assert incidents
    statuses = [e.response.status for e in simulator.exchanges]
    assert statuses[:3] == [429, 429, 200]
    limited = simulator.exchanges[0].response
    assert json.loads(limited.body) == {"error": {"message": "Rate Limit Exceeded", "code": 2020}}
    assert limited.headers["ratelimit-remaining"] == "0"
    validate_all(simulator)


# --------------------------------------------------------------------------- the helper


def test_helper_rejects_a_broken_answer(
    simulator: Simulator, client: pagerduty.RestApiV2Client
) -> None:
    client.get("/incidents")
    exchange = simulator.exchanges[-1]
    body = json.loads(exchange.response.body)
    body["incidents"][0]["status"] = "open"
    broken = Exchange(
        exchange.request,
        dataclasses.replace(exchange.response, body=json.dumps(body).encode()),
    )
    with pytest.raises(ContractError, match=r"incidents/0/status"):
        validate_pagerduty_exchange(broken)


def test_helper_rejects_a_bad_request(
    simulator: Simulator, client: pagerduty.RestApiV2Client
) -> None:
    assert client.get("/incidents", params={"statuses[]": ["open"]}).status_code == 400
    with pytest.raises(ContractError, match=r"statuses\[\]"):
        validate_pagerduty_exchange(simulator.exchanges[-1])


def test_quirks_are_applied_to_the_copy_only() -> None:
    spec = load_pagerduty_spec()
    operation = spec["paths"]["/incidents"]["get"]
    refs = [p.get("$ref", "") for p in operation["parameters"]]
    assert not any(ref.endswith("header_Content-Type") for ref in refs)
    assert VENDOR_MEDIA_TYPE in operation["responses"]["200"]["content"]
    statuses = spec["components"]["parameters"]["statuses_incidents"]
    assert statuses["schema"]["type"] == "array"
    assert statuses["schema"]["items"]["enum"] == ["triggered", "acknowledged", "resolved"]
    bracketed = [
        p
        for p in spec["components"]["parameters"].values()
        if p.get("in") == "query" and p.get("name", "").endswith("[]")
    ]
    assert bracketed and all(p["schema"]["type"] == "array" for p in bracketed)
