"""Pilot tests: the cockpit against the simulator, through the real PagerDuty SDK.

The world and the pollers run on one `FakeClock`, so nothing here waits on wall time except
the round trips to the simulator on 127.0.0.1.
"""

from __future__ import annotations

import io
import json
import ssl
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Input, Static

from oncall_tui.config import DatadogSettings, GitHubSettings, Settings, UiSettings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import Simulator
from oncall_tui.sources.factory import build_sources
from oncall_tui.ui.app import FreshnessChanged, OncallApp, SnapshotArrived
from oncall_tui.ui.screens.help import HelpScreen
from oncall_tui.ui.screens.page_detail import PageDetailScreen

SIZE = (160, 48)


def make_app(
    simulator: Simulator, clock: FakeClock, tmp_path: Path, ui: UiSettings | None = None
) -> OncallApp:
    settings = demo_settings(Settings(ui=ui or UiSettings()), simulator)
    return OncallApp(
        settings,
        build_sources(settings, clock),
        clock,
        state_file=tmp_path / "ui-state.json",
        user_themes_dir=tmp_path / "themes",
    )


async def until(
    pilot: Pilot[None],
    predicate: Callable[[], object],
    timeout: float = 15,
    why: Callable[[], object] = lambda: "",
) -> None:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"condition not reached in time {why()}")


def sim_post(simulator: Simulator, path: str, body: dict[str, object]) -> object:
    """Drive the simulator's control API over HTTPS, as a tester would."""
    response = httpx.post(
        simulator.url + path,
        json=body,
        verify=ssl.create_default_context(cafile=str(simulator.ca_pem_path)),
    )
    response.raise_for_status()
    return response.json()


