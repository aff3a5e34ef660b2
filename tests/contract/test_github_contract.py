"""Contract: the GitHub sources and PyGithub against the simulator, every exchange checked
against GitHub's descriptions: REST against `github-rest-subset.json` (with the changes in
`github_spec.py`), GraphQL queries against `github-graphql.graphql`."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import github
import pytest
from github_spec import (
    ContractError,
    graphql_errors,
    is_graphql,
    load_github_spec,
    validate_github_exchange,
)

from oncall_tui.config import GitHubSettings, RepositorySettings, Secret
from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import Exchange, Simulator
from oncall_tui.sources.base import SourceError
from oncall_tui.sources.github import GitHubDependabotSource, GitHubDeploySource


def settings_for(sim: Simulator, **overrides: Any) -> GitHubSettings:
    values: dict[str, Any] = {
        "token": Secret(sim.tokens["github"]),
        "base_url": sim.provider_url("github"),
        "ca_bundle": sim.ca_pem_path,
        "repositories": tuple(
            RepositorySettings(name, source) for name, source in sim.world.github.deploy_sources()
        ),
    }
    values.update(overrides)
    return GitHubSettings(**values)


def make_client(sim: Simulator, token: str | None = None) -> github.Github:
    return github.Github(
        auth=github.Auth.Token(token or sim.tokens["github"]),
        base_url=sim.provider_url("github"),
        verify=str(sim.ca_pem_path),
        lazy=True,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


@pytest.fixture
def gh(simulator: Simulator) -> Iterator[github.Github]:
    client = make_client(simulator)
    yield client
    client.close()


def validate_all(sim: Simulator, *, request: bool = True) -> list[Exchange]:
    exchanges = [e for e in sim.exchanges if e.request.provider == "github"]
    assert exchanges, "nothing was recorded"
    for exchange in exchanges:
        validate_github_exchange(exchange, request=request)
    return exchanges


# --------------------------------------------------------------------------- the sources


def test_every_poll_of_both_sources_fits(simulator: Simulator, sim_clock: FakeClock) -> None:
    settings = settings_for(simulator)
    deploys = GitHubDeploySource(settings, sim_clock)
    dependabot = GitHubDependabotSource(settings, sim_clock)
    for _ in range(4):
        deploys.fetch()
        dependabot.fetch()
        sim_clock.advance(900)
    org = GitHubDependabotSource(
        settings_for(simulator, repositories=(), org="benefits"), sim_clock
    )
    org.fetch()
    exchanges = validate_all(simulator)
    statuses = {e.response.status for e in exchanges}
    assert {200, 304} <= statuses
    queries = [e for e in exchanges if is_graphql(e)]
    names = {
        json.loads(e.request.body)["query"].split("(")[0].split("{")[0].strip() for e in queries
    }
    assert {"query Deploys", "query Dependabot", "query DependabotAlerts"} <= names
    for source in (deploys, dependabot, org):
        source.close()


def test_the_writes_fit(simulator: Simulator, sim_clock: FakeClock) -> None:
    settings = settings_for(simulator)
    deploys = GitHubDeploySource(settings, sim_clock, write_spacing=0)
    dependabot = GitHubDependabotSource(settings, sim_clock, write_spacing=0)
    sim_clock.advance(1800)
    items = dependabot.fetch().items
    pr = next(
        i for i in items if getattr(i, "ci", "") == "success" and getattr(i, "mergeable", False)
    )
    assert hasattr(pr, "repo") and hasattr(pr, "number")
    with pytest.raises(SourceError):
        dependabot.merge(pr.repo, pr.number)  # type: ignore[attr-defined]
    dependabot.approve(pr.repo, pr.number, body="LGTM")  # type: ignore[attr-defined]
    dependabot.comment(pr.repo, pr.number, "merging")  # type: ignore[attr-defined]
    dependabot.merge(pr.repo, pr.number, "squash")  # type: ignore[attr-defined]
    run = next(r for r in simulator.world.github.runs.values() if r.status == "completed")
    deploys.jobs(run.repo, run.id)
    if run.conclusion in ("failure", "cancelled"):
        deploys.rerun_failed_jobs(run.repo, run.id)
    validate_all(simulator)


# --------------------------------------------------------------------------- PyGithub, REST


def test_repository_deployments_and_environments(simulator: Simulator, gh: github.Github) -> None:
    repo = gh.get_repo("benefits/claims-api")
    assert repo.default_branch == "develop"
    deployments = list(repo.get_deployments(environment="prod"))
    assert deployments and all(d.environment == "prod" for d in deployments)
    statuses = list(deployments[0].get_statuses())
    assert statuses[-1].state == "queued"
    assert repo.get_deployment(deployments[0].id).sha == deployments[0].sha
    assert [e.name for e in repo.get_environments()] == [
        "dev",
        "qa",
        "sandbox",
        "prod-test",
        "prod",
    ]
    validate_all(simulator)


def test_workflow_runs_and_jobs(simulator: Simulator, gh: github.Github) -> None:
    repo = gh.get_repo("benefits/domain-cc")
    workflows = list(repo.get_workflows())
    assert {w.name for w in workflows} == {"CI", "Update Deployment"}
    runs = list(repo.get_workflow("update-deployment.yml").get_runs())
    assert runs and runs[0].display_title.startswith("Update Deployment")
    assert list(repo.get_workflow_runs())
    run = repo.get_workflow_run(runs[0].id)
    assert run.status in ("queued", "in_progress", "completed")
    jobs = list(run.jobs())
    assert jobs[0].steps
    validate_all(simulator)


def test_pulls_reviews_and_merge_answers(simulator: Simulator, gh: github.Github) -> None:
    repo = gh.get_repo("benefits/svc-bgs-api")
    pulls = list(repo.get_pulls(state="all", sort="updated", direction="desc"))
    assert pulls
    for pull in pulls:
        full = repo.get_pull(pull.number)
        assert full.mergeable_state in ("clean", "blocked", "unstable", "dirty", "unknown")
        list(full.get_reviews())
    dependabot = next(p for p in pulls if p.user.login == "dependabot[bot]" and p.state == "open")
    with pytest.raises(github.GithubException) as refused:
        dependabot.merge(merge_method="squash", sha="0" * 40)
    assert refused.value.status == 409
    own = next(p for p in simulator.world.github.pulls.values() if p.user.login == "alex-rivera")
    with pytest.raises(github.GithubException) as own_review:
        gh.get_repo(own.repo).get_pull(own.number).create_review(event="APPROVE")
    assert own_review.value.status == 422
    conflicting = next(
        (p for p in simulator.world.github.pulls.values() if p.conflicting and p.state == "open"),
        None,
    )
    if conflicting is not None:
        with pytest.raises(github.GithubException) as conflict:
            gh.get_repo(conflicting.repo).get_pull(conflicting.number).merge()
        assert conflict.value.status == 405
    validate_all(simulator)


def test_issues_and_comments(simulator: Simulator, gh: github.Github) -> None:
    repo = gh.get_repo("benefits/claims-api")
    issues = list(repo.get_issues(state="all"))
    assert any(i.title == "On call for Sprint 42" for i in issues)
    created = repo.create_issue(
        title="On call for Sprint 43", body="Next sprint", labels=["on-call"]
    )
    assert repo.get_issue(created.number).title == "On call for Sprint 43"
    comment = created.create_comment("## Handover\nQuiet shift.")
    assert comment.body.startswith("## Handover")
    assert [c.body for c in created.get_comments()] == [comment.body]
    validate_all(simulator)


def test_commit_status_and_check_runs(simulator: Simulator, gh: github.Github) -> None:
    pull = next(p for p in simulator.world.github.pulls.values() if p.user.type == "Bot")
    repo = gh.get_repo(pull.repo)
    commit = repo.get_commit(pull.head_sha)
    runs = list(commit.get_check_runs())
    assert {r.name for r in runs} == {
        "CI / build",
        "PR: Test code / test",
        "SecRel workflow / scan",
    }
    combined = commit.get_combined_status()
    assert combined.state in ("success", "pending", "failure")
    # GET /commits/{ref} itself is not simulated: PyGithub's lazy commit skips it.
    assert [
        e for e in simulator.exchanges if e.request.path.endswith(f"/commits/{pull.head_sha}")
    ] == []
    validate_all(simulator)


def test_dependabot_alerts_and_search(simulator: Simulator, gh: github.Github) -> None:
    alerts = list(gh.get_repo("benefits/svc-bip-api").get_dependabot_alerts())
    assert alerts and alerts[0].security_advisory.severity in ("low", "medium", "high", "critical")
    org_alerts = list(gh.get_organization("benefits").get_dependabot_alerts())
    assert len(org_alerts) >= len(alerts)
    found = list(gh.search_issues("is:pr is:open author:app/dependabot org:benefits"))
    assert found and all(i.user.login == "dependabot[bot]" for i in found)
    simulator.world.github.alerts_readable = False
    with pytest.raises(github.GithubException) as forbidden:
        list(gh.get_repo("benefits/svc-bip-api").get_dependabot_alerts())
    assert forbidden.value.status == 403
    validate_all(simulator)


def test_user_and_rate_limit(simulator: Simulator, gh: github.Github) -> None:
    assert gh.get_user().login == "alex-rivera"
    limits = gh.get_rate_limit()
    assert limits.resources.core.limit == 5000
    validate_all(simulator)


def test_error_answers_fit(simulator: Simulator, gh: github.Github) -> None:
    bad = make_client(simulator, token="wrong")
    with pytest.raises(github.BadCredentialsException):
        _ = bad.get_user().login
    with pytest.raises(github.UnknownObjectException):
        gh.get_repo("benefits/nope").get_pulls()[0]
    for mode in ("429", "500", "503", "401", "403"):
        simulator.set_fault("github", mode, count=1)
        with pytest.raises(github.GithubException):
            list(gh.get_repo("benefits/claims-api").get_pulls())
    simulator.app("github").rate_limit_status = 403  # type: ignore[attr-defined]
    simulator.set_fault("github", "429", count=1)
    with pytest.raises(github.GithubException) as limited:
        list(gh.get_repo("benefits/claims-api").get_pulls())
    assert limited.value.status == 403
    for resource in simulator.world.github.rate.resources.values():
        resource.used = resource.limit
    with pytest.raises(github.RateLimitExceededException):
        list(gh.get_repo("benefits/claims-api").get_pulls())
    validate_all(simulator)


# --------------------------------------------------------------------------- the helper


def test_a_gateway_502_is_checked_for_the_request_only(
    simulator: Simulator, gh: github.Github
) -> None:
    # The 502 is nginx's HTML page in front of the API: no description declares it (or
    # could), so only what PyGithub sent is checked, and that the page is no API answer.
    simulator.set_fault("github", "502", count=1)
    with pytest.raises(github.GithubException) as raised:
        list(gh.get_repo("benefits/claims-api").get_pulls())
    assert raised.value.status == 502
    (exchange,) = [e for e in simulator.exchanges if e.response.status == 502]
    assert exchange.response.headers["Content-Type"] == "text/html"
    validate_github_exchange(exchange, response=False)
    with pytest.raises(ContractError):
        validate_github_exchange(exchange)


def test_helper_rejects_a_broken_answer(simulator: Simulator, gh: github.Github) -> None:
    list(gh.get_repo("benefits/claims-api").get_deployments())
    exchange = simulator.exchanges[-1]
    body = json.loads(exchange.response.body)
    body[0]["creator"]["id"] = "not a number"
    broken = Exchange(
        exchange.request, dataclasses.replace(exchange.response, body=json.dumps(body).encode())
    )
    with pytest.raises(ContractError, match="creator"):
        validate_github_exchange(broken)


def test_helper_rejects_a_bad_query() -> None:
    assert graphql_errors('query { repository(owner: "a", name: "b") { nameWithOwner } }') == []
    errors = graphql_errors('query { repository(owner: "a") { deployments { nodez } } }')
    assert any("name" in e for e in errors)
    assert any("nodez" in e for e in errors)


def test_changes_are_applied_to_the_copy_only() -> None:
    spec = load_github_spec()
    runs = spec["paths"]["/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs"]["get"]
    assert "304" in runs["responses"] and "429" in runs["responses"]
    with (__import__("openapi").specs_dir() / "github-rest-subset.json").open(
        encoding="utf-8"
    ) as handle:
        original = json.load(handle)
    original_runs = original["paths"]["/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs"]
    assert "304" not in original_runs["get"]["responses"]
