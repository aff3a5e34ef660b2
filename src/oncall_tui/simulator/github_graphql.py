"""GitHub's GraphQL API for the simulator: a small executor over the GitHub world.

Queries are parsed with graphql-core and run by a resolver walk written here, so the
simulator needs no copy of GitHub's 1 MB schema at run time (the tests validate every query
the cockpit sends against the published schema instead). What it implements is what the
cockpit asks for, and a little more: `repository` (deployments with their latest status,
pull requests, vulnerability alerts), `search` (issues and pull requests, with the usual
qualifiers), `rateLimit` and `viewer`.

A query's point cost is computed the way GitHub documents it: add up the requests needed to
fill every connection (a connection under a connection asked for `first: 50` is asked 50
times), divide by 100, round to the nearest whole number, and charge at least 1.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    value_from_ast_untyped,
)

from oncall_tui.simulator.github_world import (
    ADVISORY_ECOSYSTEMS,
    Account,
    Alert,
    Deployment,
    DeploymentStatus,
    GitHubWorld,
    Issue,
    PullRequest,
    Repository,
    Review,
    iso,
    node_id,
)

MAX_PAGE = 100
GRAPHQL_SEVERITY = {"low": "LOW", "medium": "MODERATE", "high": "HIGH", "critical": "CRITICAL"}
DEPLOYMENT_STATE = {
    "success": "ACTIVE",
    "failure": "FAILURE",
    "error": "ERROR",
    "inactive": "INACTIVE",
    "in_progress": "IN_PROGRESS",
    "queued": "QUEUED",
    "pending": "PENDING",
}


class QueryError(Exception):
    """An error GitHub reports in the `errors` list (`type` such as NOT_FOUND, FORBIDDEN)."""

    def __init__(self, message: str, type_: str = "", extensions: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.type = type_
        self.extensions = extensions or {}


# --------------------------------------------------------------------------- objects


Resolver = Callable[[dict[str, Any]], Any]


@dataclass(slots=True)
class Obj:
    """A GraphQL object: its type name, the interfaces it implements, and field resolvers.

    A field value is either a plain value or a callable taking the field's arguments.
    """

    typename: str
    fields: dict[str, Any]
    implements: tuple[str, ...] = ()

    def is_a(self, type_name: str) -> bool:
        return type_name == self.typename or type_name in self.implements

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        if name not in self.fields:
            raise QueryError(
                f"Field '{name}' doesn't exist on type '{self.typename}'", "undefinedField"
            )
        value = self.fields[name]
        return value(args) if callable(value) else value


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _offset(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.b64decode(cursor.encode()).decode()
        return int(text.rsplit(":", 1)[1])
    except (ValueError, IndexError):
        raise QueryError(f"`{cursor}` does not appear to be a valid cursor.") from None


def connection(
    name: str, items: Sequence[Any], args: Mapping[str, Any], *, type_name: str = ""
) -> Obj:
    """A Relay connection over `items` honouring first/last/after/before, as GitHub's are."""
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise QueryError(
            f"You must provide a `first` or `last` value to properly paginate the `{name}` "
            "connection.",
            "MISSING_PAGINATION_BOUNDARIES",
        )
    for key, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE:
            raise QueryError(
                f"Requesting {value} records on the `{name}` connection exceeds the `{key}` "
                f"limit of {MAX_PAGE} records.",
                "EXCESSIVE_PAGINATION",
            )
    start = 0
    end = len(items)
    after = _offset(args.get("after"))
    before = _offset(args.get("before"))
    if after is not None:
        start = after + 1
    if before is not None:
        end = min(end, before)
    if first is not None:
        end = min(end, start + first)
    if last is not None:
        start = max(start, end - last)
    window = list(range(start, max(start, end)))
    nodes = [items[i] for i in window]
    page_info = Obj(
        "PageInfo",
        {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": _cursor(window[0]) if window else None,
            "endCursor": _cursor(window[-1]) if window else None,
        },
    )
    edges = [Obj(f"{type_name}Edge", {"node": items[i], "cursor": _cursor(i)}) for i in window]
    return Obj(
        f"{type_name}Connection",
        {"nodes": nodes, "edges": edges, "pageInfo": page_info, "totalCount": len(items)},
    )


