"""The built-in demo: the simulator in-process, and settings that point the real SDKs at it."""

from __future__ import annotations

from dataclasses import replace

from oncall_tui.config import (
    DatadogSettings,
    GitHubSettings,
    PagerDutySettings,
    RepositorySettings,
    Secret,
    Settings,
)
from oncall_tui.domain.clock import Clock
from oncall_tui.simulator import Simulator, World
from oncall_tui.simulator.datadog import DEFAULT_QUERY, datadog_keys
from oncall_tui.simulator.datadog_world import SITE as DATADOG_SITE


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
    api_key, app_key = datadog_keys(simulator)
    datadog = DatadogSettings(
        api_key=Secret(api_key),
        app_key=Secret(app_key),
        site=DATADOG_SITE,
        base_url=simulator.provider_url("datadog"),
        ca_bundle=simulator.ca_pem_path,
        interval=base.datadog.interval if base.datadog.configured else 30.0,
        query=DEFAULT_QUERY,
    )
    github = GitHubSettings(
        token=Secret(simulator.tokens["github"]),
        base_url=simulator.provider_url("github"),
        ca_bundle=simulator.ca_pem_path,
        interval=base.github.interval if base.github.configured else 30.0,
        dependabot_interval=base.github.dependabot_interval if base.github.configured else 60.0,
        repositories=tuple(
            RepositorySettings(name=name, deploy_source=source)
            for name, source in world.github.deploy_sources()
        ),
        merge_method=base.github.merge_method,
        handover_repo=world.github.repository_names()[0],
    )
    return replace(base, pagerduty=pagerduty, datadog=datadog, github=github)


def start_demo(
    base: Settings, clock: Clock, *, seed: int = 7, scenario: str = "default"
) -> tuple[Simulator, Settings]:
    """Start the simulator on an ephemeral port; the caller stops it."""
    simulator = Simulator(World(seed=seed, clock=clock, scenario=scenario))
    simulator.start()
    return simulator, demo_settings(base, simulator)
