"""The GitHub part of the simulated world: repositories, deploys, Dependabot PRs and checks.

Everything is derived from the seed and the clock. Deploy pipelines (Deployments API or an
"Update Deployment" workflow) promote a commit through dev, qa, sandbox, prod-test and prod;
Dependabot opens pull requests whose checks finish (some fail), teammates approve and merge
some of them, and security updates come with a Dependabot alert. Time moves only through
`advance_to`, which replays a heap of timed events in order; every random choice is drawn
from a generator seeded by the thing it is for, so the world at a given time is the same
however finely it was advanced.

The world also keeps the token's rate-limit account (`GitHubRate`): the HTTP layer
(`oncall_tui.simulator.github`) charges it, and `/_sim/state` shows what was spent, which is
how the tests and the bench measure the cockpit's GitHub budget. This module knows nothing
about HTTP.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal

from oncall_tui.simulator.scenarios import GitHubScenario, Scenario

ORG = "benefits"
ENVIRONMENTS: tuple[str, ...] = ("dev", "qa", "sandbox", "prod-test", "prod")
DEPLOY_WORKFLOW_FILE = "update-deployment.yml"
DEPLOY_WORKFLOW_NAME = "Update Deployment"
RATE_LIMIT = 5000
"""Points per hour per resource (core, graphql, search) for a personal access token."""
RATE_WINDOW = timedelta(hours=1)
RETENTION = timedelta(days=2)
"""Closed pull requests and old runs are forgotten after this, so a long demo stays small."""

# (repository, deploy source): the demo world's repositories.
DEMO_REPOSITORIES: tuple[tuple[str, str], ...] = (
    ("benefits/claims-api", "deployments"),
    ("benefits/svc-bgs-api", "deployments"),
    ("benefits/svc-bip-api", "deployments"),
    ("benefits/svc-bie-kafka", "deployments"),
    ("benefits/domain-cc", f"workflow:{DEPLOY_WORKFLOW_FILE}"),
    ("benefits/ee-ep-merge-app", f"workflow:{DEPLOY_WORKFLOW_FILE}"),
)
_GENERATED_WORDS = (
    "claims",
    "ratings",
    "awards",
    "letters",
    "evidence",
    "contention",
    "vbms",
    "bgs",
    "bip",
    "cfi",
    "ep-merge",
    "intake",
)

Ecosystem = Literal["github_actions", "gradle", "pip", "docker"]
ECOSYSTEMS: tuple[Ecosystem, ...] = ("github_actions", "gradle", "pip", "docker")
ECOSYSTEM_LABELS: dict[str, str] = {
    "github_actions": "github_actions",
    "gradle": "java",
    "pip": "python",
    "docker": "docker",
}
ADVISORY_ECOSYSTEMS: dict[str, str] = {
    "github_actions": "actions",
    "gradle": "maven",
    "pip": "pip",
    "docker": "docker",
}
# ecosystem -> ((package, current version, manifest directory), ...)
PACKAGES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "github_actions": (
        ("actions/checkout", "3", "/"),
        ("actions/setup-java", "3", "/"),
        ("actions/setup-python", "4.7.1", "/"),
        ("docker/build-push-action", "5.1.0", "/"),
        ("aquasecurity/trivy-action", "0.16.1", "/"),
        ("github/codeql-action", "2.22.5", "/"),
    ),
    "gradle": (
        ("org.springframework.boot", "3.2.4", "/"),
        ("com.fasterxml.jackson.core:jackson-databind", "2.15.3", "/"),
        ("org.postgresql:postgresql", "42.6.0", "/"),
        ("org.apache.camel:camel-core", "4.0.3", "/"),
        ("com.google.guava:guava", "32.1.3-jre", "/"),
        ("io.micrometer:micrometer-registry-datadog", "1.11.5", "/"),
    ),
    "pip": (
        ("requests", "2.31.0", "/scripts"),
        ("urllib3", "1.26.18", "/scripts"),
        ("pyyaml", "6.0.1", "/scripts"),
        ("cryptography", "41.0.7", "/scripts"),
    ),
    "docker": (
        ("eclipse-temurin", "17.0.9_9-jre", "/"),
        ("python", "3.11.7-slim", "/scripts"),
        ("postgres", "15.5", "/db"),
        ("rabbitmq", "3.12.10-management", "/mq"),
    ),
}
SEVERITIES = ("low", "medium", "high", "critical")
CHECKS = ("CI / build", "PR: Test code / test", "SecRel workflow / scan")
STATUS_CONTEXT = "sonarqube/quality-gate"

Bump = Literal["patch", "minor", "major"]


def sha_for(*parts: object) -> str:
    """A 40-hex commit SHA, stable for the same parts."""
    return hashlib.sha1(":".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()


def node_id(kind: str, number: int) -> str:
    """A GitHub-looking global node id (`PR_kwDO...`), stable for the same kind and number."""
    digest = hashlib.blake2b(f"{kind}:{number}".encode(), digest_size=9).hexdigest()
    return f"{kind}_kwDO{digest.upper()[:14]}"


def iso(at: datetime) -> str:
    """GitHub's timestamp form: UTC, whole seconds, `Z`."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- people


@dataclass(frozen=True, slots=True)
class Account:
    login: str
    id: int
    type: Literal["User", "Bot", "Organization"] = "User"
    name: str = ""


ME = Account("alex-rivera", 5_101_001, "User", "Alex Rivera")
TEAMMATES = (
    Account("jordan-lee", 5_101_002, "User", "Jordan Lee"),
    Account("priya-natarajan", 5_101_003, "User", "Priya Natarajan"),
    Account("sam-okafor", 5_101_004, "User", "Sam Okafor"),
    Account("morgan-chen", 5_101_005, "User", "Morgan Chen"),
)
DEPENDABOT = Account("dependabot[bot]", 49_699_333, "Bot")
ACTIONS_BOT = Account("github-actions[bot]", 41_898_282, "Bot")
ORG_ACCOUNT = Account(ORG, 9_100_001, "Organization", "Benefits Platform")


# --------------------------------------------------------------------------- state


