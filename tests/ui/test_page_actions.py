"""Acting on pages from the keyboard, against the simulator, through the outbox.

Each test presses the keys an engineer would and then reads the simulator's world (what
`/_sim/state` shows) to see that the write landed, once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input, OptionList, TextArea

from oncall_tui.config import Settings, UiSettings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.domain.models import Page
from oncall_tui.simulator import Simulator
from oncall_tui.sources.factory import build_sources
from oncall_tui.store.journal import Journal
from oncall_tui.ui.app import OncallApp, OutboxChanged, PageAlerted
from oncall_tui.ui.screens.actions import ChoiceScreen, ConfirmScreen, NoteScreen
from oncall_tui.ui.widgets.pages import PagesPane
from tests.ui.test_cockpit import SIZE, sim_post, until


def app_for(
    simulator: Simulator,
    clock: FakeClock,
    tmp_path: Path,
    *,
    journal: Journal | None = None,
    read_only: bool = False,
) -> OncallApp:
    settings = demo_settings(Settings(ui=UiSettings(read_only=read_only)), simulator)
    return OncallApp(
        settings,
        build_sources(settings, clock),
        clock,
        journal=journal or Journal.open(tmp_path / "journal.sqlite3"),
        state_file=tmp_path / "ui-state.json",
    )


def incident(simulator: Simulator, page_id: str) -> dict[str, Any]:
    state = simulator.world.snapshot()["pagerduty"]
    return next(i for i in state["incidents"] if i["id"] == page_id)


def note_count(simulator: Simulator, page_id: str) -> int:
    return len(incident(simulator, page_id)["notes"])


def new_notes(simulator: Simulator, page_id: str, before: int) -> list[str]:
    return [n["content"] for n in incident(simulator, page_id)["notes"][before:]]


def pages_pane(app: OncallApp) -> PagesPane:
    return app.query_one(PagesPane)


async def select(pilot: Any, pane: PagesPane, status: str) -> Page:
    """Put the cursor on the first page with this status and return it."""
    await until(pilot, lambda: pane.items)
    while pane.selected is None or pane.selected.status != status:
        await pilot.press("down")
    page = pane.selected
    assert page is not None
    return page


async def test_acknowledge_shows_pending_then_lands_once(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    states: list[str] = []

    def hook(message: object) -> None:
        if isinstance(message, OutboxChanged):
            states.append(message.entry.state)

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        pane = pages_pane(app)
        page = await select(pilot, pane, "triggered")
        await pilot.press("a")
        await until(pilot, lambda: incident(simulator, page.id)["status"] == "acknowledged")
        await until(pilot, lambda: "done" in states)
        assert states[:3] == ["pending", "in_flight", "done"]
        await until(pilot, lambda: pane.items[page.id].status == "acknowledged")
        assert "alex.rivera@example.com" in incident(simulator, page.id)["acknowledgers"]
        assert app.journal.open_outbox() == []
        writes = [
            x
            for x in simulator.exchanges
            if x.request.method == "PUT" and x.request.path == "/incidents"
        ]
        assert len(writes) == 1
        assert writes[0].request.headers["From"] == "alex.rivera@example.com"


async def test_marked_pages_are_acknowledged_in_one_bulk_call(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = pages_pane(app)
        await select(pilot, pane, "triggered")
        triggered = [p for p in pane.items.values() if p.status == "triggered"]
        assert len(triggered) >= 3
        for _ in range(3):
            await pilot.press("space")  # marks and moves down
        marked = set(pane.marked)
        assert len(marked) == 3 and "3 marked" in pane.border_title
        await pilot.press("a")
        await until(
            pilot,
            lambda: all(incident(simulator, k)["status"] == "acknowledged" for k in marked),
        )
        assert not pane.marked
        bulk = [x for x in simulator.exchanges if x.request.path == "/incidents"]
        bulk = [x for x in bulk if x.request.method == "PUT"]
        assert len(bulk) == 1 and len(bulk[0].request.json()["incidents"]) == 3


async def test_resolve_asks_first_and_posts_the_resolution_note(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = pages_pane(app)
        page = await select(pilot, pane, "acknowledged")
        before = note_count(simulator, page.id)
        await pilot.press("R")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, ConfirmScreen)
        assert incident(simulator, page.id)["status"] == "acknowledged"
        await pilot.press("R")
        await pilot.press(*"rolled back to 1.4.2", "enter")
        await until(pilot, lambda: incident(simulator, page.id)["status"] == "resolved")
        assert new_notes(simulator, page.id, before) == ["rolled back to 1.4.2"]
        await until(pilot, lambda: page.id not in pane.items)


async def test_note_is_multiline_and_a_cancelled_note_is_kept_as_draft(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = pages_pane(app)
        page = await select(pilot, pane, "acknowledged")
        before = note_count(simulator, page.id)
        await pilot.press("n")
        assert isinstance(app.screen, NoteScreen)
        await pilot.press(*"queue lag 7m", "enter", *"paged data team")
        await pilot.press("escape")
        assert app.note_drafts.get("pages", page.id) == "queue lag 7m\npaged data team"
        await pilot.press("n")
        assert app.screen.query_one(TextArea).text == "queue lag 7m\npaged data team"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: note_count(simulator, page.id) > before)
        assert new_notes(simulator, page.id, before) == ["queue lag 7m\npaged data team"]
        assert app.note_drafts.get("pages", page.id) == ""


async def test_a_note_being_typed_survives_the_cockpit_going_away(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    """Every keystroke is in the journal: a cockpit closed (or killed) mid-note keeps it."""
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        page = await select(pilot, pages_pane(app), "acknowledged")
        await pilot.press("n", *"db failover at 14:02")
        assert isinstance(app.screen, NoteScreen)
    app.journal.close()
    again = app_for(simulator, sim_clock, tmp_path)
    async with again.run_test(size=SIZE) as pilot:
        pane = pages_pane(again)
        await until(pilot, lambda: page.id in pane.items)
        pane.table.move_cursor(row=pane.table.get_row_index(page.id))
        await pilot.press("n")
        assert isinstance(again.screen, NoteScreen)
        assert again.screen.query_one(TextArea).text == "db failover at 14:02"
    again.journal.close()


async def test_snooze_a_triggered_page_acknowledges_it_first(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = pages_pane(app)
        page = await select(pilot, pane, "triggered")
        await pilot.press("s")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press(*"1 hour", "enter")
        await until(pilot, lambda: app.journal.open_outbox() == [] and _snoozes(simulator))
        assert incident(simulator, page.id)["status"] == "acknowledged"
        (snooze,) = _snoozes(simulator)
        assert snooze.request.json() == {"duration": 3600}


def _snoozes(simulator: Simulator) -> list[Any]:
    return [x for x in simulator.exchanges if x.request.path.endswith("/snooze")]


async def test_reassign_picks_a_user_from_the_list(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = pages_pane(app)
        page = await select(pilot, pane, "triggered")
        await pilot.press("A")
        screen = app.screen
        assert isinstance(screen, ChoiceScreen)
        options = screen.query_one(OptionList)
        await until(pilot, lambda: options.option_count > 0)
        await pilot.press(*"jordan")
        assert options.option_count == 1
        await pilot.press("enter")
        await until(
            pilot, lambda: incident(simulator, page.id)["assignees"] == ["jordan.lee@example.com"]
        )


async def test_escalate_confirms_the_next_level(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    created = sim_post(simulator, "/_sim/trigger", {"title": "escalate me", "urgency": "high"})
    page_id = created["incident"]["id"]  # type: ignore[index]
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = pages_pane(app)
        await until(pilot, lambda: page_id in pane.items)
        while pane.selected is None or pane.selected.id != page_id:
            await pilot.press("down")
        level = incident(simulator, page_id)["escalation_level"]
        await pilot.press("E")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")
        await until(pilot, lambda: incident(simulator, page_id)["escalation_level"] == level + 1)


async def test_a_failed_write_is_kept_retried_and_applied_exactly_once(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = pages_pane(app)
        page = await select(pilot, pane, "acknowledged")
        before = note_count(simulator, page.id)
        simulator.set_fault("pagerduty", "500")
        await pilot.press("n")
        await pilot.press(*"still investigating", "ctrl+s")
        await until(pilot, lambda: (app.journal.open_outbox() or [None])[0] is not None)
        await until(pilot, lambda: app.journal.open_outbox()[0].last_error is not None)
        entry = app.journal.open_outbox()[0]
        assert "500" in (entry.last_error or "")
        assert any("not applied yet" in n.message for n in app._notifications)
        simulator.set_fault("pagerduty", None)
        sim_clock.advance(600)  # past any backoff
        await until(pilot, lambda: app.journal.open_outbox() == [])
        assert new_notes(simulator, page.id, before) == ["still investigating"]


async def test_a_lost_answer_does_not_post_a_note_twice(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    """The provider applied the note but the answer never came: the retry finds it."""
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = pages_pane(app)
        page = await select(pilot, pane, "acknowledged")
        before = note_count(simulator, page.id)
        app.outbox.timeout = 0.3
        simulator.set_fault("pagerduty", "slow", delay=1.0, count=1)
        await pilot.press("n")
        await pilot.press(*"rollback started", "ctrl+s")
        await until(pilot, lambda: note_count(simulator, page.id) > before)
        await until(pilot, lambda: app.journal.open_outbox()[0].last_error is not None)
        app.outbox.timeout = 30  # the short timeout was only there to lose that one answer
        sim_clock.advance(600)
        await until(
            pilot,
            lambda: app.journal.open_outbox() == [],
            why=lambda: (app.journal.open_outbox(), sim_clock.now(), sim_clock.sleepers),
        )
        assert new_notes(simulator, page.id, before) == ["rollback started"]


async def test_a_pending_write_survives_a_restart(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    journal_path = tmp_path / "journal.sqlite3"
    first = app_for(simulator, sim_clock, tmp_path, journal=Journal.open(journal_path))
    async with first.run_test(size=SIZE) as pilot:
        pane = pages_pane(first)
        page = await select(pilot, pane, "triggered")
        simulator.set_fault("pagerduty", "500")
        await pilot.press("a")
        await until(pilot, lambda: first.journal.open_outbox()[0].last_error is not None)
    first.journal.close()
    assert incident(simulator, page.id)["status"] == "triggered"
    simulator.set_fault("pagerduty", None)
    second = app_for(simulator, sim_clock, tmp_path, journal=Journal.open(journal_path))
    async with second.run_test(size=SIZE) as pilot:
        sim_clock.advance(600)
        await until(pilot, lambda: second.journal.open_outbox() == [])
        await until(pilot, lambda: incident(simulator, page.id)["status"] == "acknowledged")
    acks = [
        x
        for x in simulator.exchanges
        if x.request.method == "PUT" and x.request.path == "/incidents" and x.response.status == 200
    ]
    assert len(acks) == 1


async def test_a_refused_write_says_why_and_the_row_returns(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    settings = demo_settings(Settings(), simulator)
    from dataclasses import replace

    from oncall_tui.config import PagerDutySettings

    # An address PagerDuty does not know: every write is refused with a 400.
    pd: PagerDutySettings = replace(settings.pagerduty, from_email="nobody@example.com")
    settings = replace(settings, pagerduty=pd)
    app = OncallApp(settings, build_sources(settings, sim_clock), sim_clock)
    async with app.run_test(size=SIZE) as pilot:
        pane = pages_pane(app)
        page = await select(pilot, pane, "triggered")
        await pilot.press("a")
        await until(pilot, lambda: any("refused" in n.message for n in app._notifications))
        assert app.journal.recent_outbox()[0].state == "rejected"
        assert pane.items[page.id].status == "triggered"
        assert page.id not in pane.pending
        assert incident(simulator, page.id)["status"] == "triggered"


async def test_read_only_blocks_every_page_write(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = pages_pane(app)
        await select(pilot, pane, "triggered")
        await pilot.press("a")
        await pilot.press("R", "enter")
        await pilot.press("n", *"x", "ctrl+s")
        await pilot.press("s", "enter")
        await pilot.pause()
        assert app.journal.recent_outbox() == []
        blocked = [n for n in app._notifications if n.title == "Read-only"]
        assert len(blocked) == 4
        assert "READ-ONLY" in str(app.query_one("#header-identity").content)
        writes = [
            x
            for x in simulator.exchanges
            if x.request.provider == "pagerduty" and x.request.method != "GET"
        ]
        assert writes == []


async def test_a_new_high_urgency_page_alerts_loudly(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    alerts: list[PageAlerted] = []
    async with app.run_test(
        size=SIZE, message_hook=lambda m: alerts.append(m) if isinstance(m, PageAlerted) else None
    ) as pilot:
        pane = pages_pane(app)
        await until(pilot, lambda: pane.items)
        assert alerts == []  # the pages already open when the cockpit starts do not ring
        sim_post(simulator, "/_sim/trigger", {"title": "claims-api down", "urgency": "high"})
        await pilot.press("r")
        await until(pilot, lambda: alerts)
        assert alerts[0].alert.reason == "triggered" and alerts[0].alert.loud
        assert any(
            n.severity == "error" and "claims-api down" in n.message for n in app._notifications
        )


async def test_dialog_filter_box_takes_typing(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    app = app_for(simulator, sim_clock, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = pages_pane(app)
        await select(pilot, pane, "triggered")
        await pilot.press("s")
        assert isinstance(app.focused, Input)
        await pilot.press("escape")
        assert app.journal.recent_outbox() == []
