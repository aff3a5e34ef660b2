"""Named simulator scenarios: how busy the simulated world is, as plain frozen data.

A scenario only sets knobs (how many pages are open at the start, how often new ones
trigger, how long they live); the world modules turn the knobs into state, so the same
scenario gives the same world for the same seed. Providers added later get their own
knob group beside `pagerduty`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0


@dataclass(frozen=True, slots=True)
class PagerDutyScenario:
    """Knobs for the PagerDuty part of the world. Durations are in seconds."""

    open_pages: int
    """Open (triggered or acknowledged) incidents when the world starts."""
    acknowledged_share: float
    """Share of the starting open incidents that are already acknowledged."""
    high_urgency_share: float
    """Share of incidents (starting and new) that are high urgency."""
    max_age: float
    """Age of the oldest starting open incident."""
    resolved_history: int
    """Incidents triggered and resolved in the hours before the start (MTTA/MTTR material)."""
    trigger_gap: float
    """Mean clock time between two new pages; 0 means no new pages."""
    lifetime: tuple[float, float]
    """How long a new page stays open before its monitor recovers (uniform range)."""
    initial_lifetime: tuple[float, float]
    """How long after the start a starting open incident recovers (uniform range)."""
    other_ack_chance: float
    """Chance that someone other than the engineer acknowledges a page on their own."""
    notes_chance: float = 0.3
    """Chance that an acknowledged page gets a note from its acknowledger."""
    auto_resolve: bool = True
    """Whether services resolve pages after 4 hours (PagerDuty's auto-resolve timeout)."""


@dataclass(frozen=True, slots=True)
class DatadogScenario:
    """Knobs for the Datadog part of the world. Durations are in seconds."""

    team_monitors: int = 25
    """Monitors tagged `team:benefits` (the cockpit's query)."""
    other_monitors: int = 6
    """Other teams' monitors, which the query must leave out."""
    alerting_share: float = 0.3
    """Share of the team's monitors in Alert, Warn or No Data when the world starts."""
    multi_share: float = 0.35
    """Share of monitors that are multi-alert (one group per host or queue)."""
    ok_duration: tuple[float, float] = (30 * MINUTE, 4 * HOUR)
    """How long a group stays OK before it flaps again (uniform range)."""
    bad_duration: tuple[float, float] = (5 * MINUTE, 75 * MINUTE)
    """How long a group stays in Alert, Warn or No Data (uniform range)."""
    muted: int = 2
    """Downtimes already muting team monitors when the world starts (0, 1 or 2)."""


@dataclass(frozen=True, slots=True)
class GitHubScenario:
    """Knobs for the GitHub part of the world (deploys, Dependabot). Durations in seconds."""

    repositories: int = 6
    """Repositories: the six demo ones first, then generated `benefits/svc-*` ones."""
    pipeline_gap: float = 40 * MINUTE
    """Mean time between two deploy pipelines (dev up to prod) of one repository."""
    promote_gap: tuple[int, int] = (3 * 60, 20 * 60)
    """Wait between a successful deploy and its promotion to the next environment."""
    deploy_failure: float = 0.15
    """Share of deploys that fail (a failure stops the pipeline)."""
    history: float = 3 * HOUR
    """How long the pipelines have been running when the world starts."""
    open_prs: int = 14
    """Open Dependabot pull requests when the world starts."""
    max_pr_age: float = 6 * DAY
    pr_gap: float = 12 * MINUTE
    """Mean time between two new Dependabot pull requests, across all repositories."""
    security_share: float = 0.25
    conflict_share: float = 0.1
    check_failure_share: float = 0.2
    approve_share: float = 0.3
    merge_by_others: bool = True


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named world shape; `sized` scenarios take their open-page count from `size`."""

    name: str
    description: str
    pagerduty: PagerDutyScenario
    sized: bool = False
    datadog: DatadogScenario = DatadogScenario()
    github: GitHubScenario = GitHubScenario()

    def with_size(self, size: int) -> Scenario:
        """The same scenario with `size` open pages at the start (benchmarks)."""
        if size < 0:
            raise ValueError(f"scenario size must be >= 0, got {size}")
        return replace(self, pagerduty=replace(self.pagerduty, open_pages=size))


SCENARIOS: Mapping[str, Scenario] = MappingProxyType(
    {
        "default": Scenario(
            name="default",
            description="An ordinary shift: about a dozen open pages, a new one every few minutes.",
            pagerduty=PagerDutyScenario(
                open_pages=12,
                acknowledged_share=0.4,
                high_urgency_share=0.55,
                max_age=4 * HOUR,
                resolved_history=6,
                trigger_gap=7 * MINUTE,
                lifetime=(6 * MINUTE, 3 * HOUR),
                initial_lifetime=(20 * MINUTE, 3 * HOUR),
                other_ack_chance=0.35,
            ),
        ),
        "quiet": Scenario(
            name="quiet",
            description="A calm shift: one or two open pages, rare new ones.",
            pagerduty=PagerDutyScenario(
                open_pages=2,
                acknowledged_share=0.5,
                high_urgency_share=0.3,
                max_age=2 * HOUR,
                resolved_history=2,
                trigger_gap=50 * MINUTE,
                lifetime=(10 * MINUTE, 2 * HOUR),
                initial_lifetime=(2 * HOUR, 4 * HOUR),
                other_ack_chance=0.2,
            ),
            datadog=DatadogScenario(alerting_share=0.1, muted=1, ok_duration=(2 * HOUR, 8 * HOUR)),
        ),
        "storm": Scenario(
            name="storm",
            description="An alert storm: dozens of open pages, a new one every minute or so.",
            pagerduty=PagerDutyScenario(
                open_pages=40,
                acknowledged_share=0.15,
                high_urgency_share=0.8,
                max_age=90 * MINUTE,
                resolved_history=10,
                trigger_gap=50.0,
                lifetime=(3 * MINUTE, 90 * MINUTE),
                initial_lifetime=(10 * MINUTE, 2 * HOUR),
                other_ack_chance=0.4,
            ),
            datadog=DatadogScenario(
                alerting_share=0.7,
                ok_duration=(10 * MINUTE, 90 * MINUTE),
                bad_duration=(10 * MINUTE, 2 * HOUR),
            ),
        ),
        "scale": Scenario(
            name="scale",
            description="Benchmark world: `size` open pages (5000 unless told), spread over days.",
            pagerduty=PagerDutyScenario(
                open_pages=5000,
                acknowledged_share=0.3,
                high_urgency_share=0.5,
                max_age=6 * DAY,
                resolved_history=0,
                trigger_gap=5 * MINUTE,
                lifetime=(1 * DAY, 7 * DAY),
                initial_lifetime=(1 * DAY, 7 * DAY),
                other_ack_chance=0.2,
                notes_chance=0.0,
                auto_resolve=False,
            ),
            sized=True,
            # 2,000 of 2,500 team monitors alerting, and they stay so for days.
            datadog=DatadogScenario(
                team_monitors=2500,
                other_monitors=100,
                alerting_share=0.8,
                multi_share=0.2,
                ok_duration=(1 * DAY, 7 * DAY),
                bad_duration=(1 * DAY, 7 * DAY),
            ),
            # 200 repositories x 5 environments, 500 open Dependabot PRs.
            github=GitHubScenario(
                repositories=200,
                pipeline_gap=2 * HOUR,
                history=1 * HOUR,
                open_prs=500,
                pr_gap=3 * MINUTE,
                merge_by_others=False,
            ),
        ),
    }
)
"""Every scenario by name. `scale` is the one that honours a size."""


def resolve_scenario(scenario: str | Scenario, size: int | None = None) -> Scenario:
    """Turn a name (optionally `name:size`, e.g. `scale:20000`) into a scenario.

    The `name:size` form exists so a command line can pick a benchmark size with one flag.
    """
    if isinstance(scenario, Scenario):
        chosen = scenario
    else:
        name, _, size_text = scenario.partition(":")
        if name not in SCENARIOS:
            known = ", ".join(sorted(SCENARIOS))
            raise ValueError(f"unknown scenario {name!r}; known scenarios: {known}")
        chosen = SCENARIOS[name]
        if size_text:
            try:
                parsed = int(size_text)
            except ValueError:
                raise ValueError(f"scenario size must be an integer, got {size_text!r}") from None
            size = parsed if size is None else size
    if size is not None:
        if not chosen.sized:
            raise ValueError(f"scenario {chosen.name!r} does not take a size")
        chosen = chosen.with_size(size)
    return chosen