@dataclass(slots=True)
class Repository:
    id: int
    full_name: str
    deploy_source: str
    environments: tuple[str, ...]
    created_at: datetime
    default_branch: str = "develop"
    private: bool = False
    pipelines: int = 0
    next_number: int = 1

    @property
    def owner(self) -> str:
        return self.full_name.partition("/")[0]

    @property
    def name(self) -> str:
        return self.full_name.partition("/")[2]

    @property
    def uses_workflow(self) -> bool:
        return self.deploy_source.startswith("workflow:")

    def take_number(self) -> int:
        number = self.next_number
        self.next_number += 1
        return number


@dataclass(slots=True)
class DeploymentStatus:
    id: int
    state: str
    creator: Account
    description: str
    environment: str
    log_url: str
    created_at: datetime


@dataclass(slots=True)
class Deployment:
    id: int
    repo: str
    sha: str
    ref: str
    environment: str
    creator: Account
    description: str
    payload: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    statuses: list[DeploymentStatus] = field(default_factory=list)
    production: bool = False

    @property
    def latest_status(self) -> DeploymentStatus | None:
        return self.statuses[-1] if self.statuses else None


@dataclass(slots=True)
class Step:
    name: str
    number: int
    status: str = "queued"
    conclusion: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass(slots=True)
class Job:
    id: int
    run_id: int
    name: str
    run_attempt: int
    status: str
    conclusion: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    steps: list[Step]
    runner: str = ""


@dataclass(slots=True)
class Workflow:
    id: int
    repo: str
    name: str
    path: str
    created_at: datetime


@dataclass(slots=True)
class WorkflowRun:
    id: int
    repo: str
    workflow: Workflow
    run_number: int
    display_title: str
    event: str
    head_branch: str
    head_sha: str
    actor: Account
    created_at: datetime
    updated_at: datetime
    run_started_at: datetime
    inputs: dict[str, str]
    status: str = "queued"
    conclusion: str | None = None
    run_attempt: int = 1
    jobs: list[Job] = field(default_factory=list)
    epoch: int = 0
    """Bumped by a re-run, so the timers of the previous attempt do nothing."""


@dataclass(slots=True)
class CheckRun:
    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    started_at: datetime
    completed_at: datetime | None


@dataclass(slots=True)
class CommitStatus:
    id: int
    context: str
    state: str
    description: str
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class Review:
    id: int
    user: Account
    state: str
    body: str
    commit_id: str
    submitted_at: datetime


@dataclass(slots=True)
class Comment:
    id: int
    user: Account
    body: str
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class Update:
    """One dependency a Dependabot pull request bumps."""

    package: str
    from_version: str
    to_version: str
    bump: Bump
    directory: str


@dataclass(slots=True)
class PullRequest:
    id: int
    number: int
    repo: str
    title: str
    body: str
    user: Account
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    created_at: datetime
    updated_at: datetime
    labels: tuple[str, ...] = ()
    ecosystem: str = ""
    updates: tuple[Update, ...] = ()
    group: str = ""
    state: str = "open"
    draft: bool = False
    conflicting: bool = False
    merged: bool = False
    merged_at: datetime | None = None
    merged_by: Account | None = None
    merge_commit_sha: str | None = None
    merge_method: str | None = None
    closed_at: datetime | None = None
    reviews: list[Review] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    alert_number: int | None = None

    @property
    def approved(self) -> bool:
        latest: dict[str, str] = {}
        for review in self.reviews:
            if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                latest[review.user.login] = review.state
        return "APPROVED" in latest.values() and "CHANGES_REQUESTED" not in latest.values()

    @property
    def changes_requested(self) -> bool:
        latest: dict[str, str] = {}
        for review in self.reviews:
            if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
                latest[review.user.login] = review.state
        return "CHANGES_REQUESTED" in latest.values()


@dataclass(slots=True)
class Alert:
    number: int
    repo: str
    package: str
    ecosystem: str
    manifest: str
    severity: str
    ghsa_id: str
    cve_id: str
    summary: str
    vulnerable_range: str
    first_patched: str
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    fixed_at: datetime | None = None
    pr_number: int | None = None


@dataclass(slots=True)
class Issue:
    id: int
    number: int
    repo: str
    title: str
    body: str
    user: Account
    created_at: datetime
    updated_at: datetime
    labels: tuple[str, ...] = ()
    state: str = "open"
    closed_at: datetime | None = None
    comments: list[Comment] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Rerun:
    """One `POST .../rerun-failed-jobs` the world accepted."""

    repo: str
    run_id: int
    run_attempt: int
    """The attempt the re-run started."""
    actor: Account
    at: datetime


class MergeRefused(ValueError):
    """A merge the pull request's state does not allow (405, or 409 for a stale SHA)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ReviewRefused(ValueError):
    """A review GitHub answers 422 to (approving your own pull request, say)."""


@dataclass(slots=True)
class RateResource:
    """One rate-limit resource (core, graphql, search) of the token: an hourly window."""

    limit: int
    window_start: datetime | None = None
    used: int = 0

    def roll(self, now: datetime) -> None:
        if self.window_start is None or now - self.window_start >= RATE_WINDOW:
            self.window_start = now
            self.used = 0

    def reset_at(self, now: datetime) -> datetime:
        self.roll(now)
        assert self.window_start is not None
        return self.window_start + RATE_WINDOW

    def remaining(self, now: datetime) -> int:
        self.roll(now)
        return max(0, self.limit - self.used)


@dataclass(slots=True)
class GitHubRate:
    """The token's rate-limit account, and what the cockpit spent (for the budget figure)."""

    resources: dict[str, RateResource] = field(
        default_factory=lambda: {
            "core": RateResource(RATE_LIMIT),
            "graphql": RateResource(RATE_LIMIT),
            "search": RateResource(30),
        }
    )
    points: int = 0
    """Everything charged so far: REST requests not answered 304 plus GraphQL query costs."""
    rest_points: int = 0
    graphql_points: int = 0
    graphql_queries: int = 0
    not_modified: int = 0
    """Conditional requests answered 304: free."""

    def resource(self, name: str) -> RateResource:
        return self.resources[name]

    def exhausted(self, name: str, now: datetime, cost: int = 1) -> bool:
        resource = self.resources[name]
        resource.roll(now)
        return resource.used + cost > resource.limit

    def charge(self, name: str, now: datetime, cost: int) -> None:
        resource = self.resources[name]
        resource.roll(now)
        resource.used += cost
        self.points += cost
        if name == "graphql":
            self.graphql_points += cost
            self.graphql_queries += 1
        else:
            self.rest_points += cost

    def snapshot(self, now: datetime) -> dict[str, Any]:
        return {
            "points": self.points,
            "rest_points": self.rest_points,
            "graphql_points": self.graphql_points,
            "graphql_queries": self.graphql_queries,
            "not_modified": self.not_modified,
            "resources": {
                name: {
                    "limit": r.limit,
                    "used": r.used,
                    "remaining": r.remaining(now),
                    "reset": iso(r.reset_at(now)),
                }
                for name, r in self.resources.items()
            },
        }


