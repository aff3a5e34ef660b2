"""GitHub REST (and GraphQL) for the simulator: the endpoints the cockpit uses, as the spec says.

Answers follow `../shared/specs/github-rest-subset.json` and the real API's habits that
clients trip on: `token`/`Bearer` auth and `Bad credentials` 401s; every URL in an answer
on the simulator's own host and prefix (PyGithub asserts that the URLs it follows are on
its base URL); `Link` pagination (`per_page` up to 100); an `ETag` on every GET and a free
304 for a matching `If-None-Match`; `x-ratelimit-*` headers from the token's hourly
account, a 403 "API rate limit exceeded" when it is spent, and 403 or 429 with
`retry-after` for the rate-limit fault; merges refused with 405 (conflict, failing checks,
missing approval) or 409 (stale SHA); 422 for approving your own pull request; 403 for
re-running a run that has not failed; issue comments filtered by `since`. GraphQL is at
`/graphql` (see `github_graphql`). State lives in `github_world`; this is only the HTTP face.

`POST /_sim/github {"lose_write_answers": N}` applies the next N REST writes and answers
them 500, as when an answer is lost on its way back, so retries can be tested for
duplicates; `/_sim/state` lists the writes' effects (reviews, merged PRs, comments,
re-runs).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from oncall_tui.simulator.github_graphql import Graph, execute, prepare, search_issues
from oncall_tui.simulator.github_world import (
    ACTIONS_BOT,
    ADVISORY_ECOSYSTEMS,
    ME,
    Account,
    Alert,
    CheckRun,
    Comment,
    CommitStatus,
    Deployment,
    DeploymentStatus,
    GitHubWorld,
    Issue,
    Job,
    MergeRefused,
    PullRequest,
    Repository,
    Review,
    ReviewRefused,
    Workflow,
    WorkflowRun,
    iso,
    node_id,
    sha_for,
)
from oncall_tui.simulator.server import (
    ConfigValue,
    ControlHandler,
    Headers,
    RateState,
    RequestContext,
    SimRequest,
    SimResponse,
)

if TYPE_CHECKING:
    from oncall_tui.simulator.server import Simulator

JSON_MEDIA_TYPE = "application/json; charset=utf-8"
API_VERSION = "2022-11-28"
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
SECONDARY_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)

NO_PERMISSION = "Resource not accessible by personal access token"
UNAVAILABLE = (
    "No server is currently available to service your request. Sorry about that. "
    "Please try resubmitting your request and contact us if the problem persists."
)
BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class ApiError(Exception):
    """An answer in GitHub's error format (`message`, `documentation_url`, `status`)."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: Sequence[Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})

    def payload(self, base: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message": self.message,
            "documentation_url": f"{base}/docs/rest",
            "status": str(self.status),
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


Handler = Callable[[SimRequest, RequestContext, re.Match[str]], SimResponse]
REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"


class GitHubApp:
    """The GitHub provider: routes, auth, ETags, the hourly rate account, faults."""

    name = "github"
    rate_limit = 900
    """GitHub's secondary limit for REST: 900 points a minute."""

    def __init__(self) -> None:
        self.rate_limit_status = 429
        """Status of the rate-limit fault: 429, or 403 as GitHub also answers."""
        self.rate_limit_style = "secondary"
        """`secondary` (retry-after) or `primary` (x-ratelimit-remaining 0 and a reset)."""
        self.lose_write_answers = 0
        """The next this many REST writes are applied, then answered 500 (the answer lost
        on the way back): the client cannot tell that they landed."""
        pull = REPO + r"/pulls/(?P<number>\d+)"
        issue = REPO + r"/issues/(?P<number>\d+)"
        run = REPO + r"/actions/runs/(?P<run_id>\d+)"
        commit = REPO + r"/commits/(?P<ref>[^/]+)"
        deployment = REPO + r"/deployments/(?P<deployment_id>\d+)"
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/user"), self._get_user),
            ("GET", re.compile(r"/rate_limit"), self._get_rate_limit),
            ("POST", re.compile(r"/graphql"), self._graphql),
            ("GET", re.compile(r"/search/issues"), self._search_issues),
            ("GET", re.compile(r"/orgs/(?P<org>[^/]+)/dependabot/alerts"), self._org_alerts),
            ("GET", re.compile(REPO), self._get_repo),
            ("GET", re.compile(REPO + r"/deployments"), self._list_deployments),
            ("GET", re.compile(deployment), self._get_deployment),
            ("GET", re.compile(deployment + r"/statuses"), self._list_deployment_statuses),
            ("GET", re.compile(REPO + r"/environments"), self._list_environments),
            ("GET", re.compile(REPO + r"/actions/runs"), self._list_runs),
            ("GET", re.compile(run), self._get_run),
            ("GET", re.compile(run + r"/jobs"), self._list_jobs),
            ("POST", re.compile(run + r"/rerun-failed-jobs"), self._rerun_failed_jobs),
            ("GET", re.compile(REPO + r"/actions/workflows"), self._list_workflows),
            (
                "GET",
                re.compile(REPO + r"/actions/workflows/(?P<workflow>[^/]+)/runs"),
                self._list_workflow_runs,
            ),
            ("GET", re.compile(REPO + r"/pulls"), self._list_pulls),
            ("GET", re.compile(pull), self._get_pull),
            ("GET", re.compile(pull + r"/reviews"), self._list_reviews),
            ("POST", re.compile(pull + r"/reviews"), self._create_review),
            ("PUT", re.compile(pull + r"/merge"), self._merge),
            ("GET", re.compile(REPO + r"/issues"), self._list_issues),
            ("POST", re.compile(REPO + r"/issues"), self._create_issue),
            ("GET", re.compile(issue), self._get_issue),
            ("GET", re.compile(issue + r"/comments"), self._list_comments),
            ("POST", re.compile(issue + r"/comments"), self._create_comment),
            ("GET", re.compile(commit + r"/status"), self._combined_status),
            ("GET", re.compile(commit + r"/check-runs"), self._check_runs),
            ("GET", re.compile(REPO + r"/dependabot/alerts"), self._repo_alerts),
        ]

    # ------------------------------------------------------------------ ProviderApp

    def handle(self, request: SimRequest, ctx: RequestContext) -> SimResponse:
        world = ctx.world.github
        path = request.path.rstrip("/") or "/"
        resource = (
            "graphql" if path == "/graphql" else "search" if path.startswith("/search/") else "core"
        )
        try:
            if "Authorization" not in request.headers and not self._known(request, path):
                raise not_found()  # anonymous, and nothing there: GitHub says 404
            self._authenticate(request, ctx)
            free = path == "/rate_limit"  # GitHub does not count it
            if not free and world.rate.exhausted(resource, ctx.now):
                raise self._primary_limit(world, resource, ctx)
            for method, pattern, handler in self._routes:
                match = pattern.fullmatch(path)
                if match is not None and method == request.method:
                    response = handler(request, ctx, match)
                    if (
                        request.method != "GET"
                        and path != "/graphql"
                        and response.status < 300
                        and self.lose_write_answers > 0
                    ):
                        self.lose_write_answers -= 1
                        raise ApiError(500, "Server Error")
                    break
            else:
                raise not_found()
        except ApiError as error:
            response = SimResponse.json_body(
                error.status, error.payload(ctx.base_url), JSON_MEDIA_TYPE, error.headers
            )
            if error.status in (401,) or "x-ratelimit-remaining" in error.headers:
                return response.with_headers(
                    self._rate_headers(world, resource, ctx.now), override=False
                )
            free = False
        if request.method == "GET" and response.status == 200:
            etag = '"' + hashlib.sha256(response.body).hexdigest()[:40] + '"'
            response = response.with_headers({"ETag": etag})
            if _etag_matches(request.headers.get("If-None-Match", ""), etag):
                world.rate.not_modified += 1
                response = SimResponse(304, response.headers, b"")
                return response.with_headers(self._rate_headers(world, resource, ctx.now))
        if path != "/graphql" and not free:
            world.rate.charge(resource, ctx.now, 1)
        return response.with_headers(self._rate_headers(world, resource, ctx.now), override=False)

    def fault_response(self, mode: str, ctx: RequestContext, retry_after: int) -> SimResponse:
        world = ctx.world.github
        headers = self._rate_headers(world, "core", ctx.now)
        if mode == "429":
            if self.rate_limit_style == "primary":
                reset = int(ctx.now.timestamp()) + retry_after
                error = ApiError(
                    self.rate_limit_status,
                    f"API rate limit exceeded for user ID {ME.id}.",
                    headers={
                        **headers,
                        "x-ratelimit-remaining": "0",
                        "x-ratelimit-reset": str(reset),
                    },
                )
            else:
                error = ApiError(
                    self.rate_limit_status,
                    SECONDARY_LIMIT,
                    headers={**headers, "retry-after": str(retry_after)},
                )
        elif mode == "401":
            error = ApiError(401, "Bad credentials", headers=headers)
        elif mode == "403":
            # A good token without the scope or repository permission: no retry-after and
            # rate-limit headers with requests left, so it cannot be taken for a limit.
            error = ApiError(403, NO_PERMISSION, headers=headers)
        elif mode == "502":
            # GitHub's front end (nginx) answers a gateway failure with its HTML page, on
            # REST and GraphQL alike (seen in turbot/steampipe-plugin-github#518), without
            # the API's rate-limit headers.
            return SimResponse(502, Headers({"Content-Type": "text/html"}), BAD_GATEWAY)
        elif mode == "503":
            error = ApiError(503, UNAVAILABLE, headers=headers)
        else:
            error = ApiError(500, "Server Error", headers=headers)
        return SimResponse.json_body(
            error.status, error.payload(ctx.base_url), JSON_MEDIA_TYPE, error.headers
        )

    def rate_limit_headers(self, state: RateState) -> dict[str, str]:
        # The hourly account lives in the world; `handle` and `fault_response` set the
        # headers from it, so nothing is added here.
        return {}

    def control_routes(self) -> Mapping[tuple[str, str], ControlHandler]:
        return {("POST", "/_sim/github"): self._control}

    def config_section(self, simulator: Simulator, ca_bundle: Path) -> dict[str, ConfigValue]:
        world = simulator.world.github
        return {
            "base_url": simulator.provider_url(self.name),
            "ca_bundle": str(ca_bundle),
            "token": simulator.tokens[self.name],
            # How each repository deploys, as the demo's own settings say: a repository
            # that deploys through a workflow shows empty cells when read as Deployments.
            "repositories": [
                name if source == "deployments" else {"name": name, "deploy_source": source}
                for name, source in world.deploy_sources()
            ],
        }

    # ------------------------------------------------------------------ control

    def _control(self, request: SimRequest, ctx: RequestContext) -> SimResponse:
        """`POST /_sim/github`: rate-limit fault style, alert access, rate account, answers
        to lose after a write landed."""
        try:
            payload = request.json()
        except ValueError:
            raise ValueError("the body must be JSON") from None
        if not isinstance(payload, dict):
            raise ValueError("the body must be a JSON object")
        unknown = set(payload) - {
            "rate_limit_status",
            "rate_limit_style",
            "alerts_readable",
            "remaining",
            "lose_write_answers",
        }
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        world = ctx.world.github
        if "rate_limit_status" in payload:
            if payload["rate_limit_status"] not in (403, 429):
                raise ValueError("rate_limit_status must be 403 or 429")
            self.rate_limit_status = payload["rate_limit_status"]
        if "rate_limit_style" in payload:
            if payload["rate_limit_style"] not in ("primary", "secondary"):
                raise ValueError("rate_limit_style must be primary or secondary")
            self.rate_limit_style = payload["rate_limit_style"]
        if "alerts_readable" in payload:
            world.alerts_readable = bool(payload["alerts_readable"])
        if "lose_write_answers" in payload:
            lose = payload["lose_write_answers"]
            if not isinstance(lose, int) or isinstance(lose, bool) or lose < 0:
                raise ValueError("lose_write_answers must be an integer >= 0")
            self.lose_write_answers = lose
        if "remaining" in payload:
            remaining = payload["remaining"]
            if not isinstance(remaining, int) or remaining < 0:
                raise ValueError("remaining must be an integer >= 0")
            for resource in world.rate.resources.values():
                resource.roll(ctx.now)
                resource.used = max(0, resource.limit - remaining)
        return SimResponse.json_body(
            200,
            {
                "rate_limit_status": self.rate_limit_status,
                "rate_limit_style": self.rate_limit_style,
                "alerts_readable": world.alerts_readable,
                "lose_write_answers": self.lose_write_answers,
                "rate": world.rate.snapshot(ctx.now),
            },
        )

    # ------------------------------------------------------------------ helpers

    def _known(self, request: SimRequest, path: str) -> bool:
        return any(
            method == request.method and pattern.fullmatch(path) is not None
            for method, pattern, _ in self._routes
        )

    @staticmethod
    def _authenticate(request: SimRequest, ctx: RequestContext) -> None:
        header = request.headers.get("Authorization", "").strip()
        match = re.fullmatch(r"(?i:token|bearer) (\S+)", header)
        if match is None or not ctx.token or not hmac.compare_digest(match[1], ctx.token):
            raise ApiError(401, "Bad credentials")

    @staticmethod
    def _rate_headers(world: GitHubWorld, resource: str, now: datetime) -> dict[str, str]:
        account = world.rate.resource(resource)
        return {
            "x-ratelimit-limit": str(account.limit),
            "x-ratelimit-remaining": str(account.remaining(now)),
            "x-ratelimit-reset": str(int(account.reset_at(now).timestamp())),
            "x-ratelimit-used": str(account.used),
            "x-ratelimit-resource": resource,
            "X-GitHub-Api-Version-Selected": API_VERSION,
        }

    def _primary_limit(self, world: GitHubWorld, resource: str, ctx: RequestContext) -> ApiError:
        headers = self._rate_headers(world, resource, ctx.now)
        headers["x-ratelimit-remaining"] = "0"
        return ApiError(403, f"API rate limit exceeded for user ID {ME.id}.", headers=headers)

    @staticmethod
    def _repo(ctx: RequestContext, match: re.Match[str]) -> Repository:
        repo = ctx.world.github.repository(f"{match['owner']}/{match['repo']}")
        if repo is None:
            raise not_found()
        return repo

    @staticmethod
    def _pull(ctx: RequestContext, repo: Repository, match: re.Match[str]) -> PullRequest:
        pull = ctx.world.github.pulls.get((repo.full_name, int(match["number"])))
        if pull is None:
            raise not_found()
        return pull

    @staticmethod
    def _run(ctx: RequestContext, repo: Repository, match: re.Match[str]) -> WorkflowRun:
        run = ctx.world.github.runs.get(int(match["run_id"]))
        if run is None or run.repo != repo.full_name:
            raise not_found()
        return run

    # ------------------------------------------------------------------ users, limits

    def _get_user(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        render = _Render(ctx)
        user = render.user(ME)
        user.update(
            {
                "name": ME.name,
                "company": "Benefits Platform",
                "blog": "",
                "location": "Washington, DC",
                "email": None,
                "hireable": None,
                "bio": "SRE, on call this sprint",
                "public_repos": 3,
                "public_gists": 0,
                "followers": 12,
                "following": 4,
                "created_at": "2019-03-04T15:00:00Z",
                "updated_at": "2026-10-01T12:00:00Z",
                "private_gists": 0,
                "total_private_repos": 0,
                "owned_private_repos": 0,
                "disk_usage": 1024,
                "collaborators": 0,
                "two_factor_authentication": True,
                # The token owner sees their private profile (the spec's discriminator).
                "user_view_type": "private",
            }
        )
        return _reply(200, user)

    def _get_rate_limit(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.github
        resources = {}
        for name, account in world.rate.resources.items():
            resources[name] = {
                "limit": account.limit,
                "remaining": account.remaining(ctx.now),
                "reset": int(account.reset_at(ctx.now).timestamp()),
                "used": account.used,
                "resource": name,
            }
        return _reply(200, {"resources": resources, "rate": resources["core"]})

    # ------------------------------------------------------------------ GraphQL

    def _graphql(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        world = ctx.world.github
        try:
            body = request.json()
        except ValueError:
            raise ApiError(400, "Problems parsing JSON") from None
        prepared = prepare(body)
        if isinstance(prepared, list):
            world.rate.charge("graphql", ctx.now, 1)
            return _reply(200, {"errors": prepared})
        if world.rate.exhausted("graphql", ctx.now, prepared.cost):
            raise self._primary_limit(world, "graphql", ctx)
        world.rate.charge("graphql", ctx.now, prepared.cost)
        graph = Graph(world, ctx.base_url, prepared.cost)
        return _reply(200, execute(prepared, graph.query()))

    # ------------------------------------------------------------------ repositories

    def _get_repo(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        return _reply(200, _Render(ctx).full_repository(repo))

    # ------------------------------------------------------------------ deployments

    def _list_deployments(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        filters = {name: request.first(name) for name in ("sha", "ref", "task", "environment")}
        found = [
            d
            for d in ctx.world.github.deployments_of(repo.full_name)
            if (filters["sha"] in (None, "none", d.sha))
            and (filters["ref"] in (None, "none", d.ref))
            and (filters["task"] in (None, "none", "deploy"))
            and (filters["environment"] in (None, "none", d.environment))
        ]
        render = _Render(ctx)
        return _paginated(request, ctx, found, render.deployment)

    def _get_deployment(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        deployment = self._deployment(ctx, repo, match)
        return _reply(200, _Render(ctx).deployment(deployment))

    @staticmethod
    def _deployment(ctx: RequestContext, repo: Repository, match: re.Match[str]) -> Deployment:
        deployment = ctx.world.github.deployments.get(int(match["deployment_id"]))
        if deployment is None or deployment.repo != repo.full_name:
            raise not_found()
        return deployment

    def _list_deployment_statuses(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        deployment = self._deployment(ctx, repo, match)
        render = _Render(ctx)
        statuses = list(reversed(deployment.statuses))
        return _paginated(request, ctx, statuses, lambda s: render.deployment_status(deployment, s))

    def _list_environments(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        render = _Render(ctx)
        environments = [
            render.environment(repo, position, env)
            for position, env in enumerate(repo.environments)
        ]
        return _reply(200, {"total_count": len(environments), "environments": environments})

    # ------------------------------------------------------------------ actions

    def _list_runs(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        return self._runs_page(request, ctx, ctx.world.github.runs_of(repo.full_name))

    def _list_workflow_runs(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        workflow = ctx.world.github.workflow(repo.full_name, match["workflow"])
        if workflow is None:
            raise not_found()
        return self._runs_page(request, ctx, ctx.world.github.runs_of(repo.full_name, workflow))

    def _runs_page(
        self, request: SimRequest, ctx: RequestContext, runs: list[WorkflowRun]
    ) -> SimResponse:
        status = request.first("status")
        event = request.first("event")
        branch = request.first("branch")
        actor = request.first("actor")
        found = [
            r
            for r in runs
            if (status is None or status in (r.status, r.conclusion))
            and (event is None or r.event == event)
            and (branch is None or r.head_branch == branch)
            and (actor is None or r.actor.login == actor)
        ]
        render = _Render(ctx)
        page, headers = _page(request, ctx, found)
        body = {"total_count": len(found), "workflow_runs": [render.run(r) for r in page]}
        return _reply(200, body, headers)

    def _get_run(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        return _reply(200, _Render(ctx).run(self._run(ctx, repo, match)))

    def _list_jobs(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        run = self._run(ctx, repo, match)
        jobs = (
            run.jobs
            if request.first("filter") == "all"
            else [j for j in run.jobs if j.run_attempt == run.run_attempt]
        )
        render = _Render(ctx)
        page, headers = _page(request, ctx, jobs)
        return _reply(
            200, {"total_count": len(jobs), "jobs": [render.job(run, j) for j in page]}, headers
        )

    def _rerun_failed_jobs(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        run = self._run(ctx, repo, match)
        try:
            ctx.world.github.rerun_failed_jobs(run, ME, ctx.now)
        except ValueError as error:
            raise ApiError(403, str(error)) from None
        return _reply(201, {})

    def _list_workflows(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        render = _Render(ctx)
        workflows = ctx.world.github.workflows_of(repo.full_name)
        return _reply(
            200,
            {"total_count": len(workflows), "workflows": [render.workflow(w) for w in workflows]},
        )

    # ------------------------------------------------------------------ pulls

    def _list_pulls(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        state = request.first("state") or "open"
        if state not in ("open", "closed", "all"):
            raise ApiError(
                422,
                "Validation Failed",
                [{"resource": "Search", "field": "state", "code": "invalid"}],
            )
        head = request.first("head")
        base = request.first("base")
        pulls = [
            p
            for p in ctx.world.github.pulls_of(repo.full_name)
            if (state == "all" or p.state == state)
            and (base is None or p.base_ref == base)
            and (head is None or head.partition(":")[2] == p.head_ref)
        ]
        sort = request.first("sort") or "created"
        direction = request.first("direction") or ("desc" if sort == "created" else "desc")
        key = "updated_at" if sort == "updated" else "created_at"
        pulls.sort(key=lambda p: (getattr(p, key), p.number), reverse=direction == "desc")
        render = _Render(ctx)
        return _paginated(request, ctx, pulls, render.pull_simple)

    def _get_pull(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        return _reply(200, _Render(ctx).pull_full(self._pull(ctx, repo, match)))

    def _list_reviews(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        pull = self._pull(ctx, repo, match)
        render = _Render(ctx)
        return _paginated(request, ctx, pull.reviews, lambda r: render.review(pull, r))

    def _create_review(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        pull = self._pull(ctx, repo, match)
        body = _json_object(request)
        event = body.get("event")
        if event is not None and event not in ("APPROVE", "REQUEST_CHANGES", "COMMENT"):
            raise ApiError(422, "Unprocessable Entity", ["Invalid event"])
        text = body.get("body") or ""
        if event in ("REQUEST_CHANGES", "COMMENT") and not text:
            raise ApiError(
                422,
                "Unprocessable Entity",
                [f"Review Can not {event.lower().replace('_', ' ')} without a body"],
            )
        try:
            review = ctx.world.github.add_review(pull, ME, event or "PENDING", str(text), ctx.now)
        except ReviewRefused as error:
            raise ApiError(422, "Unprocessable Entity", [str(error)]) from None
        return _reply(200, _Render(ctx).review(pull, review))

    def _merge(self, request: SimRequest, ctx: RequestContext, match: re.Match[str]) -> SimResponse:
        repo = self._repo(ctx, match)
        pull = self._pull(ctx, repo, match)
        body = _json_object(request)
        method = body.get("merge_method", "merge")
        if method not in ("merge", "squash", "rebase"):
            raise ApiError(
                422,
                "Validation Failed",
                [{"resource": "PullRequest", "field": "merge_method", "code": "invalid"}],
            )
        sha = body.get("sha")
        try:
            merged = ctx.world.github.merge(
                pull, ME, str(method), sha if isinstance(sha, str) else None, ctx.now
            )
        except MergeRefused as error:
            raise ApiError(error.status, str(error)) from None
        return _reply(
            200, {"sha": merged, "merged": True, "message": "Pull Request successfully merged"}
        )

    # ------------------------------------------------------------------ issues

    def _list_issues(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        state = request.first("state") or "open"
        labels = {label for label in (request.first("labels") or "").split(",") if label}
        items: list[Issue | PullRequest] = [
            *ctx.world.github.issues_of(repo.full_name),
            *ctx.world.github.pulls_of(repo.full_name),
        ]
        found = [
            i for i in items if (state == "all" or i.state == state) and labels <= set(i.labels)
        ]
        found.sort(
            key=lambda i: (i.created_at, i.number), reverse=request.first("direction") != "asc"
        )
        render = _Render(ctx)
        return _paginated(request, ctx, found, render.issue)

    def _create_issue(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        body = _json_object(request)
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ApiError(
                422,
                "Validation Failed",
                [{"resource": "Issue", "field": "title", "code": "missing_field"}],
            )
        labels = tuple(str(label) for label in body.get("labels") or [] if isinstance(label, str))
        issue = ctx.world.github.create_issue(
            repo, ME, title, str(body.get("body") or ""), labels, ctx.now
        )
        return _reply(201, _Render(ctx).issue(issue))

    def _issue_or_pull(
        self, ctx: RequestContext, repo: Repository, match: re.Match[str]
    ) -> Issue | PullRequest:
        key = (repo.full_name, int(match["number"]))
        found = ctx.world.github.issues.get(key) or ctx.world.github.pulls.get(key)
        if found is None:
            raise not_found()
        return found

    def _get_issue(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        return _reply(200, _Render(ctx).issue(self._issue_or_pull(ctx, repo, match)))

    def _list_comments(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        item = self._issue_or_pull(ctx, repo, match)
        since = _timestamp_param(request, "since")
        comments = [c for c in item.comments if since is None or c.updated_at >= since]
        render = _Render(ctx)
        return _paginated(request, ctx, comments, lambda c: render.comment(item, c))

    def _create_comment(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        item = self._issue_or_pull(ctx, repo, match)
        body = _json_object(request)
        text = body.get("body")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(
                422,
                "Validation Failed",
                [{"resource": "IssueComment", "field": "body", "code": "missing_field"}],
            )
        comment = ctx.world.github.add_comment(item, ME, text, ctx.now)
        return _reply(201, _Render(ctx).comment(item, comment))

    # ------------------------------------------------------------------ commits

    def _sha(self, ctx: RequestContext, repo: Repository, ref: str) -> str:
        world = ctx.world.github
        if re.fullmatch(r"[0-9a-f]{40}", ref):
            return ref
        for pull in world.pulls_of(repo.full_name):
            if pull.head_ref == ref:
                return pull.head_sha
        if ref in (repo.default_branch, "main"):
            return sha_for(repo.full_name, "base", ctx.now.date())
        raise ApiError(422, f"No commit found for SHA: {ref}")

    def _combined_status(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        sha = self._sha(ctx, repo, match["ref"])
        statuses = ctx.world.github.statuses_for(repo.full_name, sha)
        states = {s.state for s in statuses}
        state = (
            "failure"
            if states & {"failure", "error"}
            else "pending"
            if "pending" in states or not states
            else "success"
        )
        render = _Render(ctx)
        body = {
            "state": state,
            "statuses": [render.commit_status(repo, sha, s) for s in statuses],
            "sha": sha,
            "total_count": len(statuses),
            "repository": render.repository(repo),
            "commit_url": f"{ctx.base_url}/repos/{repo.full_name}/commits/{sha}",
            "url": f"{ctx.base_url}/repos/{repo.full_name}/commits/{sha}/status",
        }
        return _reply(200, body)

    def _check_runs(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        sha = self._sha(ctx, repo, match["ref"])
        checks = ctx.world.github.checks_for(repo.full_name, sha)
        status = request.first("status")
        name = request.first("check_name")
        found = [
            c
            for c in checks
            if (status is None or c.status == status) and (name is None or c.name == name)
        ]
        render = _Render(ctx)
        page, headers = _page(request, ctx, found)
        return _reply(
            200,
            {"total_count": len(found), "check_runs": [render.check_run(repo, c) for c in page]},
            headers,
        )

    # ------------------------------------------------------------------ Dependabot alerts

    def _alerts(self, request: SimRequest, ctx: RequestContext, alerts: list[Alert]) -> list[Alert]:
        if not ctx.world.github.alerts_readable:
            raise ApiError(403, NO_PERMISSION)
        state = request.first("state")
        severity = request.first("severity")
        ecosystem = request.first("ecosystem")
        package = request.first("package")
        states = set(state.split(",")) if state else None
        found = [
            a
            for a in alerts
            if (states is None or a.state in states)
            and (severity is None or a.severity in severity.split(","))
            and (ecosystem is None or ADVISORY_ECOSYSTEMS.get(a.ecosystem) in ecosystem.split(","))
            and (package is None or a.package in package.split(","))
        ]
        found.sort(
            key=lambda a: (a.created_at, a.number), reverse=request.first("direction") != "asc"
        )
        return found

    def _repo_alerts(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        repo = self._repo(ctx, match)
        found = self._alerts(request, ctx, ctx.world.github.alerts_of(repo.full_name))
        render = _Render(ctx)
        return _paginated(request, ctx, found, render.alert)

    def _org_alerts(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        org = match["org"].lower()
        alerts = [
            a for a in ctx.world.github.alerts.values() if a.repo.lower().startswith(org + "/")
        ]
        if not alerts and not any(
            r.owner.lower() == org for r in ctx.world.github.repositories.values()
        ):
            raise not_found()
        found = self._alerts(request, ctx, alerts)
        render = _Render(ctx)

        def with_repository(alert: Alert) -> dict[str, Any]:
            repo = ctx.world.github.repository(alert.repo)
            assert repo is not None
            return {**render.alert(alert), "repository": render.repository(repo)}

        return _paginated(request, ctx, found, with_repository)

    # ------------------------------------------------------------------ search

    def _search_issues(
        self, request: SimRequest, ctx: RequestContext, match: re.Match[str]
    ) -> SimResponse:
        query = request.first("q")
        if not query:
            raise ApiError(
                422, "Validation Failed", [{"resource": "Search", "field": "q", "code": "missing"}]
            )
        found = search_issues(ctx.world.github, query)[:1000]
        render = _Render(ctx)
        page, headers = _page(request, ctx, found)
        items = [{**render.issue(i), "score": 1.0} for i in page]
        body = {
            "total_count": len(found),
            "incomplete_results": False,
            "items": items,
            "search_type": "lexical",
        }
        return _reply(200, body, headers)


# --------------------------------------------------------------------------- plumbing


def _reply(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> SimResponse:
    return SimResponse.json_body(status, payload, JSON_MEDIA_TYPE, headers)


def _json_object(request: SimRequest) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        body = request.json()
    except ValueError:
        raise ApiError(400, "Problems parsing JSON") from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, "Body should be a JSON object")
    return body


def _etag_matches(header: str, etag: str) -> bool:
    if not header:
        return False
    candidates = {part.strip().removeprefix("W/") for part in header.split(",")}
    return "*" in candidates or etag in candidates


def _timestamp_param(request: SimRequest, name: str) -> datetime | None:
    """An ISO 8601 query parameter (`since=2026-11-27T14:00:00Z`); 422 if unreadable."""
    value = request.first(name)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            422,
            "Validation Failed",
            [{"resource": "IssueComment", "field": name, "code": "invalid"}],
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _page_params(request: SimRequest) -> tuple[int, int]:
    try:
        per_page = int(request.first("per_page") or DEFAULT_PER_PAGE)
        page = int(request.first("page") or 1)
    except ValueError:
        raise ApiError(
            422,
            "Validation Failed",
            [{"resource": "Search", "field": "per_page", "code": "invalid"}],
        ) from None
    return max(1, min(per_page, MAX_PER_PAGE)), max(1, page)


def _page(
    request: SimRequest, ctx: RequestContext, items: Sequence[Any]
) -> tuple[list[Any], dict[str, str]]:
    """One page of `items` and its `Link` header (URLs on the simulator's own host)."""
    per_page, page = _page_params(request)
    last = max(1, -(-len(items) // per_page))
    chunk = list(items[(page - 1) * per_page : page * per_page])
    links = []

    def url(number: int) -> str:
        query = {k: v[0] for k, v in request.query.items() if k not in ("page",)}
        query["page"] = str(number)
        return f"{ctx.base_url}{request.path}?{urlencode(sorted(query.items()))}"

    if page < last:
        links.append(f'<{url(page + 1)}>; rel="next"')
        links.append(f'<{url(last)}>; rel="last"')
    if page > 1:
        links.insert(0, f'<{url(page - 1)}>; rel="prev"')
        links.insert(1, f'<{url(1)}>; rel="first"')
    return chunk, ({"Link": ", ".join(links)} if links else {})


def _paginated(
    request: SimRequest,
    ctx: RequestContext,
    items: Sequence[Any],
    render: Callable[[Any], dict[str, Any]],
) -> SimResponse:
    page, headers = _page(request, ctx, items)
    return _reply(200, [render(item) for item in page], headers)


# --------------------------------------------------------------------------- rendering


_REPO_URLS = (
    ("archive_url", "/{archive_format}{/ref}"),
    ("assignees_url", "/assignees{/user}"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("branches_url", "/branches{/branch}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("comments_url", "/comments{/number}"),
    ("commits_url", "/commits{/sha}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("contents_url", "/contents/{+path}"),
    ("contributors_url", "/contributors"),
    ("deployments_url", "/deployments"),
    ("downloads_url", "/downloads"),
    ("events_url", "/events"),
    ("forks_url", "/forks"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("hooks_url", "/hooks"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("issue_events_url", "/issues/events{/number}"),
    ("issues_url", "/issues{/number}"),
    ("keys_url", "/keys{/key_id}"),
    ("labels_url", "/labels{/name}"),
    ("languages_url", "/languages"),
    ("merges_url", "/merges"),
    ("milestones_url", "/milestones{/number}"),
    ("notifications_url", "/notifications{?since,all,participating}"),
    ("pulls_url", "/pulls{/number}"),
    ("releases_url", "/releases{/id}"),
    ("stargazers_url", "/stargazers"),
    ("statuses_url", "/statuses/{sha}"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("tags_url", "/tags"),
    ("teams_url", "/teams"),
    ("trees_url", "/git/trees{/sha}"),
)


class _Render:
    """GitHub REST JSON for world objects; every URL on the simulator's host and prefix."""

    def __init__(self, ctx: RequestContext) -> None:
        self.base = ctx.base_url
        self.web = ctx.base_url
        self.world: GitHubWorld = ctx.world.github

    def user(self, account: Account) -> dict[str, Any]:
        login = quote(account.login)
        api = f"{self.base}/users/{login}"
        html = (
            f"{self.web}/apps/{account.login.removesuffix('[bot]')}"
            if account.type == "Bot"
            else f"{self.web}/{login}"
        )
        return {
            "login": account.login,
            "id": account.id,
            "node_id": node_id("U" if account.type == "User" else "BOT", account.id),
            "avatar_url": f"{self.base}/avatars/u/{account.id}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": html,
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": account.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def repository(self, repo: Repository) -> dict[str, Any]:
        api = f"{self.base}/repos/{repo.full_name}"
        body: dict[str, Any] = {
            "id": repo.id,
            "node_id": node_id("R", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user(Account(repo.owner, 9_100_001, "Organization")),
            "html_url": f"{self.web}/{repo.full_name}",
            "description": f"{repo.name}: part of the benefits platform",
            "fork": False,
            "url": api,
        }
        for key, suffix in _REPO_URLS:
            body[key] = api + suffix
        return body

    def full_repository(self, repo: Repository) -> dict[str, Any]:
        host = self.base.split("://", 1)[1].split("/", 1)[0]
        return {
            **self.repository(repo),
            "clone_url": f"{self.web}/{repo.full_name}.git",
            "git_url": f"git://{host}/{repo.full_name}.git",
            "ssh_url": f"git@{host}:{repo.full_name}.git",
            "svn_url": f"{self.web}/{repo.full_name}",
            "mirror_url": None,
            "homepage": None,
            "language": "Java",
            "forks": 0,
            "forks_count": 0,
            "stargazers_count": 4,
            "watchers_count": 4,
            "watchers": 4,
            "size": 20480,
            "default_branch": repo.default_branch,
            "open_issues": sum(1 for p in self.world.pulls_of(repo.full_name) if p.state == "open"),
            "open_issues_count": sum(
                1 for p in self.world.pulls_of(repo.full_name) if p.state == "open"
            ),
            "is_template": False,
            "topics": ["benefits", "on-call"],
            "has_issues": True,
            "has_projects": False,
            "has_wiki": False,
            "has_pages": False,
            "has_downloads": True,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "visibility": "private" if repo.private else "public",
            "pushed_at": iso(self.world.now),
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.created_at),
            "permissions": {
                "admin": False,
                "maintain": False,
                "push": True,
                "triage": True,
                "pull": True,
            },
            "allow_squash_merge": True,
            "allow_merge_commit": True,
            "allow_rebase_merge": True,
            "delete_branch_on_merge": True,
            "license": None,
            "network_count": 0,
            "subscribers_count": 6,
        }

    def deployment(self, deployment: Deployment) -> dict[str, Any]:
        api = f"{self.base}/repos/{deployment.repo}/deployments/{deployment.id}"
        return {
            "url": api,
            "id": deployment.id,
            "node_id": node_id("DE", deployment.id),
            "sha": deployment.sha,
            "ref": deployment.ref,
            "task": "deploy",
            "payload": deployment.payload,
            "original_environment": deployment.environment,
            "environment": deployment.environment,
            "description": deployment.description,
            "creator": self.user(deployment.creator),
            "created_at": iso(deployment.created_at),
            "updated_at": iso(deployment.updated_at),
            "statuses_url": f"{api}/statuses",
            "repository_url": f"{self.base}/repos/{deployment.repo}",
            "transient_environment": False,
            "production_environment": deployment.production,
        }

    def deployment_status(self, deployment: Deployment, status: DeploymentStatus) -> dict[str, Any]:
        api = f"{self.base}/repos/{deployment.repo}/deployments/{deployment.id}"
        log = f"{self.web}/{deployment.repo}/deployments/{deployment.environment}"
        return {
            "url": f"{api}/statuses/{status.id}",
            "id": status.id,
            "node_id": node_id("DES", status.id),
            "state": status.state,
            "creator": self.user(status.creator),
            "description": status.description,
            "environment": status.environment,
            "target_url": log,
            "log_url": log,
            "environment_url": "",
            "created_at": iso(status.created_at),
            "updated_at": iso(status.created_at),
            "deployment_url": api,
            "repository_url": f"{self.base}/repos/{deployment.repo}",
        }

    def environment(self, repo: Repository, position: int, name: str) -> dict[str, Any]:
        return {
            "id": repo.id * 10 + position,
            "node_id": node_id("EN", repo.id * 10 + position),
            "name": name,
            "url": f"{self.base}/repos/{repo.full_name}/environments/{quote(name)}",
            "html_url": (
                f"{self.web}/{repo.full_name}/deployments/activity_log"
                f"?environments_filter={quote(name)}"
            ),
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.created_at),
            "protection_rules": [],
            "deployment_branch_policy": None,
        }

    def workflow(self, workflow: Workflow) -> dict[str, Any]:
        api = f"{self.base}/repos/{workflow.repo}/actions/workflows/{workflow.id}"
        return {
            "id": workflow.id,
            "node_id": node_id("W", workflow.id),
            "name": workflow.name,
            "path": workflow.path,
            "state": "active",
            "created_at": iso(workflow.created_at),
            "updated_at": iso(workflow.created_at),
            "url": api,
            "html_url": f"{self.web}/{workflow.repo}/blob/develop/{workflow.path}",
            "badge_url": f"{self.web}/{workflow.repo}/workflows/{quote(workflow.name)}/badge.svg",
        }

    def run(self, run: WorkflowRun) -> dict[str, Any]:
        repo = self.world.repository(run.repo)
        assert repo is not None
        api = f"{self.base}/repos/{run.repo}/actions/runs/{run.id}"
        minimal = self.repository(repo)
        suite = run.id + 3_000_000_000
        body: dict[str, Any] = {
            "id": run.id,
            "name": run.workflow.name,
            "node_id": node_id("WFR", run.id),
            "check_suite_id": suite,
            "check_suite_node_id": node_id("CS", suite),
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
            "path": run.workflow.path,
            "display_title": run.display_title,
            "run_number": run.run_number,
            "event": run.event,
            "status": run.status,
            "conclusion": run.conclusion,
            "workflow_id": run.workflow.id,
            "url": api,
            "html_url": f"{self.web}/{run.repo}/actions/runs/{run.id}",
            "pull_requests": [],
            "created_at": iso(run.created_at),
            "updated_at": iso(run.updated_at),
            "actor": self.user(run.actor),
            "triggering_actor": self.user(run.actor),
            "run_attempt": run.run_attempt,
            "referenced_workflows": [],
            "run_started_at": iso(run.run_started_at),
            "jobs_url": f"{api}/jobs",
            "logs_url": f"{api}/logs",
            "check_suite_url": f"{self.base}/repos/{run.repo}/check-suites/{suite}",
            "artifacts_url": f"{api}/artifacts",
            "cancel_url": f"{api}/cancel",
            "rerun_url": f"{api}/rerun",
            "previous_attempt_url": f"{api}/attempts/{run.run_attempt - 1}"
            if run.run_attempt > 1
            else None,
            "workflow_url": f"{self.base}/repos/{run.repo}/actions/workflows/{run.workflow.id}",
            "head_commit": {
                "id": run.head_sha,
                "tree_id": sha_for(run.head_sha, "tree"),
                "message": f"Release {run.head_branch} build",
                "timestamp": iso(run.created_at),
                "author": {
                    "name": run.actor.name or run.actor.login,
                    "email": f"{run.actor.login}@example.com",
                },
                "committer": {"name": "GitHub", "email": "noreply@example.com"},
            },
            "repository": minimal,
            "head_repository": minimal,
        }
        return body

    def job(self, run: WorkflowRun, job: Job) -> dict[str, Any]:
        api = f"{self.base}/repos/{run.repo}/actions/jobs/{job.id}"
        return {
            "id": job.id,
            "run_id": run.id,
            "run_url": f"{self.base}/repos/{run.repo}/actions/runs/{run.id}",
            "run_attempt": job.run_attempt,
            "node_id": node_id("CR", job.id),
            "head_sha": run.head_sha,
            "url": api,
            "html_url": f"{self.web}/{run.repo}/actions/runs/{run.id}/job/{job.id}",
            "status": job.status,
            "conclusion": job.conclusion,
            "created_at": iso(job.created_at),
            "started_at": iso(job.started_at or job.created_at),
            "completed_at": iso(job.completed_at) if job.completed_at else None,
            "name": job.name,
            "steps": [
                {
                    "name": step.name,
                    "status": step.status,
                    "conclusion": step.conclusion,
                    "number": step.number,
                    "started_at": iso(step.started_at) if step.started_at else None,
                    "completed_at": iso(step.completed_at) if step.completed_at else None,
                }
                for step in job.steps
            ],
            "check_run_url": f"{self.base}/repos/{run.repo}/check-runs/{job.id}",
            "labels": ["self-hosted", "arc-runner-set"],
            "runner_id": (job.id % 1000) if job.runner else None,
            "runner_name": job.runner or None,
            "runner_group_id": 1 if job.runner else None,
            "runner_group_name": "Default" if job.runner else None,
            "workflow_name": run.workflow.name,
            "head_branch": run.head_branch,
        }

    def _label(self, repo: str, name: str) -> dict[str, Any]:
        number = int(
            hashlib.sha1(f"{repo}:{name}".encode(), usedforsecurity=False).hexdigest()[:8], 16
        )
        return {
            "id": number,
            "node_id": node_id("LA", number),
            "url": f"{self.base}/repos/{repo}/labels/{quote(name)}",
            "name": name,
            "description": f"Pull requests that update {name} code"
            if name != "dependencies"
            else "Pull requests that update a dependency file",
            "color": "0366d6",
            "default": False,
        }

    def _association(self, account: Account) -> str:
        return "MEMBER" if account.type == "User" else "CONTRIBUTOR"

    def pull_simple(self, pull: PullRequest) -> dict[str, Any]:
        repo = self.world.repository(pull.repo)
        assert repo is not None
        api = f"{self.base}/repos/{pull.repo}/pulls/{pull.number}"
        issue = f"{self.base}/repos/{pull.repo}/issues/{pull.number}"
        html = f"{self.web}/{pull.repo}/pull/{pull.number}"
        statuses = f"{self.base}/repos/{pull.repo}/statuses/{pull.head_sha}"
        full_repo = {
            k: v
            for k, v in self.full_repository(repo).items()
            if k not in ("network_count", "subscribers_count")
        }
        org = Account(repo.owner, 9_100_001, "Organization")
        return {
            "url": api,
            "id": pull.id,
            "node_id": node_id("PR", pull.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue,
            "commits_url": f"{api}/commits",
            "review_comments_url": f"{api}/comments",
            "review_comment_url": f"{self.base}/repos/{pull.repo}/pulls/comments{{/number}}",
            "comments_url": f"{issue}/comments",
            "statuses_url": statuses,
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self.user(pull.user),
            "body": pull.body,
            "labels": [self._label(pull.repo, name) for name in pull.labels],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": iso(pull.created_at),
            "updated_at": iso(pull.updated_at),
            "closed_at": iso(pull.closed_at) if pull.closed_at else None,
            "merged_at": iso(pull.merged_at) if pull.merged_at else None,
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": {
                "label": f"{repo.owner}:{pull.head_ref}",
                "ref": pull.head_ref,
                "sha": pull.head_sha,
                "user": self.user(org),
                "repo": full_repo,
            },
            "base": {
                "label": f"{repo.owner}:{pull.base_ref}",
                "ref": pull.base_ref,
                "sha": pull.base_sha,
                "user": self.user(org),
                "repo": full_repo,
            },
            "_links": {
                "self": {"href": api},
                "html": {"href": html},
                "issue": {"href": issue},
                "comments": {"href": f"{issue}/comments"},
                "review_comments": {"href": f"{api}/comments"},
                "review_comment": {
                    "href": f"{self.base}/repos/{pull.repo}/pulls/comments{{/number}}"
                },
                "commits": {"href": f"{api}/commits"},
                "statuses": {"href": statuses},
            },
            "author_association": self._association(pull.user),
            "auto_merge": None,
            "draft": pull.draft,
        }

    def pull_full(self, pull: PullRequest) -> dict[str, Any]:
        ci = self.world.ci_state(pull.repo, pull.head_sha)
        if pull.state != "open":
            mergeable_state = "unknown"
        elif pull.conflicting:
            mergeable_state = "dirty"
        elif ci in ("FAILURE", "ERROR"):
            mergeable_state = "unstable"
        elif not pull.approved:
            mergeable_state = "blocked"
        else:
            mergeable_state = "clean"
        return {
            **self.pull_simple(pull),
            "merged": pull.merged,
            "mergeable": None if pull.state != "open" else not pull.conflicting,
            "rebaseable": None if pull.state != "open" else not pull.conflicting,
            "mergeable_state": mergeable_state,
            "merged_by": self.user(pull.merged_by) if pull.merged_by else None,
            "comments": len(pull.comments),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": 1,
            "additions": 2 * len(pull.updates) or 40,
            "deletions": 2 * len(pull.updates) or 12,
            "changed_files": len(pull.updates) or 3,
        }

    def review(self, pull: PullRequest, review: Review) -> dict[str, Any]:
        html = f"{self.web}/{pull.repo}/pull/{pull.number}#pullrequestreview-{review.id}"
        api = f"{self.base}/repos/{pull.repo}/pulls/{pull.number}"
        body: dict[str, Any] = {
            "id": review.id,
            "node_id": node_id("PRR", review.id),
            "user": self.user(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": api,
            "_links": {"html": {"href": html}, "pull_request": {"href": api}},
            "commit_id": review.commit_id,
            "author_association": self._association(review.user),
        }
        if review.state != "PENDING":
            body["submitted_at"] = iso(review.submitted_at)
        return body

    def issue(self, item: Issue | PullRequest) -> dict[str, Any]:
        api = f"{self.base}/repos/{item.repo}/issues/{item.number}"
        kind = "pull" if isinstance(item, PullRequest) else "issues"
        html = f"{self.web}/{item.repo}/{kind}/{item.number}"
        body: dict[str, Any] = {
            "id": item.id,
            "node_id": node_id("PR" if isinstance(item, PullRequest) else "I", item.id),
            "url": api,
            "repository_url": f"{self.base}/repos/{item.repo}",
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": html,
            "number": item.number,
            "state": item.state,
            "title": item.title,
            "body": item.body,
            "user": self.user(item.user),
            "labels": [self._label(item.repo, name) for name in item.labels],
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": len(item.comments),
            "closed_at": iso(item.closed_at) if item.closed_at else None,
            "created_at": iso(item.created_at),
            "updated_at": iso(item.updated_at),
            "author_association": self._association(item.user),
            "reactions": self._reactions(api),
            "timeline_url": f"{api}/timeline",
        }
        if isinstance(item, PullRequest):
            pull_api = f"{self.base}/repos/{item.repo}/pulls/{item.number}"
            body["pull_request"] = {
                "url": pull_api,
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": iso(item.merged_at) if item.merged_at else None,
            }
            body["draft"] = item.draft
        return body

    @staticmethod
    def _reactions(api: str) -> dict[str, Any]:
        return {
            "url": f"{api}/reactions",
            "total_count": 0,
            "+1": 0,
            "-1": 0,
            "laugh": 0,
            "confused": 0,
            "heart": 0,
            "hooray": 0,
            "eyes": 0,
            "rocket": 0,
        }

    def comment(self, item: Issue | PullRequest, comment: Comment) -> dict[str, Any]:
        api = f"{self.base}/repos/{item.repo}/issues/comments/{comment.id}"
        kind = "pull" if isinstance(item, PullRequest) else "issues"
        return {
            "id": comment.id,
            "node_id": node_id("IC", comment.id),
            "url": api,
            "html_url": f"{self.web}/{item.repo}/{kind}/{item.number}#issuecomment-{comment.id}",
            "body": comment.body,
            "user": self.user(comment.user),
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "issue_url": f"{self.base}/repos/{item.repo}/issues/{item.number}",
            "author_association": self._association(comment.user),
            "reactions": self._reactions(api),
        }

    def commit_status(self, repo: Repository, sha: str, status: CommitStatus) -> dict[str, Any]:
        return {
            "url": f"{self.base}/repos/{repo.full_name}/statuses/{sha}",
            "avatar_url": f"{self.base}/avatars/u/{ACTIONS_BOT.id}?v=4",
            "id": status.id,
            "node_id": node_id("SC", status.id),
            "state": status.state,
            "description": status.description,
            "target_url": f"{self.web}/{repo.full_name}/sonar/{sha[:7]}",
            "context": status.context,
            "created_at": iso(status.created_at),
            "updated_at": iso(status.updated_at),
        }

    def _app(self) -> dict[str, Any]:
        owner = Account("github", 9_919, "Organization")
        return {
            "id": 15368,
            "slug": "github-actions",
            "node_id": node_id("A", 15368),
            "owner": self.user(owner),
            "name": "GitHub Actions",
            "description": "Automate your workflow from idea to production",
            "external_url": f"{self.web}/features/actions",
            "html_url": f"{self.web}/apps/github-actions",
            "created_at": "2018-07-30T09:30:17Z",
            "updated_at": "2019-12-10T19:04:12Z",
            "permissions": {
                "checks": "write",
                "contents": "write",
                "deployments": "write",
                "issues": "write",
                "metadata": "read",
            },
            "events": [
                "check_run",
                "check_suite",
                "deployment",
                "pull_request",
                "push",
                "workflow_dispatch",
            ],
        }

    def check_run(self, repo: Repository, check: CheckRun) -> dict[str, Any]:
        api = f"{self.base}/repos/{repo.full_name}/check-runs/{check.id}"
        html = f"{self.web}/{repo.full_name}/runs/{check.id}"
        summary = None
        if check.conclusion == "failure":
            summary = f"{check.name} failed: 3 tests failed"
        elif check.conclusion == "success":
            summary = f"{check.name} passed"
        return {
            "id": check.id,
            "head_sha": check.head_sha,
            "node_id": node_id("CR", check.id),
            "external_id": str(check.id),
            "url": api,
            "html_url": html,
            "details_url": html,
            "status": check.status,
            "conclusion": check.conclusion,
            "started_at": iso(check.started_at),
            "completed_at": iso(check.completed_at) if check.completed_at else None,
            "output": {
                "title": summary,
                "summary": summary,
                "text": None,
                "annotations_count": 0,
                "annotations_url": f"{api}/annotations",
            },
            "name": check.name,
            "check_suite": {"id": check.id // 10},
            "app": self._app(),
            "pull_requests": [],
        }

    def alert(self, alert: Alert) -> dict[str, Any]:
        api = f"{self.base}/repos/{alert.repo}/dependabot/alerts/{alert.number}"
        ecosystem = ADVISORY_ECOSYSTEMS.get(alert.ecosystem, alert.ecosystem)
        vulnerability = {
            "package": {"ecosystem": ecosystem, "name": alert.package},
            "severity": alert.severity,
            "vulnerable_version_range": alert.vulnerable_range,
            "first_patched_version": {"identifier": alert.first_patched},
        }
        score = {"low": 3.1, "medium": 5.3, "high": 7.5, "critical": 9.8}[alert.severity]
        return {
            "number": alert.number,
            "state": alert.state,
            "dependency": {
                "package": {"ecosystem": ecosystem, "name": alert.package},
                "manifest_path": alert.manifest,
                "scope": "runtime",
                "relationship": "direct",
            },
            "security_advisory": {
                "ghsa_id": alert.ghsa_id,
                "cve_id": alert.cve_id,
                "summary": alert.summary,
                "description": alert.summary + ".",
                "vulnerabilities": [vulnerability],
                "severity": alert.severity,
                "cvss": {
                    "score": score,
                    "vector_string": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
                },
                "cwes": [{"cwe_id": "CWE-400", "name": "Uncontrolled Resource Consumption"}],
                "identifiers": [
                    {"type": "GHSA", "value": alert.ghsa_id},
                    {"type": "CVE", "value": alert.cve_id},
                ],
                "references": [{"url": f"{self.web}/advisories/{alert.ghsa_id}"}],
                "published_at": iso(alert.created_at),
                "updated_at": iso(alert.updated_at),
                "withdrawn_at": None,
            },
            "security_vulnerability": vulnerability,
            "url": api,
            "html_url": f"{self.web}/{alert.repo}/security/dependabot/{alert.number}",
            "created_at": iso(alert.created_at),
            "updated_at": iso(alert.updated_at),
            "dismissed_at": None,
            "dismissed_by": None,
            "dismissed_reason": None,
            "dismissed_comment": None,
            "fixed_at": iso(alert.fixed_at) if alert.fixed_at else None,
            "auto_dismissed_at": None,
        }


__all__ = ["GitHubApp"]
