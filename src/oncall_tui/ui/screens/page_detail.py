"""The page detail view: every field of one page and its recent log entries."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import tzinfo
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from oncall_tui import format as fmt
from oncall_tui.domain.clock import Clock
from oncall_tui.domain.models import Deploy, Page, PageDetail
from oncall_tui.sources.base import PageSource, SourceError
from oncall_tui.ui import commands
from oncall_tui.ui.page_actions import PageActions

_URL = re.compile(r"https?://[^\s<>\"')\]]+")
"""Runbook and dashboard links written into an incident's description."""


class PageDetailScreen(ModalScreen[None]):
    """Shows the row's data at once, then fills in the log entries fetched in a thread."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close", id="close-detail"),
        Binding("o", "open", "Open", id="detail-open"),
        Binding("y", "copy", "Copy URL", id="detail-copy"),
        *(b for b in commands.page_bindings() if getattr(b, "id", "") != "mark"),
    ]

    def __init__(
        self,
        page: Page,
        source: PageSource,
        clock: Clock,
        tz: tzinfo | None,
        changes: Sequence[Deploy] = (),
    ) -> None:
        super().__init__(classes="detail")
        self.page = page
        self._changes = tuple(changes)
        self._source = source
        self._clock = clock
        self._tz = tz

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-body") as body:
            body.border_title = f"Page #{self.page.number}"
            yield Static(self._fields(self.page), id="detail-fields")
            yield Static("loading log entries…", id="detail-log")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def load(self) -> None:
        try:
            detail = self._source.detail(self.page.id)
        except SourceError as exc:
            self.app.call_from_thread(self._show_error, exc.message)
            return
        self.app.call_from_thread(self._show, detail)

    def _show(self, detail: PageDetail) -> None:
        self.page = detail.page
        self.query_one("#detail-fields", Static).update(self._fields(detail.page, detail))
        log = Table.grid(padding=(0, 2))
        log.add_column(style="dim", no_wrap=True)
        log.add_column(no_wrap=True)
        log.add_column()
        for entry in detail.log_entries:
            log.add_row(
                fmt.clock_time(entry.created_at, self._tz),
                entry.type.removesuffix("_log_entry").replace("_", " "),
                entry.summary,
            )
        if not detail.log_entries:
            log.add_row("", "", "no log entries")
        for note in detail.notes:
            log.add_row(
                fmt.clock_time(note.created_at, self._tz),
                "note",
                f"{note.summary}  — {note.agent}" if note.agent else note.summary,
            )
        self.query_one("#detail-log", Static).update(log)

    def _show_error(self, message: str) -> None:
        self.query_one("#detail-log", Static).update(
            Text(f"could not load log entries: {message} (press o to open in PagerDuty)")
        )

    def _fields(self, page: Page, detail: PageDetail | None = None) -> Table:
        now = self._clock.now()
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        rows: list[tuple[str, str]] = [
            ("Title", page.title),
            ("Status", page.status),
            ("Urgency", page.urgency),
            ("Priority", page.priority or "-"),
            ("Service", page.service_name),
            ("Escalation", page.escalation_policy or "-"),
            ("Assigned", ", ".join(page.assignees) or "-"),
            ("Acknowledged by", ", ".join(page.acknowledgers) or "-"),
            (
                "Opened",
                f"{fmt.clock_time(page.created_at, self._tz)} "
                f"({fmt.since(page.created_at, now)} ago)",
            ),
            (
                "Last change",
                f"{fmt.clock_time(page.last_status_change_at, self._tz)} "
                f"({fmt.since(page.last_status_change_at, now)} ago)",
            ),
            ("Alerts", str(page.alerts_triggered)),
            ("URL", page.html_url),
        ]
        if detail is not None and detail.description and detail.description != page.title:
            rows.insert(1, ("Description", detail.description))
            links = _URL.findall(detail.description)
            if links:
                rows.append(("Links", "\n".join(dict.fromkeys(links))))
        for deploy in self._changes:
            when = deploy.finished_at or deploy.started_at
            before = fmt.age((page.created_at - when).total_seconds()) if when else "?"
            rows.append(
                (
                    "What changed",
                    f"{deploy.repo} → {deploy.environment} {deploy.short_sha} "
                    f"({deploy.deploy_state}) {before} before the page",
                )
            )
        for label, value in rows:
            grid.add_row(label, value)
        return grid

    def _act(self, name: str) -> None:
        actions = getattr(self.app, "page_actions", None)
        if isinstance(actions, PageActions):
            getattr(actions, name)([self.page])

    def action_acknowledge(self) -> None:
        self._act("acknowledge")

    def action_resolve(self) -> None:
        self._act("resolve")

    def action_note(self) -> None:
        self._act("note")

    def action_snooze(self) -> None:
        self._act("snooze")

    def action_reassign(self) -> None:
        self._act("reassign")

    def action_escalate(self) -> None:
        self._act("escalate")

    def action_open(self) -> None:
        self.app.open_url(self.page.html_url)
        self.notify("opened in the browser")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.page.html_url)
        self.notify(f"copied {self.page.html_url}")