# --------------------------------------------------------------------------- the world


Event = Callable[[datetime], None]


class GitHubWorld:
    """The GitHub account the simulator serves; not thread-safe (the World locks)."""

    def __init__(self, seed: int, scenario: Scenario, start: datetime) -> None:
        self.seed = seed
        self.knobs: GitHubScenario = scenario.github
        self.started_at = start
        self.me = ME
        self.rate = GitHubRate()
        self.alerts_readable = True
        """False: the token may not read Dependabot alerts (REST 403, GraphQL FORBIDDEN)."""
        self.repositories: dict[str, Repository] = {}
        self.deployments: dict[int, Deployment] = {}
        self.workflows: dict[tuple[str, str], Workflow] = {}
        self.runs: dict[int, WorkflowRun] = {}
        self.check_runs: dict[tuple[str, str], list[CheckRun]] = {}
        self.statuses: dict[tuple[str, str], list[CommitStatus]] = {}
        self.pulls: dict[tuple[str, int], PullRequest] = {}
        self.issues: dict[tuple[str, int], Issue] = {}
        self.alerts: dict[tuple[str, int], Alert] = {}
        self.reruns: list[Rerun] = []
        """Every re-run of failed jobs asked through the API, oldest first."""
        self._alert_numbers: dict[str, int] = {}
        self._ids: dict[str, int] = {}
        self._events: list[tuple[datetime, int, Event]] = []
        self._seq = 0
        self._pr_seq = 0
        self._pruned_hour = start.replace(minute=0, second=0, microsecond=0)
        self.now = start - timedelta(seconds=self.knobs.history)
        self._build_repositories(start)
        self._seed(start)
        self.advance_to(start)

    # ------------------------------------------------------------------ ids and lookups

    def next_id(self, kind: str) -> int:
        bases = {
            "deployment": 1_200_000_000,
            "deployment_status": 5_600_000_000,
            "run": 7_300_000_000,
            "job": 20_100_000_000,
            "check": 21_400_000_000,
            "status": 27_800_000_000,
            "pull": 1_600_000_000,
            "review": 1_800_000_000,
            "comment": 2_000_000_000,
            "issue": 2_100_000_000,
            "workflow": 61_000_000,
        }
        value = self._ids.get(kind, bases[kind]) + 1
        self._ids[kind] = value
        return value

    def repository(self, full_name: str) -> Repository | None:
        return self.repositories.get(full_name.lower())

    def repository_names(self) -> list[str]:
        return [repo.full_name for repo in self.repositories.values()]

    def deploy_sources(self) -> list[tuple[str, str]]:
        """(repository, deploy source) for every repository, as a cockpit config names them."""
        return [(repo.full_name, repo.deploy_source) for repo in self.repositories.values()]

    def deployments_of(self, repo: str) -> list[Deployment]:
        """Newest first, as the API lists them."""
        found = [d for d in self.deployments.values() if d.repo == repo]
        found.sort(key=lambda d: (d.created_at, d.id), reverse=True)
        return found

    def runs_of(self, repo: str, workflow: Workflow | None = None) -> list[WorkflowRun]:
        found = [
            r
            for r in self.runs.values()
            if r.repo == repo and (workflow is None or r.workflow.id == workflow.id)
        ]
        found.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return found

    def workflows_of(self, repo: str) -> list[Workflow]:
        return [w for (name, _), w in self.workflows.items() if name == repo]

    def workflow(self, repo: str, id_or_file: str) -> Workflow | None:
        for workflow in self.workflows_of(repo):
            if id_or_file in (str(workflow.id), workflow.path.rsplit("/", 1)[-1]):
                return workflow
        return None

    def pulls_of(self, repo: str) -> list[PullRequest]:
        return [p for (name, _), p in self.pulls.items() if name == repo]

    def issues_of(self, repo: str) -> list[Issue]:
        return [i for (name, _), i in self.issues.items() if name == repo]

    def alerts_of(self, repo: str) -> list[Alert]:
        return [a for (name, _), a in self.alerts.items() if name == repo]

    def checks_for(self, repo: str, sha: str) -> list[CheckRun]:
        return self.check_runs.get((repo, sha), [])

    def statuses_for(self, repo: str, sha: str) -> list[CommitStatus]:
        return self.statuses.get((repo, sha), [])

    def ci_state(self, repo: str, sha: str) -> str | None:
        """The commit's combined check state as GraphQL's `statusCheckRollup.state` says it."""
        checks = self.checks_for(repo, sha)
        statuses = self.statuses_for(repo, sha)
        if not checks and not statuses:
            return None
        states = set()
        for check in checks:
            if check.status != "completed":
                states.add("PENDING")
            elif check.conclusion in ("failure", "timed_out", "cancelled", "action_required"):
                states.add("FAILURE")
            else:
                states.add("SUCCESS")
        for status in statuses:
            states.add(
                {"error": "ERROR", "failure": "FAILURE"}.get(status.state, status.state.upper())
            )
        for state in ("ERROR", "FAILURE", "PENDING"):
            if state in states:
                return state
        return "SUCCESS"

    # ------------------------------------------------------------------ time

    def advance_to(self, now: datetime) -> None:
        """Replay every event due up to `now`, in time order, each at its own time."""
        while self._events and self._events[0][0] <= now:
            at, _, event = heapq.heappop(self._events)
            self.now = max(self.now, at)
            event(at)
        self.now = max(self.now, now)
        hour = self.now.replace(minute=0, second=0, microsecond=0)
        if hour > self._pruned_hour:
            self._prune(hour)

    def _schedule(self, at: datetime, event: Event) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at, self._seq, event))

    def _prune(self, hour: datetime) -> None:
        self._pruned_hour = hour
        horizon = hour - RETENTION
        for key, pull in list(self.pulls.items()):
            if pull.closed_at is not None and pull.closed_at < horizon:
                del self.pulls[key]

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(f"{self.seed}/github/" + "/".join(map(str, parts)))

    # ------------------------------------------------------------------ building

    def _build_repositories(self, start: datetime) -> None:
        created = datetime(2022, 6, 1, 15, 0, tzinfo=UTC)
        names = list(DEMO_REPOSITORIES[: self.knobs.repositories])
        index = 0
        while len(names) < self.knobs.repositories:
            word = _GENERATED_WORDS[index % len(_GENERATED_WORDS)]
            index += 1
            kind = f"workflow:{DEPLOY_WORKFLOW_FILE}" if index % 5 == 0 else "deployments"
            names.append((f"{ORG}/svc-{word}-{index:03d}", kind))
        for number, (name, source) in enumerate(names):
            repo = Repository(
                id=700_100_000 + number,
                full_name=name,
                deploy_source=source,
                environments=ENVIRONMENTS,
                created_at=created + timedelta(days=number),
            )
            self.repositories[name.lower()] = repo
            ci = Workflow(self.next_id("workflow"), name, "CI", ".github/workflows/ci.yml", created)
            self.workflows[(name, "ci.yml")] = ci
            if repo.uses_workflow:
                deploy = Workflow(
                    self.next_id("workflow"),
                    name,
                    DEPLOY_WORKFLOW_NAME,
                    f".github/workflows/{DEPLOY_WORKFLOW_FILE}",
                    created,
                )
                self.workflows[(name, DEPLOY_WORKFLOW_FILE)] = deploy

    def _seed(self, start: datetime) -> None:
        knobs = self.knobs
        history_start = self.now
        for repo in self.repositories.values():
            rng = self._rng("baseline", repo.full_name)
            # A settled deploy in every environment, days ago, so every cell has something.
            sha = sha_for(repo.full_name, "baseline")
            for position, env in enumerate(repo.environments):
                at = history_start - timedelta(
                    days=len(repo.environments) - position, seconds=rng.randrange(3600)
                )
                failed = rng.random() < knobs.deploy_failure / 2
                self._settled_deploy(repo, env, sha, at, "failure" if failed else "success", rng)
            # Pipelines from `history` seconds before the start on.
            first = history_start + timedelta(seconds=rng.uniform(0, knobs.pipeline_gap))
            self._schedule(first, partial(self._start_pipeline, repo))
            # Planned work: an issue for the sprint's handover in the first repository.
        first_repo = next(iter(self.repositories.values()), None)
        if first_repo is not None:
            self._seed_issues(first_repo, start)
        rng = self._rng("dependabot", "initial")
        repos = list(self.repositories.values())
        for index in range(knobs.open_prs):
            target = repos[index % len(repos)] if repos else None
            if target is None:
                break
            age = rng.uniform(600, knobs.max_pr_age)
            created = start - timedelta(seconds=round(age))
            self._schedule(
                max(created, history_start),
                partial(self._open_dependabot_pr, target, created, index),
            )
        for repo in repos[:2]:
            created = start - timedelta(hours=5)
            self._schedule(history_start, partial(self._open_human_pr, repo, created))
        if knobs.pr_gap > 0:
            self._schedule(start + timedelta(seconds=60), self._dependabot_tick)

    def _seed_issues(self, repo: Repository, start: datetime) -> None:
        for sprint, title in ((41, "On call for Sprint 41"), (42, "On call for Sprint 42")):
            created = start - timedelta(days=14 * (42 - sprint) + 2)
            issue = Issue(
                id=self.next_id("issue"),
                number=repo.take_number(),
                repo=repo.full_name,
                title=title,
                body=f"Hand-over notes for sprint {sprint}: one comment per shift.",
                user=TEAMMATES[3],
                created_at=created,
                updated_at=created,
                labels=("on-call",),
                state="closed" if sprint < 42 else "open",
                closed_at=created + timedelta(days=14) if sprint < 42 else None,
            )
            self.issues[(repo.full_name, issue.number)] = issue

    # ------------------------------------------------------------------ deploys

    def _settled_deploy(
        self,
        repo: Repository,
        env: str,
        sha: str,
        at: datetime,
        outcome: str,
        rng: random.Random,
    ) -> None:
        creator = rng.choice(TEAMMATES)
        finish = at + timedelta(seconds=rng.randrange(120, 600))
        if repo.uses_workflow:
            run = self._new_run(repo, env, sha, creator, at)
            self._run_in_progress(run, at + timedelta(seconds=20), run.epoch)
            self._run_complete(run, finish, run.epoch, outcome)
            return
        deployment = self._new_deployment(repo, env, sha, creator, at)
        self._deployment_status(deployment, "in_progress", at + timedelta(seconds=20))
        self._deployment_status(deployment, outcome, finish)

    def _start_pipeline(self, repo: Repository, at: datetime) -> None:
        repo.pipelines += 1
        rng = self._rng("pipeline", repo.full_name, repo.pipelines)
        sha = sha_for(repo.full_name, "pipeline", repo.pipelines)
        creator = rng.choice((ME, *TEAMMATES))
        self._deploy_step(repo, 0, sha, creator, at)

    def _next_pipeline(self, repo: Repository, after: datetime) -> None:
        rng = self._rng("gap", repo.full_name, repo.pipelines)
        gap = self.knobs.pipeline_gap
        wait = min(max(rng.expovariate(1.0 / gap), 0.2 * gap), 3 * gap)
        self._schedule(
            after + timedelta(seconds=round(wait)), lambda at: self._start_pipeline(repo, at)
        )

    def _deploy_step(
        self, repo: Repository, index: int, sha: str, creator: Account, at: datetime
    ) -> None:
        env = repo.environments[index]
        rng = self._rng("deploy", repo.full_name, sha, env)
        queued = rng.randrange(10, 90)
        running = rng.randrange(90, 540)
        roll = rng.random()
        knobs = self.knobs
        outcome = "success"
        if roll < knobs.deploy_failure:
            outcome = "failure"
        elif roll < knobs.deploy_failure * 1.25:
            outcome = "error" if not repo.uses_workflow else "cancelled"
        start_run = at + timedelta(seconds=queued)
        finish = start_run + timedelta(seconds=running)
        if repo.uses_workflow:
            run = self._new_run(repo, env, sha, creator, at)
            epoch = run.epoch
            self._schedule(start_run, lambda t: self._run_in_progress(run, t, epoch))
            self._schedule(finish, lambda t: self._run_complete(run, t, epoch, outcome))
        else:
            deployment = self._new_deployment(repo, env, sha, creator, at)
            self._schedule(
                start_run, lambda t: self._deployment_status(deployment, "in_progress", t)
            )
            self._schedule(finish, lambda t: self._deployment_status(deployment, outcome, t))

        def after(t: datetime) -> None:
            if outcome == "success" and index + 1 < len(repo.environments):
                promote = rng.randrange(*self.knobs.promote_gap)
                self._schedule(
                    t + timedelta(seconds=promote),
                    lambda t2: self._deploy_step(repo, index + 1, sha, creator, t2),
                )
            else:
                self._next_pipeline(repo, t)

        self._schedule(finish + timedelta(seconds=1), after)

    def _new_deployment(
        self, repo: Repository, env: str, sha: str, creator: Account, at: datetime
    ) -> Deployment:
        deployment = Deployment(
            id=self.next_id("deployment"),
            repo=repo.full_name,
            sha=sha,
            ref=repo.default_branch if env in ("dev", "qa") else "main",
            environment=env,
            creator=creator,
            description=f"Deploy {repo.name} {sha[:7]} to {env}",
            payload={"image_tag": sha[:7], "helm_chart": repo.name},
            created_at=at,
            updated_at=at,
            production=env == "prod",
        )
        self.deployments[deployment.id] = deployment
        self._deployment_status(deployment, "queued", at)
        return deployment

    def _deployment_status(self, deployment: Deployment, state: str, at: datetime) -> None:
        descriptions = {
            "queued": "Deployment queued",
            "in_progress": "Helm upgrade in progress",
            "success": "Deployment finished successfully.",
            "failure": "Helm upgrade failed: rollout did not become ready in 300s",
            "error": "Deployment errored: could not reach the cluster",
            "inactive": "Superseded by a newer deployment",
        }
        status = DeploymentStatus(
            id=self.next_id("deployment_status"),
            state=state,
            creator=ACTIONS_BOT,
            description=descriptions.get(state, state),
            environment=deployment.environment,
            log_url="",
            created_at=at,
        )
        deployment.statuses.append(status)
        deployment.updated_at = at

    # ------------------------------------------------------------------ workflow runs

    def _new_run(
        self, repo: Repository, env: str, sha: str, actor: Account, at: datetime
    ) -> WorkflowRun:
        workflow = self.workflows[(repo.full_name, DEPLOY_WORKFLOW_FILE)]
        number = 1 + sum(1 for r in self.runs.values() if r.workflow.id == workflow.id)
        tag = sha[:7]
        run = WorkflowRun(
            id=self.next_id("run"),
            repo=repo.full_name,
            workflow=workflow,
            run_number=number,
            display_title=f"Update Deployment: {repo.name} {tag} to {env}",
            event="workflow_dispatch",
            head_branch=repo.default_branch,
            head_sha=sha_for(repo.full_name, "workflow-ref", at.date()),
            actor=actor,
            created_at=at,
            updated_at=at,
            run_started_at=at,
            inputs={"target_env": env, "helm_chart": repo.name, "image_tag": tag},
        )
        run.jobs = [self._new_job(run, at)]
        self.runs[run.id] = run
        return run

    def _new_job(self, run: WorkflowRun, at: datetime) -> Job:
        names = ("Set up job", "Checkout", "Configure kubectl", "Helm upgrade", "Verify rollout")
        return Job(
            id=self.next_id("job"),
            run_id=run.id,
            name=f"deploy ({run.inputs['target_env']})",
            run_attempt=run.run_attempt,
            status="queued",
            conclusion=None,
            created_at=at,
            started_at=None,
            completed_at=None,
            steps=[Step(name, number) for number, name in enumerate(names, start=1)],
        )

    def _run_in_progress(self, run: WorkflowRun, at: datetime, epoch: int) -> None:
        if run.epoch != epoch:
            return
        run.status = "in_progress"
        run.updated_at = at
        job = run.jobs[-1]
        job.status = "in_progress"
        job.started_at = at
        job.runner = f"arc-runner-{run.id % 97:02d}"
        for step in job.steps[:2]:
            step.status = "completed"
            step.conclusion = "success"
            step.started_at = step.completed_at = at
        job.steps[2].status = "in_progress"
        job.steps[2].started_at = at

    def _run_complete(self, run: WorkflowRun, at: datetime, epoch: int, conclusion: str) -> None:
        if run.epoch != epoch:
            return
        run.status = "completed"
        run.conclusion = conclusion
        run.updated_at = at
        job = run.jobs[-1]
        job.status = "completed"
        job.conclusion = conclusion
        job.started_at = job.started_at or at
        job.completed_at = at
        failed_step = 4 if conclusion == "failure" else None
        for step in job.steps:
            if step.status == "completed":
                continue
            step.started_at = step.started_at or at
            step.completed_at = at
            step.status = "completed"
            if failed_step is not None and step.number > failed_step:
                step.conclusion = "skipped"
            elif failed_step is not None and step.number == failed_step:
                step.conclusion = "failure"
            elif conclusion == "cancelled":
                step.conclusion = "cancelled"
            else:
                step.conclusion = "success"

    def rerun_failed_jobs(self, run: WorkflowRun, actor: Account, at: datetime) -> None:
        """Start a new attempt of the run's failed jobs (the API answers 201)."""
        if run.status != "completed" or run.conclusion not in ("failure", "cancelled"):
            raise ValueError("This workflow run is not failed or cancelled")
        run.epoch += 1
        run.run_attempt += 1
        run.status = "queued"
        run.conclusion = None
        run.updated_at = at
        run.run_started_at = at
        run.actor = actor
        run.jobs.append(self._new_job(run, at))
        self.reruns.append(Rerun(run.repo, run.id, run.run_attempt, actor, at))
        rng = self._rng("rerun", run.id, run.run_attempt)
        start = at + timedelta(seconds=rng.randrange(5, 40))
        finish = start + timedelta(seconds=rng.randrange(60, 300))
        outcome = "success" if rng.random() < 0.8 else "failure"
        epoch = run.epoch
        self._schedule(start, lambda t: self._run_in_progress(run, t, epoch))
        self._schedule(finish, lambda t: self._run_complete(run, t, epoch, outcome))

    # ------------------------------------------------------------------ Dependabot

    def _dependabot_tick(self, at: datetime) -> None:
        self._pr_seq += 1
        rng = self._rng("dependabot", "tick", self._pr_seq)
        repos = list(self.repositories.values())
        if repos:
            open_count = sum(1 for p in self.pulls.values() if p.state == "open")
            if open_count < self.knobs.open_prs * 2 + 10:
                repo = rng.choice(repos)
                self._open_dependabot_pr(repo, at, 10_000 + self._pr_seq, at)
        gap = self.knobs.pr_gap
        wait = min(max(rng.expovariate(1.0 / gap), 0.2 * gap), 3 * gap)
        self._schedule(at + timedelta(seconds=round(wait)), self._dependabot_tick)

    def _open_dependabot_pr(
        self, repo: Repository, created: datetime, index: int, at: datetime
    ) -> None:
        knobs = self.knobs
        rng = self._rng("pr", repo.full_name, index)
        ecosystem = ECOSYSTEMS[rng.randrange(len(ECOSYSTEMS))]
        grouped = ecosystem == "gradle" and rng.random() < 0.3
        candidates = list(PACKAGES[ecosystem])
        rng.shuffle(candidates)
        busy = {
            u.package for p in self.pulls_of(repo.full_name) if p.state == "open" for u in p.updates
        }
        candidates = [c for c in candidates if c[0] not in busy]
        if not candidates:
            return
        chosen = candidates[: 3 if grouped else 1]
        # GitHub has no security advisories for Docker images.
        security = not grouped and ecosystem != "docker" and rng.random() < knobs.security_share
        updates = tuple(
            self._draw_update(rng, package, version, directory)
            for package, version, directory in chosen
        )
        number = repo.take_number()
        directory = updates[0].directory
        where = f" in {directory}" if directory != "/" else ""
        if grouped:
            group = f"{ecosystem}-dependencies"
            title = f"Bump the {group} group{where} with {len(updates)} updates"
            branch = f"dependabot/{ecosystem}/{group}-{sha_for(number)[:10]}"
        else:
            group = ""
            update = updates[0]
            title = (
                f"Bump {update.package} from {update.from_version} to {update.to_version}{where}"
            )
            slug = update.package.replace(":", "-").replace("/", "-")
            folder = directory.strip("/") + "/" if directory != "/" else ""
            branch = f"dependabot/{ecosystem}/{folder}{slug}-{update.to_version}"
        body = _dependabot_body(updates, group, directory)
        head_sha = sha_for(repo.full_name, "pr", number)
        pull = PullRequest(
            id=self.next_id("pull"),
            number=number,
            repo=repo.full_name,
            title=title,
            body=body,
            user=DEPENDABOT,
            head_ref=branch,
            head_sha=head_sha,
            base_ref=repo.default_branch,
            base_sha=sha_for(repo.full_name, "base", created.date()),
            created_at=created,
            updated_at=created,
            labels=("dependencies", ECOSYSTEM_LABELS[ecosystem]),
            ecosystem=ecosystem,
            updates=updates,
            group=group,
            conflicting=rng.random() < knobs.conflict_share,
        )
        self.pulls[(repo.full_name, number)] = pull
        if security:
            pull.alert_number = self._open_alert(repo, pull, rng, created)
        # Checks: the three CI checks and a quality-gate status, finishing over minutes.
        fails = rng.random() < knobs.check_failure_share
        failing = rng.randrange(len(CHECKS)) if fails else -1
        runs = []
        for position, name in enumerate(CHECKS):
            check = CheckRun(
                id=self.next_id("check"),
                name=name,
                head_sha=head_sha,
                status="queued",
                conclusion=None,
                started_at=created,
                completed_at=None,
            )
            runs.append(check)
            done = created + timedelta(seconds=rng.randrange(120, 900))
            result = "failure" if position == failing else "success"
            self._schedule(max(done, at), partial(self._finish_check, pull, check, result))
            self._schedule(
                max(created + timedelta(seconds=20), at),
                partial(self._start_check, check),
            )
        self.check_runs[(repo.full_name, head_sha)] = runs
        status = CommitStatus(
            id=self.next_id("status"),
            context=STATUS_CONTEXT,
            state="pending",
            description="SonarQube analysis in progress",
            created_at=created,
            updated_at=created,
        )
        self.statuses[(repo.full_name, head_sha)] = [status]
        self._schedule(
            max(created + timedelta(seconds=rng.randrange(60, 400)), at),
            partial(self._finish_status, status),
        )
        # Teammates: an approval for some, a merge for green patch bumps after a while.
        if rng.random() < knobs.approve_share:
            reviewer = rng.choice(TEAMMATES)
            approve_at = created + timedelta(seconds=rng.randrange(900, 4 * 3600))
            self._schedule(max(approve_at, at), partial(self._teammate_review, pull, reviewer))
        if knobs.merge_by_others and rng.random() < 0.5:
            merge_at = created + timedelta(seconds=rng.randrange(2 * 3600, 12 * 3600))
            self._schedule(max(merge_at, at), partial(self._teammate_merge, pull))

    def _draw_update(
        self, rng: random.Random, package: str, version: str, directory: str
    ) -> Update:
        roll = rng.random()
        wanted: Bump = "patch" if roll < 0.5 else "minor" if roll < 0.85 else "major"
        to_version, bump = _bumped(version, wanted)
        return Update(package, version, to_version, bump, directory)

    def _open_human_pr(self, repo: Repository, created: datetime, at: datetime) -> None:
        number = repo.take_number()
        head_sha = sha_for(repo.full_name, "human", number)
        author = ME if repo.id % 2 == 0 else TEAMMATES[0]
        pull = PullRequest(
            id=self.next_id("pull"),
            number=number,
            repo=repo.full_name,
            title="Add retries with backoff to the BGS client",
            body="Retries idempotent BGS calls twice with jittered backoff.",
            user=author,
            head_ref="feature/bgs-retries",
            head_sha=head_sha,
            base_ref=repo.default_branch,
            base_sha=sha_for(repo.full_name, "base", created.date()),
            created_at=created,
            updated_at=created,
            labels=("enhancement",),
        )
        self.pulls[(repo.full_name, number)] = pull
        self.check_runs[(repo.full_name, head_sha)] = [
            CheckRun(
                self.next_id("check"),
                name,
                head_sha,
                "completed",
                "success",
                created,
                created + timedelta(minutes=6),
            )
            for name in CHECKS
        ]

    def _start_check(self, check: CheckRun, at: datetime) -> None:
        if check.status == "queued":
            check.status = "in_progress"
            check.started_at = at

    def _finish_check(self, pull: PullRequest, check: CheckRun, result: str, at: datetime) -> None:
        if check.status == "completed":
            return
        check.status = "completed"
        check.conclusion = result
        check.completed_at = at

    def _finish_status(self, status: CommitStatus, at: datetime) -> None:
        status.state = "success"
        status.description = "Quality gate passed"
        status.updated_at = at

    def _teammate_review(self, pull: PullRequest, user: Account, at: datetime) -> None:
        if pull.state != "open":
            return
        self.add_review(pull, user, "APPROVE", "", at)

    def _teammate_merge(self, pull: PullRequest, at: datetime) -> None:
        if pull.state != "open" or pull.conflicting:
            return
        if self.ci_state(pull.repo, pull.head_sha) != "SUCCESS":
            return
        if not pull.approved:
            self.add_review(pull, TEAMMATES[1], "APPROVE", "", at)
        self.merge(pull, TEAMMATES[1], "squash", None, at)

    def _open_alert(
        self, repo: Repository, pull: PullRequest, rng: random.Random, at: datetime
    ) -> int:
        update = pull.updates[0]
        number = self._alert_numbers.get(repo.full_name, 0) + 1
        self._alert_numbers[repo.full_name] = number
        severity = rng.choice(SEVERITIES)
        ghsa = "GHSA-" + "-".join(sha_for(repo.full_name, number, i)[:4] for i in range(3))
        alert = Alert(
            number=number,
            repo=repo.full_name,
            package=update.package,
            ecosystem=pull.ecosystem,
            manifest=_manifest(pull.ecosystem, update.directory),
            severity=severity,
            ghsa_id=ghsa,
            cve_id=f"CVE-2026-{20000 + (pull.id % 9000)}",
            summary=f"{update.package} vulnerable to uncontrolled resource consumption",
            vulnerable_range=f"< {update.to_version}",
            first_patched=update.to_version,
            created_at=at,
            updated_at=at,
            pr_number=pull.number,
        )
        self.alerts[(repo.full_name, number)] = alert
        return number

    # ------------------------------------------------------------------ writes (API)

    def add_review(
        self, pull: PullRequest, user: Account, event: str, body: str, at: datetime
    ) -> Review:
        if event in ("APPROVE", "REQUEST_CHANGES") and pull.user.login == user.login:
            word = "approve" if event == "APPROVE" else "request changes on"
            raise ReviewRefused(f"Can not {word} your own pull request")
        if pull.state != "open" and event in ("APPROVE", "REQUEST_CHANGES"):
            raise ReviewRefused("Pull request is closed")
        state = {
            "APPROVE": "APPROVED",
            "REQUEST_CHANGES": "CHANGES_REQUESTED",
            "COMMENT": "COMMENTED",
        }.get(event, "PENDING")
        review = Review(self.next_id("review"), user, state, body, pull.head_sha, at)
        pull.reviews.append(review)
        pull.updated_at = at
        return review

    def merge(
        self, pull: PullRequest, user: Account, method: str, sha: str | None, at: datetime
    ) -> str:
        """Merge the pull request; returns the merge commit SHA or raises `MergeRefused`."""
        if pull.state != "open":
            raise MergeRefused(405, "Pull Request is not mergeable")
        if sha is not None and sha != pull.head_sha:
            raise MergeRefused(409, "Head branch was modified. Review and try the merge again.")
        if pull.conflicting:
            raise MergeRefused(405, "Pull Request is not mergeable")
        ci = self.ci_state(pull.repo, pull.head_sha)
        if ci in ("FAILURE", "ERROR", "PENDING"):
            failing = next(
                (
                    c.name
                    for c in self.checks_for(pull.repo, pull.head_sha)
                    if c.conclusion != "success"
                ),
                STATUS_CONTEXT,
            )
            word = "is expected" if ci == "PENDING" else "is failing"
            raise MergeRefused(405, f'Required status check "{failing}" {word}.')
        if not pull.approved:
            raise MergeRefused(
                405, "At least 1 approving review is required by reviewers with write access."
            )
        pull.state = "closed"
        pull.merged = True
        pull.merged_at = pull.closed_at = pull.updated_at = at
        pull.merged_by = user
        pull.merge_method = method
        pull.merge_commit_sha = sha_for(pull.repo, "merge", pull.number, method)
        if pull.alert_number is not None:
            alert = self.alerts.get((pull.repo, pull.alert_number))
            if alert is not None:
                alert.state = "fixed"
                alert.fixed_at = alert.updated_at = at
        return pull.merge_commit_sha

    def add_comment(
        self, issue: Issue | PullRequest, user: Account, body: str, at: datetime
    ) -> Comment:
        comment = Comment(self.next_id("comment"), user, body, at, at)
        issue.comments.append(comment)
        issue.updated_at = at
        return comment

    def create_issue(
        self,
        repo: Repository,
        user: Account,
        title: str,
        body: str,
        labels: tuple[str, ...],
        at: datetime,
    ) -> Issue:
        issue = Issue(
            id=self.next_id("issue"),
            number=repo.take_number(),
            repo=repo.full_name,
            title=title,
            body=body,
            user=user,
            created_at=at,
            updated_at=at,
            labels=labels,
        )
        self.issues[(repo.full_name, issue.number)] = issue
        return issue

    # ------------------------------------------------------------------ state

    def latest_deploys(self) -> Iterator[dict[str, Any]]:
        for repo in self.repositories.values():
            for env in repo.environments:
                if repo.uses_workflow:
                    run = next(
                        (
                            r
                            for r in self.runs_of(repo.full_name)
                            if r.inputs.get("target_env") == env
                        ),
                        None,
                    )
                    if run is not None:
                        state = run.conclusion if run.status == "completed" else run.status
                        yield {
                            "repo": repo.full_name,
                            "environment": env,
                            "state": state,
                            "origin": "workflow",
                            "run_id": run.id,
                            "sha": run.inputs["image_tag"],
                        }
                    continue
                deployment = next(
                    (d for d in self.deployments_of(repo.full_name) if d.environment == env), None
                )
                if deployment is not None:
                    status = deployment.latest_status
                    yield {
                        "repo": repo.full_name,
                        "environment": env,
                        "state": status.state if status else "pending",
                        "origin": "deployment",
                        "id": deployment.id,
                        "sha": deployment.sha,
                    }

    def _commentable(self) -> list[PullRequest | Issue]:
        return [*self.pulls.values(), *self.issues.values()]

    def snapshot(self) -> dict[str, Any]:
        open_pulls = [p for p in self.pulls.values() if p.state == "open"]
        return {
            "me": self.me.login,
            "repositories": [
                {
                    "name": r.full_name,
                    "deploy_source": r.deploy_source,
                    "environments": list(r.environments),
                }
                for r in self.repositories.values()
            ],
            "deploys": list(self.latest_deploys()),
            "dependabot": [
                {
                    "repo": p.repo,
                    "number": p.number,
                    "title": p.title,
                    "ecosystem": p.ecosystem,
                    "bump": max((u.bump for u in p.updates), key=_BUMP_RANK.__getitem__),
                    "ci": self.ci_state(p.repo, p.head_sha),
                    "security": p.alert_number is not None,
                    "mergeable": not p.conflicting,
                    "approved": p.approved,
                }
                for p in open_pulls
                if p.user.login == DEPENDABOT.login
            ],
            "alerts": [
                {
                    "repo": a.repo,
                    "number": a.number,
                    "package": a.package,
                    "severity": a.severity,
                    "state": a.state,
                    "pull_request": a.pr_number,
                }
                for a in self.alerts.values()
            ],
            "reviews": [
                {
                    "repo": p.repo,
                    "number": p.number,
                    "id": r.id,
                    "user": r.user.login,
                    "state": r.state,
                    "commit_id": r.commit_id,
                    "submitted_at": iso(r.submitted_at),
                }
                for p in self.pulls.values()
                for r in p.reviews
            ],
            "merged": [
                {
                    "repo": p.repo,
                    "number": p.number,
                    "title": p.title,
                    "merged_by": p.merged_by.login if p.merged_by else None,
                    "merged_at": iso(p.merged_at) if p.merged_at else None,
                    "method": p.merge_method,
                    "sha": p.merge_commit_sha,
                }
                for p in self.pulls.values()
                if p.merged
            ],
            "comments": [
                {
                    "repo": item.repo,
                    "number": item.number,
                    "kind": "pull" if isinstance(item, PullRequest) else "issue",
                    "id": c.id,
                    "user": c.user.login,
                    "body": c.body,
                    "created_at": iso(c.created_at),
                }
                for item in self._commentable()
                for c in item.comments
            ],
            "reruns": [
                {
                    "repo": r.repo,
                    "run_id": r.run_id,
                    "run_attempt": r.run_attempt,
                    "actor": r.actor.login,
                    "at": iso(r.at),
                    "status": self.runs[r.run_id].status if r.run_id in self.runs else None,
                    "conclusion": (
                        self.runs[r.run_id].conclusion if r.run_id in self.runs else None
                    ),
                }
                for r in self.reruns
            ],
            "alerts_readable": self.alerts_readable,
            "rate": self.rate.snapshot(self.now),
            "points": self.rate.points,
        }


