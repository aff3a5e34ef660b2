"""Read-only mode blocks every write (issue 7, item 5).

The list of writes is not written out here: it is read from the command tables
(`ui/commands.py`) and the action handlers that implement them (`ui/page_actions.py`,
`ui/item_actions.py`). A command whose action is a method of its pane's handler class sends
something to a provider; the two commands that are not writes are named, with the reason:

- `mark` selects rows for a bulk action; it never leaves the cockpit;
- `annotate` (`n` outside Pages) keeps a note in the journal for the handover; it is
  implemented on the shared `Submitter` base and sends nothing (on Pages, `n` is `note`,
  which is also a PagerDuty note and is walked as a write).

Besides the pane tables, the handover's `ctrl+g` (`handover-publish`) writes to GitHub and
Slack, and is walked too. The walk must cover exactly these ids, so a new write command
that is not walked here fails `test_the_walk_covers_every_write_command`.

Each step starts from the cockpit in read-only mode on the simulator, selects a fitting
item, presses the command's key (from the table, so a changed key is followed) and answers
the dialogs as the engineer would; then: a "Read-only" notification names the write, no
outbox entry exists, and the simulator received no write request (GitHub's GraphQL reads
are POSTs: they are allowed, mutations are not).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.ui.test_cockpit import SIZE, until
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from oncall_tui.cli import main
from oncall_tui.config import Settings, UiSettings
from oncall_tui.demo import demo_settings
from oncall_tui.domain.clock import FakeClock
from oncall_tui.domain.models import DependabotPR, Deploy, Monitor, Page
from oncall_tui.engine.outbox import Outbox
from oncall_tui.simulator import Simulator
from oncall_tui.simulator.server import write_config_file
from oncall_tui.sources.factory import build_sources
from oncall_tui.store.journal import Journal
from oncall_tui.ui import commands
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.item_actions import DependabotActions, DeployActions, MonitorActions
from oncall_tui.ui.page_actions import PageActions, Submitter
from oncall_tui.ui.screens.actions import ChoiceScreen, ConfirmScreen, MuteScreen, NoteScreen
from oncall_tui.ui.screens.handover import HandoverScreen
from oncall_tui.ui.screens.page_detail import PageDetailScreen

PANE_TABLES: dict[str, tuple[tuple[commands.Command, ...], type[Submitter]]] = {
    "pages": (commands.PAGE_COMMANDS, PageActions),
    "monitors": (commands.MONITOR_COMMANDS, MonitorActions),
    "dependabot": (commands.DEPENDABOT_COMMANDS, DependabotActions),
    "deploys": (commands.DEPLOY_COMMANDS, DeployActions),
}
NOT_WRITES: dict[str, str] = {
    "mark": "selects rows for a bulk action; nothing leaves the cockpit",
    "annotate": "a note kept in the journal only (Submitter.annotate); nothing is sent",
}
OTHER_WRITES: dict[str, str] = {
    "handover-publish": "ctrl+g in the handover: a comment on GitHub and a Slack post",
}


def write_commands() -> dict[str, commands.Command]:
    """Every pane command that writes to a provider, by id, read from the code."""
    writes: dict[str, commands.Command] = {}
    for pane, (table, handler) in PANE_TABLES.items():
        for command in table:
            own = callable(vars(handler).get(command.action))
            if own:
                assert command.id not in NOT_WRITES, f"{command.id} is called a non-write"
                writes[command.id] = command
            else:
                assert command.id in NOT_WRITES, (
                    f"{pane}: {command.id} is neither a write of {handler.__name__} nor a "
                    "known non-write: walk it below, or say in NOT_WRITES why it is not one"
                )
                assert not hasattr(handler, command.action) or hasattr(Submitter, command.action)
    return writes


def provider_writes(simulator: Simulator) -> list[str]:
    """Every request the simulator got that could change something (GraphQL reads aside)."""
    exchanges = simulator.exchanges
    # The record is bounded: make sure it still holds every request, or the check is blind.
    assert len(exchanges) == sum(simulator.request_counts.values())
    found = []
    for exchange in exchanges:
        request = exchange.request
        if request.method in ("GET", "HEAD"):
            continue
        if request.provider == "github" and request.path == "/graphql":
            query = str(json.loads(request.body or b"{}").get("query", ""))
            if not query.lstrip().startswith("mutation"):
                continue
        found.append(f"{request.provider} {request.method} {request.path}")
    return found


def read_only_app(simulator: Simulator, clock: FakeClock, journal: Journal) -> OncallApp:
    settings = demo_settings(Settings(ui=UiSettings(read_only=True)), simulator)
    return OncallApp(settings, build_sources(settings, clock), clock, journal=journal)


# -- the walk ----------------------------------------------------------------------------

Answer = Callable[[Pilot[Any], OncallApp], Awaitable[None]]


async def confirm(pilot: Pilot[Any], app: OncallApp) -> None:
    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    await pilot.press("enter")


async def confirm_twice(pilot: Pilot[Any], app: OncallApp) -> None:
    """Merge asks, and asks again when CI fails."""
    await confirm(pilot, app)
    await confirm(pilot, app)


async def write_note(pilot: Pilot[Any], app: OncallApp) -> None:
    await until(pilot, lambda: isinstance(app.screen, NoteScreen))
    await pilot.press(*"ok", "ctrl+s")


async def pick_first(pilot: Pilot[Any], app: OncallApp) -> None:
    """A choice list (filled in the background for reassign): take the first entry."""
    await until(
        pilot,
        lambda: (
            isinstance(app.screen, ChoiceScreen)
            and app.screen.query_one(OptionList).option_count > 0
        ),
    )
    await pilot.press("enter")


async def mute_with_reason(pilot: Pilot[Any], app: OncallApp) -> None:
    await until(pilot, lambda: isinstance(app.screen, MuteScreen))
    await pilot.press(*"bug", "enter")


@dataclass(frozen=True)
class Step:
    """One write: on which pane, on what kind of item, and how its dialog is answered."""

    pane: str
    wanted: Callable[[Any], bool]
    answer: Answer | None
    blocked: str
    """The write the read-only message names (snooze on a triggered page would name the
    acknowledge it needs first, so snooze is walked on an acknowledged page)."""


def _page(status: str) -> Callable[[Any], bool]:
    return lambda page: isinstance(page, Page) and page.status == status


WALK: dict[str, Step] = {
    "acknowledge": Step("pages", _page("triggered"), None, "acknowledge"),
    "resolve": Step("pages", _page("triggered"), confirm, "resolve"),
    "note": Step("pages", _page("triggered"), write_note, "note"),
    "snooze": Step("pages", _page("acknowledged"), pick_first, "snooze"),
    "reassign": Step("pages", _page("triggered"), pick_first, "reassign"),
    "escalate": Step("pages", _page("acknowledged"), confirm, "escalate"),
    "mute": Step(
        "monitors", lambda m: isinstance(m, Monitor) and not m.muted, mute_with_reason, "mute"
    ),
    "unmute": Step(
        "monitors", lambda m: isinstance(m, Monitor) and bool(m.downtime_ids), confirm, "unmute"
    ),
    "approve": Step(
        "dependabot",
        lambda p: isinstance(p, DependabotPR) and p.review != "approved",
        None,
        "approve",
    ),
    "merge": Step(
        "dependabot",
        lambda p: isinstance(p, DependabotPR) and p.ci == "failure",
        confirm_twice,
        "merge",
    ),
    "comment": Step("dependabot", lambda p: isinstance(p, DependabotPR), pick_first, "comment"),
    "rerun": Step(
        "deploys",
        lambda d: isinstance(d, Deploy) and d.origin == "workflow" and d.deploy_state == "failure",
        confirm,
        "rerun",
    ),
}


def test_the_walk_covers_every_write_command() -> None:
    writes = write_commands()
    for table, handler in PANE_TABLES.values():
        # Both ways round: every write method of a handler is bound in its pane's table.
        methods = {
            name
            for name, value in vars(handler).items()
            if callable(value) and not name.startswith("_")
        }
        bound = {c.action for c in table if c.id in writes}
        assert bound and methods == bound, f"{handler.__name__}: a write without a key, or none"
    assert set(WALK) == set(writes), "every write command has a step in the walk, and no more"
    for command_id, step in WALK.items():
        assert writes[command_id] in PANE_TABLES[step.pane][0], (
            f"{command_id} is walked on its pane"
        )
    assert set(OTHER_WRITES) <= commands.binding_ids()
    # The page detail view offers the Pages writes under the same ids: walked there too.
    detail_ids = {getattr(b, "id", "") for b in PageDetailScreen.BINDINGS}
    assert {c for c, s in WALK.items() if s.pane == "pages"} <= detail_ids


def test_the_coverage_check_fails_for_an_unwalked_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: a new write key, a write method with no key, or a new
    command that is neither, each trips it."""
    table, handler = PANE_TABLES["monitors"]
    silence = commands.Command("silence", "S", "silence", "Silence", "Silence for good")
    monkeypatch.setattr(handler, "silence", lambda self, items: None, raising=False)
    monkeypatch.setitem(PANE_TABLES, "monitors", ((*table, silence), handler))
    with pytest.raises(AssertionError, match="every write command has a step"):
        test_the_walk_covers_every_write_command()
    monkeypatch.setitem(PANE_TABLES, "monitors", (table, handler))
    with pytest.raises(AssertionError, match="a write without a key"):
        test_the_walk_covers_every_write_command()
    monkeypatch.delattr(handler, "silence")
    monkeypatch.setitem(PANE_TABLES, "monitors", ((*table, silence), handler))
    with pytest.raises(AssertionError, match="neither a write"):
        test_the_walk_covers_every_write_command()


