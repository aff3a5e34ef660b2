"""The simulator's GitHub over raw HTTP: auth, ETags, rate accounting, pagination, own-host
URLs, GraphQL execution and point costs, and a world that moves deterministically."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import Simulator, World
from oncall_tui.simulator.github_graphql import prepare, search_issues

AUTH = {"Authorization": "token sim-gh-token", "Accept": "application/vnd.github+json"}


@pytest.fixture
def gh(simulator: Simulator) -> Iterator[httpx.Client]:
    verify = ssl.create_default_context(cafile=str(simulator.ca_pem_path))
    with httpx.Client(base_url=simulator.provider_url("github"), verify=verify) as client:
        yield client


def graphql(gh: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    answer = gh.post("/graphql", json={"query": query, "variables": variables}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


@pytest.mark.parametrize(
    "authorization", [None, "", "token wrong", "Basic c2ltOmdo", "sim-gh-token"]
)
def test_anything_but_the_token_is_refused(gh: httpx.Client, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    answer = gh.get("/repos/benefits/claims-api/pulls", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["message"] == "Bad credentials"


def test_bearer_works_too(gh: httpx.Client) -> None:
    answer = gh.get("/user", headers={"Authorization": "Bearer sim-gh-token"})
    assert answer.json()["login"] == "alex-rivera"


def test_etag_304_is_free(simulator: Simulator, gh: httpx.Client) -> None:
    rate = simulator.world.github.rate
    first = gh.get("/repos/benefits/claims-api/deployments", headers=AUTH)
    etag = first.headers["etag"]
    used = int(first.headers["x-ratelimit-used"])
    again = gh.get(
        "/repos/benefits/claims-api/deployments", headers={**AUTH, "If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b""
    assert int(again.headers["x-ratelimit-used"]) == used
    assert rate.not_modified == 1
    weak = gh.get(
        "/repos/benefits/claims-api/deployments", headers={**AUTH, "If-None-Match": f"W/{etag}"}
    )
    assert weak.status_code == 304
    stale = gh.get(
        "/repos/benefits/claims-api/deployments", headers={**AUTH, "If-None-Match": '"nope"'}
    )
    assert stale.status_code == 200
    assert int(stale.headers["x-ratelimit-used"]) == used + 1


def test_rate_headers_and_rate_limit_endpoint(simulator: Simulator, gh: httpx.Client) -> None:
    answer = gh.get("/repos/benefits/claims-api", headers=AUTH)
    assert answer.headers["x-ratelimit-limit"] == "5000"
    assert answer.headers["x-ratelimit-resource"] == "core"
    reset = int(answer.headers["x-ratelimit-reset"])
    assert reset == int(simulator.world.now.timestamp()) + 3600
    before = simulator.world.github.rate.points
    limits = gh.get("/rate_limit", headers=AUTH).json()
    assert limits["resources"]["core"]["used"] == 1
    assert simulator.world.github.rate.points == before  # /rate_limit is free


def test_every_url_is_on_the_simulator(simulator: Simulator, gh: httpx.Client) -> None:
    base = simulator.provider_url("github")
    paths = [
        "/repos/benefits/claims-api",
        "/repos/benefits/claims-api/deployments",
        "/repos/benefits/claims-api/pulls?state=all",
        "/repos/benefits/claims-api/issues?state=all",
        "/repos/benefits/domain-cc/actions/runs",
        "/repos/benefits/svc-bip-api/dependabot/alerts",
        "/search/issues?q=is:pr+org:benefits",
        "/user",
    ]
    for path in paths:
        answer = gh.get(path, headers=AUTH)
        assert answer.status_code == 200, path
        for text in strings(answer.json()):
            if text.startswith(("http://", "https://")):
                assert text.startswith(base + "/"), (path, text)


def test_link_pagination(simulator: Simulator, gh: httpx.Client) -> None:
    answer = gh.get("/repos/benefits/claims-api/deployments?per_page=2", headers=AUTH)
    link = answer.headers["link"]
    assert 'rel="next"' in link and 'rel="last"' in link
    next_url = link.split(";")[0].strip("<>")
    assert next_url.startswith(simulator.provider_url("github") + "/repos/")
    second = gh.get(next_url, headers=AUTH)
    assert len(second.json()) == 2
    assert 'rel="prev"' in second.headers["link"]


def test_rate_limit_fault_shapes(simulator: Simulator, gh: httpx.Client) -> None:
    simulator.set_fault("github", "429", count=1, retry_after=9)
    answer = gh.get("/user", headers=AUTH)
    assert answer.status_code == 429 and answer.headers["retry-after"] == "9"
    control = gh.post(
        simulator.url + "/_sim/github",
        json={"rate_limit_status": 403, "rate_limit_style": "primary"},
    )
    assert control.status_code == 200
    simulator.set_fault("github", "429", count=1, retry_after=30)
    answer = gh.get("/user", headers=AUTH)
    assert answer.status_code == 403
    assert "retry-after" not in answer.headers
    assert answer.headers["x-ratelimit-remaining"] == "0"
    assert int(answer.headers["x-ratelimit-reset"]) == int(simulator.world.now.timestamp()) + 30
    assert answer.json()["message"].startswith("API rate limit exceeded")


def test_permission_fault_is_a_403_that_is_no_rate_limit(
    simulator: Simulator, gh: httpx.Client
) -> None:
    simulator.set_fault("github", "403", count=2)
    for answer in (
        gh.get("/repos/benefits/claims-api/pulls", headers=AUTH),
        gh.post("/graphql", json={"query": "{ viewer { login } }"}, headers=AUTH),
    ):
        assert answer.status_code == 403
        body = answer.json()
        assert body["message"] == "Resource not accessible by personal access token"
        assert body["documentation_url"].startswith(simulator.provider_url("github"))
        assert body["status"] == "403"
        assert "retry-after" not in answer.headers
        assert int(answer.headers["x-ratelimit-remaining"]) > 0


def test_gateway_faults(simulator: Simulator, gh: httpx.Client) -> None:
    simulator.set_fault("github", "502", count=2)
    for answer in (
        gh.get("/repos/benefits/claims-api/pulls", headers=AUTH),
        gh.post("/graphql", json={"query": "{ viewer { login } }"}, headers=AUTH),
    ):
        # nginx's page, not the API's JSON, and none of the API's headers.
        assert answer.status_code == 502
        assert answer.headers["content-type"] == "text/html"
        assert b"<h1>502 Bad Gateway</h1>" in answer.content
        assert "x-ratelimit-remaining" not in answer.headers
    simulator.set_fault("github", "503", count=1)
    answer = gh.get("/repos/benefits/claims-api/pulls", headers=AUTH)
    assert answer.status_code == 503
    assert answer.json()["message"].startswith("No server is currently available")
    assert answer.json()["status"] == "503"
    assert gh.get("/repos/benefits/claims-api/pulls", headers=AUTH).status_code == 200


def test_spent_budget(simulator: Simulator, gh: httpx.Client) -> None:
    gh.post(simulator.url + "/_sim/github", json={"remaining": 0})
    answer = gh.get("/repos/benefits/claims-api", headers=AUTH)
    assert answer.status_code == 403
    assert answer.headers["x-ratelimit-remaining"] == "0"
    limited = gh.post("/graphql", json={"query": "{ viewer { login } }"}, headers=AUTH)
    assert limited.status_code == 403


def test_state_shows_points(simulator: Simulator, gh: httpx.Client) -> None:
    gh.get("/repos/benefits/claims-api/pulls", headers=AUTH)
    graphql(gh, "{ viewer { login } }")
    state = gh.get(simulator.url + "/_sim/state").json()["github"]
    assert state["points"] == 2
    assert state["rate"]["rest_points"] == 1 and state["rate"]["graphql_points"] == 1
    assert len(state["repositories"]) == 6
    assert len(state["deploys"]) == 30
    assert state["dependabot"]


# --------------------------------------------------------------------------- GraphQL


def test_graphql_cost_follows_github_rule() -> None:
    # GitHub's documented example: 1 + 100 + 5,000 requests -> 51 points.
    documented = """
    query {
      viewer {
        login
        repositories(first: 100) {
          edges { node { id issues(first: 50) { edges { node { id labels(first: 60) {
            edges { node { id name } } } } } } } }
        }
      }
    }"""
    prepared = prepare({"query": documented})
    assert not isinstance(prepared, list)
    assert (prepared.requests, prepared.cost) == (5101, 51)
    cheap = prepare({"query": "{ viewer { login } }"})
    assert not isinstance(cheap, list) and cheap.cost == 1
    variables = prepare(
        {
            "query": 'query($n: Int!) { search(query: "x", type: ISSUE, first: $n) '
            "{ nodes { ... on PullRequest { labels(first: 10) { nodes { name } } } } } }",
            "variables": {"n": 100},
        }
    )
    assert not isinstance(variables, list) and variables.requests == 101


def test_graphql_answers_and_errors(simulator: Simulator, gh: httpx.Client) -> None:
    body = graphql(
        gh,
        """query($owner: String!) {
          rateLimit { cost remaining }
          ok: repository(owner: $owner, name: "claims-api") {
            nameWithOwner
            deployments(first: 2, orderBy: {field: CREATED_AT, direction: DESC}) {
              totalCount
              pageInfo { hasNextPage endCursor }
              nodes { environment state latestStatus { state } creator { __typename login } }
            }
          }
          missing: repository(owner: $owner, name: "nope") { name }
          nopage: repository(owner: $owner, name: "claims-api") { deployments { totalCount } }
        }""",
        owner="benefits",
    )
    data = body["data"]
    assert data["rateLimit"]["cost"] == 1
    assert data["ok"]["nameWithOwner"] == "benefits/claims-api"
    assert len(data["ok"]["deployments"]["nodes"]) == 2
    assert data["ok"]["deployments"]["pageInfo"]["hasNextPage"] is True
    assert data["missing"] is None
    types = {e.get("type") for e in body["errors"]}
    assert {"NOT_FOUND", "MISSING_PAGINATION_BOUNDARIES"} <= types
    unknown = graphql(gh, "{ viewer { nosuchfield } }")
    assert "doesn't exist" in unknown["errors"][0]["message"]
    broken = graphql(gh, "{ viewer { login ")
    assert "data" not in broken and broken["errors"]


def test_graphql_forbidden_alerts_keep_the_rest(simulator: Simulator, gh: httpx.Client) -> None:
    simulator.world.github.alerts_readable = False
    body = graphql(
        gh,
        """{ repository(owner: "benefits", name: "svc-bip-api") {
            nameWithOwner vulnerabilityAlerts(first: 5) { nodes { number } } } }""",
    )
    assert body["data"]["repository"]["nameWithOwner"] == "benefits/svc-bip-api"
    assert body["data"]["repository"]["vulnerabilityAlerts"] is None
    assert body["errors"][0]["type"] == "FORBIDDEN"


def test_search_qualifiers(simulator: Simulator) -> None:
    world = simulator.world.github
    every = search_issues(world, "is:pr is:open author:app/dependabot org:benefits")
    assert every and all(p.user.login == "dependabot[bot]" for p in every)
    one = search_issues(world, "is:pr is:open author:app/dependabot repo:benefits/claims-api")
    assert {p.repo for p in one} == {"benefits/claims-api"}
    humans = search_issues(world, "is:pr -author:app/dependabot org:benefits")
    assert humans and all(p.user.type == "User" for p in humans)
    issues = search_issues(world, "is:issue Sprint")
    assert {i.title for i in issues} >= {"On call for Sprint 42"}


# --------------------------------------------------------------------------- the world


def test_world_is_the_same_however_finely_advanced() -> None:
    coarse_clock, fine_clock = FakeClock(), FakeClock()
    coarse, fine = World(seed=3, clock=coarse_clock), World(seed=3, clock=fine_clock)
    coarse_clock.advance(4 * 3600)
    coarse.tick()
    for _ in range(48):
        fine_clock.advance(300)
        fine.tick()
    left, right = coarse.snapshot()["github"], fine.snapshot()["github"]
    assert left["deploys"] == right["deploys"]
    assert left["dependabot"] == right["dependabot"]


def test_the_world_moves(simulator: Simulator, sim_clock: FakeClock) -> None:
    world = simulator.world.github
    before = {(d["repo"], d["environment"]): d["state"] for d in world.latest_deploys()}
    prs_before = {(p.repo, p.number) for p in world.pulls.values()}
    states: set[str] = set()
    for _ in range(24):
        sim_clock.advance(600)
        simulator.world.tick()
        states |= {d["state"] for d in world.latest_deploys()}
    after = {(d["repo"], d["environment"]): d["state"] for d in world.latest_deploys()}
    assert before != after
    assert {"success", "in_progress"} <= states or {"success", "queued"} <= states
    opened = {(p.repo, p.number) for p in world.pulls.values()} - prs_before
    assert opened, "Dependabot opened no PR in four hours"
    finished = [
        c
        for p in opened
        for c in world.checks_for(p[0], world.pulls[p].head_sha)
        if c.status == "completed"
    ]
    assert finished


def test_scale_scenario_size() -> None:
    world = World(seed=1, clock=FakeClock(), scenario="scale")
    github = world.github
    assert len(github.repositories) == 200
    assert all(len(r.environments) == 5 for r in github.repositories.values())
    open_dependabot = [
        p for p in github.pulls.values() if p.state == "open" and p.user.type == "Bot"
    ]
    assert len(open_dependabot) >= 450