# --------------------------------------------------------------------------- the graph


class Graph:
    """Builds GraphQL objects for world entities (one per query; not thread-safe)."""

    def __init__(self, world: GitHubWorld, base_url: str, cost: int) -> None:
        self.world = world
        self.base = base_url
        self.web = base_url
        self.cost = cost

    def query(self) -> Obj:
        return Obj(
            "Query",
            {
                "repository": self._repository_field,
                "search": self._search,
                "rateLimit": lambda args: self.rate_limit(),
                "viewer": self.actor(self.world.me),
            },
        )

    # -- root fields ---------------------------------------------------------------------

    def _repository_field(self, args: dict[str, Any]) -> Obj:
        full = f"{args.get('owner')}/{args.get('name')}"
        repo = self.world.repository(full)
        if repo is None:
            raise QueryError(
                f"Could not resolve to a Repository with the name '{full}'.", "NOT_FOUND"
            )
        return self.repository(repo)

    def rate_limit(self) -> Obj:
        resource = self.world.rate.resource("graphql")
        now = self.world.now
        return Obj(
            "RateLimit",
            {
                "cost": self.cost,
                "limit": resource.limit,
                "remaining": resource.remaining(now),
                "used": resource.used,
                "resetAt": iso(resource.reset_at(now)),
                "nodeCount": 0,
            },
        )

    def _search(self, args: dict[str, Any]) -> Obj:
        kind = args.get("type")
        if kind != "ISSUE":
            items: list[Obj] = []
        else:
            items = [
                self.pull(p) if isinstance(p, PullRequest) else self.issue(p)
                for p in search_issues(self.world, str(args.get("query", "")))
            ]
        found = connection("search", items[:1000], args, type_name="SearchResultItem")
        found.typename = "SearchResultItemConnection"
        found.fields.update(
            {
                "issueCount": len(items),
                "repositoryCount": 0,
                "userCount": 0,
                "codeCount": 0,
                "discussionCount": 0,
                "wikiCount": 0,
            }
        )
        return found

    # -- objects -------------------------------------------------------------------------

    def actor(self, account: Account) -> Obj:
        login = account.login.removesuffix("[bot]")
        url = f"{self.web}/apps/{login}" if account.type == "Bot" else f"{self.web}/{login}"
        return Obj(
            account.type,
            {
                "login": login,
                "url": url,
                "resourcePath": url.removeprefix(self.web),
                "avatarUrl": lambda args: f"{self.base}/avatars/u/{account.id}?v=4",
                "databaseId": account.id,
                "id": node_id("U" if account.type == "User" else "BOT", account.id),
                "name": account.name or None,
            },
            ("Actor", "Node", "UniformResourceLocatable"),
        )

    def repository(self, repo: Repository) -> Obj:
        world = self.world
        return Obj(
            "Repository",
            {
                "id": node_id("R", repo.id),
                "databaseId": repo.id,
                "name": repo.name,
                "nameWithOwner": repo.full_name,
                "url": f"{self.web}/{repo.full_name}",
                "isArchived": False,
                "isPrivate": repo.private,
                "owner": Obj(
                    "Organization",
                    {"login": repo.owner, "url": f"{self.web}/{repo.owner}"},
                    ("RepositoryOwner",),
                ),
                "defaultBranchRef": Obj(
                    "Ref", {"name": repo.default_branch, "prefix": "refs/heads/"}
                ),
                "deployments": lambda args: self._deployments(repo, args),
                "pullRequests": lambda args: self._pull_requests(repo, args),
                "pullRequest": lambda args: self._pull_request(repo, args),
                "vulnerabilityAlerts": lambda args: self._alerts(repo, args),
                "issues": lambda args: connection(
                    "issues",
                    [
                        self.issue(i)
                        for i in world.issues_of(repo.full_name)
                        if not args.get("states") or i.state.upper() in args["states"]
                    ],
                    args,
                    type_name="Issue",
                ),
            },
            ("Node", "RepositoryInfo", "UniformResourceLocatable"),
        )

    def _deployments(self, repo: Repository, args: dict[str, Any]) -> Obj:
        environments = args.get("environments")
        found = [
            d
            for d in self.world.deployments_of(repo.full_name)
            if not environments or d.environment in environments
        ]
        order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
        if order.get("direction") != "DESC":
            found.reverse()  # deployments_of is newest first
        return connection(
            "deployments", [self.deployment(d) for d in found], args, type_name="Deployment"
        )

    def deployment(self, deployment: Deployment) -> Obj:
        status = deployment.latest_status
        repo = self.world.repository(deployment.repo)
        return Obj(
            "Deployment",
            {
                "id": node_id("DE", deployment.id),
                "databaseId": deployment.id,
                "environment": deployment.environment,
                "latestEnvironment": deployment.environment,
                "originalEnvironment": deployment.environment,
                "state": DEPLOYMENT_STATE.get(status.state, "PENDING") if status else "PENDING",
                "createdAt": iso(deployment.created_at),
                "updatedAt": iso(deployment.updated_at),
                "commitOid": deployment.sha,
                "commit": self.commit(deployment.repo, deployment.sha),
                "description": deployment.description,
                "task": "deploy",
                "payload": json.dumps(deployment.payload),
                "ref": Obj("Ref", {"name": deployment.ref, "prefix": "refs/heads/"}),
                "creator": self.actor(deployment.creator),
                "latestStatus": self.deployment_status(deployment, status) if status else None,
                "statuses": lambda args: connection(
                    "statuses",
                    [self.deployment_status(deployment, s) for s in reversed(deployment.statuses)],
                    args,
                    type_name="DeploymentStatus",
                ),
                "repository": (lambda args: self.repository(repo)) if repo else None,
            },
            ("Node",),
        )

    def deployment_status(self, deployment: Deployment, status: DeploymentStatus) -> Obj:
        return Obj(
            "DeploymentStatus",
            {
                "id": node_id("DES", status.id),
                "state": status.state.upper(),
                "createdAt": iso(status.created_at),
                "updatedAt": iso(status.created_at),
                "description": status.description,
                "environment": status.environment,
                "logUrl": self.deploy_log_url(deployment),
                "environmentUrl": None,
                "creator": self.actor(status.creator),
            },
            ("Node",),
        )

    def deploy_log_url(self, deployment: Deployment) -> str:
        return f"{self.web}/{deployment.repo}/deployments/{deployment.environment}"

    def commit(self, repo: str, sha: str) -> Obj:
        def rollup(args: dict[str, Any]) -> Obj | None:
            state = self.world.ci_state(repo, sha)
            if state is None:
                return None
            return Obj("StatusCheckRollup", {"state": state, "id": node_id("SC", int(sha[:8], 16))})

        return Obj(
            "Commit",
            {
                "oid": sha,
                "abbreviatedOid": sha[:7],
                "url": f"{self.web}/{repo}/commit/{sha}",
                "statusCheckRollup": rollup,
                "id": node_id("C", int(sha[:8], 16)),
            },
            ("GitObject", "Node", "Subscribable", "UniformResourceLocatable"),
        )

    def _pull_requests(self, repo: Repository, args: dict[str, Any]) -> Obj:
        states = args.get("states")
        pulls = [
            p for p in self.world.pulls_of(repo.full_name) if not states or _pull_state(p) in states
        ]
        order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
        key = "updated_at" if order.get("field") == "UPDATED_AT" else "created_at"
        pulls.sort(
            key=lambda p: (getattr(p, key), p.number), reverse=order.get("direction") == "DESC"
        )
        return connection(
            "pullRequests", [self.pull(p) for p in pulls], args, type_name="PullRequest"
        )

    def _pull_request(self, repo: Repository, args: dict[str, Any]) -> Obj | None:
        pull = self.world.pulls.get((repo.full_name, int(args.get("number", 0))))
        if pull is None:
            raise QueryError(
                f"Could not resolve to a PullRequest with the number of {args.get('number')}.",
                "NOT_FOUND",
            )
        return self.pull(pull)

    def pull(self, pull: PullRequest) -> Obj:
        world = self.world
        repo = world.repository(pull.repo)
        url = f"{self.web}/{pull.repo}/pull/{pull.number}"

        def review_decision(args: dict[str, Any]) -> str:
            if pull.changes_requested:
                return "CHANGES_REQUESTED"
            return "APPROVED" if pull.approved else "REVIEW_REQUIRED"

        def latest_reviews(args: dict[str, Any]) -> Obj:
            latest: dict[str, Review] = {}
            for review in pull.reviews:
                if review.state != "PENDING":
                    latest[review.user.login] = review
            reviews = sorted(latest.values(), key=lambda r: r.submitted_at)
            return connection(
                "latestReviews",
                [self.review(r) for r in reviews],
                args,
                type_name="PullRequestReview",
            )

        def commits(args: dict[str, Any]) -> Obj:
            commit = Obj("PullRequestCommit", {"commit": self.commit(pull.repo, pull.head_sha)})
            return connection("commits", [commit], args, type_name="PullRequestCommit")

        head_ref = (
            Obj(
                "Ref",
                {
                    "name": pull.head_ref,
                    "prefix": "refs/heads/",
                    "target": self.commit(pull.repo, pull.head_sha),
                },
            )
            if pull.state == "open"
            else None
        )
        return Obj(
            "PullRequest",
            {
                "id": node_id("PR", pull.id),
                "databaseId": pull.id,
                "number": pull.number,
                "title": pull.title,
                "body": pull.body,
                "bodyText": pull.body,
                "url": url,
                "permalink": url,
                "resourcePath": url.removeprefix(self.web),
                "createdAt": iso(pull.created_at),
                "updatedAt": iso(pull.updated_at),
                "closedAt": iso(pull.closed_at) if pull.closed_at else None,
                "mergedAt": iso(pull.merged_at) if pull.merged_at else None,
                "state": _pull_state(pull),
                "closed": pull.state != "open",
                "merged": pull.merged,
                "isDraft": pull.draft,
                "mergeable": "CONFLICTING" if pull.conflicting else "MERGEABLE",
                "reviewDecision": review_decision,
                "headRefName": pull.head_ref,
                "headRefOid": pull.head_sha,
                "baseRefName": pull.base_ref,
                "baseRefOid": pull.base_sha,
                "headRef": head_ref,
                "author": self.actor(pull.user),
                "repository": (lambda args: self.repository(repo)) if repo else None,
                "labels": lambda args: connection(
                    "labels",
                    [
                        Obj("Label", {"name": name, "color": "0366d6"}, ("Node",))
                        for name in pull.labels
                    ],
                    args,
                    type_name="Label",
                ),
                "latestReviews": latest_reviews,
                "reviews": lambda args: connection(
                    "reviews",
                    [
                        self.review(r)
                        for r in pull.reviews
                        if not args.get("states") or r.state in args["states"]
                    ],
                    args,
                    type_name="PullRequestReview",
                ),
                "commits": commits,
            },
            ("Node", "Assignable", "Closable", "Comment", "Labelable", "UniformResourceLocatable"),
        )

    def review(self, review: Review) -> Obj:
        return Obj(
            "PullRequestReview",
            {
                "id": node_id("PRR", review.id),
                "databaseId": review.id,
                "state": review.state,
                "body": review.body,
                "submittedAt": iso(review.submitted_at),
                "author": self.actor(review.user),
            },
            ("Node", "Comment"),
        )

    def issue(self, issue: Issue) -> Obj:
        url = f"{self.web}/{issue.repo}/issues/{issue.number}"
        repo = self.world.repository(issue.repo)
        return Obj(
            "Issue",
            {
                "id": node_id("I", issue.id),
                "databaseId": issue.id,
                "number": issue.number,
                "title": issue.title,
                "body": issue.body,
                "url": url,
                "state": issue.state.upper(),
                "createdAt": iso(issue.created_at),
                "updatedAt": iso(issue.updated_at),
                "author": self.actor(issue.user),
                "repository": (lambda args: self.repository(repo)) if repo else None,
            },
            ("Node", "Closable", "Comment", "Labelable", "UniformResourceLocatable"),
        )

    def _alerts(self, repo: Repository, args: dict[str, Any]) -> Obj:
        if not self.world.alerts_readable:
            raise QueryError("Resource not accessible by personal access token", "FORBIDDEN")
        states = args.get("states")
        alerts = [
            a
            for a in self.world.alerts_of(repo.full_name)
            if not states or a.state.upper() in states
        ]
        alerts.sort(key=lambda a: a.number)
        return connection(
            "vulnerabilityAlerts",
            [self.alert(repo, a) for a in alerts],
            args,
            type_name="RepositoryVulnerabilityAlert",
        )

    def alert(self, repo: Repository, alert: Alert) -> Obj:
        world = self.world
        ecosystem = ADVISORY_ECOSYSTEMS.get(alert.ecosystem, alert.ecosystem).upper()
        severity = GRAPHQL_SEVERITY[alert.severity]
        package = Obj("SecurityAdvisoryPackage", {"name": alert.package, "ecosystem": ecosystem})
        advisory = Obj(
            "SecurityAdvisory",
            {
                "ghsaId": alert.ghsa_id,
                "summary": alert.summary,
                "description": alert.summary,
                "severity": severity,
                "publishedAt": iso(alert.created_at),
                "updatedAt": iso(alert.updated_at),
                "permalink": f"{self.web}/advisories/{alert.ghsa_id}",
                "identifiers": [
                    Obj("SecurityAdvisoryIdentifier", {"type": "GHSA", "value": alert.ghsa_id}),
                    Obj("SecurityAdvisoryIdentifier", {"type": "CVE", "value": alert.cve_id}),
                ],
            },
            ("Node",),
        )
        vulnerability = Obj(
            "SecurityVulnerability",
            {
                "package": package,
                "severity": severity,
                "vulnerableVersionRange": alert.vulnerable_range,
                "firstPatchedVersion": Obj(
                    "SecurityAdvisoryPackageVersion", {"identifier": alert.first_patched}
                ),
                "updatedAt": iso(alert.updated_at),
                "advisory": advisory,
            },
        )
        pull = world.pulls.get((repo.full_name, alert.pr_number)) if alert.pr_number else None
        update = Obj(
            "DependabotUpdate",
            {"pullRequest": self.pull(pull) if pull else None, "error": None},
            ("RepositoryNode",),
        )
        path = alert.manifest
        return Obj(
            "RepositoryVulnerabilityAlert",
            {
                "id": node_id("RVA", alert.number * 1000 + repo.id % 1000),
                "number": alert.number,
                "state": alert.state.upper(),
                "createdAt": iso(alert.created_at),
                "fixedAt": iso(alert.fixed_at) if alert.fixed_at else None,
                "dismissedAt": None,
                "vulnerableManifestPath": path,
                "vulnerableManifestFilename": path.rsplit("/", 1)[-1],
                "vulnerableRequirements": f"= {alert.vulnerable_range.removeprefix('< ')}",
                "securityVulnerability": vulnerability,
                "securityAdvisory": advisory,
                "dependabotUpdate": update,
                "repository": lambda args: self.repository(repo),
            },
            ("Node", "RepositoryNode"),
        )