async def select_item(pilot: Pilot[Any], app: OncallApp, step: Step) -> Any:
    """Focus the step's pane (its number key) and put the cursor on a fitting item."""
    pane = app.pane(step.pane)
    await pilot.press(str(list(app.panes).index(step.pane) + 1))
    candidates = [item for item in pane.items.values() if step.wanted(item)]
    assert candidates, f"the demo world has an item for {step.pane}"
    item = candidates[0]
    table = pane.table
    if isinstance(item, Deploy):  # a grid: repositories by environments
        table.move_cursor(
            row=table.get_row_index(item.repo), column=table.get_column_index(item.environment)
        )
    else:
        table.move_cursor(row=table.get_row_index(item.key))
    await pilot.pause()
    assert pane.selected == item
    return item


async def walk_one(
    pilot: Pilot[Any],
    app: OncallApp,
    simulator: Simulator,
    notes: list[Notify],
    command_id: str,
    step: Step,
    *,
    in_detail: bool = False,
) -> None:
    where = f"{command_id}{' (page detail)' if in_detail else ''}"
    await select_item(pilot, app, step)
    home = app.screen
    if in_detail:
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PageDetailScreen))
        home = app.screen
    seen = len(notes)
    keys = next(c.key for c in PANE_TABLES[step.pane][0] if c.id == command_id)
    key = keys.split(",")[0].strip()
    await pilot.press(key)
    if step.answer is not None:
        await step.answer(pilot, app)
    expected = f"read-only mode: {step.blocked} was not sent"
    await until(
        pilot,
        lambda: any(n.notification.message == expected for n in notes[seen:]),
        why=lambda: f"{where}: {[n.notification.message for n in notes[seen:]]}",
    )
    blocked = [n.notification for n in notes[seen:] if n.notification.message == expected]
    assert blocked[0].title == "Read-only" and blocked[0].severity == "warning", where
    assert app.screen is home, f"{where}: every dialog closed after the answer"
    assert app.journal.recent_outbox() == [], f"{where}: nothing was queued"
    assert provider_writes(simulator) == [], f"{where}: nothing was sent"
    if in_detail:
        await pilot.press("escape")