def text_of(widget: Static) -> str:
    """The plain text a Static shows, whatever renderable it holds."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def open_incidents(simulator: Simulator) -> list[dict[str, object]]:
    state = simulator.world.snapshot()["pagerduty"]
    return [i for i in state["incidents"] if i["status"] in ("triggered", "acknowledged")]


async def test_pages_pane_lists_the_worlds_open_pages_loudest_first(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = make_app(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane("pages")
        await until(pilot, lambda: pane.items)
        assert set(pane.items) == {i["id"] for i in open_incidents(simulator)}
        rows = [row.key.value for row in pane.table.ordered_rows]
        statuses = [pane.items[k].status for k in rows]  # type: ignore[index]
        assert statuses == sorted(statuses, key=lambda s: s != "triggered")
        assert "triggered" in pane.border_title and "acked" in pane.border_title
        assert app.focused is pane.table


async def test_refresh_updates_rows_in_place_and_keeps_the_cursor(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = make_app(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane("pages")
        await until(pilot, lambda: pane.items)
        await pilot.press("down", "down", "down")
        chosen = pane.selected
        assert chosen is not None
        before = len(pane.items)
        sim_post(
            simulator,
            "/_sim/trigger",
            {"title": "[Datadog] claims-api 5xx > 2% on env:prod", "urgency": "high"},
        )
        await pilot.press("r")
        await until(pilot, lambda: len(pane.items) == before + 1)
        assert pane.selected == chosen, "the cursor moved off the row it was on"
        order = [pane.items[row.key.value] for row in pane.table.ordered_rows]  # type: ignore[index]
        new = next(i for i, p in enumerate(order) if p.title.startswith("[Datadog] claims-api 5xx"))
        assert all(p.status == "triggered" and p.urgency == "high" for p in order[:new])
        assert order[new + 1].urgency == "low" or order[new + 1].created_at <= order[new].created_at


async def test_a_500_keeps_the_last_good_rows_and_recovers(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = make_app(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane("pages")
        await until(pilot, lambda: pane.items)
        rows = set(pane.items)
        simulator.set_fault("pagerduty", "500")
        await pilot.press("r")
        await until(pilot, lambda: "⚠" in str(pane.border_subtitle))
        assert "failed on its side (500" in str(pane.border_subtitle)
        assert set(pane.items) == rows and pane.has_class("-error")
        simulator.set_fault("pagerduty", None)
        await pilot.press("r")
        await until(pilot, lambda: "⚠" not in str(pane.border_subtitle))
        assert not pane.has_class("-error")


async def test_a_429_waits_for_retry_after(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = make_app(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane("pages")
        await until(pilot, lambda: pane.items)
        simulator.set_fault("pagerduty", "429", retry_after=120)
        await pilot.press("r")
        poller = app.pollers["pages"]
        await until(pilot, lambda: poller.freshness.last_error is not None)
        assert "rate limit" in (poller.freshness.last_error or "")
        wait = (poller.freshness.next_poll - sim_clock.now()).total_seconds()  # type: ignore[operator]
        assert wait >= 120
        assert pane.items, "rows vanished on a 429"


async def test_a_401_says_to_check_the_token(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    simulator.set_fault("pagerduty", "401")
    app = make_app(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane("pages")
        await until(pilot, lambda: "⚠" in str(pane.border_subtitle))
        assert "check [pagerduty] token" in str(pane.border_subtitle)
        assert simulator.tokens["pagerduty"] not in str(pane.border_subtitle)


async def test_enter_opens_the_detail_with_log_entries(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = make_app(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane("pages")
        await until(pilot, lambda: pane.items)
        page = pane.selected
        assert page is not None
        await pilot.press("enter")
        assert isinstance(app.screen, PageDetailScreen)
        log = app.screen.query_one("#detail-log", Static)
        await until(pilot, lambda: "loading" not in text_of(log))
        rendered = text_of(log)
        assert "trigger" in rendered
        await pilot.press("escape")
        assert not isinstance(app.screen, PageDetailScreen)


async def test_help_lists_binding_ids_and_keymap_rebinds(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = make_app(simulator, sim_clock, tmp_path, UiSettings(keys={"refresh": "f5"}))
    refreshes: list[object] = []
    async with app.run_test(size=SIZE, message_hook=refreshes.append) as pilot:
        pane = app.pane("pages")
        await until(pilot, lambda: pane.items)
        refreshes.clear()
        await pilot.press("f5")
        await until(pilot, lambda: any(isinstance(m, SnapshotArrived) for m in refreshes))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = text_of(app.screen.query_one(Static))
        assert "f5" in text and "refresh" in text
        await pilot.press("escape")


async def test_unconfigured_panes_explain_themselves(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    only_pages = replace(
        demo_settings(Settings(), simulator), datadog=DatadogSettings(), github=GitHubSettings()
    )
    app = OncallApp(only_pages, build_sources(only_pages, sim_clock), sim_clock)
    async with app.run_test(size=SIZE) as pilot:
        for name in ("monitors", "deploys", "dependabot"):
            pane = app.pane(name)
            assert pane.has_class("-not-configured")
            assert pane.border_subtitle == "not configured"
        await pilot.press("2")
        assert app.focused is app.pane("pages").table
        assert any("not configured" in n.message for n in app._notifications)


async def test_filter_narrows_rows_and_escape_restores(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = make_app(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.pane("pages")
        await until(pilot, lambda: pane.items)
        total = len(pane.items)
        service = next(iter(pane.items.values())).service_name
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*service)
        assert 0 < len(pane.items) < total
        assert all(p.service_name == service for p in pane.items.values())
        assert "filter" in pane.border_title
        await pilot.press("escape")
        assert len(pane.items) == total
        assert app.focused is pane.table


async def test_palette_theme_choice_is_remembered(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = make_app(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "oncall-dark"
        app.theme = "oncall-high-contrast"
        await pilot.pause()
    assert json.loads((tmp_path / "ui-state.json").read_text())["theme"] == "oncall-high-contrast"
    again = make_app(simulator, sim_clock, tmp_path)
    async with again.run_test(size=SIZE):
        assert again.theme == "oncall-high-contrast"


async def test_a_broken_user_theme_is_skipped_with_a_warning(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    (tmp_path / "themes").mkdir()
    (tmp_path / "themes" / "mine.toml").write_text('name = "mine"\nprimary = "not-a-colour"\n')
    app = make_app(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE):
        assert "mine" not in app.available_themes
        assert any("theme skipped: mine.toml" in n.message for n in app._notifications)


async def test_freshness_messages_coalesce_per_source() -> None:
    from oncall_tui.engine.poller import Freshness

    a = FreshnessChanged(Freshness(source="pages", label="PD", interval=30))
    b = FreshnessChanged(Freshness(source="pages", label="PD", interval=30))
    c = FreshnessChanged(Freshness(source="monitors", label="DD", interval=30))
    assert b.can_replace(a) and not c.can_replace(a)


@pytest.mark.parametrize("theme", ["oncall-dark", "oncall-light", "oncall-high-contrast"])
def test_shipped_themes_parse(theme: str) -> None:
    from oncall_tui.ui.themes import load_themes, shipped_themes_dir

    loaded = load_themes(shipped_themes_dir())
    assert not loaded.problems
    assert theme in {t.name for t in loaded.themes}