def _pull_state(pull: PullRequest) -> str:
    if pull.merged:
        return "MERGED"
    return "OPEN" if pull.state == "open" else "CLOSED"


# --------------------------------------------------------------------------- search


_QUALIFIER = re.compile(r'(-?)(\w+):("[^"]*"|\S+)')


def search_issues(world: GitHubWorld, query: str) -> list[PullRequest | Issue]:
    """Issues and pull requests matching a GitHub search query, newest first.

    Understood qualifiers: is:pr/issue/open/closed/merged/draft, type:, state:, author:
    (`app/dependabot` for the bot), repo:, org:/user:, label:, archived: (ignored),
    sort:created-desc/-asc/updated-desc/-asc; other words must appear in the title.
    """
    qualifiers: list[tuple[bool, str, str]] = []

    def take(match: re.Match[str]) -> str:
        qualifiers.append((match[1] == "-", match[2].lower(), match[3].strip('"')))
        return " "

    rest = _QUALIFIER.sub(take, query)
    words = [w.lower() for w in rest.split() if w]
    sort_key, descending = "created", True
    repos: set[str] = set()
    orgs: set[str] = set()
    checks: list[tuple[bool, Callable[[PullRequest | Issue], bool]]] = []
    for negated, name, value in qualifiers:
        value_lower = value.lower()
        if name == "repo":
            repos.add(value_lower)
        elif name in ("org", "user"):
            orgs.add(value_lower)
        elif name == "sort":
            sort_key, _, direction = value_lower.partition("-")
            descending = direction != "asc"
        elif name in ("is", "type", "state"):
            checks.append((negated, _is_check(value_lower)))
        elif name == "author":
            checks.append((negated, _author_check(value_lower.removeprefix("app/"))))
        elif name == "label":
            checks.append((negated, _label_check(value_lower)))
    candidates: list[PullRequest | Issue] = [*world.pulls.values(), *world.issues.values()]
    found = []
    for item in candidates:
        repo = item.repo.lower()
        if (repos or orgs) and repo not in repos and repo.partition("/")[0] not in orgs:
            continue
        if any(check(item) == negated for negated, check in checks):
            continue
        if words and not all(w in item.title.lower() for w in words):
            continue
        found.append(item)
    attribute = "updated_at" if sort_key == "updated" else "created_at"
    found.sort(key=lambda i: (getattr(i, attribute), i.repo, i.number), reverse=descending)
    return found


