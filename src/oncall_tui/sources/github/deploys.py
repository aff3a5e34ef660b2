"""GitHub deploys: the latest deploy of each configured repository to each environment.

Two kinds of repository, as configured by `deploy_source`:

- `deployments`: the Deployments API. One GraphQL query reads every such repository at once
  (aliases per repository and environment): the newest deployment per environment and its
  latest status. 20 repositories x 5 environments cost 1 point.
- `workflow:FILE`: the runs of that deploy workflow (an "Update Deployment" workflow with a
  `target_env` input). REST only (GraphQL has no runs by workflow file), conditional: the
  list's ETag is remembered and an unchanged list answers 304, which is free. The
  environment comes from the run's title (`run-name`, e.g. "Update Deployment: claims-api
  1a2b3c4 to qa"), or its `inputs` where GitHub sends them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from github.PaginatedList import PaginatedList
from github.WorkflowJob import WorkflowJob

from oncall_tui.domain.clock import Clock
from oncall_tui.domain.models import Deploy, Snapshot
from oncall_tui.sources.base import (
    AuthFailed,
    BadResponse,
    RateLimited,
    SourceError,
    Unavailable,
)
from oncall_tui.sources.github._client import GitHubClient, GitHubSourceBase, http_error
from oncall_tui.sources.github._parse import (
    TERMINAL,
    deployment_state,
    image_tag,
    run_state,
    target_environment,
)
from oncall_tui.sources.github._queries import deploys_query, last_success_query

if TYPE_CHECKING:
    from oncall_tui.config import GitHubSettings, RepositorySettings

BATCH = 25
"""Repositories per GraphQL query: 25 x 5 environments = 125 connections, about 1 point."""
RUNS_PAGE = 50
"""Workflow runs read per poll: enough to find the latest run for every environment."""


@dataclass(frozen=True, slots=True)
class JobStep:
    name: str
    status: str
    conclusion: str | None


@dataclass(frozen=True, slots=True)
class DeployJob:
    """One job of a deploy workflow run, for the detail view."""

    id: int
    name: str
    status: str
    conclusion: str | None
    started_at: datetime | None
    completed_at: datetime | None
    url: str
    steps: tuple[JobStep, ...] = ()

    @property
    def failed_steps(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.steps if s.conclusion == "failure")


class GitHubDeploySource(GitHubSourceBase):
    """Deploys per repository and environment, from Deployments or a deploy workflow."""

    name = "deploys"

    def __init__(
        self,
        settings: GitHubSettings,
        clock: Clock,
        *,
        client: GitHubClient | None = None,
        write_spacing: float | None = None,
    ) -> None:
        super().__init__(settings, clock, client=client, write_spacing=write_spacing)
        self._rerun_from: dict[tuple[str, int], int] = {}
        """(repo, run id) -> the run's attempt number when its re-run was first tried."""

    # -- reading -------------------------------------------------------------------------

    def fetch(self) -> Snapshot:
        settings = self._settings
        repositories = list(settings.repositories)
        by_deployments = [r for r in repositories if r.workflow is None]
        found: dict[str, list[Deploy]] = {}
        for start in range(0, len(by_deployments), BATCH):
            batch = by_deployments[start : start + BATCH]
            for deploy in self._deployments(batch):
                found.setdefault(deploy.repo, []).append(deploy)
        for repo in repositories:
            if repo.workflow is not None:
                found[repo.name] = list(self._workflow_deploys(repo, repo.workflow))
        items: list[Deploy] = []
        for repo in repositories:
            order = {env: i for i, env in enumerate(settings.environments_for(repo))}
            deploys = found.get(repo.name, [])
            deploys.sort(key=lambda d: order.get(d.environment, len(order)))
            items.extend(deploys)
        return Snapshot(source=self.name, taken_at=self._clock.now(), items=tuple(items))

    def _deployments(self, batch: Sequence[RepositorySettings]) -> Iterator[Deploy]:
        plan = [(repo.name, self._settings.environments_for(repo)) for repo in batch]
        data, errors = self._client.graphql(deploys_query(plan))
        missing = {
            str(error["path"][0])
            for error in errors
            if error.get("type") == "NOT_FOUND" and isinstance(error.get("path"), list)
        }
        for index, (full_name, environments) in enumerate(plan):
            alias = f"r{index}"
            node = data.get(alias)
            if node is None:
                if alias in missing:
                    raise SourceError(
                        f"GitHub repository {full_name} was not found (or the token may not "
                        "see it): check [github] repositories"
                    )
                raise BadResponse(f"GitHub GraphQL: no answer for {full_name}")
            repo_url = str(node.get("url") or "")
            for e, environment in enumerate(environments):
                connection = node.get(f"e{e}") or {}
                nodes = connection.get("nodes") if isinstance(connection, dict) else None
                if not nodes:
                    continue
                yield _deployment(full_name, environment, nodes[0], repo_url)

    def _workflow_deploys(self, repo: RepositorySettings, workflow: str) -> Iterator[Deploy]:
        path = f"/repos/{repo.name}/actions/workflows/{workflow}/runs"
        body = self._client.get_json(path, {"per_page": RUNS_PAGE})
        runs = body.get("workflow_runs") if isinstance(body, dict) else None
        if not isinstance(runs, list):
            raise BadResponse(f"GitHub {path}: no 'workflow_runs' list")
        environments = self._settings.environments_for(repo)
        seen: set[str] = set()
        for run in runs:  # newest first
            if not isinstance(run, dict):
                continue
            environment = _run_environment(run, environments)
            if environment is None or environment in seen:
                continue
            seen.add(environment)
            yield _run_deploy(repo.name, environment, run)

    def last_success(self, repo: str, environment: str) -> Deploy | None:
        """The last successful deploy of `repo` to `environment`, for rollback decisions
        (None if none among the newest). See `last_successes`."""
        return self.last_successes(repo, [environment])[environment]

    def last_successes(
        self, repo: str, environments: Sequence[str] | None = None
    ) -> dict[str, Deploy | None]:
        """The last successful deploy of `repo` to each environment (default: the
        configured ones), for the detail view's rollback line. One call whatever the number
        of environments: a GraphQL query of the 20 newest deployments per environment
        (1 point for five), or for a deploy workflow its successful runs (REST,
        conditional: free while unchanged). Meant for the detail view, not the poll."""
        configured = next(
            (r for r in self._settings.repositories if r.name.lower() == repo.lower()), None
        )
        if environments is None:
            environments = (
                self._settings.environments_for(configured)
                if configured is not None
                else self._settings.environments
            )
        wanted = list(dict.fromkeys(environments))
        if not wanted:
            return {}
        if configured is not None and configured.workflow is not None:
            return self._last_successful_runs(configured, configured.workflow, wanted)
        return self._last_successful_deployments(repo, wanted)

    def _last_successful_deployments(
        self, repo: str, environments: Sequence[str]
    ) -> dict[str, Deploy | None]:
        data, errors = self._client.graphql(last_success_query(repo, environments))
        node = data.get("repository")
        if not isinstance(node, dict):
            if any(error.get("type") == "NOT_FOUND" for error in errors):
                raise SourceError(
                    f"GitHub repository {repo} was not found (or the token may not see it)"
                )
            raise BadResponse(f"GitHub GraphQL: no answer for {repo}")
        found: dict[str, Deploy | None] = {}
        for e, environment in enumerate(environments):
            connection = node.get(f"e{e}") or {}
            nodes = connection.get("nodes") if isinstance(connection, dict) else None
            found[environment] = None
            for item in nodes or []:
                if not isinstance(item, dict):
                    continue
                deploy = _deployment(repo, environment, item, str(node.get("url") or ""))
                if deploy.deploy_state == "success":
                    found[environment] = deploy
                    break
        return found

    def _last_successful_runs(
        self, repo: RepositorySettings, workflow: str, environments: Sequence[str]
    ) -> dict[str, Deploy | None]:
        path = f"/repos/{repo.name}/actions/workflows/{workflow}/runs"
        body = self._client.get_json(path, {"status": "success", "per_page": RUNS_PAGE})
        runs = body.get("workflow_runs") if isinstance(body, dict) else None
        if not isinstance(runs, list):
            raise BadResponse(f"GitHub {path}: no 'workflow_runs' list")
        known = tuple(dict.fromkeys((*self._settings.environments_for(repo), *environments)))
        found: dict[str, Deploy | None] = dict.fromkeys(environments)
        for run in runs:  # newest first
            if not isinstance(run, dict):
                continue
            environment = _run_environment(run, known)
            if environment is None or environment not in found or found[environment]:
                continue
            deploy = _run_deploy(repo.name, environment, run)
            if deploy.deploy_state == "success":
                found[environment] = deploy
        return found

    # -- writing (called by the outbox, in a worker thread) ------------------------------

    def apply(
        self, action: str, targets: Sequence[str], payload: Mapping[str, Any], *, attempt: int
    ) -> None:
        """Apply one outbox write. `rerun`, targets `["owner/repo:env"]`, payload
        `{"repo": "owner/repo", "run_id": int}`: re-run the run's failed jobs. A run that
        is not finished (already re-running, or still going) counts as done, and so, on a
        retry, does a run whose attempt moved on since the first try."""
        if action != "rerun":
            raise SourceError(f"Deploys cannot {action}")
        repo = str(payload.get("repo") or "")
        if not repo and targets:
            repo = str(targets[0]).partition(":")[0]
        run_id = payload.get("run_id")
        if isinstance(run_id, str) and run_id.isdigit():
            run_id = int(run_id)
        if "/" not in repo or isinstance(run_id, bool) or not isinstance(run_id, int):
            raise SourceError("rerun needs a repository (owner/repo) and a workflow run id")
        self._rerun_once(repo, run_id, attempt=attempt)

    def _rerun_once(self, repo: str, run_id: int, *, attempt: int) -> None:
        run = self._run(repo, run_id)
        if run.get("status") != "completed":
            return  # re-running already (ours, or someone else's), or not finished
        run_attempt = _int(run.get("run_attempt"), 1)
        key = (repo.lower(), run_id)
        if attempt == 0:
            self._rerun_from[key] = run_attempt
        else:
            first = self._rerun_from.get(key)
            if first is not None and run_attempt > first:
                return  # the earlier try landed (and the new attempt already finished)
            if first is None and run.get("conclusion") == "success":
                return  # restarted since: a run that succeeded needs no re-run
        try:
            self.rerun_failed_jobs(repo, run_id)
        except (RateLimited, Unavailable, AuthFailed):
            raise
        except SourceError:
            if self._run(repo, run_id).get("status") != "completed":
                return  # someone re-ran it meanwhile
            raise

    def _run(self, repo: str, run_id: int) -> Mapping[str, Any]:
        run = self._client.get_json(f"/repos/{repo}/actions/runs/{run_id}")
        if not isinstance(run, dict):
            raise BadResponse(f"GitHub run {run_id} of {repo}: expected an object")
        return run

    # -- details and actions (behind the outbox) -----------------------------------------

    def jobs(self, repo: str, run_id: int) -> tuple[DeployJob, ...]:
        """The jobs of a workflow run's latest attempt, with their steps."""
        requester = self._client.requester

        def read() -> list[WorkflowJob]:
            url = f"{self._client.gh.get_repo(repo).url}/actions/runs/{run_id}/jobs"
            listing: PaginatedList[WorkflowJob] = PaginatedList(
                WorkflowJob, requester, url, {"per_page": 100}, list_item="jobs"
            )
            return list(listing)

        jobs = self._client.call(f"run {run_id} jobs", read)
        return tuple(
            DeployJob(
                id=job.id,
                name=job.name,
                status=job.status,
                conclusion=job.conclusion,
                started_at=job.started_at,
                completed_at=job.completed_at,
                url=job.html_url or "",
                steps=tuple(JobStep(s.name, s.status, s.conclusion) for s in job.steps),
            )
            for job in jobs
        )

    def rerun_failed_jobs(self, repo: str, run_id: int) -> None:
        """Re-run the failed jobs of a workflow run (GitHub answers 201)."""
        url = f"{self._client.gh.get_repo(repo).url}/actions/runs/{run_id}/rerun-failed-jobs"

        def post() -> tuple[int, dict[str, Any], str]:
            return self._client.requester.requestJson("POST", url)

        status, headers, body = self._client.call(f"rerun of run {run_id}", post)
        self._client.note_rate(headers)
        if status != 201:
            try:
                message = str(json.loads(body).get("message", ""))
            except (ValueError, AttributeError):
                message = ""
            error = http_error(status, headers, message, self._clock, f"rerun of run {run_id}")
            if (
                isinstance(error, AuthFailed)
                and status == 403
                and "workflow run" in message.lower()
            ):
                # "This workflow run is not failed": the run's state, not the token (unlike
                # "Resource not accessible by personal access token", a missing permission).
                error = SourceError(f"GitHub will not re-run run {run_id}: {message}", status=403)
            raise error


