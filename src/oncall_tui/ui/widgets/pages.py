"""The Pages pane: open PagerDuty incidents, loudest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.actions import SkipAction
from textual.binding import BindingType

from oncall_tui import format as fmt
from oncall_tui.domain.models import Page
from oncall_tui.store.journal import OutboxEntry
from oncall_tui.ui import commands
from oncall_tui.ui.page_actions import PageActions
from oncall_tui.ui.widgets.pane import Pane

OPTIMISTIC_STATUS = {"acknowledge": "acknowledged", "resolve": "resolved"}
"""What a pending write makes a page look like before the provider confirms it."""


class PagesPane(Pane[Page]):
    """Triggered before acknowledged, high urgency before low, oldest first.

    Page actions are bound here (and act on the marked pages, or the one under the cursor);
    what they do lives in `PageActions`. Writes still in the outbox show in the row: the
    new state with `…` while pending, the real state with `⟳` while being retried.
    """

    BINDINGS: ClassVar[list[BindingType]] = list(commands.page_bindings())

    COLUMNS: ClassVar[Sequence[tuple[str, str, int | None]]] = (
        ("number", "#", 6),
        ("mark", "", 1),
        ("status", "State", 5),
        ("urgency", "Urg", 4),
        ("age", "Open", 6),
        ("service", "Service", 16),
        ("who", "Owner", 16),
        ("title", "Title", None),
    )

    def __init__(self, *, number: int, title: str, pane_id: str) -> None:
        super().__init__(number=number, title=title, pane_id=pane_id)
        self.marked: set[str] = set()
        self.pending: dict[str, OutboxEntry] = {}

    def key_of(self, item: Page) -> str:
        return item.id

    # -- marks and pending writes --------------------------------------------------------

    def targets(self) -> list[Page]:
        """The marked pages still shown, or else the one under the cursor."""
        marked = [self.items[k] for k in self.marked if k in self.items]
        if marked:
            return sorted(marked, key=Page.sort_key)
        selected = self.selected
        return [selected] if selected is not None else []

    def toggle_mark(self) -> None:
        page = self.selected
        if page is None:
            return
        self.marked.symmetric_difference_update({page.id})
        self.refresh_rows([page.id])
        self.table.action_cursor_down()
        self.border_title = self._title()

    def clear_marks(self) -> None:
        keys = list(self.marked)
        self.marked.clear()
        self.refresh_rows(keys)
        self.border_title = self._title()

    def set_pending(self, entries: dict[str, OutboxEntry]) -> None:
        """Show these outbox entries on their rows (by page id); re-render what changed."""
        changed = {
            k for k in set(entries) | set(self.pending) if entries.get(k) != self.pending.get(k)
        }
        self.pending = dict(entries)
        self.refresh_rows(changed)

    def _title(self) -> str:
        title = super()._title()
        marked = len([k for k in getattr(self, "marked", ()) if k in self.items])
        return f"{title} · {marked} marked" if marked else title

    # -- rendering -----------------------------------------------------------------------

    def cells(self, item: Page, now: datetime) -> Sequence[Any]:
        colours = self.app.theme_variables
        critical = colours.get("severity-critical", "red")
        warning = colours.get("severity-warning", "yellow")
        muted = colours.get("muted-text", "grey50")
        entry = self.pending.get(item.id)
        status: str = item.status
        if entry is not None and entry.state != "rejected" and entry.last_error is None:
            status = OPTIMISTIC_STATUS.get(entry.action, status)
        if status == "triggered":
            state = Text("TRIG", style=f"bold {critical}")
        elif status == "acknowledged":
            state = Text("ACK", style=warning)
        else:
            state = Text("RES", style=muted)
        urgency = (
            Text("high", style=f"bold {critical}")
            if item.urgency == "high"
            else Text("low", style=muted)
        )
        if item.status == "acknowledged" and item.acknowledgers:
            who = ", ".join(item.acknowledgers)
        else:
            who = ", ".join(item.assignees)
        title = Text(item.title, style="bold" if status == "triggered" else "")
        if entry is not None and entry.open:
            # Pending: new state and "…"; failed and being retried: real state and "⟳".
            state.append("…" if entry.last_error is None else "⟳", style=warning)
        mark = (
            Text("●", style=colours.get("accent", "cyan")) if item.id in self.marked else Text("")
        )
        return (
            Text(f"#{item.number}"),
            mark,
            state,
            urgency,
            Text(fmt.since(item.created_at, now)),
            Text(item.service_name),
            Text(who, style=muted if item.status == "acknowledged" else ""),
            title,
        )

    def action_acknowledge(self) -> None:
        self._actions().acknowledge(self.targets())

    def action_resolve(self) -> None:
        self._actions().resolve(self.targets())

    def action_note(self) -> None:
        self._actions().note(self.targets()[:1])

    def action_snooze(self) -> None:
        self._actions().snooze(self.targets())

    def action_reassign(self) -> None:
        self._actions().reassign(self.targets()[:1])

    def action_escalate(self) -> None:
        self._actions().escalate(self.targets()[:1])

    def action_mark(self) -> None:
        self.toggle_mark()

    def _actions(self) -> PageActions:
        actions = getattr(self.app, "page_actions", None)
        if isinstance(actions, PageActions):
            return actions
        raise SkipAction()

    def time_cells(self, item: Page, now: datetime) -> dict[str, Any]:
        return {"age": Text(fmt.since(item.created_at, now))}

    def summarize(self, items: Sequence[Page]) -> str:
        triggered = sum(1 for p in items if p.status == "triggered")
        acked = sum(1 for p in items if p.status == "acknowledged")
        high = sum(1 for p in items if p.urgency == "high" and p.status == "triggered")
        loud = f" ({high} high)" if high else ""
        return f"{triggered} triggered{loud} · {acked} acked"

    def empty_message(self, *, filtered: bool) -> str:
        if filtered:
            return "no page matches the filter"
        return "no open pages: all quiet"
