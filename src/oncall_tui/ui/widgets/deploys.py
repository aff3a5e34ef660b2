"""The Deploys pane: a repository × environment grid of the latest deploy in each cell.

A failure or a deploy in progress stands out in its cell; the cursor moves over cells, so
Enter, `o` and `y` act on the deploy under it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar

from textual.binding import BindingType
from textual.coordinate import Coordinate

from oncall_tui import format as fmt
from oncall_tui.domain.models import Deploy
from oncall_tui.ui import commands
from oncall_tui.ui.widgets.pane import CockpitTable, Pane, cell

KNOWN_ENVIRONMENTS = ("dev", "qa", "sandbox", "prod-test", "prod")

SYMBOL = {
    "success": "✓",
    "failure": "✗",
    "error": "✗",
    "in_progress": "▶",
    "queued": "…",
    "pending": "…",
    "cancelled": "⊘",
    "inactive": "·",
}


class DeploysPane(Pane[Deploy]):
    """Rows are repositories, columns environments; each cell the latest deploy there."""

    BINDINGS: ClassVar[list[BindingType]] = commands.table_bindings(commands.DEPLOY_COMMANDS)

    COLUMNS: ClassVar[Sequence[tuple[str, str, int | None]]] = (("repo", "Repository", 26),)

    def __init__(self, *, number: int, title: str, pane_id: str) -> None:
        super().__init__(number=number, title=title, pane_id=pane_id)
        self._environments: list[str] = []
        self._grid: dict[str, dict[str, Deploy]] = {}

    def on_mount(self) -> None:
        self.table.cursor_type = "cell"

    def key_of(self, item: Deploy) -> str:
        return item.key

    @property
    def selected(self) -> Deploy | None:
        table = self.table
        if table.row_count == 0:
            return None
        coordinate = table.cursor_coordinate
        cell_key = table.coordinate_to_cell_key(coordinate)
        repo = cell_key.row_key.value or ""
        row = self._grid.get(repo, {})
        environment = cell_key.column_key.value or ""
        if environment in row:
            return row[environment]
        # On the repository column: the most recent deploy of that repository.
        return max(row.values(), key=_started, default=None)

    def show(self, items: Sequence[Deploy], now: datetime) -> None:
        self._all = list(items)
        self._now = now
        visible = [d for d in items if self._filter is None or self._filter(d)]
        table: CockpitTable = self.table
        environments = _ordered_environments({d.environment for d in items})
        grid: dict[str, dict[str, Deploy]] = {}
        for deploy in visible:
            grid.setdefault(deploy.repo, {})[deploy.environment] = deploy
        with self.app.batch_update():
            for environment in environments:
                if environment not in self._environments:
                    table.add_column(environment, key=environment, width=16)
                    self._environments.append(environment)
            for repo in [r for r in self._grid if r not in grid]:
                table.remove_row(repo)
                self._rendered.pop(repo, None)
            for repo in sorted(grid):
                row = [
                    cell(repo),
                    *(self._cell(grid[repo].get(e), now) for e in self._environments),
                ]
                keys = ["repo", *self._environments]
                if repo in self._grid:
                    old = self._rendered.get(repo, {})
                    for column, value in zip(keys, row, strict=True):
                        if old.get(column) != value:
                            table.update_cell(repo, column, value)
                else:
                    table.add_row(*row, key=repo)
                self._rendered[repo] = dict(zip(keys, row, strict=True))
            if [r.key.value for r in table.ordered_rows] != sorted(grid):
                cursor = table.cursor_coordinate
                current = (
                    table.coordinate_to_cell_key(cursor).row_key.value if table.row_count else None
                )
                table.order_rows(sorted(grid))
                if current in grid:
                    table.cursor_coordinate = Coordinate(
                        table.get_row_index(current), cursor.column
                    )
        self._grid = grid
        self._items = {d.key: d for d in visible}
        self._summary = self.summarize(items)
        self.border_title = self._title()
        self.set_class(not visible, "-empty")
        self.show_waiting("" if visible else self.empty_message(filtered=bool(items)))

    def refresh_rows(self, keys: Iterable[str]) -> None:
        """Rows here are repositories, not deploys: redraw the grid (the base class would add
        a row per deploy key)."""
        if self._now is not None:
            self.show(self._all, self._now)

    def refresh_ages(self, now: datetime) -> None:
        if self._now is not None:
            self.show(self._all, now)

    def _cell(self, deploy: Deploy | None, now: datetime) -> str:
        if deploy is None:
            return cell("")
        colours = self.app.theme_variables
        style = {
            "success": colours.get("severity-ok", "green"),
            "failure": f"bold {colours.get('severity-critical', 'red')}",
            "error": f"bold {colours.get('severity-critical', 'red')}",
            "in_progress": f"bold {colours.get('severity-warning', 'yellow')}",
            "queued": colours.get("severity-warning", "yellow"),
            "pending": colours.get("severity-warning", "yellow"),
        }.get(deploy.deploy_state, colours.get("muted-text", "grey50"))
        when = deploy.finished_at or deploy.started_at
        symbol = SYMBOL.get(deploy.deploy_state, "?")
        return cell(
            f"{symbol} {deploy.short_sha or deploy.ref[:7]} {fmt.since(when, now)}", style=style
        )

    def cells(self, item: Deploy, now: datetime) -> Sequence[Any]:
        return (cell(item.repo),)

    def targets(self) -> list[Deploy]:
        """The deploy under the cursor (the grid has no marks)."""
        selected = self.selected
        return [selected] if selected is not None else []

    def action_rerun(self) -> None:
        self.act("rerun", single=True)

    def summarize(self, items: Sequence[Deploy]) -> str:
        failed = sum(1 for d in items if d.deploy_state in ("failure", "error"))
        running = sum(1 for d in items if d.deploy_state in ("in_progress", "queued", "pending"))
        repos = len({d.repo for d in items})
        parts = [f"{repos} repos"]
        if running:
            parts.append(f"{running} running")
        if failed:
            parts.append(f"{failed} failed")
        return " · ".join(parts)

    def searchable(self, item: Deploy) -> str:
        return " ".join(
            (item.repo, item.environment, item.deploy_state, item.sha, item.creator, item.ref)
        )

    def empty_message(self, *, filtered: bool) -> str:
        return "no deploy matches the filter" if filtered else "no deploys found"


def _started(deploy: Deploy) -> float:
    return deploy.started_at.timestamp() if deploy.started_at is not None else 0.0


def _ordered_environments(found: set[str]) -> list[str]:
    known = [e for e in KNOWN_ENVIRONMENTS if e in found]
    return known + sorted(found - set(KNOWN_ENVIRONMENTS))
