"""`OncallApp`: the cockpit. It receives its collaborators and only renders and dispatches.

Sources, the clock and the settings are passed in (the demo and the tests pass
simulator-backed sources and a fake clock). Each source gets a `Poller`; the pollers' results
arrive as messages and are applied to the panes by key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.containers import Grid
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from oncall_tui import format as fmt
from oncall_tui.alerts import PageAlert, desktop_sequence, page_alerts
from oncall_tui.config import Settings
from oncall_tui.domain.clock import Clock
from oncall_tui.domain.models import AnyItem, Deploy, Event, Page, Snapshot
from oncall_tui.engine.heap import Collector
from oncall_tui.engine.outbox import Outbox, Writer
from oncall_tui.engine.poller import Freshness, Poller
from oncall_tui.handover import (
    ChangeLinker,
    build_handover,
    export,
    metrics_for,
    publish_github,
    publish_slack,
    read_journal,
    render_markdown,
    with_detail,
)
from oncall_tui.sources.base import PageSource, Source
from oncall_tui.store.journal import Journal, NoteDrafts, OutboxEntry
from oncall_tui.ui import commands
from oncall_tui.ui.item_actions import DependabotActions, DeployActions, MonitorActions
from oncall_tui.ui.page_actions import PageActions, PageWriter, Submitter
from oncall_tui.ui.screens.actions import Draft, NoteAnswer, NoteScreen
from oncall_tui.ui.screens.handover import DRAFT_NAME, HandoverScreen
from oncall_tui.ui.screens.help import HelpScreen
from oncall_tui.ui.screens.item_detail import ItemDetailScreen, deploy_loader
from oncall_tui.ui.screens.page_detail import PageDetailScreen
from oncall_tui.ui.screens.timeline import (
    TimelineScreen,
    metrics_line,
    summary_line,
    timeline_lines,
)
from oncall_tui.ui.themes import COCKPIT_VARIABLES, DEFAULT_THEME, load_themes, shipped_themes_dir
from oncall_tui.ui.widgets.dependabot import DependabotPane
from oncall_tui.ui.widgets.deploys import DeploysPane
from oncall_tui.ui.widgets.header import CockpitHeader
from oncall_tui.ui.widgets.monitors import MonitorsPane
from oncall_tui.ui.widgets.pages import PagesPane
from oncall_tui.ui.widgets.pane import Pane

PANES: tuple[tuple[str, str, str], ...] = (
    ("pages", "Pages", "PagerDuty: set a token in [pagerduty] or PAGERDUTY_TOKEN"),
    ("monitors", "Monitors", "Datadog: set DD_API_KEY and DD_APP_KEY, or [datadog]"),
    ("deploys", "Deploys", "GitHub: set GITHUB_TOKEN and [github] repositories"),
    ("dependabot", "Dependabot", "GitHub: set GITHUB_TOKEN and [github] repositories"),
)

PANE_CLASSES: dict[str, type[Pane[Any]]] = {
    "monitors": MonitorsPane,
    "deploys": DeploysPane,
    "dependabot": DependabotPane,
}


class SnapshotArrived(Message):
    """A poller finished a successful poll."""

    def __init__(self, snapshot: Snapshot, events: tuple[Event, ...]) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.events = events


class FreshnessChanged(Message):
    """A poller started, finished or failed a poll."""

    def __init__(self, freshness: Freshness) -> None:
        super().__init__()
        self.freshness = freshness

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, FreshnessChanged)
            and message.freshness.source == self.freshness.source
        )


class OutboxChanged(Message):
    """A write was queued, sent, retried, applied or refused."""

    def __init__(self, entry: OutboxEntry) -> None:
        super().__init__()
        self.entry = entry


class PageAlerted(Message):
    """A page needs the engineer now (new, re-triggered or escalated)."""

    def __init__(self, alert: PageAlert) -> None:
        super().__init__()
        self.alert = alert


class OncallApp(App[None]):
    """The on-call cockpit."""

    CSS_PATH = "oncall.tcss"
    TITLE = "oncall-tui"
    ALLOW_IN_MAXIMIZED_VIEW = "Footer, #header"
    ESCAPE_TO_MINIMIZE = False
    BINDINGS: ClassVar[list[BindingType]] = list(commands.bindings())

    def __init__(
        self,
        settings: Settings,
        sources: Mapping[str, Source],
        clock: Clock,
        *,
        journal: Journal | None = None,
        state_file: Path | None = None,
        user_themes_dir: Path | None = None,
        poll: bool = True,
        banner: str | None = None,
        data_dir: Path | None = None,
        collector: Collector | None = None,
    ) -> None:
        super().__init__()
        self.collector = collector
        self.settings = settings
        self.sources = dict(sources)
        self.clock = clock
        self.journal = journal or Journal.memory()
        self.outbox = Outbox(
            self.journal,
            {name: s for name, s in self.sources.items() if isinstance(s, Writer)},
            clock,
            read_only=settings.ui.read_only,
            on_change=self._outbox_changed,
        )
        self.page_actions: PageActions | None = None
        self.actions: dict[str, Submitter] = {}
        self.snapshots: dict[str, Snapshot] = {}
        self.note_drafts = NoteDrafts(self.journal, clock.now)
        self._ages_at = clock.now()
        self._previous_pages: Snapshot | None = None
        # Kept by reference (filled in `compose`): `query_one` looks at the *current*
        # screen, which is a dialog whenever one is open, while data keeps arriving.
        self.panes: dict[str, Pane[Any]] = {}
        self._writes: dict[int, OutboxEntry] = {}
        self._state_file = state_file
        self._banner = banner
        self._data_dir = data_dir
        self._poll = poll
        self.pollers: dict[str, Poller] = {}
        self.tz = _zone(settings.shift.timezone)
        loaded = load_themes(shipped_themes_dir(), *([user_themes_dir] if user_themes_dir else []))
        self._theme_problems = loaded.problems
        for theme in loaded.themes:
            self.register_theme(theme)
        self._restoring_theme = True
        self.theme = self._initial_theme()
        self._restoring_theme = False

    # -- composition ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.header = CockpitHeader(tz=self.tz, read_only=self.settings.ui.read_only)
        self.pages_pane = PagesPane(number=1, title="Pages", pane_id="pages")
        self.panes = {"pages": self.pages_pane}
        for number, (name, title, _) in enumerate(PANES[1:], start=2):
            self.panes[name] = PANE_CLASSES[name](number=number, title=title, pane_id=name)
        yield self.header
        with Grid(id="panes"):
            yield from self.panes.values()
        yield Footer()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(COCKPIT_VARIABLES)

    def on_mount(self) -> None:
        if self.settings.ui.keys:
            self.set_keymap(dict(self.settings.ui.keys))
        for problem in (*self.settings.warnings, *self._theme_problems):
            self.notify(problem, severity="warning", timeout=10)
        if self._banner:
            self.notify(self._banner, title="Demo", timeout=12)
        for name, _, hint in PANES:
            pane = self.pane(name)
            source = self.sources.get(name)
            if source is None:
                pane.show_not_configured(f"not configured — {hint}")
                continue
            pane.show_waiting(f"asking {source.label}…")
            interval = self._interval(name)
            self.pollers[name] = Poller(
                source,
                interval=interval,
                clock=self.clock,
                timeout=self._timeout(name) * 1.5 + 5,
                on_snapshot=self._snapshot_arrived,
                on_freshness=self._freshness_changed,
            )
        self._make_actions()
        self.annotations_changed()
        self.pane("pages").focus_table()
        self.set_interval(1.0, self._tick)
        self.outbox.start()
        if self.collector is not None:
            self.collector.before_full = self._drop_render_caches
            self.collector.start()
        if self._poll:
            for poller in self.pollers.values():
                poller.start()

    async def on_unmount(self) -> None:
        if self.collector is not None:
            self.collector.stop()
        await self.outbox.stop()
        for poller in self.pollers.values():
            await poller.stop()

    def annotate(self, pane: Pane[Any]) -> None:
        """`n` outside Pages: a note on the item, kept in the journal for the handover."""
        item = pane.selected
        if item is None:
            self.notify("Select an item first.", timeout=3)
            return
        key = (str(pane.id), item.key)

        def answered(answer: NoteAnswer | Draft | None) -> None:
            if isinstance(answer, Draft):
                self.notify("Note kept as a draft: press n on the item to finish it.")
            elif answer is not None:
                self.note_drafts.clear(*key)
                self.journal.add_annotation(
                    at=self.clock.now(),
                    source=key[0],
                    key=item.key,
                    title=item.title,
                    text=answer.text,
                    watch=answer.watch,
                    watch_trigger=answer.trigger,
                )
                self.annotations_changed()

        self.push_screen(
            NoteScreen(
                f"Note on {item.title}",
                self.note_drafts.get(*key),
                hint="kept in the journal for the handover",
                save=lambda text: self.note_drafts.put(*key, text),
            ),
            answered,
        )

    def annotations_changed(self) -> None:
        """Mark every annotated item in its pane."""
        by_source: dict[str, set[str]] = {name: set() for name in self.panes}
        for annotation in self.journal.annotations():
            by_source.setdefault(annotation.source, set()).add(annotation.key)
        for name, pane in self.panes.items():
            pane.set_annotated(by_source.get(name, set()))

    def _make_actions(self) -> None:
        """One action handler per pane whose source can write."""
        pages = self.sources.get("pages")
        if isinstance(pages, PageWriter):
            self.page_actions = PageActions(
                self,
                self.outbox,
                pages,
                drafts=self.note_drafts,
                after_submit=self.pages_pane.clear_marks,
            )
            self.actions["pages"] = self.page_actions
        writable = {name for name, source in self.sources.items() if isinstance(source, Writer)}
        if "monitors" in writable:
            self.actions["monitors"] = MonitorActions(
                self, self.outbox, after_submit=self.pane("monitors").clear_marks
            )
        if "dependabot" in writable:
            self.actions["dependabot"] = DependabotActions(
                self,
                self.outbox,
                merge_method=self.settings.github.merge_method,
                after_submit=self.pane("dependabot").clear_marks,
            )
        if "deploys" in writable:
            self.actions["deploys"] = DeployActions(self, self.outbox)

    def pane(self, name: str) -> Pane[Any]:
        return self.panes[name]

    # -- data ----------------------------------------------------------------------------

    def _snapshot_arrived(
        self, snapshot: Snapshot, events: tuple[Event, ...], _freshness: Freshness
    ) -> None:
        self.post_message(SnapshotArrived(snapshot, events))

    def _freshness_changed(self, freshness: Freshness) -> None:
        self.post_message(FreshnessChanged(freshness))

    @on(SnapshotArrived)
    def apply_snapshot(self, message: SnapshotArrived) -> None:
        snapshot = message.snapshot
        now = self.clock.now()
        pane = self.pane(snapshot.source)
        if not pane.is_attached:
            return  # arrived while the cockpit is closing
        self.journal.add_events(
            with_detail(message.events, self.snapshots.get(snapshot.source), snapshot)
        )
        self.snapshots[snapshot.source] = snapshot
        # Writes the provider confirmed (or refused) before this poll are now part of the
        # data itself: stop drawing them over the rows.
        for entry_id, entry in list(self._writes.items()):
            if (
                entry.source == snapshot.source
                and entry.done_at is not None
                and entry.done_at <= snapshot.taken_at
            ):
                del self._writes[entry_id]
        self._show_pending()
        if snapshot.source == "pages":
            for alert in page_alerts(self._previous_pages, snapshot):
                self._alert(alert)
            self._previous_pages = snapshot
        pane.show(snapshot.items, now)
        if snapshot.source == "pages":
            self.header.set_on_call(snapshot.me, snapshot.on_call, self._shift_end(snapshot), now)
            if snapshot.truncated:
                self.notify(
                    "More than 10,000 open pages: PagerDuty lists only the first 10,000; "
                    "narrow [pagerduty] service_ids or team_ids.",
                    severity="warning",
                )

    def _outbox_changed(self, entry: OutboxEntry) -> None:
        self.post_message(OutboxChanged(entry))

    @on(OutboxChanged)
    def apply_write(self, message: OutboxChanged) -> None:
        entry = message.entry
        previous = self._writes.get(entry.id)
        self._writes[entry.id] = entry
        self._show_pending()
        what = self._describe(entry)
        if entry.state == "rejected":
            self.notify(f"{what} refused: {entry.last_error}", severity="error", timeout=15)
        elif entry.state == "done":
            if previous is not None and previous.last_error:
                self.notify(f"{what} applied after retrying", timeout=5)
            poller = self.pollers.get(entry.source)
            if poller is not None:
                poller.refresh_now()
        elif entry.last_error and (previous is None or previous.last_error != entry.last_error):
            retry = fmt.until(entry.next_attempt_at, self.clock.now())
            self.notify(
                f"{what} not applied yet: {entry.last_error}; kept, retrying {retry}",
                severity="warning",
                timeout=10,
            )

    def _show_pending(self) -> None:
        """Draw each pane's writes in flight over its rows (the newest write per row)."""
        by_pane: dict[str, dict[str, OutboxEntry]] = {name: {} for name in self.panes}
        for entry in sorted(self._writes.values(), key=lambda e: e.id):
            if entry.source in by_pane and entry.state not in ("cancelled", "rejected"):
                for key in entry.targets:
                    by_pane[entry.source][key] = entry
            elif entry.source in by_pane:
                for key in entry.targets:
                    by_pane[entry.source].pop(key, None)
        for name, entries in by_pane.items():
            self.panes[name].set_pending(entries)

    def _describe(self, entry: OutboxEntry) -> str:
        items = self.pane(entry.source).items
        names = [
            f"#{items[k].number}" if k in items and hasattr(items[k], "number") else k
            for k in entry.targets[:5]
        ]
        more = " …" if len(entry.targets) > 5 else ""
        return f"{entry.action.capitalize()} {', '.join(names)}{more}"

    def _alert(self, alert: PageAlert) -> None:
        self.post_message(PageAlerted(alert))
        ui = self.settings.ui
        if not ui.notify:
            return
        self.notify(
            alert.body,
            title=alert.title,
            severity="error" if alert.loud else "warning",
            timeout=30 if alert.loud else 10,
        )
        if alert.loud and ui.bell:
            self.bell()
        sequence = desktop_sequence(
            ui.desktop_notify, alert.title, alert.body, in_tmux="TMUX" in os.environ
        )
        if sequence and not self.is_headless and self._driver is not None:
            self._driver.write(sequence)

    @on(FreshnessChanged)
    def apply_freshness(self, message: FreshnessChanged) -> None:
        freshness = message.freshness
        self.pane(freshness.source).set_freshness(freshness, self.clock.now())

    def _tick(self) -> None:
        if not self.header.is_attached:
            return  # the cockpit is closing
        if self.collector is not None:
            self.collector.tick(
                loaded=all(
                    name in self.snapshots and self.pane(name).settled for name in self.pollers
                )
            )
        now = self.clock.now()
        self.header.tick(now)
        for name, poller in self.pollers.items():
            pane = self.pane(name)
            pane.set_freshness(poller.freshness, now)
        # Ages move every 15 s of the cockpit's clock (a fake clock in tests: then never).
        if now - self._ages_at >= timedelta(seconds=15):
            self._ages_at = now
            for name in self.pollers:
                self.pane(name).refresh_ages(now)

    def _drop_render_caches(self) -> None:
        for pane in self.panes.values():
            pane.table.drop_render_caches()

    def _shift_end(self, snapshot: Snapshot) -> datetime | None:
        if self.settings.shift.end is not None:
            return self.settings.shift.end
        mine = [o.end for o in snapshot.on_call if o.user_name == snapshot.me and o.end]
        return min(mine) if mine else None

    # -- actions -------------------------------------------------------------------------

    def action_focus_pane(self, name: str) -> None:
        if name not in self.sources:
            hint = next(h for n, _, h in PANES if n == name)
            self.notify(f"{name.capitalize()} is not configured — {hint}", timeout=6)
            return
        self.pane(name).focus_table()

    def action_refresh(self) -> None:
        if not self.pollers:
            self.notify("No source is configured: nothing to refresh.", severity="warning")
            return
        for poller in self.pollers.values():
            poller.refresh_now()

    def action_filter(self) -> None:
        pane = self._focused_pane()
        if pane is None:
            self.notify("Focus a pane first (1-4).", timeout=3)
            return
        pane.start_filter()

    def action_zoom(self) -> None:
        """Let the focused pane fill the screen, or go back to the grid."""
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
        elif (pane := self._focused_pane()) is not None:
            screen.maximize(pane, container=False)

    def on_descendant_focus(self) -> None:
        # The column holding the focused pane gets the wider share of the screen.
        pane = self._focused_pane()
        if pane is not None and pane.id in ("monitors", "dependabot", "pages", "deploys"):
            right = pane.id in ("monitors", "dependabot")
            self.query_one("#panes").set_class(right, "-focus-right")

    def action_group(self) -> None:
        pane = self._focused_pane()
        if isinstance(pane, DependabotPane):
            pane.toggle_grouping()
            self.notify("grouped by package" if pane.grouped else "ungrouped", timeout=2)
        else:
            self.notify("Grouping is for the Dependabot pane (4).", timeout=3)

    def action_timeline(self) -> None:
        now = self.clock.now()
        lines = timeline_lines(self.journal)
        metrics = metrics_for(
            read_journal(self.journal, self.settings, now), self.snapshots, self.settings, now
        )
        self.push_screen(
            TimelineScreen(
                lines, f"{metrics_line(metrics)}\n{summary_line(lines, now, self.tz)}", self.tz
            )
        )

    def draft_handover(self) -> str:
        """The handover written afresh from the journal and the latest snapshots."""
        now = self.clock.now()
        view = read_journal(self.journal, self.settings, now)
        return render_markdown(build_handover(view, self.snapshots, self.settings, now))

    def action_handover(self) -> None:
        """Open the handover: the saved draft if there is one, else a fresh one."""
        text = self.journal.load_draft(DRAFT_NAME)
        if text is None:
            text = self.draft_handover()
            self.journal.save_draft(DRAFT_NAME, text, self.clock.now())
        target = self._data_dir / "handovers" if self._data_dir is not None else None

        def export_to_dir(markdown: str) -> Path:
            if target is not None:
                target.mkdir(parents=True, exist_ok=True)  # a directory, not a file name
            return export(markdown, target, now=self.clock.now())

        def publish(markdown: str) -> str:
            url = publish_github(markdown, self.settings)
            if self.settings.handover.slack_webhook is not None:
                publish_slack(markdown, self.settings.handover.slack_webhook)
            return url

        self.push_screen(
            HandoverScreen(
                text,
                save=lambda t: self.journal.save_draft(DRAFT_NAME, t, self.clock.now()),
                draft=self.draft_handover,
                export=export_to_dir,
                publish=publish,
            )
        )

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self._help_rows()))

    def action_open_selected(self) -> None:
        item = self._selected()
        if item is not None:
            self.open_url(item.url)
            self.notify(f"opened {item.url}", timeout=3)

    def action_copy_selected(self) -> None:
        item = self._selected()
        if item is not None:
            self.copy_to_clipboard(item.url)
            self.notify(f"copied {item.url}", timeout=3)

    @on(DataTable.RowSelected)
    @on(DataTable.CellSelected)
    def open_detail(self, event: DataTable.RowSelected | DataTable.CellSelected) -> None:
        pane = self._focused_pane()
        item = pane.selected if pane is not None else None
        if pane is None or item is None:
            return
        source = self.sources.get(str(pane.id))
        now = self.clock.now()
        if isinstance(item, Page) and source is not None:
            view = read_journal(self.journal, self.settings, now)
            linker = ChangeLinker.from_journal(view, self.snapshots.get("deploys"), self.settings)
            self.push_screen(
                PageDetailScreen(
                    item, _as_page_source(source), self.clock, self.tz, linker.links_for(item)
                )
            )
        elif isinstance(item, Deploy):
            github = self.settings.github
            repo = next((r for r in github.repositories if r.name == item.repo), None)
            environments = github.environments_for(repo) if repo else github.environments
            self.push_screen(
                ItemDetailScreen(
                    item,
                    title=item.title,
                    tz=self.tz,
                    now=now,
                    loader=deploy_loader(source, item, list(environments)),
                )
            )
        else:
            self.push_screen(ItemDetailScreen(item, title=item.title, tz=self.tz, now=now))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for command in commands.COMMANDS:
            yield SystemCommand(
                command.label, command.description, self._palette_callback(command.action)
            )
        yield from super().get_system_commands(screen)

    def watch_theme(self, theme: str) -> None:
        if not getattr(self, "_restoring_theme", True) and self._state_file is not None:
            _save_state(self._state_file, {"theme": theme})

    # -- helpers -------------------------------------------------------------------------

    def _palette_callback(self, action: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self.run_action(action)

        return run

    def _focused_pane(self) -> Pane[Any] | None:
        node = self.focused
        while node is not None:
            if isinstance(node, Pane):
                return node
            node = node.parent  # type: ignore[assignment]
        return None

    def _selected(self) -> AnyItem | None:
        pane = self._focused_pane()
        item = pane.selected if pane is not None else None
        if item is None:
            self.notify("Select an item first.", timeout=3)
        return item

    def _help_rows(self) -> list[tuple[str, str, str]]:
        keymap = dict(self.settings.ui.keys)
        rows = [
            (commands.key_display(keymap.get(c.id, c.key)), c.description, c.id)
            for c in commands.ALL_COMMANDS
        ]
        rows.extend(commands.PANE_KEYS)
        return rows

    def _interval(self, name: str) -> float:
        if name == "pages":
            return self.settings.pagerduty.interval
        if name == "monitors":
            return self.settings.datadog.interval
        if name == "dependabot":
            return self.settings.github.dependabot_interval
        return self.settings.github.interval

    def _timeout(self, name: str) -> float:
        if name == "pages":
            return self.settings.pagerduty.timeout
        if name == "monitors":
            return self.settings.datadog.timeout
        return self.settings.github.timeout

    def _initial_theme(self) -> str:
        remembered = _load_state(self._state_file).get("theme") if self._state_file else None
        for name in (remembered, self.settings.ui.theme, DEFAULT_THEME):
            if isinstance(name, str) and name in self.available_themes:
                return name
        return "textual-dark"


def _as_page_source(source: Source) -> PageSource:
    if not hasattr(source, "detail"):
        raise TypeError(f"{source.label} cannot show page details")
    return source  # type: ignore[return-value]


def _zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _load_state(path: Path | None) -> dict[str, object]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_state(path: Path, changes: Mapping[str, object]) -> None:
    state = {**_load_state(path), **changes}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a preference that cannot be saved is not worth interrupting a shift for