async def test_read_only_blocks_every_write_action(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    journal = Journal.open(tmp_path / "journal.sqlite3")
    app = read_only_app(simulator, sim_clock, journal)
    notes: list[Notify] = []
    walked: list[str] = []

    def hook(message: object) -> None:
        if isinstance(message, Notify):
            notes.append(message)

    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await until(pilot, lambda: all(p.freshness.last_success for p in app.pollers.values()))
        assert set(app.actions) == set(PANE_TABLES), "every pane can write when not read-only"
        for command_id, step in WALK.items():
            await walk_one(pilot, app, simulator, notes, command_id, step)
            walked.append(command_id)
        for command_id, step in WALK.items():
            if step.pane == "pages":
                await walk_one(pilot, app, simulator, notes, command_id, step, in_detail=True)

        # handover-publish: ctrl+g in the handover editor.
        seen = len(notes)
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, HandoverScreen))
        await pilot.press("ctrl+g")
        expected = "read-only mode: the handover was not published (export it instead)"
        await until(pilot, lambda: any(n.notification.message == expected for n in notes[seen:]))
        status = str(app.screen.query_one("#handover-status", Static).content)
        assert status == f"not published: {expected}"
        await pilot.press("escape")
        walked.append("handover-publish")
        assert provider_writes(simulator) == []
        assert app.journal.recent_outbox() == []
    journal.close()
    assert set(walked) == set(write_commands()) | set(OTHER_WRITES)
    # The walk did talk to the simulator: its reads went through, its writes did not.
    assert simulator.request_counts["pagerduty"] > 0 and simulator.request_counts["github"] > 0