def _author_check(login: str) -> Callable[[PullRequest | Issue], bool]:
    return lambda item: item.user.login.lower().removesuffix("[bot]") == login


def _label_check(label: str) -> Callable[[PullRequest | Issue], bool]:
    return lambda item: label in {name.lower() for name in item.labels}


def _is_check(value: str) -> Callable[[PullRequest | Issue], bool]:
    if value == "pr":
        return lambda item: isinstance(item, PullRequest)
    if value == "issue":
        return lambda item: isinstance(item, Issue)
    if value == "open":
        return lambda item: item.state == "open"
    if value == "closed":
        return lambda item: item.state != "open"
    if value == "merged":
        return lambda item: isinstance(item, PullRequest) and item.merged
    if value == "draft":
        return lambda item: isinstance(item, PullRequest) and item.draft
    return lambda item: True


# --------------------------------------------------------------------------- execution


@dataclass(slots=True)
class Prepared:
    """A parsed query, ready to run: its operation, fragments, variables and point cost."""

    document: DocumentNode
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    cost: int
    requests: int
    errors: list[dict[str, Any]] = field(default_factory=list)


def prepare(body: Any) -> Prepared | list[dict[str, Any]]:
    """Parse a GraphQL request body; returns the prepared query or GitHub-style errors."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return [{"message": "A query attribute must be specified and must be a string."}]
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        return [{"message": "Variables are invalid JSON."}]
    try:
        document = parse(body["query"])
    except GraphQLError as error:
        return [_format_graphql_error(error)]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    wanted = body.get("operationName")
    if wanted:
        operations = [o for o in operations if o.name is not None and o.name.value == wanted]
    if len(operations) != 1:
        return [{"message": "An operation name is required" if operations else "No operation"}]
    operation = operations[0]
    if operation.operation.value != "query":
        return [{"message": f"The simulator does not implement {operation.operation.value}s."}]
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in variables and definition.default_value is not None:
            variables[name] = value_from_ast_untyped(definition.default_value, {})
    requests = _count_requests(operation.selection_set, fragments, variables, 1)
    cost = max(1, int(requests / 100 + 0.5))
    return Prepared(document, operation, fragments, variables, cost, requests)


def _format_graphql_error(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    return formatted


def _arguments(node: FieldNode, variables: Mapping[str, Any]) -> dict[str, Any]:
    return {
        arg.name.value: value_from_ast_untyped(arg.value, dict(variables))
        for arg in node.arguments or ()
    }


def _selections(
    selection_set: SelectionSetNode | None, fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterable[tuple[str | None, FieldNode]]:
    """(type condition, field) for every field selected, fragments expanded."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield None, selection
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            for inner, node in _selections(selection.selection_set, fragments):
                yield inner or condition, node
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None:
                raise QueryError(f"Fragment {selection.name.value} was used, but not defined")
            for inner, node in _selections(fragment.selection_set, fragments):
                yield inner or fragment.type_condition.name.value, node


