"""The simulator's server core: TLS, control API, faults, rate limits, request recording."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import Simulator, World
from oncall_tui.simulator.pagerduty import PagerDutyApp
from oncall_tui.simulator.server import (
    FAULT_MODES,
    RequestContext,
    SimRequest,
    SimResponse,
    spoil_body,
)

AUTH = {
    "Authorization": "Token token=sim-pd-token",
    "Accept": "application/vnd.pagerduty+json;version=2",
}


def http(sim: Simulator) -> httpx.Client:
    return httpx.Client(
        base_url=sim.url, verify=ssl.create_default_context(cafile=str(sim.ca_pem_path))
    )


@pytest.fixture
def client(simulator: Simulator) -> Iterator[httpx.Client]:
    with http(simulator) as c:
        yield c


def test_serves_https_with_its_own_ca(simulator: Simulator) -> None:
    assert simulator.url.startswith("https://127.0.0.1:")
    assert simulator.pagerduty_url == simulator.url + "/pagerduty"
    assert simulator.ca_pem_path.read_text().startswith("-----BEGIN CERTIFICATE-----")
    with http(simulator) as c:
        assert c.get("/pagerduty/users/me", headers=AUTH).status_code == 200
    with (
        httpx.Client(base_url=simulator.url) as untrusting,
        pytest.raises(httpx.ConnectError),
    ):
        untrusting.get("/pagerduty/users/me", headers=AUTH)
    plain = simulator.url.replace("https://", "http://")
    with pytest.raises(httpx.HTTPError):
        httpx.get(plain + "/_sim/state", timeout=2)


def test_localhost_name_is_in_the_certificate(simulator: Simulator) -> None:
    url = simulator.url.replace("127.0.0.1", "localhost")
    verify = ssl.create_default_context(cafile=str(simulator.ca_pem_path))
    assert httpx.get(url + "/_sim/state", verify=verify).status_code == 200


def test_stop_removes_the_temporary_ca() -> None:
    sim = Simulator(World(seed=1, clock=FakeClock())).start()
    ca = sim.ca_pem_path
    assert ca.exists()
    sim.stop()
    assert not ca.parent.exists()
    sim.stop()  # idempotent


def test_ca_dir_is_kept(tmp_path: Path) -> None:
    with Simulator(World(seed=1, clock=FakeClock()), ca_dir=tmp_path) as sim:
        assert sim.ca_pem_path.parent == tmp_path
    assert (tmp_path / "oncall-sim-ca.pem").exists()


def test_not_started_has_no_url() -> None:
    sim = Simulator(World(seed=1, clock=FakeClock()))
    with pytest.raises(RuntimeError):
        _ = sim.url
    assert sim.tokens["pagerduty"] == "sim-pd-token"


def test_custom_tokens(simulator: Simulator) -> None:
    with Simulator(simulator.world, tokens={"pagerduty": "other"}) as sim, http(sim) as c:
        headers = {**AUTH, "Authorization": "Token token=other"}
        assert c.get("/pagerduty/users/me", headers=headers).status_code == 200
        assert c.get("/pagerduty/users/me", headers=AUTH).status_code == 401


def test_state_reports_world_counts_and_faults(simulator: Simulator, client: httpx.Client) -> None:
    client.get("/pagerduty/incidents", headers=AUTH)
    simulator.set_fault("pagerduty", "500", count=3)
    state = client.get("/_sim/state").json()
    assert state["request_counts"]["pagerduty"] == 1
    assert state["faults"]["pagerduty"]["mode"] == "500"
    assert state["faults"]["pagerduty"]["count"] == 3
    incidents = state["pagerduty"]["incidents"]
    assert {"id", "status", "acknowledgers", "notes", "assignees"} <= set(incidents[0])
    assert len(state["pagerduty"]["oncalls"]) == 4
    assert state["pagerduty"]["me"]["email"] == "alex.rivera@example.com"


def test_state_follows_the_clock(
    simulator: Simulator, sim_clock: FakeClock, client: httpx.Client
) -> None:
    before = client.get("/_sim/state").json()
    sim_clock.advance(3600)
    after = client.get("/_sim/state").json()
    assert after["now"] == "2026-11-27T15:00:00Z"
    assert len(after["pagerduty"]["incidents"]) > len(before["pagerduty"]["incidents"])


def test_trigger_makes_a_page_now(simulator: Simulator, client: httpx.Client) -> None:
    answer = client.post(
        "/_sim/trigger",
        json={
            "title": "[Datadog] claims-api is on fire",
            "urgency": "high",
            "service": "claims-api",
        },
    )
    assert answer.status_code == 201
    incident = answer.json()["incident"]
    assert incident["status"] == "triggered"
    assert incident["title"] == "[Datadog] claims-api is on fire"
    assert incident["service"]["summary"] == "claims-api"
    assert incident["created_at"] == "2026-11-27T14:00:00Z"
    assert incident["self"].startswith(simulator.pagerduty_url)
    listed = client.get(f"/pagerduty/incidents/{incident['id']}", headers=AUTH)
    assert listed.json()["incident"]["incident_number"] == incident["incident_number"]


def test_trigger_with_defaults(client: httpx.Client) -> None:
    first = client.post("/_sim/trigger").json()["incident"]
    second = client.post("/_sim/pagerduty/trigger", json={}).json()["incident"]
    assert second["incident_number"] == first["incident_number"] + 1
    assert first["urgency"] in ("high", "low")


@pytest.mark.parametrize(
    "body",
    [{"urgency": "meh"}, {"service": "no-such-service"}, {"colour": "red"}, {"title": 3}],
)
def test_trigger_refuses_bad_input(client: httpx.Client, body: dict[str, object]) -> None:
    answer = client.post("/_sim/trigger", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]


def test_unknown_routes(client: httpx.Client) -> None:
    assert client.get("/_sim/nothing").status_code == 404
    assert client.get("/github/repos").status_code == 404
    assert client.get("/pagerduty/services", headers=AUTH).json() == {
        "error": {"message": "Not Found", "code": 2100}
    }


def test_faults_through_the_control_api(simulator: Simulator, client: httpx.Client) -> None:
    answer = client.post(
        "/_sim/faults", json={"provider": "pagerduty", "mode": "429", "count": 1, "retry_after": 7}
    )
    assert answer.status_code == 200
    assert answer.json()["faults"]["pagerduty"] == {
        "mode": "429",
        "count": 1,
        "retry_after": 7,
        "delay": None,
    }
    assert client.get("/pagerduty/users/me", headers=AUTH).status_code == 429
    assert client.get("/pagerduty/users/me", headers=AUTH).status_code == 200
    assert client.get("/_sim/faults").json() == {"faults": {}}
    client.post("/_sim/faults", json={"provider": "pagerduty", "mode": "500"})
    client.post("/_sim/faults", json={"provider": "pagerduty", "mode": None})
    assert simulator.faults == {}


@pytest.mark.parametrize(
    "body",
    [
        {"provider": "nope", "mode": "429"},
        {"provider": "pagerduty", "mode": "teapot"},
        {"provider": "pagerduty", "mode": "429", "count": 0},
        {"provider": "pagerduty", "mode": "429", "count": "2"},
        {"provider": "pagerduty", "mode": "slow", "delay": -1},
        {"provider": "pagerduty", "mode": "429", "extra": 1},
        ["pagerduty"],
    ],
)
def test_bad_fault_requests_are_refused(client: httpx.Client, body: object) -> None:
    assert client.post("/_sim/faults", json=body).status_code == 400


def test_429_fault_with_headers_and_recovery(simulator: Simulator, client: httpx.Client) -> None:
    simulator.set_fault("pagerduty", "429", count=2, retry_after=3)
    for _ in range(2):
        answer = client.get("/pagerduty/incidents", headers=AUTH)
        assert answer.status_code == 429
        assert answer.json() == {"error": {"message": "Rate Limit Exceeded", "code": 2020}}
        assert answer.headers["retry-after"] == "3"
        assert answer.headers["ratelimit-reset"] == "3"
        assert answer.headers["ratelimit-remaining"] == "0"
        assert answer.headers["ratelimit-limit"] == "960"
    recovered = client.get("/pagerduty/incidents", headers=AUTH)
    assert recovered.status_code == 200
    assert recovered.headers["ratelimit-limit"] == "960"
    assert simulator.request_counts["pagerduty"] == 3


def test_fault_without_count_lasts_until_cleared(
    simulator: Simulator, client: httpx.Client
) -> None:
    simulator.set_fault("pagerduty", "500")
    for _ in range(3):
        answer = client.get("/pagerduty/users/me", headers=AUTH)
        assert answer.status_code == 500
        assert answer.json()["error"]["code"] == 2000
    simulator.set_fault("pagerduty", None)
    assert client.get("/pagerduty/users/me", headers=AUTH).status_code == 200


def test_401_fault_refuses_a_good_token(simulator: Simulator, client: httpx.Client) -> None:
    simulator.set_fault("pagerduty", "401", count=1)
    answer = client.get("/pagerduty/users/me", headers=AUTH)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == 2006


def test_truncated_fault_sends_half_the_json(simulator: Simulator, client: httpx.Client) -> None:
    whole = client.get("/pagerduty/incidents", headers=AUTH).content
    simulator.set_fault("pagerduty", "truncated", count=1)
    answer = client.get("/pagerduty/incidents", headers=AUTH)
    assert answer.status_code == 200
    # A complete HTTP message (its Content-Length is what was sent) holding half the JSON.
    assert answer.headers["content-length"] == str(len(answer.content))
    assert whole.startswith(answer.content) and len(answer.content) == len(whole) // 2
    with pytest.raises(ValueError):
        answer.json()
    assert client.get("/pagerduty/incidents", headers=AUTH).json()["incidents"]


def test_bad_json_fault_sends_a_complete_body_that_is_not_json(
    simulator: Simulator, client: httpx.Client
) -> None:
    simulator.set_fault("pagerduty", "bad_json", count=2)
    answer = client.get("/pagerduty/incidents", headers=AUTH)
    assert answer.status_code == 200
    assert answer.content == b'{"incidents": [oops: not JSON}'
    assert answer.headers["content-length"] == str(len(answer.content))
    assert answer.headers["content-type"].startswith("application/")
    with pytest.raises(ValueError):
        answer.json()
    assert client.get("/pagerduty/users/me", headers=AUTH).content == (b'{"user": [oops: not JSON}')
    assert client.get("/pagerduty/incidents", headers=AUTH).json()["incidents"]


def test_wrong_shape_fault_sends_json_of_the_wrong_shape(
    simulator: Simulator, client: httpx.Client
) -> None:
    simulator.set_fault("pagerduty", "wrong_shape", count=2)
    listing = client.get("/pagerduty/incidents", headers=AUTH)
    assert listing.status_code == 200
    body = listing.json()
    # The list becomes a string; the scalars around it stay as they were.
    assert body["incidents"] == "oops"
    assert (body["limit"], body["offset"], body["total"]) == (25, 0, None)
    assert isinstance(body["more"], bool)
    assert client.get("/pagerduty/users/me", headers=AUTH).json() == {"user": "oops"}
    assert client.get("/pagerduty/users/me", headers=AUTH).json()["user"]["id"]


@pytest.mark.parametrize("mode", ["truncated", "bad_json", "wrong_shape"])
def test_body_faults_apply_the_request_first(
    simulator: Simulator, client: httpx.Client, mode: str
) -> None:
    # The write lands; only its answer is spoiled (as when a proxy mangles it).
    incident = next(i for i in simulator.world.pagerduty.incidents.values() if i.is_open)
    before = len(incident.notes)
    simulator.set_fault("pagerduty", mode, count=1)
    answer = client.post(
        f"/pagerduty/incidents/{incident.id}/notes",
        json={"note": {"content": f"during {mode}"}},
        headers={**AUTH, "From": "alex.rivera@example.com"},
    )
    assert answer.status_code == 200
    assert [n.content for n in incident.notes[before:]] == [f"during {mode}"]


@pytest.mark.parametrize("mode", ["500", "502", "503", "401", "403", "429"])
def test_status_faults_do_not_apply_the_request(
    simulator: Simulator, client: httpx.Client, mode: str
) -> None:
    incident = next(i for i in simulator.world.pagerduty.incidents.values() if i.is_open)
    before = len(incident.notes)
    simulator.set_fault("pagerduty", mode, count=1)
    answer = client.post(
        f"/pagerduty/incidents/{incident.id}/notes",
        json={"note": {"content": "lost"}},
        headers={**AUTH, "From": "alex.rivera@example.com"},
    )
    assert answer.status_code == int(mode)
    assert len(incident.notes) == before


def test_spoil_body_of_empty_and_array_answers() -> None:
    assert spoil_body("truncated", b"") == b'{"'
    assert spoil_body("bad_json", b"") == b"{oops: not JSON}"
    assert spoil_body("bad_json", b'[{"a": 1}]') == b"[oops: not JSON}"
    assert spoil_body("wrong_shape", b"") == b'"oops"'
    assert spoil_body("wrong_shape", b'[{"a": 1}, {"a": 2}]') == b'["oops","oops"]'
    assert spoil_body("wrong_shape", b"[]") == b'["oops"]'
    assert spoil_body("wrong_shape", b'{"login": "me"}') == b'{"login":"oops"}'
    with pytest.raises(ValueError):
        spoil_body("500", b"{}")


def test_slow_fault_delays_the_answer(simulator: Simulator, client: httpx.Client) -> None:
    simulator.set_fault("pagerduty", "slow", count=1, delay=2.0)
    started = time.perf_counter()
    assert client.get("/pagerduty/users/me", headers=AUTH).status_code == 200
    assert time.perf_counter() - started >= 2.0
    started = time.perf_counter()
    client.get("/pagerduty/users/me", headers=AUTH)
    # Generous: only "not delayed again" matters, and CI machines are busy.
    assert time.perf_counter() - started < 1.5


def test_slow_fault_trips_a_client_timeout(simulator: Simulator) -> None:
    simulator.set_fault("pagerduty", "slow", count=1, delay=0.5)
    verify = ssl.create_default_context(cafile=str(simulator.ca_pem_path))
    with (
        httpx.Client(base_url=simulator.url, verify=verify, timeout=0.1) as c,
        pytest.raises(httpx.ReadTimeout),
    ):
        c.get("/pagerduty/users/me", headers=AUTH)


def test_control_api_is_not_faulted_or_counted(simulator: Simulator, client: httpx.Client) -> None:
    simulator.set_fault("pagerduty", "500")
    assert client.get("/_sim/state").status_code == 200
    assert simulator.request_counts["pagerduty"] == 0
    assert simulator.exchanges == []


def test_rate_limit_budget_is_counted_and_enforced() -> None:
    clock = FakeClock()
    app = PagerDutyApp()
    app.rate_limit = 3
    with Simulator(World(seed=1, clock=clock), apps=[app]) as sim, http(sim) as c:
        remaining = [
            c.get("/pagerduty/users/me", headers=AUTH).headers["ratelimit-remaining"]
            for _ in range(3)
        ]
        assert remaining == ["2", "1", "0"]
        limited = c.get("/pagerduty/users/me", headers=AUTH)
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == 2020
        assert limited.headers["ratelimit-reset"] == "60"
        clock.advance(30)
        assert c.get("/pagerduty/users/me", headers=AUTH).headers["ratelimit-reset"] == "30"
        clock.advance(30)
        assert c.get("/pagerduty/users/me", headers=AUTH).status_code == 200


def test_exchanges_are_recorded_and_bounded() -> None:
    with Simulator(World(seed=1, clock=FakeClock()), max_exchanges=3) as sim, http(sim) as c:
        c.get("/pagerduty/incidents?statuses[]=triggered&statuses[]=acknowledged", headers=AUTH)
        first = sim.exchanges[0]
        assert first.request.provider == "pagerduty"
        assert first.request.method == "GET"
        assert first.request.path == "/incidents"
        assert first.request.query == {"statuses[]": ["triggered", "acknowledged"]}
        assert first.request.headers["authorization"] == "Token token=sim-pd-token"
        assert first.response.status == 200
        assert first.response.json()["incidents"]
        request, response = first
        assert response.headers["Content-Type"] == "application/vnd.pagerduty+json;version=2"
        for _ in range(5):
            c.get("/pagerduty/users/me", headers=AUTH)
        assert len(sim.exchanges) == 3
        assert sim.request_counts["pagerduty"] == 6
        sim.clear_exchanges()
        assert sim.exchanges == []


def test_every_fault_mode_is_known() -> None:
    assert set(FAULT_MODES) == {
        "429",
        "500",
        "502",
        "503",
        "401",
        "403",
        "slow",
        "truncated",
        "bad_json",
        "wrong_shape",
    }


def test_set_fault_validates() -> None:
    sim = Simulator(World(seed=1, clock=FakeClock()))
    with pytest.raises(ValueError):
        sim.set_fault("nosuchprovider", "429")
    with pytest.raises(ValueError):
        sim.set_fault("pagerduty", "404")
    with pytest.raises(ValueError, match="truncated"):
        sim.set_fault("pagerduty", "malformed")  # the old name of "truncated"
    with pytest.raises(ValueError):
        sim.set_fault("pagerduty", "429", count=0)


class BrokenApp(PagerDutyApp):
    def handle(self, request: SimRequest, ctx: RequestContext) -> SimResponse:
        raise RuntimeError("simulator bug")


def test_a_simulator_bug_answers_500_instead_of_hanging(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with Simulator(World(seed=1, clock=FakeClock()), apps=[BrokenApp()]) as sim, http(sim) as c:
        answer = c.get("/pagerduty/users/me", headers=AUTH)
        assert answer.status_code == 500
        assert answer.json()["error"]["code"] == 2000
    assert "simulator bug" in capsys.readouterr().err
