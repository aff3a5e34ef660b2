"""Builds the configured sources from settings; a provider without credentials is absent."""

from __future__ import annotations

from oncall_tui.config import Settings
from oncall_tui.domain.clock import Clock
from oncall_tui.sources.base import Source
from oncall_tui.sources.datadog import DatadogSource
from oncall_tui.sources.github import build_github_sources
from oncall_tui.sources.pagerduty import PagerDutySource

PANE_NAMES: tuple[str, ...] = ("pages", "monitors", "deploys", "dependabot")


def build_sources(settings: Settings, clock: Clock) -> dict[str, Source]:
    """One source per configured pane, keyed by pane name."""
    sources: dict[str, Source] = {}
    if settings.pagerduty.configured:
        sources["pages"] = PagerDutySource(settings.pagerduty, clock)
    if settings.datadog.configured:
        sources["monitors"] = DatadogSource(settings.datadog, clock)
    deploys, dependabot = build_github_sources(settings.github, clock)
    if deploys is not None:
        sources["deploys"] = deploys
    if dependabot is not None:
        sources["dependabot"] = dependabot
    return sources
