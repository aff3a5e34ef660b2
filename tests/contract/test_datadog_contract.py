"""Contract: Datadog traffic between the real `datadog-api-client` and the simulator.

v1 (monitor search, group search, monitor get): every request the SDK sends, through the
cockpit's `DatadogSource` or directly, and every answer the simulator gives, error answers
included, validate against the official `datadog-v1.yaml` (see `datadog_spec.py`).

v2 (downtimes): the description is not shipped, so answers are deserialized strictly with
the installed `datadog_api_client.v2` models and compared, key path by key path, with the
real API's recorded cassettes; requests are checked against the SDK's own endpoint
definitions and the recorded request bodies.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.exceptions import ApiException
from datadog_api_client.v1.api.monitors_api import MonitorsApi
from datadog_api_client.v2.api.downtimes_api import DowntimesApi
from datadog_api_client.v2.model.api_error_response import APIErrorResponse
from datadog_api_client.v2.model.downtime_create_request import DowntimeCreateRequest
from datadog_api_client.v2.model.downtime_response import DowntimeResponse
from datadog_api_client.v2.model.list_downtimes_response import ListDowntimesResponse
from datadog_api_client.v2.model.monitor_downtime_match_response import (
    MonitorDowntimeMatchResponse,
)
from datadog_spec import (
    SERVER_ERRORS_ADDED,
    assert_same_shape,
    cassette,
    load_datadog_spec,
    shape,
    strict_v2,
    validate_v1_exchange,
)
from openapi import ContractError

from oncall_tui.config import DatadogSettings, Settings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import Exchange, Simulator
from oncall_tui.simulator.datadog import DEFAULT_APP_KEY
from oncall_tui.sources.base import SourceError
from oncall_tui.sources.datadog import DatadogSource

SEARCH = "v1-test_monitors_search_returns_ok_response"
GROUPS = "v1-test_monitors_group_search_returns_ok_response"
SCHEDULE = "v2-test_schedule_a_downtime_returns_ok_response"
CANCEL = "v2-test_cancel_a_downtime_returns_ok_response"
MATCHES = "v2-test_get_active_downtimes_for_a_monitor_returns_ok_response"
AUTH = {"DD-API-KEY": "sim-dd-api-key", "DD-APPLICATION-KEY": DEFAULT_APP_KEY}


def settings_for(simulator: Simulator, **changes: Any) -> DatadogSettings:
    return replace(demo_settings(Settings(), simulator).datadog, **changes)


@pytest.fixture
def source(simulator: Simulator, sim_clock: FakeClock) -> Iterator[DatadogSource]:
    made = DatadogSource(settings_for(simulator), sim_clock, per_page=4)
    yield made
    made.close()


@pytest.fixture
def sdk(simulator: Simulator) -> Iterator[ApiClient]:
    configuration = Configuration(
        host=simulator.provider_url("datadog"),
        api_key={"apiKeyAuth": AUTH["DD-API-KEY"], "appKeyAuth": AUTH["DD-APPLICATION-KEY"]},
        ssl_ca_cert=str(simulator.ca_pem_path),
    )
    with ApiClient(configuration) as client:
        yield client


@pytest.fixture
def raw(simulator: Simulator) -> Iterator[httpx.Client]:
    verify = ssl.create_default_context(cafile=str(simulator.ca_pem_path))
    with httpx.Client(
        base_url=simulator.provider_url("datadog"), verify=verify, headers=AUTH
    ) as client:
        yield client


def exchanges(simulator: Simulator, prefix: str) -> list[Exchange]:
    found = [e for e in simulator.exchanges if e.request.path.startswith(prefix)]
    assert found, f"nothing under {prefix} was recorded"
    return found


def validate_v1(simulator: Simulator) -> list[Exchange]:
    found = exchanges(simulator, "/api/v1/")
    for exchange in found:
        validate_v1_exchange(exchange)
    return found


def recorded_answer(name: str, index: int = 0) -> Any:
    return cassette(name)[index]["response"]["json"]


# --------------------------------------------------------------------------- v1


def test_the_sources_fetch_fits_the_v1_description(
    simulator: Simulator, source: DatadogSource
) -> None:
    snapshot = source.fetch()
    assert snapshot.items
    found = validate_v1(simulator)
    search_pages = [e for e in found if e.request.path == "/api/v1/monitor/search"]
    group_pages = [e for e in found if e.request.path == "/api/v1/monitor/groups/search"]
    assert len(search_pages) >= 2 and len(group_pages) >= 2, "pagination was not exercised"
    for exchange in found:
        assert exchange.request.headers["Accept"] == "application/json"


def test_every_monitor_endpoint_and_error_answer_fits(simulator: Simulator, sdk: ApiClient) -> None:
    api = MonitorsApi(sdk)
    found = api.search_monitors(query="tag:team:benefits", page=1, per_page=5, sort="name,desc")
    monitor_id = found.monitors[0].id
    api.get_monitor(monitor_id, group_states="all", with_downtimes=True)
    api.get_monitor(monitor_id)
    api.search_monitor_groups(query="tag:team:benefits group_status:alert", sort="status,asc")
    api.search_monitors()
    for call in (
        lambda: api.get_monitor(1),
        lambda: api.search_monitors(query="colour:red"),
        lambda: api.search_monitor_groups(sort="colour"),
    ):
        with pytest.raises(ApiException):
            call()
    for mode in ("429", "500", "502", "503", "401", "403"):
        simulator.set_fault("datadog", mode, count=1)
        with pytest.raises(ApiException):
            api.search_monitors(query="tag:team:benefits")
    statuses = {e.response.status for e in validate_v1(simulator)}
    assert statuses == {200, 400, 403, 404, 429, 500, 502, 503}


def test_an_invalid_answer_would_be_caught(simulator: Simulator, sdk: ApiClient) -> None:
    MonitorsApi(sdk).search_monitors(query="tag:team:benefits")
    good = exchanges(simulator, "/api/v1/monitor/search")[0]
    bad_body = good.response.body.replace(b'"status":"', b'"status":"Purple', 1)
    bad = Exchange(good.request, replace(good.response, body=bad_body))
    with pytest.raises(ContractError, match="Purple"):
        validate_v1_exchange(bad)


def test_the_500_patch_is_needed() -> None:
    spec = load_datadog_spec()
    # The published description declares no 5xx for the operations the cockpit uses.
    for operation in (
        "GET /api/v1/monitor/search",
        "GET /api/v1/monitor/groups/search",
        "GET /api/v1/monitor/{monitor_id}",
    ):
        assert operation in SERVER_ERRORS_ADDED
    assert "500" in spec["paths"]["/api/v1/monitor/search"]["get"]["responses"]


def test_v1_answers_have_the_recorded_shape(simulator: Simulator, raw: httpx.Client) -> None:
    ours = raw.get("/api/v1/monitor/search", params={"query": "tag:team:benefits"}).json()
    real = recorded_answer(SEARCH)
    assert set(ours) == set(real)
    assert set(ours["counts"]) == set(real["counts"])
    assert set(ours["metadata"]) == set(real["metadata"])
    assert {k for m in ours["monitors"] for k in m} == {k for m in real["monitors"] for k in m}
    real_creator = {k for m in real["monitors"] for k in m["creator"]}
    assert {k for m in ours["monitors"] for k in m["creator"]} == real_creator

    ours = raw.get("/api/v1/monitor/groups/search", params={"query": "tag:team:benefits"}).json()
    real = recorded_answer(GROUPS)
    assert set(ours) == set(real)
    assert set(ours["counts"]) == set(real["counts"])
    assert {k for g in ours["groups"] for k in g} == {k for g in real["groups"] for k in g}
    # Value kinds agree wherever both have a value.
    for path, kinds in shape(real).items():
        assert kinds - {"null"} <= shape(ours)[path] | {"null"}, path


# --------------------------------------------------------------------------- v2 answers


def test_schedule_like_the_recording_gives_the_recorded_answer(raw: httpx.Client) -> None:
    recorded = cassette(SCHEDULE)[0]
    body = recorded["request"]["json"]
    body["data"]["attributes"]["monitor_identifier"] = {"monitor_tags": ["team:benefits"]}
    answer = raw.post("/api/v2/downtime", json=body)
    assert answer.status_code == recorded["response"]["status"]["code"] == 200
    assert answer.headers["Content-Type"] == "application/json"
    strict_v2(answer.content, DowntimeResponse, recorded["response"]["json"])
    assert_same_shape(answer.json(), recorded["response"]["json"])

    # Cancelling, twice, as recorded: 204, empty body, labelled text/html.
    cancel = cassette(CANCEL)
    downtime_id = answer.json()["data"]["id"]
    for interaction in cancel[1:]:
        gone = raw.delete(f"/api/v2/downtime/{downtime_id}")
        assert gone.status_code == interaction["response"]["status"]["code"] == 204
        assert gone.content == b""
        expected_type = interaction["response"]["headers"]["content-type"][0]
        assert gone.headers["Content-Type"] == expected_type


def test_downtime_matches_like_the_recording(simulator: Simulator, raw: httpx.Client) -> None:
    monitor_id = next(iter(simulator.world.datadog.monitors))
    raw.post(
        "/api/v2/downtime",
        json={
            "data": {
                "type": "downtime",
                "attributes": {"monitor_identifier": {"monitor_id": monitor_id}, "scope": "*"},
            }
        },
    ).raise_for_status()
    answer = raw.get(f"/api/v2/monitor/{monitor_id}/downtime_matches")
    real = recorded_answer(MATCHES)
    strict_v2(answer.content, MonitorDowntimeMatchResponse, real)
    assert_same_shape(answer.json(), real)
    assert answer.json()["data"][0]["attributes"]["groups"] == ["*"]


def test_every_downtime_answer_deserializes_strictly(
    simulator: Simulator, sdk: ApiClient, raw: httpx.Client
) -> None:
    api = DowntimesApi(sdk)
    real = recorded_answer(SCHEDULE)
    api.list_downtimes()
    api.list_downtimes(current_only=True, include="created_by,monitor", page_limit=1)
    listed = api.list_downtimes(page_offset=1)
    api.get_downtime(listed.data[0].id, include="created_by")
    monitor_id = next(iter(simulator.world.datadog.monitors))
    api.list_monitor_downtimes(monitor_id, page_limit=5)
    for item in exchanges(simulator, "/api/v2/"):
        path, status = item.request.path, item.response.status
        assert status == 200, (path, item.response.body[:200])
        if path == "/api/v2/downtime":
            # The included monitor item is not in the recording; the model knows it.
            strict_v2(item.response.body, ListDowntimesResponse, real)
        elif path.endswith("/downtime_matches"):
            strict_v2(item.response.body, MonitorDowntimeMatchResponse)
        else:
            strict_v2(item.response.body, DowntimeResponse, real)
    errors = [
        raw.get("/api/v2/downtime/nope"),
        raw.post("/api/v2/downtime", json={"data": {"type": "downtime"}}),
        raw.get("/api/v2/downtime", headers={"DD-API-KEY": "wrong"}),
    ]
    assert [e.status_code for e in errors] == [404, 400, 403]
    for error in errors:
        strict_v2(error.content, APIErrorResponse)


def test_strict_v2_catches_a_wrong_answer() -> None:
    real = recorded_answer(SCHEDULE)
    wrong_status = {**real["data"]["attributes"], "status": "snoozing"}
    body = {**real, "data": {**real["data"], "attributes": wrong_status}}
    import json

    with pytest.raises(ContractError):
        strict_v2(json.dumps(body), DowntimeResponse, real)
    extra = {**real, "data": {**real["data"], "colour": "red"}}
    with pytest.raises(ContractError, match="colour"):
        strict_v2(json.dumps(extra), DowntimeResponse, real)


# --------------------------------------------------------------------------- v2 requests


def test_the_sources_downtime_requests_fit_the_sdk_and_the_recording(
    simulator: Simulator, sim_clock: FakeClock, source: DatadogSource
) -> None:
    monitor = source.fetch().items[0]
    downtime_id = source.mute(
        int(monitor.key), None, sim_clock.now() + timedelta(hours=2), "deploying the fix"
    )
    source.unmute(downtime_id)
    sent = exchanges(simulator, "/api/v2/")
    endpoints = DowntimesApi(ApiClient(Configuration()))
    list_params = {
        spec["attribute"]: spec["openapi_types"]
        for spec in endpoints._list_downtimes_endpoint.params_map.values()
        if spec.get("location") == "query"
    }
    recorded = cassette(SCHEDULE)[0]["request"]
    kinds = {e.request.method for e in sent}
    assert kinds == {"GET", "POST", "DELETE"}
    for exchange in sent:
        request = exchange.request
        assert request.headers["DD-API-KEY"] == "sim-dd-api-key"
        assert request.headers["DD-APPLICATION-KEY"] == DEFAULT_APP_KEY
        if request.method == "GET":
            assert request.path == "/api/v2/downtime"
            assert set(request.query) <= set(list_params), request.query
            assert request.query["current_only"] == ["true"]
            for name in ("page[offset]", "page[limit]"):
                assert int(request.query[name][0]) >= 0
        elif request.method == "POST":
            assert request.headers["Content-Type"] == "application/json"
            assert request.headers["Accept"] == recorded["headers"]["accept"][0]
            body = request.json()
            strict_v2(request.body, DowntimeCreateRequest)
            assert set(body["data"]) == set(recorded["json"]["data"])
            assert set(body["data"]["attributes"]) == set(recorded["json"]["data"]["attributes"])
            assert body["data"]["attributes"]["monitor_identifier"] == {
                "monitor_id": int(monitor.key)
            }
            assert body["data"]["attributes"]["schedule"]["start"] is None
        else:
            assert request.path == f"/api/v2/downtime/{downtime_id}"
            assert request.body == b""
    validate_v1(simulator)


def test_an_error_from_a_write_is_a_source_error(
    simulator: Simulator, sim_clock: FakeClock, source: DatadogSource
) -> None:
    with pytest.raises(SourceError) as caught:
        source.mute(1, None, sim_clock.now() + timedelta(hours=1), "no such monitor")
    assert caught.value.status == 400
    assert "does not exist" in caught.value.message
    error = exchanges(simulator, "/api/v2/downtime")[-1]
    strict_v2(error.response.body, APIErrorResponse)
