"""GitHub rate-limit budget: points per hour for 20 repositories at the default intervals.

`python bench/github_budget.py` prints `github_points_per_hour: VALUE points/h (target)`.
The scale world (200 repositories, 500 Dependabot PRs) runs on a fake clock; the cockpit's
two GitHub sources watch its first 20 repositories (some deploying through the "Update
Deployment" workflow) for one simulated hour: deploys every 60 s, Dependabot every 300 s.
The figure is what the simulator charged: REST requests not answered 304 plus the point
cost of every GraphQL query, counted the way GitHub documents it.
"""

from __future__ import annotations

from oncall_tui.config import GitHubSettings, RepositorySettings, Secret
from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import Simulator, World
from oncall_tui.sources.github import build_github_sources

Figure = tuple[str, float, str, str]
REPOSITORIES = 20


def measure(repositories: int = REPOSITORIES, minutes: int = 60, seed: int = 7) -> int:
    """Points the simulator charged for `minutes` of polling `repositories` repositories."""
    clock = FakeClock()
    with Simulator(World(seed=seed, clock=clock, scenario="scale")) as sim:
        github_world = sim.world.github
        chosen = github_world.deploy_sources()[:repositories]
        settings = GitHubSettings(
            token=Secret(sim.tokens["github"]),
            base_url=sim.provider_url("github"),
            ca_bundle=sim.ca_pem_path,
            repositories=tuple(RepositorySettings(name, source) for name, source in chosen),
        )
        deploys, dependabot = build_github_sources(settings, clock)
        assert deploys is not None and dependabot is not None
        deploy_every = round(settings.interval / 60)
        dependabot_every = round(settings.dependabot_interval / 60)
        start = github_world.rate.points
        try:
            for minute in range(minutes):
                if minute % deploy_every == 0:
                    deploys.fetch()
                if minute % dependabot_every == 0:
                    dependabot.fetch()
                clock.advance(60)
        finally:
            deploys.close()
        return github_world.rate.points - start


def figures() -> list[Figure]:
    points = measure()
    return [
        (
            "github_points_per_hour",
            float(points),
            "points/h",
            f"target <= 300 for {REPOSITORIES} repos",
        )
    ]


def main() -> int:
    for name, value, unit, target in figures():
        print(f"{name}: {value:.1f} {unit} ({target})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
