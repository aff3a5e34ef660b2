"""Detail views for monitors, deploys and Dependabot PRs.

Every field of the item at once; for a deploy, the run's jobs and the last successful deploy
to each environment (for rollback decisions) are fetched in a thread and added when they
arrive. Actions stay on the pane's keys, where marks and bulk writes live.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from oncall_tui import format as fmt
from oncall_tui.domain.models import AnyItem, Deploy
from oncall_tui.sources.base import SourceError

Loader = Callable[[], Table | Text]
"""Blocking look-up for extra detail (runs in a thread); returns what to show."""


class ItemDetailScreen(ModalScreen[None]):
    """All of one item's fields, plus optional extra detail loaded in the background."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close", id="close-detail"),
        Binding("o", "open", "Open", id="detail-open"),
        Binding("y", "copy", "Copy URL", id="detail-copy"),
    ]

    def __init__(
        self,
        item: AnyItem,
        *,
        title: str,
        tz: tzinfo | None,
        now: datetime,
        loader: Loader | None = None,
    ) -> None:
        super().__init__(classes="detail")
        self.item = item
        self._title = title
        self._tz = tz
        self._now = now
        self._loader = loader

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-body") as body:
            body.border_title = self._title
            yield Static(self._fields(), id="detail-fields")
            if self._loader is not None:
                yield Static("loading…", id="detail-extra")
        yield Footer()

    def on_mount(self) -> None:
        if self._loader is not None:
            self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def load(self) -> None:
        assert self._loader is not None
        try:
            extra: Table | Text = self._loader()
        except SourceError as exc:
            extra = Text(f"could not load more: {exc.message}")
        self.app.call_from_thread(self.query_one("#detail-extra", Static).update, extra)

    def _fields(self) -> Table:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        for field in dataclasses.fields(self.item):
            value = getattr(self.item, field.name)
            grid.add_row(field.name.replace("_", " ").capitalize(), self._show(value))
        return grid

    def _show(self, value: Any) -> Text:
        if isinstance(value, datetime):
            return Text(f"{fmt.clock_time(value, self._tz)} ({fmt.since(value, self._now)} ago)")
        if isinstance(value, tuple):
            return Text(", ".join(self._plain(v) for v in value) or "-")
        if value is None or value == "":
            return Text("-")
        return Text(str(value))

    @staticmethod
    def _plain(value: Any) -> str:
        if isinstance(value, tuple):
            return ": ".join(str(v) for v in value)
        return str(value)

    def action_open(self) -> None:
        self.app.open_url(self.item.url)
        self.notify("opened in the browser")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.item.url)
        self.notify(f"copied {self.item.url}")


def deploy_loader(source: Any, deploy: Deploy, environments: list[str]) -> Loader:
    """Jobs of the run (for workflow deploys) and the last success per environment."""

    def load() -> Table:
        table = Table(box=None, padding=(0, 2), show_header=True, header_style="bold")
        table.add_column("")
        table.add_column("")
        table.add_column("")
        if deploy.origin == "workflow" and deploy.run_id is not None and hasattr(source, "jobs"):
            table.add_row(Text("Jobs of run", style="bold"), str(deploy.run_id), "")
            for job in source.jobs(deploy.repo, deploy.run_id):
                state = getattr(job, "conclusion", None) or getattr(job, "status", "")
                failed = ", ".join(getattr(job, "failed_steps", ()) or ())
                table.add_row(f"  {job.name}", str(state), f"failed: {failed}" if failed else "")
        if hasattr(source, "last_successes"):
            table.add_row(Text("Last success per environment", style="bold"), "", "")
            successes = source.last_successes(deploy.repo, environments)
            for environment in environments:
                last = successes.get(environment)
                when = (last.finished_at or last.started_at) if last is not None else None
                table.add_row(
                    f"  {environment}",
                    last.short_sha if last is not None else "none found",
                    when.isoformat(timespec="minutes") if when is not None else "",
                )
        return table

    return load
