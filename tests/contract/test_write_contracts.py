"""Contract: every write the cockpit sends through `apply()` (and the reads its retries and
the detail view make), with every answer the simulator gives, refusals included, checked
against the providers' descriptions: GitHub REST against `github-rest-subset.json` and
GraphQL against its schema (`github_spec.py`); Datadog v2 downtimes against the SDK's
models and the recorded cassettes (`datadog_spec.py`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from datadog_api_client import ApiClient, Configuration
from datadog_api_client.v2.api.downtimes_api import DowntimesApi
from datadog_api_client.v2.model.api_error_response import APIErrorResponse
from datadog_api_client.v2.model.downtime_create_request import DowntimeCreateRequest
from datadog_api_client.v2.model.downtime_response import DowntimeResponse
from datadog_api_client.v2.model.list_downtimes_response import ListDowntimesResponse
from datadog_spec import cassette, strict_v2
from github_spec import is_graphql, validate_github_exchange

from oncall_tui.config import GitHubSettings, RepositorySettings, Secret, Settings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import Exchange, Simulator
from oncall_tui.simulator.github_world import DEPENDABOT, ME, TEAMMATES, PullRequest
from oncall_tui.sources.base import SourceError, Unavailable
from oncall_tui.sources.datadog import DatadogSource
from oncall_tui.sources.github import GitHubDependabotSource, GitHubDeploySource

SCHEDULE = "v2-test_schedule_a_downtime_returns_ok_response"
CANCEL = "v2-test_cancel_a_downtime_returns_ok_response"


def github_settings(sim: Simulator) -> GitHubSettings:
    return GitHubSettings(
        token=Secret(sim.tokens["github"]),
        base_url=sim.provider_url("github"),
        ca_bundle=sim.ca_pem_path,
        repositories=tuple(
            RepositorySettings(name, source) for name, source in sim.world.github.deploy_sources()
        ),
    )


@pytest.fixture
def github_sources(
    simulator: Simulator, sim_clock: FakeClock
) -> Iterator[tuple[GitHubDependabotSource, GitHubDeploySource]]:
    dependabot = GitHubDependabotSource(github_settings(simulator), sim_clock, write_spacing=0)
    deploys = GitHubDeploySource(github_settings(simulator), sim_clock, client=dependabot.client)
    yield dependabot, deploys
    dependabot.close()


@pytest.fixture
def datadog(simulator: Simulator, sim_clock: FakeClock) -> Iterator[DatadogSource]:
    source = DatadogSource(demo_settings(Settings(), simulator).datadog, sim_clock)
    yield source
    source.close()


def github_exchanges(sim: Simulator) -> list[Exchange]:
    found = [e for e in sim.exchanges if e.request.provider == "github"]
    for exchange in found:
        validate_github_exchange(exchange)
    return found


def key(pull: PullRequest) -> str:
    return f"{pull.repo}#{pull.number}"


def refused(call: Any, *args: Any, **kwargs: Any) -> SourceError:
    with pytest.raises(SourceError) as raised:
        call(*args, **kwargs)
    return raised.value


# --------------------------------------------------------------------------- GitHub


def test_every_github_write_and_answer_fits(
    simulator: Simulator,
    sim_clock: FakeClock,
    github_sources: tuple[GitHubDependabotSource, GitHubDeploySource],
) -> None:
    dependabot, deploys = github_sources
    world = simulator.world.github
    sim_clock.advance(1800)
    pulls = [p for p in world.pulls.values() if p.state == "open" and p.user == DEPENDABOT]
    green = [
        p for p in pulls if not p.conflicting and world.ci_state(p.repo, p.head_sha) == "SUCCESS"
    ]
    failing = next(
        p for p in pulls if not p.conflicting and world.ci_state(p.repo, p.head_sha) == "FAILURE"
    )
    conflicting = next(p for p in pulls if p.conflicting)
    own = next(p for p in world.pulls.values() if p.user == ME)
    first, second = green[:2]
    since = sim_clock.now().isoformat()

    # approve: 200, a retry that finds it, a 422 for one's own PR.
    dependabot.apply("approve", [key(first)], {}, attempt=0)
    dependabot.apply("approve", [key(first)], {}, attempt=1)
    refused(dependabot.apply, "approve", [key(own)], {}, attempt=0)
    # merge: 200 with a SHA, a 405 for a merged one then its GET, 405 conflict and failing
    # checks, 409 for a moved head.
    world.add_review(second, TEAMMATES[0], "APPROVE", "", world.now)
    shas = {key(first): first.head_sha, key(second): "0" * 40}
    dependabot.apply("merge", [key(first)], {"method": "squash", "shas": shas}, attempt=0)
    dependabot.apply("merge", [key(first)], {"method": "squash", "shas": shas}, attempt=0)
    dependabot.apply("merge", [key(first)], {"method": "squash", "shas": shas}, attempt=1)
    refused(dependabot.apply, "merge", [key(second)], {"method": "merge", "shas": shas}, attempt=0)
    for pull in (conflicting, failing):
        refused(dependabot.apply, "merge", [key(pull)], {"method": "rebase"}, attempt=0)
    # comment: 201, a retry with `since` and one without, a lost answer (500).
    payload = {"body": "@dependabot rebase", "since": since}
    dependabot.apply("comment", [key(failing)], payload, attempt=0)
    dependabot.apply("comment", [key(failing)], payload, attempt=1)
    dependabot.apply("comment", [key(failing)], {"body": "@dependabot recreate"}, attempt=1)
    simulator.app("github").lose_write_answers = 1  # type: ignore[attr-defined]
    with pytest.raises(Unavailable):
        dependabot.apply("comment", [key(conflicting)], payload, attempt=0)
    dependabot.apply("comment", [key(conflicting)], payload, attempt=1)

    # rerun: 201, a retry that finds it re-running, a refusal; jobs; last successes.
    for _ in range(60):
        failed = [r for r in world.runs.values() if r.conclusion == "failure"]
        if failed:
            break
        sim_clock.advance(600)
    run = failed[0]
    target = [f"{run.repo}:{run.inputs['target_env']}"]
    deploys.apply("rerun", target, {"repo": run.repo, "run_id": run.id}, attempt=0)
    deploys.apply("rerun", target, {"repo": run.repo, "run_id": run.id}, attempt=1)
    done = next(r for r in world.runs.values() if r.conclusion == "success")
    refused(deploys.apply, "rerun", target, {"repo": done.repo, "run_id": done.id}, attempt=0)
    deploys.jobs(run.repo, run.id)
    for name, _ in world.deploy_sources():
        deploys.last_success(name, "prod")
        deploys.last_successes(name)

    exchanges = github_exchanges(simulator)
    seen = {(e.request.method, e.response.status) for e in exchanges if not is_graphql(e)}
    assert {
        ("POST", 200),  # review
        ("POST", 201),  # comment, re-run
        ("POST", 422),  # own PR
        ("POST", 403),  # nothing to re-run
        ("POST", 500),  # the lost answer
        ("PUT", 200),
        ("PUT", 405),
        ("PUT", 409),
    } <= seen
    queries = [json.loads(e.request.body)["query"] for e in exchanges if is_graphql(e)]
    assert any(q.startswith("query LastSuccess") for q in queries)
    since_asked = [
        e.request.query["since"][0]
        for e in exchanges
        if e.request.method == "GET" and "since" in e.request.query
    ]
    assert since_asked and all(s.endswith("Z") for s in since_asked)
    merges = [e.request.json() for e in exchanges if e.request.method == "PUT"]
    assert {"merge_method": "squash", "sha": first.head_sha} in merges


# --------------------------------------------------------------------------- Datadog


def test_every_datadog_write_and_answer_fits(
    simulator: Simulator, sim_clock: FakeClock, datadog: DatadogSource
) -> None:
    world = simulator.world.datadog
    monitor = next(m for m in world.monitors.values() if m.team == "benefits")
    target = [str(monitor.id)]
    end = (sim_clock.now() + timedelta(hours=1)).isoformat()
    mute = {"scope": "env:prod", "end": end, "reason": "deploying the fix"}
    datadog.apply("mute", target, mute, attempt=0)
    datadog.apply("mute", target, mute, attempt=1)
    datadog.apply("mute", target, {"scope": None, "end": None, "reason": "forever"}, attempt=0)
    simulator.app("datadog").lose_write_answers = 1  # type: ignore[attr-defined]
    with pytest.raises(Unavailable):
        datadog.apply("mute", target, {"end": None, "reason": "lost"}, attempt=0)
    refused(datadog.apply, "mute", ["1"], {"end": None, "reason": "nothing there"}, attempt=0)
    ids = [d.id for d in world.downtimes.values() if d.monitor_id == monitor.id]
    datadog.apply("unmute", target, {"downtime_ids": [*ids, "gone"]}, attempt=0)
    datadog.apply("unmute", target, {}, attempt=0)

    recorded = cassette(SCHEDULE)[0]
    recorded_attributes = set(recorded["request"]["json"]["data"]["attributes"])
    cancel_type = cassette(CANCEL)[1]["response"]["headers"]["content-type"][0]
    endpoints = DowntimesApi(ApiClient(Configuration()))
    list_params = {
        spec["attribute"]
        for spec in endpoints._list_downtimes_endpoint.params_map.values()
        if spec.get("location") == "query"
    }
    sent = [e for e in simulator.exchanges if e.request.path.startswith("/api/v2/downtime")]
    kinds: set[tuple[str, int]] = set()
    for exchange in sent:
        request, response = exchange.request, exchange.response
        kinds.add((request.method, response.status))
        if request.method == "POST":
            strict_v2(request.body, DowntimeCreateRequest)
            body = request.json()
            assert set(body["data"]["attributes"]) == recorded_attributes
        elif request.method == "GET":
            assert set(request.query) <= list_params, request.query
        else:
            assert request.body == b""
        if response.status == 200 and request.method == "POST":
            strict_v2(response.body, DowntimeResponse, recorded["response"]["json"])
        elif response.status == 200:
            strict_v2(response.body, ListDowntimesResponse, recorded["response"]["json"])
        elif response.status == 204:
            assert response.body == b""
            assert response.headers["Content-Type"] == cancel_type
        else:
            strict_v2(response.body, APIErrorResponse)
    assert {
        ("POST", 200),
        ("POST", 400),
        ("POST", 500),
        ("GET", 200),
        ("DELETE", 204),
        ("DELETE", 404),
    } <= kinds
