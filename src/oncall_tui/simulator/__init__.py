"""The built-in simulator: fake PagerDuty (and later Datadog, GitHub) APIs over real HTTPS.

The real SDK clients point at it through their base-URL settings, so the demo, the tests
and production exercise the same code. Typical use::

    world = World(seed=7, clock=FakeClock(), scenario="default")
    with Simulator(world) as sim:
        client = RestApiV2Client(sim.tokens["pagerduty"], base_url=sim.pagerduty_url, ...)

Headless: standard library, `trustme` and `oncall_tui.domain` only.
"""

from oncall_tui.simulator.scenarios import SCENARIOS, Scenario
from oncall_tui.simulator.server import (
    Exchange,
    SimRequest,
    SimResponse,
    Simulator,
    run_standalone,
    write_config_file,
)
from oncall_tui.simulator.world import World

__all__ = [
    "SCENARIOS",
    "Exchange",
    "Scenario",
    "SimRequest",
    "SimResponse",
    "Simulator",
    "World",
    "run_standalone",
    "write_config_file",
]