def _count_requests(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    multiplier: int,
) -> int:
    """GitHub's rule: every connection (a field paginated by first/last) costs one request
    per parent object it could be asked on; a nested one multiplies by the parents' sizes."""
    total = 0
    for _, node in _selections(selection_set, fragments):
        args = _arguments(node, variables)
        size = args.get("first", args.get("last"))
        if isinstance(size, int) and not isinstance(size, bool):
            total += multiplier
            total += _count_requests(node.selection_set, fragments, variables, multiplier * size)
        else:
            total += _count_requests(node.selection_set, fragments, variables, multiplier)
    return total


def execute(prepared: Prepared, root: Obj) -> dict[str, Any]:
    """Run a prepared query against `root`; returns GitHub's `{"data": ..., "errors": [...]}`."""
    errors: list[dict[str, Any]] = []

    def select(
        selection_set: SelectionSetNode | None, obj: Obj, path: list[str | int]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for condition, node in _selections(selection_set, prepared.fragments):
            if condition is not None and not obj.is_a(condition):
                continue
            key = node.alias.value if node.alias else node.name.value
            if node.name.value == "__typename":
                out[key] = obj.typename
                continue
            try:
                value = obj.resolve(node.name.value, _arguments(node, prepared.variables))
                out[key] = complete(value, node.selection_set, [*path, key])
            except QueryError as error:
                entry: dict[str, Any] = {"message": error.message, "path": [*path, key]}
                if error.type:
                    entry["type"] = error.type
                if node.loc is not None:
                    line, column = _line_column(node.loc.source.body, node.loc.start)
                    entry["locations"] = [{"line": line, "column": column}]
                errors.append(entry)
                out[key] = None
        return out

    def complete(value: Any, selection_set: SelectionSetNode | None, path: list[str | int]) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            return [complete(v, selection_set, [*path, i]) for i, v in enumerate(value)]
        if isinstance(value, Obj):
            if selection_set is None:
                raise QueryError(
                    f"Field must have selections (field '{path[-1]}' returns "
                    f"{value.typename} but has no selections)"
                )
            return select(selection_set, value, path)
        if isinstance(value, datetime):
            return iso(value)
        return value

    data = select(prepared.operation.selection_set, root, [])
    result: dict[str, Any] = {"data": data}
    if errors:
        result["errors"] = errors
    return result


def _line_column(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count("\n") + 1
    return line, offset - (before.rfind("\n") + 1) + 1


__all__ = [
    "Graph",
    "Obj",
    "Prepared",
    "QueryError",
    "connection",
    "execute",
    "prepare",
    "search_issues",
]