# -- writes queued before read-only was switched on ----------------------------------------


class RecordingWriter:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def apply(self, action: str, targets: Any, payload: Any, *, attempt: int) -> None:
        self.calls.append(action)


async def test_read_only_outbox_keeps_earlier_writes_pending() -> None:
    """A write queued in a writable session is not sent by a read-only one."""
    clock = FakeClock(datetime(2025, 3, 4, 9, tzinfo=UTC))
    journal = Journal.memory()
    journal.add_outbox(
        created_at=clock.now(), source="pages", action="acknowledge", targets=["P1"], payload={}
    )
    writer = RecordingWriter()
    outbox = Outbox(journal, {"pages": writer}, clock, read_only=True)
    await outbox.drain()
    assert writer.calls == []
    assert [e.state for e in journal.open_outbox()] == ["pending"]
    # The control: the same outbox, writable, sends it.
    outbox.read_only = False
    await outbox.drain()
    assert writer.calls == ["acknowledge"]


async def test_read_only_cockpit_does_not_send_writes_left_pending(
    simulator: Simulator, sim_clock: FakeClock, tmp_path: Path
) -> None:
    journal = Journal.open(tmp_path / "journal.sqlite3")
    page_id = next(
        i["id"]
        for i in simulator.world.snapshot()["pagerduty"]["incidents"]
        if i["status"] == "triggered"
    )
    journal.add_outbox(
        created_at=sim_clock.now(),
        source="pages",
        action="acknowledge",
        targets=[page_id],
        payload={},
    )
    app = read_only_app(simulator, sim_clock, journal)
    async with app.run_test(size=SIZE) as pilot:
        # The outbox starts with the cockpit; a write it was going to send would be sent
        # long before every source has answered and the pending mark is drawn.
        await until(pilot, lambda: all(p.freshness.last_success for p in app.pollers.values()))
        await until(
            pilot, lambda: page_id in app.pane("pages").pending or provider_writes(simulator)
        )
        assert provider_writes(simulator) == []
        assert [e.state for e in journal.open_outbox()] == ["pending"]
    journal.close()


# -- the command line ----------------------------------------------------------------------


def cli_config(simulator: Simulator, tmp_path: Path, extra: str = "") -> Path:
    path, _ = write_config_file(simulator, tmp_path / "sim.toml")
    repo = simulator.world.github.repository_names()[0]
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f'handover_repo = "{repo}"\n{extra}')
    return path


@pytest.mark.usefixtures("isolated", "restore_logging")
@pytest.mark.parametrize("how", ["--read-only", "[ui] read_only"])
def test_read_only_handover_is_not_published(
    simulator: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    extra = "\n[ui]\nread_only = true\n" if how == "[ui] read_only" else ""
    config = cli_config(simulator, tmp_path, extra)
    flags = ["--read-only"] if how == "--read-only" else []
    out = tmp_path / "out"
    out.mkdir()
    code = main(["--config", str(config), *flags, "handover", "--publish", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "read-only mode" in err and "--publish" in err
    assert list(out.iterdir()) == [], "refused before anything was written"
    assert provider_writes(simulator) == []
    # Without --publish, the file is still written: exporting is not a provider write.
    assert main(["--config", str(config), *flags, "handover", "--out", str(out)]) == 0
    assert [p.suffix for p in out.iterdir()] == [".md"]
    assert provider_writes(simulator) == []


def test_read_only_settings_refuse_to_publish_headless(simulator: Simulator) -> None:
    from oncall_tui.handover.publish import PublishReadOnly, publish_github

    settings = demo_settings(Settings(), simulator)
    settings = replace(settings, ui=replace(settings.ui, read_only=True))
    with pytest.raises(PublishReadOnly):
        publish_github("# handover\n", settings)
    assert simulator.request_counts["github"] == 0
