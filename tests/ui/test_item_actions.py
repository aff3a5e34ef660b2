"""Acting on monitors, Dependabot PRs and deploys from the keyboard, against the simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import RadioSet

from oncall_tui.config import Settings, UiSettings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.domain.models import DependabotPR, Deploy, Monitor
from oncall_tui.simulator import Simulator
from oncall_tui.sources.factory import build_sources
from oncall_tui.store.journal import Journal
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.actions import ChoiceScreen, ConfirmScreen, MuteScreen
from oncall_tui.ui.screens.item_detail import ItemDetailScreen
from tests.ui.test_cockpit import SIZE, until


def app_for(
    simulator: Simulator, clock: FakeClock, tmp_path: Path, *, read_only: bool = False
) -> OncallApp:
    settings = demo_settings(Settings(ui=UiSettings(read_only=read_only)), simulator)
    return OncallApp(
        settings,
        build_sources(settings, clock),
        clock,
        journal=Journal.open(tmp_path / "journal.sqlite3"),
    )


async def loaded(pilot: Any, app: OncallApp) -> None:
    await until(
        pilot,
        lambda: all(p.freshness.last_success is not None for p in app.pollers.values()),
    )


async def cursor_to(pilot: Any, app: OncallApp, pane: str, wanted: Any) -> Any:
    """Focus the pane and move down until the selected item satisfies `wanted`."""
    await pilot.press(str(list(app.panes).index(pane) + 1))
    target = app.pane(pane)
    target.table.move_cursor(row=0)
    await pilot.pause()
    for _ in range(len(target.items) + 1):
        item = target.selected
        if item is not None and wanted(item):
            return item
        await pilot.press("down")
    raise AssertionError(f"no item in {pane} matches")


def state(simulator: Simulator, provider: str) -> dict[str, Any]:
    return simulator.world.snapshot()[provider]  # type: ignore[no-any-return]


def writes(simulator: Simulator, provider: str) -> list[Any]:
    return [
        x
        for x in simulator.exchanges
        if x.request.provider == provider
        and x.request.method not in ("GET", "HEAD")
        and not (provider == "github" and x.request.path == "/graphql")
    ]


async def test_mute_a_monitor_with_a_reason_then_unmute(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        monitor: Monitor = await cursor_to(
            pilot, app, "monitors", lambda m: not m.muted and m.overall_state == "Alert"
        )
        await pilot.press("m")
        assert isinstance(app.screen, MuteScreen)
        await pilot.press("enter")  # no reason yet: refused, dialog stays
        assert isinstance(app.screen, MuteScreen)
        await pilot.press(*"known issue, fix deploying", "enter")
        await until(pilot, lambda: app.journal.open_outbox() == [] and writes(simulator, "datadog"))
        (created,) = writes(simulator, "datadog")
        body = created.request.json()["data"]["attributes"]
        assert body["message"].startswith("known issue, fix deploying") or (
            "known issue, fix deploying" in body["message"]
        )
        assert str(monitor.id) in created.request.body.decode()
        await pilot.press("r")
        await until(pilot, lambda: app.pane("monitors").items[monitor.key].muted)
        muted = app.pane("monitors").items[monitor.key]
        assert muted.downtime_ids and muted.muted_until is not None
        await pilot.press("u")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await until(
            pilot,
            lambda: any(x.request.method == "DELETE" for x in writes(simulator, "datadog")),
        )
        await until(pilot, lambda: app.journal.open_outbox() == [])


async def test_mute_one_group_for_an_hour(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        monitor: Monitor = await cursor_to(pilot, app, "monitors", lambda m: m.groups_alerting)
        await pilot.press("m")
        screen = app.screen
        assert isinstance(screen, MuteScreen)
        scope = screen.query_one("#mute-scope", RadioSet)
        scope.query("RadioButton")[1].value = True  # "only <first alerting group>"
        await pilot.pause()
        screen.query_one("#mute-reason").focus()
        await pilot.press(*"noisy host", "enter")
        await until(pilot, lambda: writes(simulator, "datadog"))
        body = writes(simulator, "datadog")[0].request.json()["data"]["attributes"]
        assert body["scope"] == monitor.groups_alerting[0]


async def test_approve_and_merge_marked_prs(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        pane = app.pane("dependabot")
        green = [p for p in pane.items.values() if p.ci == "success" and p.mergeable is not False]
        assert len(green) >= 2
        await cursor_to(pilot, app, "dependabot", lambda p: p.key == green[0].key)
        await pilot.press("space")
        await cursor_to(pilot, app, "dependabot", lambda p: p.key == green[1].key)
        await pilot.press("space")
        assert "2 marked" in pane.border_title
        await pilot.press("v")
        await until(pilot, lambda: app.journal.open_outbox() == [])
        assert not pane.marked, "marks are cleared once the write is queued"
        reviews = [x for x in writes(simulator, "github") if x.request.path.endswith("/reviews")]
        assert len(reviews) == len([p for p in green[:2] if p.review != "approved"])
        for pr in green[:2]:  # mark both again, then merge them together
            await cursor_to(pilot, app, "dependabot", lambda p, key=pr.key: p.key == key)
            await pilot.press("space")
        await pilot.press("M")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await until(pilot, lambda: app.journal.open_outbox() == [])
        (merge,) = [e for e in app.journal.recent_outbox() if e.action == "merge"]
        assert set(merge.targets) == {green[0].key, green[1].key}
        assert merge.state == "done", merge.last_error
        assert {green[0].key, green[1].key} <= _merged(simulator)


def _merged(simulator: Simulator) -> set[str]:
    merges = [x for x in writes(simulator, "github") if x.request.path.endswith("/merge")]
    keys = set()
    for exchange in merges:
        if exchange.response.status == 200:
            parts = exchange.request.path.split("/")  # /repos/{o}/{r}/pulls/{n}/merge
            keys.add(f"{parts[2]}/{parts[3]}#{parts[5]}")
    return keys


async def test_merging_a_pr_with_failing_ci_asks_twice(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        pr: DependabotPR = await cursor_to(pilot, app, "dependabot", lambda p: p.ci == "failure")
        await pilot.press("M")
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmScreen)
        assert "CI fails" in str(app.screen.query_one(".question").content)
        await pilot.press("escape")
        await pilot.pause()
        assert app.journal.recent_outbox() == []
        assert pr.key not in _merged(simulator)


async def test_a_refused_merge_shows_githubs_reason(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await cursor_to(pilot, app, "dependabot", lambda p: p.mergeable is False)
        await pilot.press("M", "enter")
        if isinstance(app.screen, ConfirmScreen):  # CI failing too: confirm again
            await pilot.press("enter")
        await until(pilot, lambda: any("refused" in n.message for n in app._notifications))
        entry = app.journal.recent_outbox()[0]
        assert entry.state == "rejected" and entry.last_error


async def test_comment_asks_dependabot_to_rebase(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        pr: DependabotPR = await cursor_to(pilot, app, "dependabot", lambda p: True)
        await pilot.press("c")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press(*"rebase", "enter")
        await until(pilot, lambda: app.journal.open_outbox() == [] and writes(simulator, "github"))
        (comment,) = writes(simulator, "github")
        assert comment.request.json() == {"body": "@dependabot rebase"}
        assert f"/issues/{pr.number}/comments" in comment.request.path


async def test_rerun_a_failed_deploy_workflow_and_see_its_jobs(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        pane = app.pane("deploys")
        failed = [
            d
            for d in pane.items.values()
            if isinstance(d, Deploy) and d.origin == "workflow" and d.deploy_state == "failure"
        ]
        assert failed, "the demo world has a failed workflow deploy"
        deploy = failed[0]
        await pilot.press("3")
        table = pane.table
        table.move_cursor(
            row=table.get_row_index(deploy.repo),
            column=table.get_column_index(deploy.environment),
        )
        await pilot.pause()
        assert pane.selected == deploy
        await pilot.press("enter")
        assert isinstance(app.screen, ItemDetailScreen)
        await until(
            pilot, lambda: "loading" not in str(app.screen.query_one("#detail-extra").content)
        )
        await pilot.press("escape")
        await pilot.press("R")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await until(
            pilot,
            lambda: any("rerun-failed-jobs" in x.request.path for x in writes(simulator, "github")),
        )


async def test_read_only_blocks_monitor_dependabot_and_deploy_writes(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        await cursor_to(pilot, app, "monitors", lambda m: True)
        await pilot.press("m", *"reason", "enter")
        await cursor_to(pilot, app, "dependabot", lambda p: p.review != "approved")
        await pilot.press("v")
        await pilot.press("c", "enter")
        await pilot.press("M", "enter", "enter")
        await pilot.pause()
        assert app.journal.recent_outbox() == []
        assert len([n for n in app._notifications if n.title == "Read-only"]) >= 4
        assert writes(simulator, "datadog") == [] and writes(simulator, "github") == []
