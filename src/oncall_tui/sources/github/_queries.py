"""The GraphQL queries the GitHub sources send (every one is validated against GitHub's
published schema in the tests), and their cost in GitHub's points.

Costs, by GitHub's rule (requests to fill every connection / 100, rounded, at least 1):
the deploys query for 20 repositories x 5 environments asks 100 `deployments(first: 1)`
connections and nothing nested: 1 point. The Dependabot query asks one `search(first:
100)` plus, per result, `labels(first: 10)`, `latestReviews(first: 5)` and `commits(last:
1)` (300 requests), plus one `vulnerabilityAlerts(first: 100)` per repository: 3 points for
20 repositories.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

RATE_LIMIT = "rateLimit { limit cost remaining resetAt }"

DEPLOYMENT_FIELDS = """
        nodes {
          databaseId
          environment
          state
          createdAt
          updatedAt
          commitOid
          description
          ref { name }
          creator { login }
          latestStatus { state createdAt logUrl environmentUrl description }
        }"""

PULL_FIELDS = """
      ... on PullRequest {
        number
        title
        url
        createdAt
        updatedAt
        isDraft
        headRefName
        headRefOid
        baseRefName
        mergeable
        reviewDecision
        author { login }
        repository { nameWithOwner }
        labels(first: 10) { nodes { name } }
        latestReviews(first: 5) { nodes { state } }
        commits(last: 1) { nodes { commit { statusCheckRollup { state } } } }
      }"""

ALERT_FIELDS = """
    vulnerabilityAlerts(states: [OPEN], first: 100) {
      nodes {
        number
        securityVulnerability {
          severity
          package { name }
          firstPatchedVersion { identifier }
        }
        dependabotUpdate { pullRequest { number } }
      }
    }"""


def _literal(value: str) -> str:
    """A GraphQL string literal (JSON's escaping is valid GraphQL)."""
    return json.dumps(value)


def _repository(alias: str, full_name: str, body: str) -> str:
    owner, _, name = full_name.partition("/")
    return (
        f"  {alias}: repository(owner: {_literal(owner)}, name: {_literal(name)}) {{\n"
        f"    nameWithOwner\n    url\n{body}\n  }}"
    )


def deploys_query(repositories: Sequence[tuple[str, Sequence[str]]]) -> str:
    """Latest deployment (and its latest status) per environment of each repository.

    Aliases are positional (`r0`, `e0`): environment names such as `prod-test` are not
    valid GraphQL names.
    """
    parts = [f"query Deploys {{\n  {RATE_LIMIT}"]
    for r, (full_name, environments) in enumerate(repositories):
        fields = []
        for e, environment in enumerate(environments):
            fields.append(
                f"    e{e}: deployments(environments: [{_literal(environment)}], first: 1, "
                f"orderBy: {{field: CREATED_AT, direction: DESC}}) {{{DEPLOYMENT_FIELDS}\n    }}"
            )
        parts.append(_repository(f"r{r}", full_name, "\n".join(fields)))
    parts.append("}")
    return "\n".join(parts)


LAST_SUCCESS_DEPLOYMENTS = 20
"""Newest deployments per environment searched for the last success."""


def last_success_query(full_name: str, environments: Sequence[str]) -> str:
    """The newest deployments of one repository to each environment (aliases `e0`, `e1`,
    ...), newest first, each with its latest status: an environment's last successful
    deploy is the first whose latest status is SUCCESS. Five environments ask 100 nodes:
    1 point."""
    fields = [
        f"    e{e}: deployments(environments: [{_literal(environment)}], "
        f"first: {LAST_SUCCESS_DEPLOYMENTS}, orderBy: {{field: CREATED_AT, direction: DESC}}) "
        f"{{{DEPLOYMENT_FIELDS}\n    }}"
        for e, environment in enumerate(environments)
    ]
    return "\n".join(
        [
            f"query LastSuccess {{\n  {RATE_LIMIT}",
            _repository("repository", full_name, "\n".join(fields)),
            "}",
        ]
    )


def dependabot_query(alert_repositories: Sequence[str]) -> str:
    """Open Dependabot PRs from a search (`$q`, paged by `$after`), plus each listed
    repository's open Dependabot alerts (only on the first page)."""
    parts = [
        "query Dependabot($q: String!, $after: String) {",
        f"  {RATE_LIMIT}",
        "  search(query: $q, type: ISSUE, first: 100, after: $after) {",
        "    issueCount",
        "    pageInfo { hasNextPage endCursor }",
        f"    nodes {{{PULL_FIELDS}\n    }}",
        "  }",
    ]
    for index, full_name in enumerate(alert_repositories):
        parts.append(_repository(f"a{index}", full_name, ALERT_FIELDS))
    parts.append("}")
    return "\n".join(parts)


def alerts_query(repositories: Sequence[str]) -> str:
    """Open Dependabot alerts of the given repositories (org mode, after the search)."""
    parts = [f"query DependabotAlerts {{\n  {RATE_LIMIT}"]
    for index, full_name in enumerate(repositories):
        parts.append(_repository(f"a{index}", full_name, ALERT_FIELDS))
    parts.append("}")
    return "\n".join(parts)


def bodies_query(pulls: Sequence[tuple[str, int]]) -> str:
    """Bodies of grouped-update PRs (the title does not list the updates)."""
    parts = [f"query DependabotBodies {{\n  {RATE_LIMIT}"]
    by_repo: dict[str, list[int]] = {}
    for full_name, number in pulls:
        by_repo.setdefault(full_name, []).append(number)
    for index, (full_name, numbers) in enumerate(by_repo.items()):
        fields = "\n".join(f"    p{n}: pullRequest(number: {n}) {{ number body }}" for n in numbers)
        parts.append(_repository(f"b{index}", full_name, fields))
    parts.append("}")
    return "\n".join(parts)


def search_string(qualifiers: Sequence[str]) -> str:
    """The search for open Dependabot PRs in the given `repo:`/`org:` scope."""
    return " ".join(
        [
            "is:pr",
            "is:open",
            "author:app/dependabot",
            "archived:false",
            "sort:created-asc",
            *qualifiers,
        ]
    )
