"""Shared fixtures: the simulator, started on a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
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