def _deployment(repo: str, environment: str, node: Mapping[str, Any], repo_url: str) -> Deploy:
    try:
        status = node.get("latestStatus") or {}
        state = deployment_state(status.get("state"), node.get("state"))
        started = _when(node.get("createdAt"))
        finished = _when(status.get("createdAt")) if state in TERMINAL else None
        url = str(status.get("logUrl") or "") or f"{repo_url}/deployments/{environment}"
        return Deploy(
            repo=repo,
            environment=environment,
            deploy_state=state,
            url=url,
            ref=str((node.get("ref") or {}).get("name") or ""),
            sha=str(node.get("commitOid") or ""),
            creator=str((node.get("creator") or {}).get("login") or ""),
            started_at=started,
            finished_at=finished,
            origin="deployment",
            description=str(status.get("description") or node.get("description") or ""),
        )
    except (AttributeError, TypeError, ValueError) as exc:
        raise BadResponse(
            f"GitHub deployment of {repo} has an unexpected shape ({exc!r})"
        ) from None


def _run_environment(run: Mapping[str, Any], environments: tuple[str, ...]) -> str | None:
    inputs = run.get("inputs")
    if isinstance(inputs, dict) and isinstance(inputs.get("target_env"), str):
        return str(inputs["target_env"])
    for text in (run.get("display_title"), run.get("name")):
        if isinstance(text, str):
            found = target_environment(text, environments)
            if found is not None:
                return found
    return None


def _run_deploy(repo: str, environment: str, run: Mapping[str, Any]) -> Deploy:
    try:
        status = run.get("status")
        state = run_state(status, run.get("conclusion"))
        title = str(run.get("display_title") or run.get("name") or "")
        actor = run.get("triggering_actor") or run.get("actor") or {}
        return Deploy(
            repo=repo,
            environment=environment,
            deploy_state=state,
            url=str(run.get("html_url") or ""),
            ref=str(run.get("head_branch") or ""),
            sha=image_tag(title) or str(run.get("head_sha") or ""),
            creator=str(actor.get("login") or ""),
            started_at=_when(run.get("run_started_at") or run.get("created_at")),
            finished_at=_when(run.get("updated_at")) if status == "completed" else None,
            origin="workflow",
            run_id=int(run["id"]),
            workflow=str(run.get("name") or run.get("path") or ""),
            description=title,
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise BadResponse(
            f"GitHub workflow run of {repo} has an unexpected shape ({exc!r})"
        ) from None


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
