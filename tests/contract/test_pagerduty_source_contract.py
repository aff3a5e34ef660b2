"""Contract: what `PagerDutySource` itself sends, and what it gets back, fits PagerDuty's
official OpenAPI description (with the documented quirks, see `openapi.py`).

The SDK-level contract lives in `test_pagerduty_contract.py`; this one drives the cockpit's
own source (every scope option, detail, on-call, pagination, error answers) and checks each
recorded exchange, plus the SDK habits that bite: list filters must go out as `name[]`
(PagerDuty ignores a bare `statuses=`), and `From` goes out only when configured.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from openapi import validate_pagerduty_exchange

from oncall_tui.config import PagerDutySettings, Settings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import Exchange, Simulator, World
from oncall_tui.sources.base import SourceError
from oncall_tui.sources.pagerduty import PagerDutySource

LIST_PARAMETERS = (
    "statuses",
    "service_ids",
    "team_ids",
    "user_ids",
    "escalation_policy_ids",
    "include",
    "urgencies",
)


def settings_for(simulator: Simulator, **changes: Any) -> PagerDutySettings:
    return replace(demo_settings(Settings(), simulator).pagerduty, **changes)


@contextmanager
def source_for(simulator: Simulator, **changes: Any) -> Iterator[PagerDutySource]:
    source = PagerDutySource(settings_for(simulator, **changes), simulator.world.clock)
    try:
        yield source
    finally:
        source.close()


def validate_all(simulator: Simulator) -> list[Exchange]:
    exchanges = simulator.exchanges
    assert exchanges, "nothing was recorded"
    for exchange in exchanges:
        validate_pagerduty_exchange(exchange)
    return exchanges


def assert_brackets_only(exchanges: list[Exchange]) -> None:
    for exchange in exchanges:
        bare = [name for name in exchange.request.query if name in LIST_PARAMETERS]
        assert not bare, f"{exchange.request.raw_path}: sent {bare} without [] (ignored)"


def only(exchanges: list[Exchange], path: str) -> list[Exchange]:
    found = [e for e in exchanges if e.request.path == path]
    assert found, f"no request to {path}"
    return found


def scoped_settings(simulator: Simulator) -> dict[str, Any]:
    world = simulator.world.pagerduty
    return {
        "service_ids": tuple(list(world.services)[:3]),
        "team_ids": (world.team.id,),
        "only_mine": True,
        "escalation_policy_ids": tuple(world.policies),
    }


def test_fetch_with_every_scope_option_fits_the_description(simulator: Simulator) -> None:
    scope = scoped_settings(simulator)
    with source_for(simulator, **scope) as source:
        source.fetch()
    exchanges = validate_all(simulator)
    assert_brackets_only(exchanges)
    (incidents,) = only(exchanges, "/incidents")
    query = incidents.request.query
    assert query["statuses[]"] == ["triggered", "acknowledged"]
    assert query["service_ids[]"] == list(scope["service_ids"])
    assert query["team_ids[]"] == list(scope["team_ids"])
    assert query["user_ids[]"] == [simulator.world.pagerduty.me.id]
    assert (query["limit"], query["offset"]) == (["100"], ["0"])
    (oncalls,) = only(exchanges, "/oncalls")
    assert oncalls.request.query["escalation_policy_ids[]"] == list(scope["escalation_policy_ids"])
    assert oncalls.request.query["include[]"] == ["users"]
    assert "user_ids[]" not in oncalls.request.query
    only(exchanges, "/users/me")


def test_on_call_by_user_when_no_policy_is_configured(simulator: Simulator) -> None:
    with source_for(simulator, escalation_policy_ids=()) as source:
        source.fetch()
    exchanges = validate_all(simulator)
    assert_brackets_only(exchanges)
    (oncalls,) = only(exchanges, "/oncalls")
    assert oncalls.request.query["user_ids[]"] == [simulator.world.pagerduty.me.id]
    assert "escalation_policy_ids[]" not in oncalls.request.query


def test_detail_fits_the_description(simulator: Simulator) -> None:
    with source_for(simulator) as source:
        page = source.fetch().items[0]
        simulator.clear_exchanges()
        source.detail(page.key)
    exchanges = validate_all(simulator)
    assert [e.request.path for e in exchanges] == [
        f"/incidents/{page.key}",
        f"/incidents/{page.key}/log_entries",
        f"/incidents/{page.key}/notes",
    ]
    assert all(e.response.status == 200 for e in exchanges)


def test_detail_of_an_unknown_page_fits_the_description(simulator: Simulator) -> None:
    with source_for(simulator) as source, pytest.raises(SourceError):
        source.detail("QNOSUCHPAGE")
    (exchange,) = validate_all(simulator)
    assert exchange.response.status == 404


def test_pagination_requests_fit_the_description() -> None:
    with Simulator(World(seed=7, clock=FakeClock(), scenario="scale:250")) as sim:
        with source_for(sim) as source:
            source.fetch()
        exchanges = validate_all(sim)
    pages = only(exchanges, "/incidents")
    assert [e.request.query["offset"] for e in pages] == [["0"], ["100"], ["200"]]
    assert_brackets_only(exchanges)


@pytest.mark.parametrize("mode", ["429", "401", "403"])
def test_error_answers_fit_the_description(simulator: Simulator, mode: str) -> None:
    with source_for(simulator) as source:
        source.me()
        simulator.set_fault("pagerduty", mode, count=1)
        with pytest.raises(SourceError):
            source.fetch()
    exchanges = validate_all(simulator)
    assert exchanges[-1].response.status == int(mode)


@pytest.mark.parametrize("mode", ["500", "502", "503"])
def test_requests_that_meet_a_5xx_fit_the_description(simulator: Simulator, mode: str) -> None:
    # The description declares no 5xx answer for any operation, so only the request is
    # checked here; a 500's shape is PagerDuty's error object, while 502 and 503 are the
    # load balancer's HTML pages.
    with source_for(simulator) as source:
        source.me()
        simulator.set_fault("pagerduty", mode, count=1)
        with pytest.raises(SourceError):
            source.fetch()
    last = simulator.exchanges[-1]
    assert last.response.status == int(mode)
    validate_pagerduty_exchange(last, response=False)
    if mode == "500":
        assert set(last.response.json()["error"]) >= {"message", "code"}
    else:
        assert last.response.headers["Content-Type"] == "text/html"


def test_from_is_sent_when_from_email_is_set(simulator: Simulator) -> None:
    email = simulator.world.pagerduty.me_email
    with source_for(simulator, from_email=email) as source:
        page = source.fetch().items[0]
        source.detail(page.key)
    exchanges = validate_all(simulator)
    assert {e.request.path for e in exchanges} >= {"/users/me", "/incidents", "/oncalls"}
    for exchange in exchanges:
        assert exchange.request.headers.get("From") == email, exchange.request.raw_path


def test_no_from_when_from_email_is_empty(simulator: Simulator) -> None:
    with source_for(simulator, from_email="") as source:
        source.fetch()
    exchanges = validate_all(simulator)
    assert all("From" not in e.request.headers for e in exchanges)


def test_authorization_is_the_token_scheme(simulator: Simulator) -> None:
    with source_for(simulator) as source:
        source.fetch()
    token = simulator.tokens["pagerduty"]
    for exchange in validate_all(simulator):
        assert exchange.request.headers.get("Authorization") == f"Token token={token}"
        assert "application/vnd.pagerduty+json" in exchange.request.headers.get("Accept", "")
