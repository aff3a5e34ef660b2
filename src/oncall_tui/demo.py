"""The built-in demo: the simulator in-process, and settings that point the real SDKs at it."""

from __future__ import annotations

from dataclasses import replace

from oncall_tui.config import PagerDutySettings, Secret, Settings
from oncall_tui.domain.clock import Clock
from oncall_tui.simulator import Simulator, World


def demo_settings(base: Settings, simulator: Simulator) -> Settings:
    """`base` with every provider pointed at the simulator (its URL, CA and tokens).

    The UI, shift and key settings of the user's own config are kept, so the demo looks
    like their cockpit; provider scope settings are replaced by the demo world's.
    """
    world = simulator.world
    pagerduty = PagerDutySettings(
        token=Secret(simulator.tokens["pagerduty"]),
        base_url=simulator.pagerduty_url,
        ca_bundle=simulator.ca_pem_path,
        interval=base.pagerduty.interval if base.pagerduty.configured else 15.0,
        from_email=world.pagerduty.me_email,
        escalation_policy_ids=tuple(world.pagerduty.escalation_policy_ids),
    )
    return replace(base, pagerduty=pagerduty)


def start_demo(
    base: Settings, clock: Clock, *, seed: int = 7, scenario: str = "default"
) -> tuple[Simulator, Settings]:
    """Start the simulator on an ephemeral port; the caller stops it."""
    simulator = Simulator(World(seed=seed, clock=clock, scenario=scenario))
    simulator.start()
    return simulator, demo_settings(base, simulator)
