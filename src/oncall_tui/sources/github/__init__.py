"""GitHub sources: deploys (Deployments API or a deploy workflow) and Dependabot PRs.

Both read through one `GitHubClient` per token and host (PyGithub for REST, httpx for
GraphQL batch reads) and keep within GitHub's budget: 20 repositories at the default
intervals spend well under 300 points an hour (see `bench/github_budget.py`).
"""

from __future__ import annotations

from oncall_tui.sources.github._client import GitHubClient
from oncall_tui.sources.github._parse import ParsedTitle, bump_level, parse_title
from oncall_tui.sources.github.dependabot import GitHubDependabotSource
from oncall_tui.sources.github.deploys import DeployJob, GitHubDeploySource, JobStep

__all__ = [
    "DeployJob",
    "GitHubClient",
    "GitHubDependabotSource",
    "GitHubDeploySource",
    "JobStep",
    "ParsedTitle",
    "bump_level",
    "build_github_sources",
    "parse_title",
]

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oncall_tui.config import GitHubSettings
    from oncall_tui.domain.clock import Clock


def build_github_sources(
    settings: GitHubSettings, clock: Clock
) -> tuple[GitHubDeploySource | None, GitHubDependabotSource | None]:
    """The deploys and Dependabot sources for one GitHub token, sharing one client.

    Deploys need repositories (each says how it deploys); Dependabot works with
    repositories or an org.
    """
    if not settings.configured or not (settings.repositories or settings.org):
        return None, None
    client = GitHubClient(settings, clock)
    deploys = GitHubDeploySource(settings, clock, client=client) if settings.repositories else None
    return deploys, GitHubDependabotSource(settings, clock, client=client)
