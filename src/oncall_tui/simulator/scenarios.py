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
class Scenario:
    """A named world shape; `sized` scenarios take their open-page count from `size`."""

    name: str
    description: str
    pagerduty: PagerDutyScenario
    sized: bool = False

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
