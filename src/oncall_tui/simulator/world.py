"""The simulated world: one seeded, clock-driven container holding each provider's state.

The world is lazy: nothing runs in the background. Each request first calls `tick()`, which
moves every provider's state to `clock.now()` by replaying its timeline, so the same seed
and the same request times always give the same world, under a real or a fake clock.
The server is threaded, so every access goes through `lock`.

Providers plug in here: a provider world is any object with `advance_to(now)` and
`snapshot()`; add it to `providers` in `World.__init__` (Datadog and GitHub go beside
PagerDuty).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, Protocol

from oncall_tui.domain.clock import Clock
from oncall_tui.simulator.datadog_world import DatadogWorld
from oncall_tui.simulator.github_world import GitHubWorld
from oncall_tui.simulator.pagerduty_world import PagerDutyWorld, iso
from oncall_tui.simulator.scenarios import Scenario, resolve_scenario


class ProviderWorld(Protocol):
    """The part of the world one provider's API serves."""

    def advance_to(self, now: datetime) -> None:
        """Apply everything that happens up to `now`; never goes backwards."""
        ...

    def snapshot(self) -> dict[str, Any]:
        """Plain JSON of the state, for `GET /_sim/state`."""
        ...


class World:
    """Every provider's simulated state, moved together by one clock and one seed."""

    def __init__(
        self,
        seed: int,
        clock: Clock,
        scenario: str | Scenario = "default",
        *,
        size: int | None = None,
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.scenario = resolve_scenario(scenario, size)
        self.lock = threading.RLock()
        start = clock.now()
        self.started_at = start
        self.pagerduty = PagerDutyWorld(seed, self.scenario, start)
        self.providers: dict[str, ProviderWorld] = {"pagerduty": self.pagerduty}
        self.datadog = DatadogWorld(seed, self.scenario, start)
        self.providers["datadog"] = self.datadog
        self.github = GitHubWorld(seed, self.scenario, start)
        self.providers["github"] = self.github
        self.now = start

    def tick(self) -> datetime:
        """Bring every provider up to the clock's time and return that time."""
        with self.lock:
            now = self.clock.now()
            if now > self.now:
                self.now = now
            for provider in self.providers.values():
                provider.advance_to(self.now)
            return self.now

    def snapshot(self) -> dict[str, Any]:
        """The whole world as plain JSON, one section per provider."""
        with self.lock:
            state: dict[str, Any] = {
                "now": iso(self.now),
                "seed": self.seed,
                "scenario": self.scenario.name,
            }
            for name, provider in self.providers.items():
                state[name] = provider.snapshot()
            return state
