"""The GitHub sources through PyGithub and httpx against the simulator: deploys (Deployments
and workflow runs), Dependabot PRs, conditional requests, every fault mode, the writes, and
the rate-limit budget for 20 repositories over a simulated hour."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from oncall_tui.config import GitHubSettings, RepositorySettings, Secret
from oncall_tui.domain.clock import FakeClock
from oncall_tui.domain.models import DependabotPR, Deploy
from oncall_tui.simulator import Simulator, World
from oncall_tui.sources.base import AuthFailed, BadResponse, RateLimited, SourceError, Unavailable
from oncall_tui.sources.github import (
    GitHubClient,
    GitHubDependabotSource,
    GitHubDeploySource,
    build_github_sources,
)

DEPLOY_STATES = {
    "queued",
    "pending",
    "in_progress",
    "success",
    "failure",
    "error",
    "cancelled",
    "inactive",
}


def github_settings(sim: Simulator, **overrides: Any) -> GitHubSettings:
    repos = tuple(
        RepositorySettings(name=name, deploy_source=source)
        for name, source in sim.world.github.deploy_sources()
    )
    values: dict[str, Any] = {
        "token": Secret(sim.tokens["github"]),
        "base_url": sim.provider_url("github"),
        "ca_bundle": sim.ca_pem_path,
        "repositories": repos,
        "timeout": 5.0,
    }
    values.update(overrides)
    return GitHubSettings(**values)


@pytest.fixture
def deploys(simulator: Simulator, sim_clock: FakeClock) -> Iterator[GitHubDeploySource]:
    source = GitHubDeploySource(github_settings(simulator), sim_clock, write_spacing=0)
    yield source
    source.close()


@pytest.fixture
def dependabot(simulator: Simulator, sim_clock: FakeClock) -> Iterator[GitHubDependabotSource]:
    source = GitHubDependabotSource(github_settings(simulator), sim_clock, write_spacing=0)
    yield source
    source.close()


def deploy_items(source: GitHubDeploySource) -> list[Deploy]:
    items = source.fetch().items
    assert all(isinstance(i, Deploy) for i in items)
    return [i for i in items if isinstance(i, Deploy)]


def pr_items(source: GitHubDependabotSource) -> list[DependabotPR]:
    items = source.fetch().items
    assert all(isinstance(i, DependabotPR) for i in items)
    return [i for i in items if isinstance(i, DependabotPR)]


# --------------------------------------------------------------------------- deploys


def test_deploys_cover_every_repository_and_environment(
    simulator: Simulator, deploys: GitHubDeploySource
) -> None:
    snapshot = deploys.fetch()
    assert snapshot.source == "deploys"
    items = [i for i in snapshot.items if isinstance(i, Deploy)]
    assert {(d.repo, d.environment) for d in items} == {
        (repo, env)
        for repo in simulator.world.github.repository_names()
        for env in ("dev", "qa", "sandbox", "prod-test", "prod")
    }
    world = {(d["repo"], d["environment"]): d for d in simulator.world.github.latest_deploys()}
    for deploy in items:
        expected = world[(deploy.repo, deploy.environment)]
        assert deploy.deploy_state in DEPLOY_STATES
        assert deploy.deploy_state == expected["state"]
        assert deploy.origin == expected["origin"]
        assert deploy.url.startswith(simulator.provider_url("github") + "/")
        assert deploy.started_at is not None
        assert deploy.creator
        assert len(deploy.short_sha) == 7
    # Environments in pipeline order, repositories in configured order.
    first = [d.environment for d in items[:5]]
    assert first == ["dev", "qa", "sandbox", "prod-test", "prod"]


def test_deployment_fields(simulator: Simulator, deploys: GitHubDeploySource) -> None:
    items = [d for d in deploy_items(deploys) if d.origin == "deployment"]
    world = simulator.world.github
    for deploy in items:
        deployment = next(
            d for d in world.deployments_of(deploy.repo) if d.environment == deploy.environment
        )
        assert deploy.sha == deployment.sha
        assert deploy.ref == deployment.ref
        assert deploy.creator == deployment.creator.login
        if deploy.deploy_state in ("success", "failure", "error"):
            assert deploy.finished_at is not None and deploy.duration is not None
        else:
            assert deploy.finished_at is None


def test_workflow_deploys(simulator: Simulator, deploys: GitHubDeploySource) -> None:
    items = [d for d in deploy_items(deploys) if d.origin == "workflow"]
    assert {d.repo for d in items} == {"benefits/domain-cc", "benefits/ee-ep-merge-app"}
    for deploy in items:
        assert deploy.run_id is not None
        run = simulator.world.github.runs[deploy.run_id]
        assert run.inputs["target_env"] == deploy.environment
        assert deploy.workflow == "Update Deployment"
        assert deploy.sha == run.inputs["image_tag"]  # the 7-character image tag
        assert deploy.description.startswith("Update Deployment")
        assert deploy.url.endswith(f"/actions/runs/{run.id}")


def test_deploys_move_with_the_clock(deploys: GitHubDeploySource, sim_clock: FakeClock) -> None:
    seen_states: set[str] = set()
    changes = 0
    previous = {d.key: (d.deploy_state, d.sha) for d in deploy_items(deploys)}
    for _ in range(40):
        sim_clock.advance(180)
        current = {d.key: (d.deploy_state, d.sha) for d in deploy_items(deploys)}
        changes += sum(1 for key, value in current.items() if previous.get(key) != value)
        seen_states |= {state for state, _ in current.values()}
        previous = current
    assert changes >= 10
    assert {"success", "in_progress"} <= seen_states
    assert seen_states & {"failure", "error", "cancelled"}


def test_unchanged_data_answers_304_and_costs_nothing(
    simulator: Simulator, deploys: GitHubDeploySource
) -> None:
    rate = simulator.world.github.rate
    deploys.fetch()
    before_points, before_304 = rate.points, rate.not_modified
    deploys.fetch()  # same instant: nothing changed
    assert rate.not_modified - before_304 == 2  # one per workflow repository
    assert rate.points - before_points == 1  # only the GraphQL query for Deployments
    assert deploys.client.not_modified == 2
    assert [e.response.status for e in simulator.exchanges[-2:]] == [304, 304]


def test_rate_budget_reports_remaining_points(
    simulator: Simulator, deploys: GitHubDeploySource
) -> None:
    assert deploys.rate_budget().remaining is None
    deploys.fetch()
    budget = deploys.rate_budget()
    assert budget.limit == 5000
    assert budget.remaining is not None and 4990 <= budget.remaining < 5000
    assert budget.reset_after is not None and 0 < budget.reset_after <= 3600


def test_an_unknown_repository_is_named(simulator: Simulator, sim_clock: FakeClock) -> None:
    settings = github_settings(
        simulator, repositories=(RepositorySettings("benefits/no-such-repo"),)
    )
    source = GitHubDeploySource(settings, sim_clock)
    with pytest.raises(SourceError, match="benefits/no-such-repo was not found"):
        source.fetch()
    source.close()


def test_jobs_and_rerun_failed_jobs(
    simulator: Simulator, deploys: GitHubDeploySource, sim_clock: FakeClock
) -> None:
    world = simulator.world.github
    for _ in range(60):
        failed = [r for r in world.runs.values() if r.conclusion == "failure"]
        if failed:
            break
        sim_clock.advance(600)
    run = failed[0]
    jobs = deploys.jobs(run.repo, run.id)
    assert len(jobs) == 1
    assert jobs[0].conclusion == "failure"
    assert jobs[0].failed_steps == ("Helm upgrade",)
    deploys.rerun_failed_jobs(run.repo, run.id)
    assert run.run_attempt == 2 and run.status == "queued"
    with pytest.raises(SourceError, match="re-run"):
        deploys.rerun_failed_jobs(run.repo, run.id)  # not failed (any more)
    sim_clock.advance(600)
    simulator.world.tick()
    assert run.status == "completed"
    assert [j.status for j in deploys.jobs(run.repo, run.id)] == ["completed"]


# --------------------------------------------------------------------------- Dependabot


def test_dependabot_prs_match_the_world(
    simulator: Simulator, dependabot: GitHubDependabotSource
) -> None:
    snapshot = dependabot.fetch()
    assert snapshot.source == "dependabot"
    items = [i for i in snapshot.items if isinstance(i, DependabotPR)]
    world = {(p["repo"], p["number"]): p for p in simulator.world.github.snapshot()["dependabot"]}
    assert {(i.repo, i.number) for i in items} == set(world)
    ci = {"SUCCESS": "success", "FAILURE": "failure", "PENDING": "pending", None: "none"}
    for item in items:
        expected = world[(item.repo, item.number)]
        assert item.bump == expected["bump"]
        assert item.ecosystem == expected["ecosystem"].replace("_", "-")
        assert item.ci == ci[expected["ci"]]
        assert item.security == expected["security"]
        assert item.mergeable == expected["mergeable"]
        assert item.review == ("approved" if expected["approved"] else "review_required")
        assert item.base == "develop"
        assert len(item.head_sha) == 40
        assert item.url.startswith(simulator.provider_url("github") + "/")
        if expected["security"]:
            assert item.severity in ("low", "medium", "high", "critical")
    # Security updates first.
    flags = [i.security for i in items]
    assert flags == sorted(flags, reverse=True)


def test_dependabot_versions_and_groups(
    simulator: Simulator, dependabot: GitHubDependabotSource, sim_clock: FakeClock
) -> None:
    sim_clock.advance(6 * 3600)  # let Dependabot open more PRs
    items = pr_items(dependabot)
    world = simulator.world.github
    kinds = set()
    for item in items:
        pull = world.pulls[(item.repo, item.number)]
        if pull.group:
            kinds.add("group")
            assert item.package.startswith(pull.group)
            assert item.bump == max(
                (u.bump for u in pull.updates), key=["patch", "minor", "major"].index
            )
        else:
            kinds.add("single")
            update = pull.updates[0]
            assert (item.package, item.from_version, item.to_version) == (
                update.package,
                update.from_version,
                update.to_version,
            )
    assert kinds == {"group", "single"}
    assert {i.ecosystem for i in items} >= {"github-actions", "gradle", "pip", "docker"}
    assert {i.bump for i in items} >= {"patch", "minor", "major"}
    assert {i.ci for i in items} >= {"success", "failure"}


def test_humans_prs_are_left_out(simulator: Simulator, dependabot: GitHubDependabotSource) -> None:
    humans = [p for p in simulator.world.github.pulls.values() if p.user.type == "User"]
    assert humans
    keys = {i.key for i in pr_items(dependabot)}
    assert not any(f"{p.repo}#{p.number}" in keys for p in humans)


def test_alerts_the_token_may_not_read_mean_unknown(
    simulator: Simulator, dependabot: GitHubDependabotSource
) -> None:
    simulator.world.github.alerts_readable = False
    items = pr_items(dependabot)
    assert items
    assert all(i.severity is None for i in items)
    assert dependabot.alerts_readable is False


def test_org_mode_finds_the_same_prs(simulator: Simulator, sim_clock: FakeClock) -> None:
    by_repo = GitHubDependabotSource(github_settings(simulator), sim_clock)
    by_org = GitHubDependabotSource(
        github_settings(simulator, repositories=(), org="benefits"), sim_clock
    )
    assert [i.key for i in by_org.fetch().items] == [i.key for i in by_repo.fetch().items]
    assert [getattr(i, "severity", None) for i in by_org.fetch().items] == [
        getattr(i, "severity", None) for i in by_repo.fetch().items
    ]
    by_repo.close()
    by_org.close()


def test_group_bodies_are_asked_once(
    simulator: Simulator, dependabot: GitHubDependabotSource, sim_clock: FakeClock
) -> None:
    dependabot.fetch()
    queries = [e for e in simulator.exchanges if e.request.path == "/graphql"]
    simulator.clear_exchanges()
    dependabot.fetch()
    again = [e for e in simulator.exchanges if e.request.path == "/graphql"]
    assert len(again) == 1  # the bodies are remembered
    assert len(queries) >= 1


# --------------------------------------------------------------------------- writes


def test_approve_then_merge(
    simulator: Simulator, dependabot: GitHubDependabotSource, sim_clock: FakeClock
) -> None:
    world = simulator.world.github
    sim_clock.advance(1800)  # let checks finish
    candidates = [
        i
        for i in pr_items(dependabot)
        if i.ci == "success" and i.mergeable and i.review != "approved"
    ]
    pr = candidates[0]
    with pytest.raises(SourceError, match="405.*approving review"):
        dependabot.merge(pr.repo, pr.number)
    dependabot.approve(pr.repo, pr.number)
    with pytest.raises(SourceError, match="409"):
        dependabot.merge(pr.repo, pr.number, sha="0" * 40)
    sha = dependabot.merge(pr.repo, pr.number, "squash", sha=pr.head_sha)
    assert len(sha) == 40
    pull = world.pulls[(pr.repo, pr.number)]
    assert pull.merged and pull.merged_by is not None and pull.merged_by.login == "alex-rivera"
    assert pr.key not in {i.key for i in pr_items(dependabot)}


def test_merge_refused_on_conflict(
    simulator: Simulator, dependabot: GitHubDependabotSource
) -> None:
    conflicting = next(i for i in pr_items(dependabot) if i.mergeable is False)
    with pytest.raises(SourceError, match="not mergeable") as raised:
        dependabot.merge(conflicting.repo, conflicting.number)
    assert raised.value.status == 405


def test_cannot_approve_your_own_pr(
    simulator: Simulator, dependabot: GitHubDependabotSource
) -> None:
    own = next(p for p in simulator.world.github.pulls.values() if p.user.login == "alex-rivera")
    with pytest.raises(SourceError, match="422.*your own pull request"):
        dependabot.approve(own.repo, own.number)


def test_comment(simulator: Simulator, dependabot: GitHubDependabotSource) -> None:
    pr = pr_items(dependabot)[0]
    url = dependabot.comment(pr.repo, pr.number, "@dependabot rebase")
    assert url.startswith(simulator.provider_url("github"))
    pull = simulator.world.github.pulls[(pr.repo, pr.number)]
    assert [c.body for c in pull.comments] == ["@dependabot rebase"]
    issue = next(i for i in simulator.world.github.issues.values() if i.state == "open")
    dependabot.publish_comment(issue.repo, issue.number, "## Handover\nAll quiet.")
    assert issue.comments[-1].body.startswith("## Handover")
    with pytest.raises(SourceError):
        dependabot.comment(pr.repo, pr.number, "  ")


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize("status", [429, 403])
def test_rate_limit_with_retry_after_then_recovery(
    simulator: Simulator,
    deploys: GitHubDeploySource,
    dependabot: GitHubDependabotSource,
    status: int,
) -> None:
    simulator.app("github").rate_limit_status = status  # type: ignore[attr-defined]
    simulator.set_fault("github", "429", count=2, retry_after=7)
    with pytest.raises(RateLimited) as raised:
        deploys.fetch()
    assert raised.value.retry_after == 7
    assert raised.value.status == status
    with pytest.raises(RateLimited):
        dependabot.fetch()
    assert deploys.fetch().items and dependabot.fetch().items


def test_rate_limit_on_a_rest_read(simulator: Simulator, deploys: GitHubDeploySource) -> None:
    deploys.fetch()
    simulator.set_fault("github", "429", count=None, retry_after=3)
    with pytest.raises(RateLimited) as raised:
        deploys.client.get_json(
            "/repos/benefits/domain-cc/actions/workflows/update-deployment.yml/runs"
        )
    assert raised.value.retry_after == 3
    simulator.clear_faults()


def test_primary_rate_limit_uses_the_reset_time(
    simulator: Simulator, deploys: GitHubDeploySource
) -> None:
    app = simulator.app("github")
    app.rate_limit_style = "primary"  # type: ignore[attr-defined]
    app.rate_limit_status = 403  # type: ignore[attr-defined]
    simulator.set_fault("github", "429", count=1, retry_after=120)
    with pytest.raises(RateLimited) as raised:
        deploys.fetch()
    assert raised.value.retry_after == pytest.approx(120, abs=1)
    assert raised.value.status == 403


def test_a_spent_budget_is_a_rate_limit_until_the_reset(
    simulator: Simulator, deploys: GitHubDeploySource, sim_clock: FakeClock
) -> None:
    deploys.fetch()
    for resource in simulator.world.github.rate.resources.values():
        resource.used = resource.limit
    with pytest.raises(RateLimited) as raised:
        deploys.fetch()
    assert raised.value.status == 403
    assert raised.value.retry_after is not None and 3500 <= raised.value.retry_after <= 3600
    sim_clock.advance(3600)
    assert deploys.fetch().items


def test_server_error_is_unavailable(simulator: Simulator, deploys: GitHubDeploySource) -> None:
    simulator.set_fault("github", "500", count=1)
    with pytest.raises(Unavailable, match="500"):
        deploys.fetch()
    assert deploys.fetch().items


def test_slow_answers_time_out(simulator: Simulator, sim_clock: FakeClock) -> None:
    source = GitHubDeploySource(github_settings(simulator, timeout=0.3), sim_clock)
    simulator.set_fault("github", "slow", count=1, delay=1.0)
    with pytest.raises(Unavailable, match="timed out"):
        source.fetch()
    simulator.set_fault("github", "slow", count=None, delay=0.05)
    assert source.fetch().items
    simulator.clear_faults()
    source.close()


def test_bad_token_is_auth_failed(simulator: Simulator, sim_clock: FakeClock) -> None:
    secret = "not-the-token-0123456789"
    source = GitHubDependabotSource(github_settings(simulator, token=Secret(secret)), sim_clock)
    with pytest.raises(AuthFailed, match=r"check \[github\] token") as raised:
        source.fetch()
    assert secret not in raised.value.message
    assert "\n" not in raised.value.message
    source.close()


def test_401_fault(simulator: Simulator, deploys: GitHubDeploySource) -> None:
    simulator.set_fault("github", "401", count=1)
    with pytest.raises(AuthFailed):
        deploys.fetch()


RUNS = "/repos/benefits/domain-cc/actions/workflows/update-deployment.yml/runs"


@pytest.mark.parametrize("mode", ["truncated", "bad_json", "wrong_shape"])
def test_unreadable_answers_are_bad_responses(
    simulator: Simulator,
    deploys: GitHubDeploySource,
    dependabot: GitHubDependabotSource,
    mode: str,
) -> None:
    simulator.set_fault("github", mode, count=1)
    with pytest.raises(BadResponse):
        deploys.fetch()
    simulator.set_fault("github", mode, count=1)
    with pytest.raises(BadResponse) as caught:
        dependabot.fetch()
    assert caught.value.message.startswith("GitHub GraphQL: ")
    assert "\n" not in caught.value.message
    if mode != "wrong_shape":  # a list of strings reads as JSON; the callers judge it
        # An unreadable REST read (the workflow runs list) too.
        deploys.fetch()
        deploys.client._etags.clear()  # no cached body to fall back on
        simulator.set_fault("github", mode, count=None)
        with pytest.raises(BadResponse):
            deploys.client.get_json(RUNS)
        simulator.clear_faults()
    assert deploys.fetch().items and dependabot.fetch().items


def sent(sim: Simulator) -> int:
    return sim.request_counts["github"]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("502", "Bad Gateway"), ("503", "No server is currently available to service your request")],
)
def test_gateway_errors_are_unavailable_after_one_request(
    simulator: Simulator,
    deploys: GitHubDeploySource,
    dependabot: GitHubDependabotSource,
    mode: str,
    reason: str,
) -> None:
    deploys.fetch()
    deploys.client._etags.clear()
    simulator.set_fault("github", mode)
    calls: list[Any] = [
        deploys.fetch,  # GraphQL (httpx)
        dependabot.fetch,
        lambda: deploys.client.get_json(RUNS),  # REST (PyGithub's requester)
        lambda: dependabot.comment("benefits/claims-api", 3, "@dependabot rebase"),  # a write
    ]
    for call in calls:
        before = sent(simulator)
        with pytest.raises(Unavailable) as caught:
            call()
        # PyGithub's retrier is off (retry=None): one request, whatever the status.
        assert sent(simulator) - before == 1
        assert caught.value.status == int(mode)
        assert caught.value.message == f"GitHub failed on its side ({mode}: {reason})"
    simulator.set_fault("github", None)
    assert deploys.fetch().items and dependabot.fetch().items


def test_403_without_a_rate_limit_says_the_token_lacks_permission(
    simulator: Simulator, deploys: GitHubDeploySource, dependabot: GitHubDependabotSource
) -> None:
    deploys.fetch()
    deploys.client._etags.clear()
    simulator.set_fault("github", "403")
    for call, what in (
        (deploys.fetch, "GraphQL"),
        (lambda: deploys.client.get_json(RUNS), RUNS),
        (
            lambda: dependabot.comment("benefits/claims-api", 3, "@dependabot rebase"),
            "comment on benefits/claims-api#3",
        ),
    ):
        before = sent(simulator)
        with pytest.raises(AuthFailed) as caught:
            call()
        assert sent(simulator) - before == 1
        assert caught.value.status == 403
        assert caught.value.message == (
            f"GitHub token lacks permission for {what} (403: Resource not accessible by "
            "personal access token): grant [github] token the scopes or repository "
            "permissions it needs"
        )
    simulator.set_fault("github", None)


@pytest.mark.parametrize("style", ["secondary", "primary"])
def test_a_rate_limit_403_is_still_a_rate_limit(
    simulator: Simulator, deploys: GitHubDeploySource, style: str
) -> None:
    # GitHub's 403 for limits carries retry-after (secondary) or remaining 0 and a reset
    # (primary): those wait, unlike the permission 403 above.
    app = simulator.app("github")
    app.rate_limit_status = 403  # type: ignore[attr-defined]
    app.rate_limit_style = style  # type: ignore[attr-defined]
    deploys.fetch()
    deploys.client._etags.clear()
    for call in (deploys.fetch, lambda: deploys.client.get_json(RUNS)):
        simulator.set_fault("github", "429", count=1, retry_after=60)
        with pytest.raises(RateLimited) as caught:
            call()
        assert caught.value.status == 403
        assert caught.value.retry_after == pytest.approx(60, abs=1)


def test_ghes_urls() -> None:
    settings = GitHubSettings(
        token=Secret("x"),
        base_url="https://github.example.gov/api/v3",
        repositories=(RepositorySettings("benefits/claims-api"),),
    )
    client = GitHubClient(settings, FakeClock())
    assert client.graphql_url == "https://github.example.gov/api/graphql"
    assert client.requester.base_url == "https://github.example.gov/api/v3"
    deploys, dependabot = build_github_sources(settings, FakeClock())
    assert deploys is not None and deploys.label == "GitHub (github.example.gov)"
    assert dependabot is not None and dependabot.label == "Dependabot (github.example.gov)"
    client.close()


def test_build_needs_a_token_and_a_scope() -> None:
    assert build_github_sources(GitHubSettings(), FakeClock()) == (None, None)
    assert build_github_sources(GitHubSettings(token=Secret("x")), FakeClock()) == (None, None)
    deploys, dependabot = build_github_sources(
        GitHubSettings(token=Secret("x"), org="benefits"), FakeClock()
    )
    assert deploys is None and dependabot is not None


# --------------------------------------------------------------------------- budget


@pytest.fixture
def scale_simulator() -> Iterator[Simulator]:
    world = World(seed=7, clock=FakeClock(), scenario="scale")
    with Simulator(world) as sim:
        yield sim


def test_budget_20_repositories_for_an_hour(scale_simulator: Simulator) -> None:
    """Deploys every 60 s and Dependabot every 300 s, 20 repositories: <= 300 points/h."""
    sim = scale_simulator
    clock = sim.world.clock
    assert isinstance(clock, FakeClock)
    repos = sim.world.github.deploy_sources()[:20]
    assert sum(1 for _, source in repos if source.startswith("workflow:")) >= 2
    settings = github_settings(sim, repositories=tuple(RepositorySettings(n, s) for n, s in repos))
    deploys, dependabot = build_github_sources(settings, clock)
    assert deploys is not None and dependabot is not None
    rate = sim.world.github.rate
    start = rate.points
    polls = {"deploys": 0, "dependabot": 0}
    for minute in range(60):
        deploys.fetch()
        polls["deploys"] += 1
        if minute % 5 == 0:
            assert dependabot.fetch().items
            polls["dependabot"] += 1
        clock.advance(60)
    spent = rate.points - start
    assert polls == {"deploys": 60, "dependabot": 12}
    assert rate.not_modified > 0
    assert spent <= 300, sim.world.github.rate.snapshot(sim.world.now)
    assert sim.world.snapshot()["github"]["points"] == rate.points
    deploys.close()


def test_time_moves_the_rate_window(
    simulator: Simulator, deploys: GitHubDeploySource, sim_clock: FakeClock
) -> None:
    deploys.fetch()
    used = simulator.world.github.rate.resource("graphql").used
    assert used >= 1
    sim_clock.advance(timedelta(hours=1).total_seconds())
    deploys.fetch()
    assert simulator.world.github.rate.resource("graphql").used == 1
