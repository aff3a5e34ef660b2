"""SVG snapshots of the cockpit on the simulator: fixed size, frozen clock, seeded world.

Update them only after looking at the report (`pytest --snapshot-update`, then open
snapshot_report.html or render the SVGs to PNG).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import Simulator
from tests.ui.test_cockpit import SIZE, make_app, until


async def settle(pilot: Pilot[Any]) -> None:
    """Let every widget finish repainting (a modal repaints the screen under it)."""
    await pilot.app.workers.wait_for_complete()
    await pilot.wait_for_scheduled_animations()
    for _ in range(5):
        await pilot.pause(0.05)
        await pilot.pause()  # also waits for the screen to process what is pending


def loaded(pilot: Pilot[Any]) -> Any:
    async def wait() -> None:
        # Every configured pane has its first data, so the shot never catches a poll midway.
        await until(
            pilot,
            lambda: all(
                poller.freshness.last_success is not None and not poller.freshness.polling
                for poller in pilot.app.pollers.values()
            ),
        )
        await settle(pilot)

    return wait()


def test_cockpit_on_the_demo_world(
    snap_compare: Any, simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = make_app(simulator, sim_clock, tmp_path)
    assert snap_compare(app, terminal_size=SIZE, run_before=loaded)


def test_page_detail(
    snap_compare: Any, simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = make_app(simulator, sim_clock, tmp_path)

    async def open_detail(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("down", "enter")
        await until(
            pilot, lambda: "loading" not in str(pilot.app.screen.query_one("#detail-log").content)
        )
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_detail)


def test_help(
    snap_compare: Any, simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = make_app(simulator, sim_clock, tmp_path)

    async def open_help(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_help)


def test_error_keeps_rows_and_says_why(
    snap_compare: Any, simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = make_app(simulator, sim_clock, tmp_path)

    async def fail(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        simulator.set_fault("pagerduty", "500")
        await pilot.press("r")
        pane = pilot.app.pane("pages")
        await until(pilot, lambda: "⚠" in str(pane.border_subtitle))
        # `r` refreshed every source: wait for the others' polls too, or the shot may catch
        # one of them mid-poll.
        await until(pilot, lambda: not any(p.freshness.polling for p in pilot.app.pollers.values()))
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=fail)


def test_light_theme(
    snap_compare: Any, simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    from oncall_tui.config import UiSettings

    app = make_app(simulator, sim_clock, tmp_path, UiSettings(theme="oncall-light"))
    assert snap_compare(app, terminal_size=SIZE, run_before=loaded)


def test_resolve_dialog(
    snap_compare: Any, simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = make_app(simulator, sim_clock, tmp_path)

    async def ask(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("R")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ask)


def test_mute_dialog(
    snap_compare: Any, simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = make_app(simulator, sim_clock, tmp_path)

    async def ask(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("2", "m")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ask)
