"""Writes to GitHub through `apply()`, as the outbox sends them, against the simulator:
approve, merge and comment on Dependabot PRs (one and several), re-run a failed deploy;
refusals in GitHub's words as final errors; retries that find the earlier try landed; the
write spacing; `jobs` and `last_success` for the deploy detail view; and the outbox end to
end with a real journal."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from oncall_tui.config import GitHubSettings, RepositorySettings, Secret
from oncall_tui.domain.clock import FakeClock
from oncall_tui.engine.outbox import Outbox, Writer
from oncall_tui.simulator import Simulator
from oncall_tui.simulator.github_world import DEPENDABOT, ME, TEAMMATES, PullRequest, WorkflowRun
from oncall_tui.sources.base import (
    AuthFailed,
    BadResponse,
    RateLimited,
    SourceError,
    Unavailable,
)
from oncall_tui.sources.github import GitHubClient, GitHubDependabotSource, GitHubDeploySource
from oncall_tui.sources.github._client import WRITE_SPACING
from oncall_tui.store.journal import Journal

TRANSIENT = (RateLimited, Unavailable, AuthFailed, BadResponse)
"""What the outbox retries (a BadResponse too: the write may have landed)."""


def github_settings(sim: Simulator, **overrides: Any) -> GitHubSettings:
    values: dict[str, Any] = {
        "token": Secret(sim.tokens["github"]),
        "base_url": sim.provider_url("github"),
        "ca_bundle": sim.ca_pem_path,
        "repositories": tuple(
            RepositorySettings(name=name, deploy_source=source)
            for name, source in sim.world.github.deploy_sources()
        ),
        "timeout": 5.0,
    }
    values.update(overrides)
    return GitHubSettings(**values)


@pytest.fixture
def dependabot(simulator: Simulator, sim_clock: FakeClock) -> Iterator[GitHubDependabotSource]:
    sim_clock.advance(1800)  # let the checks of the open PRs finish
    source = GitHubDependabotSource(github_settings(simulator), sim_clock, write_spacing=0)
    yield source
    source.close()


@pytest.fixture
def deploys(simulator: Simulator, sim_clock: FakeClock) -> Iterator[GitHubDeploySource]:
    source = GitHubDeploySource(github_settings(simulator), sim_clock, write_spacing=0)
    yield source
    source.close()


# --------------------------------------------------------------------------- helpers


def key(pull: PullRequest) -> str:
    return f"{pull.repo}#{pull.number}"


def open_dependabot(sim: Simulator) -> list[PullRequest]:
    return [
        p
        for p in sim.world.github.pulls.values()
        if p.state == "open" and p.user.login == DEPENDABOT.login
    ]


def green(sim: Simulator) -> list[PullRequest]:
    """Open Dependabot PRs GitHub would merge once approved."""
    world = sim.world.github
    return [
        p
        for p in open_dependabot(sim)
        if not p.conflicting and world.ci_state(p.repo, p.head_sha) == "SUCCESS"
    ]


def my_reviews(pull: PullRequest) -> list[str]:
    return [r.state for r in pull.reviews if r.user.login == ME.login]


def my_comments(pull: PullRequest) -> list[str]:
    return [c.body for c in pull.comments if c.user.login == ME.login]


def writes(sim: Simulator, method: str, suffix: str) -> list[int]:
    """Statuses of the REST writes sent so far whose path ends with `suffix`."""
    return [
        e.response.status
        for e in sim.exchanges
        if e.request.provider == "github"
        and e.request.method == method
        and e.request.path.endswith(suffix)
    ]


def state(sim: Simulator) -> dict[str, Any]:
    """What `/_sim/state` shows for GitHub."""
    github: dict[str, Any] = sim.world.snapshot()["github"]
    return github


def final(error: SourceError) -> bool:
    """A refusal the outbox shows as final (not retried)."""
    return not isinstance(error, TRANSIENT)


# --------------------------------------------------------------------------- approve


def test_sources_are_outbox_writers(
    dependabot: GitHubDependabotSource, deploys: GitHubDeploySource
) -> None:
    assert isinstance(dependabot, Writer) and isinstance(deploys, Writer)


def test_approve_lands_once_and_a_retry_does_not_approve_again(
    simulator: Simulator, dependabot: GitHubDependabotSource
) -> None:
    pull = next(p for p in open_dependabot(simulator) if not my_reviews(p))
    dependabot.apply("approve", [key(pull)], {}, attempt=0)
    assert my_reviews(pull) == ["APPROVED"]
    dependabot.apply("approve", [key(pull)], {}, attempt=1)  # the answer was lost: retried
    dependabot.apply("approve", [key(pull)], {}, attempt=0)  # or approved twice by hand
    assert my_reviews(pull) == ["APPROVED"]
    assert writes(simulator, "POST", "/reviews") == [200]
    shown = [r for r in state(simulator)["reviews"] if r["user"] == ME.login]
    assert [(r["repo"], r["number"], r["state"]) for r in shown] == [
        (pull.repo, pull.number, "APPROVED")
    ]


def test_approve_several_prs_and_one_refusal_says_which_and_why(
    simulator: Simulator, dependabot: GitHubDependabotSource
) -> None:
    pulls = [p for p in open_dependabot(simulator) if not my_reviews(p)][:3]
    own = next(p for p in simulator.world.github.pulls.values() if p.user.login == ME.login)
    targets = [key(pulls[0]), key(own), key(pulls[1]), key(pulls[2])]
    with pytest.raises(SourceError) as raised:
        dependabot.apply("approve", targets, {}, attempt=0)
    assert final(raised.value)
    assert raised.value.status == 422
    message = raised.value.message
    assert f"1 of 4 pull requests: {key(own)} (422)" in message
    assert "Can not approve your own pull request" in message
    assert all(my_reviews(p) == ["APPROVED"] for p in pulls), "the others are still approved"
    # The retry after the refusal was shown: the approved ones are skipped, no duplicates.
    with pytest.raises(SourceError):
        dependabot.apply("approve", targets, {}, attempt=1)
    assert all(my_reviews(p) == ["APPROVED"] for p in pulls)


def test_a_transient_failure_stops_at_once_and_the_retry_skips_what_landed(
    simulator: Simulator, dependabot: GitHubDependabotSource
) -> None:
    first, second = [p for p in open_dependabot(simulator) if not my_reviews(p)][:2]
    dependabot.client.me()
    simulator.app("github").lose_write_answers = 1  # type: ignore[attr-defined]
    with pytest.raises(Unavailable):
        dependabot.apply("approve", [key(first), key(second)], {}, attempt=0)
    assert my_reviews(first) == ["APPROVED"], "the write landed though its answer was lost"
    assert my_reviews(second) == [], "nothing after a transient failure"
    dependabot.apply("approve", [key(first), key(second)], {}, attempt=1)
    assert my_reviews(first) == my_reviews(second) == ["APPROVED"]


def test_a_bad_target_or_action_is_a_final_error(dependabot: GitHubDependabotSource) -> None:
    for target in ("benefits/claims-api", "claims-api#3", "benefits/claims-api#x"):
        with pytest.raises(SourceError, match="owner/repo#N") as raised:
            dependabot.apply("approve", [target], {}, attempt=0)
        assert final(raised.value)
    with pytest.raises(SourceError, match="cannot close"):
        dependabot.apply("close", ["benefits/claims-api#3"], {}, attempt=0)
    with pytest.raises(SourceError, match="squash, merge or rebase"):
        dependabot.apply("merge", ["benefits/claims-api#3"], {"method": "ff"}, attempt=0)
    with pytest.raises(SourceError, match="needs some text"):
        dependabot.apply("comment", ["benefits/claims-api#3"], {"body": " "}, attempt=0)


# --------------------------------------------------------------------------- merge


def approve_in_world(sim: Simulator, pull: PullRequest) -> None:
    """A teammate's approval, so that GitHub's branch protection lets the merge through."""
    if not pull.approved:
        sim.world.github.add_review(pull, TEAMMATES[0], "APPROVE", "", sim.world.now)


def test_merge_lands_once_with_the_method_and_a_retry_does_not_merge_again(
    simulator: Simulator, dependabot: GitHubDependabotSource
) -> None:
    pull = green(simulator)[0]
    approve_in_world(simulator, pull)
    payload = {"method": "rebase", "shas": {key(pull): pull.head_sha}}
    dependabot.apply("merge", [key(pull)], payload, attempt=0)
    assert pull.merged and pull.merged_by == ME and pull.merge_method == "rebase"
    dependabot.apply("merge", [key(pull)], payload, attempt=1)  # checks first: no PUT
    assert writes(simulator, "PUT", "/merge") == [200]
    dependabot.apply("merge", [key(pull)], payload, attempt=0)  # refused, but merged: done
    assert writes(simulator, "PUT", "/merge") == [200, 405]
    merged = [m for m in state(simulator)["merged"] if m["merged_by"] == ME.login]
    assert [(m["repo"], m["number"], m["method"]) for m in merged] == [
        (pull.repo, pull.number, "rebase")
    ]


def test_merge_several_prs(simulator: Simulator, dependabot: GitHubDependabotSource) -> None:
    pulls = green(simulator)[:2]
    assert len(pulls) == 2
    for pull in pulls:
        approve_in_world(simulator, pull)
    payload = {"method": "squash", "shas": {key(p): p.head_sha for p in pulls}}
    dependabot.apply("merge", [key(p) for p in pulls], payload, attempt=0)
    assert all(p.merged and p.merge_method == "squash" for p in pulls)


def test_merge_refusals_carry_githubs_reason(
    simulator: Simulator, dependabot: GitHubDependabotSource
) -> None:
    world = simulator.world.github
    conflicting = next(p for p in open_dependabot(simulator) if p.conflicting)
    failing = next(
        p
        for p in open_dependabot(simulator)
        if not p.conflicting and world.ci_state(p.repo, p.head_sha) == "FAILURE"
    )
    unapproved = next(p for p in green(simulator) if not p.approved)
    moved = next(p for p in green(simulator) if p is not unapproved)
    cases = [
        (conflicting, {}, 405, "Pull Request is not mergeable (merge conflict)"),
        (failing, {}, 405, "Required status check"),
        (unapproved, {}, 405, "At least 1 approving review is required"),
        (moved, {key(moved): "0" * 40}, 409, "Head branch was modified"),
    ]
    for pull, shas, status, reason in cases:
        with pytest.raises(SourceError) as raised:
            dependabot.apply("merge", [key(pull)], {"method": "squash", "shas": shas}, attempt=0)
        error = raised.value
        assert final(error), error
        assert error.status == status
        assert reason in error.message
        assert error.message.startswith(f"GitHub refused to merge {key(pull)} ({status}): ")
        assert not pull.merged
    assert "is failing" in next(
        str(e.response.body) for e in simulator.exchanges if b"Required status" in e.response.body
    )


def test_a_bulk_merge_merges_what_it_can_and_names_the_rest(
    simulator: Simulator, dependabot: GitHubDependabotSource
) -> None:
    good = green(simulator)[0]
    approve_in_world(simulator, good)
    conflicting = next(p for p in open_dependabot(simulator) if p.conflicting)
    targets = [key(conflicting), key(good)]
    with pytest.raises(SourceError) as raised:
        dependabot.apply("merge", targets, {"method": "squash", "shas": {}}, attempt=0)
    assert final(raised.value)
    assert f"1 of 2 pull requests: {key(conflicting)} (405)" in raised.value.message
    assert good.merged and not conflicting.merged


def test_a_merge_whose_answer_was_lost_is_not_sent_again(
    simulator: Simulator, dependabot: GitHubDependabotSource
) -> None:
    pull = green(simulator)[0]
    approve_in_world(simulator, pull)
    payload = {"method": "squash", "shas": {key(pull): pull.head_sha}}
    simulator.app("github").lose_write_answers = 1  # type: ignore[attr-defined]
    with pytest.raises(Unavailable):
        dependabot.apply("merge", [key(pull)], payload, attempt=0)
    assert pull.merged
    dependabot.apply("merge", [key(pull)], payload, attempt=1)
    assert writes(simulator, "PUT", "/merge") == [500]


# --------------------------------------------------------------------------- comment


def test_comment_lands_once_and_a_retry_does_not_comment_again(
    simulator: Simulator, dependabot: GitHubDependabotSource, sim_clock: FakeClock
) -> None:
    pull = open_dependabot(simulator)[0]
    payload = {"body": "@dependabot rebase", "since": sim_clock.now().isoformat()}
    dependabot.apply("comment", [key(pull)], payload, attempt=0)
    assert my_comments(pull) == ["@dependabot rebase"]
    sim_clock.advance(300)
    dependabot.apply("comment", [key(pull)], payload, attempt=1)
    dependabot.apply("comment", [key(pull)], {"body": "@dependabot rebase"}, attempt=2)
    assert my_comments(pull) == ["@dependabot rebase"]
    asked = [
        e.request.query.get("since")
        for e in simulator.exchanges
        if e.request.method == "GET" and e.request.path.endswith("/comments")
    ]
    assert asked[0] is not None and asked[1] is None
    shown = [c for c in state(simulator)["comments"] if c["user"] == ME.login]
    assert [(c["repo"], c["number"], c["body"]) for c in shown] == [
        (pull.repo, pull.number, "@dependabot rebase")
    ]


def test_a_retried_comment_counts_only_what_came_after_since(
    simulator: Simulator, dependabot: GitHubDependabotSource, sim_clock: FakeClock
) -> None:
    pull = open_dependabot(simulator)[0]
    dependabot.apply("comment", [key(pull)], {"body": "@dependabot recreate"}, attempt=0)
    sim_clock.advance(3600)  # an hour later, the same command again; its first answer lost
    payload = {"body": "@dependabot recreate", "since": sim_clock.now().isoformat()}
    dependabot.apply("comment", [key(pull)], payload, attempt=1)
    assert my_comments(pull) == ["@dependabot recreate", "@dependabot recreate"]


def test_a_comment_whose_answer_was_lost_is_found_on_retry(
    simulator: Simulator, dependabot: GitHubDependabotSource, sim_clock: FakeClock
) -> None:
    pulls = open_dependabot(simulator)[:2]
    payload = {"body": "@dependabot rebase", "since": sim_clock.now().isoformat()}
    simulator.app("github").lose_write_answers = 1  # type: ignore[attr-defined]
    with pytest.raises(Unavailable):
        dependabot.apply("comment", [key(p) for p in pulls], payload, attempt=0)
    assert [my_comments(p) for p in pulls] == [["@dependabot rebase"], []]
    dependabot.apply("comment", [key(p) for p in pulls], payload, attempt=1)
    assert [my_comments(p) for p in pulls] == [["@dependabot rebase"], ["@dependabot rebase"]]


def test_writes_to_several_prs_are_spaced(simulator: Simulator, sim_clock: FakeClock) -> None:
    assert WRITE_SPACING >= 60 / 80, "GitHub allows 80 content-creating requests a minute"
    default = GitHubClient(github_settings(simulator), sim_clock)
    assert default.write_spacing == WRITE_SPACING
    default.close()
    source = GitHubDependabotSource(github_settings(simulator), sim_clock, write_spacing=0.25)
    pulls = open_dependabot(simulator)[:3]
    started = time.monotonic()
    source.apply("comment", [key(p) for p in pulls], {"body": "@dependabot rebase"}, attempt=0)
    assert time.monotonic() - started >= 2 * 0.25
    assert all(my_comments(p) == ["@dependabot rebase"] for p in pulls)
    source.close()


# --------------------------------------------------------------------------- deploys


def failed_run(sim: Simulator, clock: FakeClock) -> WorkflowRun:
    world = sim.world.github
    for _ in range(60):
        failed = [
            r for r in world.runs.values() if r.status == "completed" and r.conclusion == "failure"
        ]
        if failed:
            return failed[0]
        clock.advance(600)
    raise AssertionError("no failed deploy run in ten simulated hours")


def rerun_payload(run: WorkflowRun) -> tuple[list[str], dict[str, Any]]:
    return [f"{run.repo}:{run.inputs['target_env']}"], {"repo": run.repo, "run_id": run.id}


def test_rerun_lands_once_and_retries_do_not_rerun_again(
    simulator: Simulator, deploys: GitHubDeploySource, sim_clock: FakeClock
) -> None:
    run = failed_run(simulator, sim_clock)
    targets, payload = rerun_payload(run)
    deploys.apply("rerun", targets, payload, attempt=0)
    assert run.run_attempt == 2 and run.status == "queued"
    deploys.apply("rerun", targets, payload, attempt=1)  # re-running already: done
    deploys.apply("rerun", targets, payload, attempt=0)  # a second press: done too
    sim_clock.advance(900)
    simulator.world.tick()
    assert run.status == "completed"
    deploys.apply("rerun", targets, payload, attempt=1)  # the attempt moved on: done
    assert run.run_attempt == 2
    reruns = state(simulator)["reruns"]
    assert [(r["repo"], r["run_id"], r["run_attempt"], r["actor"]) for r in reruns] == [
        (run.repo, run.id, 2, ME.login)
    ]
    assert writes(simulator, "POST", "/rerun-failed-jobs") == [201]
    jobs = deploys.jobs(run.repo, run.id)
    assert [j.status for j in jobs] == ["completed"]


def test_a_rerun_whose_answer_was_lost_is_not_sent_again(
    simulator: Simulator, deploys: GitHubDeploySource, sim_clock: FakeClock
) -> None:
    run = failed_run(simulator, sim_clock)
    targets, payload = rerun_payload(run)
    simulator.app("github").lose_write_answers = 1  # type: ignore[attr-defined]
    with pytest.raises(Unavailable):
        deploys.apply("rerun", targets, payload, attempt=0)
    deploys.apply("rerun", targets, payload, attempt=1)
    assert run.run_attempt == 2
    assert len(simulator.world.github.reruns) == 1


def test_a_rerun_without_permission_is_retried_not_refused(
    simulator: Simulator, deploys: GitHubDeploySource, sim_clock: FakeClock
) -> None:
    # "Resource not accessible by personal access token" is about the token, not the run
    # (it once read as "not failed" because it says "not"): the outbox retries it.
    run = failed_run(simulator, sim_clock)
    targets, payload = rerun_payload(run)
    original = deploys.rerun_failed_jobs

    def forbidden(repo: str, run_id: int) -> None:
        simulator.set_fault("github", "403", count=1)
        original(repo, run_id)

    deploys.rerun_failed_jobs = forbidden  # type: ignore[method-assign]
    with pytest.raises(AuthFailed, match="lacks permission") as raised:
        deploys.apply("rerun", targets, payload, attempt=0)
    assert not final(raised.value)
    del deploys.rerun_failed_jobs
    deploys.apply("rerun", targets, payload, attempt=1)
    assert run.run_attempt == 2
    assert len(simulator.world.github.reruns) == 1


@pytest.mark.parametrize("mode", ["truncated", "bad_json", "wrong_shape"])
def test_a_comment_answered_unreadably_is_retried_and_lands_once(
    simulator: Simulator, dependabot: GitHubDependabotSource, mode: str
) -> None:
    # The comment lands but its answer cannot be read: not a refusal (the outbox retries),
    # and the retry finds the comment instead of posting it again.
    pull = open_dependabot(simulator)[0]
    payload = {"body": "@dependabot rebase", "since": simulator.world.now.isoformat()}
    simulator.set_fault("github", mode, count=1)
    try:
        dependabot.apply("comment", [key(pull)], payload, attempt=0)
    except SourceError as exc:
        assert isinstance(exc, BadResponse), exc
        assert not final(exc)
    assert my_comments(pull) == ["@dependabot rebase"]
    dependabot.apply("comment", [key(pull)], payload, attempt=1)
    assert my_comments(pull) == ["@dependabot rebase"]


def test_a_rerun_of_a_successful_run_is_refused_in_githubs_words(
    simulator: Simulator, deploys: GitHubDeploySource
) -> None:
    run = next(
        r
        for r in simulator.world.github.runs.values()
        if r.status == "completed" and r.conclusion == "success"
    )
    targets, payload = rerun_payload(run)
    with pytest.raises(SourceError, match="not failed") as raised:
        deploys.apply("rerun", targets, payload, attempt=0)
    assert final(raised.value)
    with pytest.raises(SourceError, match="run id"):
        deploys.apply("rerun", targets, {"repo": run.repo}, attempt=0)
    with pytest.raises(SourceError, match="cannot rollback"):
        deploys.apply("rollback", targets, payload, attempt=0)


def test_last_success_per_environment_costs_one_call(
    simulator: Simulator, deploys: GitHubDeploySource, sim_clock: FakeClock
) -> None:
    sim_clock.advance(6 * 3600)
    world = simulator.world.github
    checked = 0
    for repo_name, source in world.deploy_sources():
        for env in ("dev", "qa", "prod"):
            simulator.clear_exchanges()
            found = deploys.last_success(repo_name, env)
            assert len([e for e in simulator.exchanges if e.request.provider == "github"]) == 1
            if source == "deployments":
                expected_sha = next(
                    (
                        d.sha
                        for d in world.deployments_of(repo_name)
                        if d.environment == env
                        and d.latest_status is not None
                        and d.latest_status.state == "success"
                    ),
                    None,
                )
                got = found.sha if found is not None else None
            else:
                expected_run = next(
                    (
                        r
                        for r in world.runs_of(repo_name)
                        if r.inputs.get("target_env") == env and r.conclusion == "success"
                    ),
                    None,
                )
                expected_sha = expected_run.id if expected_run else None
                got = found.run_id if found is not None else None
            assert got == expected_sha, (repo_name, env)
            if found is not None:
                assert (found.repo, found.environment, found.state) == (repo_name, env, "success")
                checked += 1
    assert checked >= 10
    assert deploys.last_success("benefits/claims-api", "nowhere") is None


def test_last_successes_of_every_environment_in_one_call(
    simulator: Simulator, deploys: GitHubDeploySource, sim_clock: FakeClock
) -> None:
    sim_clock.advance(6 * 3600)
    for repo_name, _ in simulator.world.github.deploy_sources():
        simulator.clear_exchanges()
        every = deploys.last_successes(repo_name)
        assert len([e for e in simulator.exchanges if e.request.provider == "github"]) == 1
        assert list(every) == ["dev", "qa", "sandbox", "prod-test", "prod"]
        for env, found in every.items():
            assert found == deploys.last_success(repo_name, env)
    assert deploys.last_successes("benefits/claims-api", []) == {}


# --------------------------------------------------------------------------- the outbox


async def drain_until_done(box: Outbox, journal: Journal, clock: FakeClock) -> None:
    for _ in range(10):
        wait = await box.drain()
        if not journal.open_outbox():
            return
        clock.advance(wait)
    raise AssertionError(f"still open: {journal.open_outbox()}")


async def test_outbox_end_to_end_500_then_recover_merges_once(
    simulator: Simulator, sim_clock: FakeClock
) -> None:
    source = GitHubDependabotSource(github_settings(simulator), sim_clock, write_spacing=0)
    sim_clock.advance(1800)
    pull = green(simulator)[0]
    approve_in_world(simulator, pull)
    journal = Journal.memory()
    box = Outbox(journal, {"dependabot": source}, sim_clock, backoff_base=5)
    simulator.set_fault("github", "500", count=1)
    entry = box.submit(
        "dependabot", "merge", [key(pull)], {"method": "squash", "shas": {key(pull): pull.head_sha}}
    )
    await box.drain()
    pending = journal.outbox_entry(entry.id)
    assert pending.state == "pending" and "500" in (pending.last_error or "")
    # The next answer is lost after the merge landed: the retry after that finds it merged.
    simulator.app("github").lose_write_answers = 1  # type: ignore[attr-defined]
    await drain_until_done(box, journal, sim_clock)
    done = journal.outbox_entry(entry.id)
    assert done.state == "done" and done.attempts == 3
    assert pull.merged
    assert writes(simulator, "PUT", "/merge") == [500, 500]
    source.close()


async def test_outbox_shows_a_refused_merge_with_githubs_reason(
    simulator: Simulator, sim_clock: FakeClock
) -> None:
    source = GitHubDependabotSource(github_settings(simulator), sim_clock, write_spacing=0)
    conflicting = next(p for p in open_dependabot(simulator) if p.conflicting)
    journal = Journal.memory()
    box = Outbox(journal, {"dependabot": source}, sim_clock)
    entry = box.submit("dependabot", "merge", [key(conflicting)], {"method": "squash"})
    await box.drain()
    refused = journal.outbox_entry(entry.id)
    assert refused.state == "rejected" and refused.attempts == 1
    assert refused.last_error == (
        f"GitHub refused to merge {key(conflicting)} (405): "
        "Pull Request is not mergeable (merge conflict)"
    )
    source.close()


async def test_outbox_end_to_end_rerun_and_comment(
    simulator: Simulator, sim_clock: FakeClock
) -> None:
    deploys = GitHubDeploySource(github_settings(simulator), sim_clock, write_spacing=0)
    dependabot = GitHubDependabotSource(
        github_settings(simulator), sim_clock, client=deploys.client
    )
    run = failed_run(simulator, sim_clock)
    pull = open_dependabot(simulator)[0]
    journal = Journal.memory()
    box = Outbox(journal, {"deploys": deploys, "dependabot": dependabot}, sim_clock)
    simulator.set_fault("github", "500", count=2)
    targets, payload = rerun_payload(run)
    rerun = box.submit("deploys", "rerun", targets, payload)
    since = sim_clock.now().isoformat()
    comment = box.submit(
        "dependabot", "comment", [key(pull)], {"body": "@dependabot rebase", "since": since}
    )
    await drain_until_done(box, journal, sim_clock)
    assert [journal.outbox_entry(e.id).state for e in (rerun, comment)] == ["done", "done"]
    assert len(simulator.world.github.reruns) == 1
    assert my_comments(pull) == ["@dependabot rebase"]
    deploys.close()


def test_sim_control_loses_write_answers(simulator: Simulator) -> None:
    response = httpx.post(
        simulator.url + "/_sim/github",
        json={"lose_write_answers": 2},
        verify=ssl.create_default_context(cafile=str(simulator.ca_pem_path)),
    )
    assert response.status_code == 200 and response.json()["lose_write_answers"] == 2
    assert simulator.app("github").lose_write_answers == 2  # type: ignore[attr-defined]
    bad = httpx.post(
        simulator.url + "/_sim/github",
        json={"lose_write_answers": -1},
        verify=ssl.create_default_context(cafile=str(simulator.ca_pem_path)),
    )
    assert bad.status_code == 400
