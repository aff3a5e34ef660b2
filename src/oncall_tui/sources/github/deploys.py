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
from oncall_tui.sources.base import AuthFailed, BadResponse, RateBudget, SourceError
from oncall_tui.sources.github._client import GitHubClient, http_error
from oncall_tui.sources.github._parse import (
    TERMINAL,
    deployment_state,
    image_tag,
    run_state,
    target_environment,
)
from oncall_tui.sources.github._queries import deploys_query

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


class GitHubDeploySource:
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
        self._settings = settings
        self._clock = clock
        if client is None:
            if write_spacing is None:
                client = GitHubClient(settings, clock)
            else:
                client = GitHubClient(settings, clock, write_spacing=write_spacing)
        self._client = client

    @property
    def label(self) -> str:
        host = self._client.host
        return "GitHub" if host in ("api.github.com", "") else f"GitHub ({host})"

    @property
    def client(self) -> GitHubClient:
        return self._client

    def rate_budget(self) -> RateBudget:
        return self._client.rate_budget()

    def close(self) -> None:
        self._client.close()

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
            if isinstance(error, AuthFailed) and status == 403 and "not" in message.lower():
                # "This workflow run is not failed": the run's state, not the token.
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


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