_BUMP_RANK = {"patch": 0, "minor": 1, "major": 2}


def _bumped(version: str, bump: Bump) -> tuple[str, Bump]:
    """`version` with its major, minor or patch number raised (suffixes such as -jre kept),
    and the bump that really is (a two-part version has no patch number to raise)."""
    head, sep, tail = _split_version(version)
    parts = [int(p) for p in head.split(".")]
    if bump == "major" or len(parts) == 1:
        parts = [parts[0] + 1] + [0] * (len(parts) - 1)
        bump = "major"
    elif bump == "minor" or len(parts) == 2:
        parts = [parts[0], parts[1] + 1] + [0] * (len(parts) - 2)
        bump = "minor"
    else:
        parts = [parts[0], parts[1], parts[2] + 1] + [0] * (len(parts) - 3)
    return ".".join(map(str, parts)) + sep + tail, bump


def _split_version(version: str) -> tuple[str, str, str]:
    for index, char in enumerate(version):
        if not (char.isdigit() or char == "."):
            return version[:index].rstrip("."), version[index], version[index + 1 :]
    return version, "", ""


def _manifest(ecosystem: str, directory: str) -> str:
    base = directory.strip("/")
    name = {
        "github_actions": ".github/workflows/ci.yml",
        "gradle": "build.gradle",
        "pip": "requirements.txt",
        "docker": "Dockerfile",
    }[ecosystem]
    return f"{base}/{name}" if base else name


def _dependabot_body(updates: tuple[Update, ...], group: str, directory: str) -> str:
    if not group:
        update = updates[0]
        return (
            f"Bumps {update.package} from {update.from_version} to {update.to_version}.\n\n"
            "Dependabot will resolve any conflicts with this PR as long as you don't alter it "
            "yourself. You can also trigger a rebase manually by commenting `@dependabot rebase`."
        )
    names = ", ".join(u.package for u in updates[:-1]) + f" and {updates[-1].package}"
    lines = [f"Bumps the {group} group in {directory} with {len(updates)} updates: {names}.", ""]
    for update in updates:
        lines.append(
            f"Updates `{update.package}` from {update.from_version} to {update.to_version}"
        )
    return "\n".join(lines)
