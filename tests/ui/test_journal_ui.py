"""The shift's story in the cockpit: events journaled by the pollers, notes on any item,
and the timeline that shows them."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input

from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import Simulator
from oncall_tui.ui.screens.actions import NoteScreen
from oncall_tui.ui.screens.timeline import TimelineScreen
from tests.ui.test_cockpit import SIZE, sim_post, until
from tests.ui.test_item_actions import app_for, cursor_to, loaded


async def test_polls_journal_transitions_not_polls(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        assert app.journal.event_count() == 0  # the first poll describes, it changes nothing
        for _ in range(3):
            await pilot.press("r")
            await pilot.pause(0.3)
        assert app.journal.event_count() == 0, "an unchanged world must not grow the journal"
        sim_post(simulator, "/_sim/trigger", {"title": "claims-api down", "urgency": "high"})
        await pilot.press("r")
        await until(pilot, lambda: app.journal.event_count() >= 1)
        (event,) = [e for e in app.journal.events() if e.source == "pages"]
        assert (event.kind, event.new_state, event.title) == (
            "added",
            "triggered",
            "claims-api down",
        )


async def test_annotate_a_monitor_as_a_watch_item_and_see_it_in_the_timeline(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        monitor = await cursor_to(pilot, app, "monitors", lambda m: True)
        await pilot.press("n")
        screen = app.screen
        assert isinstance(screen, NoteScreen)
        await pilot.press(*"lag climbing")
        screen.query_one("#note-trigger", Input).value = "if lag > 5 min, page the data team"
        await pilot.press("ctrl+s")
        (note,) = app.journal.annotations()
        assert (note.source, note.key, note.text) == ("monitors", monitor.key, "lag climbing")
        assert note.watch and note.watch_trigger == "if lag > 5 min, page the data team"
        assert monitor.key in app.pane("monitors").annotated
        await pilot.press("t")
        assert isinstance(app.screen, TimelineScreen)
        table = app.screen.query_one(DataTable)
        rows = [" ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]
        assert any("lag climbing" in row and "watch" in row for row in rows)
        await pilot.press(*"zzz-nothing")
        assert table.row_count == 1 and "no match" in str(table.get_row_at(0)[2])
