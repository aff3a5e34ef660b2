"""Shared fixtures: the simulator, started on a fake clock."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import Simulator, World


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    """A started simulator (seed 7, default scenario) whose world runs on a `FakeClock`."""
    world = World(seed=7, clock=FakeClock(), scenario="default")
    with Simulator(world) as sim:
        yield sim


@pytest.fixture
def sim_clock(simulator: Simulator) -> FakeClock:
    """The fake clock driving `simulator`'s world: advance it to move the world."""
    return cast(FakeClock, simulator.world.clock)


CHATTY_LOGGERS = ("httpx", "httpx2", "httpcore", "urllib3")


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private home: XDG folders in tmp_path, no provider credentials in the env."""
    home = tmp_path / "home"
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    monkeypatch.setenv("HOME", str(home))
    for name in (
        "ONCALL_TUI_CONFIG",
        "ONCALL_SLACK_WEBHOOK",
        "PAGERDUTY_TOKEN",
        "DD_API_KEY",
        "DD_APP_KEY",
        "DD_SITE",
        "GITHUB_TOKEN",
        "GH_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """`logs.configure` (run by `main`) rewires the root logger: put pytest's back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in CHATTY_LOGGERS}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
    logging.captureWarnings(False)
