"""The Pages pane: open PagerDuty incidents, loudest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from textual.binding import BindingType

from oncall_tui import format as fmt
from oncall_tui.domain.models import Page
from oncall_tui.ui import commands
from oncall_tui.ui.widgets.pane import Pane, cell

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
        ("title", "Title", 120),
    )

    def key_of(self, item: Page) -> str:
        return item.id

    def targets(self) -> list[Page]:
        return sorted(super().targets(), key=Page.sort_key)

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
            state = cell("TRIG", f"bold {critical}")
        elif status == "acknowledged":
            state = cell("ACK", warning)
        else:
            state = cell("RES", muted)
        urgency = cell("high", f"bold {critical}") if item.urgency == "high" else cell("low", muted)
        if item.status == "acknowledged" and item.acknowledgers:
            who = ", ".join(item.acknowledgers)
        else:
            who = ", ".join(item.assignees)
        title = cell(item.title, "bold" if status == "triggered" else "")
        return (
            cell(f"#{item.number}"),
            self.mark_cell(item.id),
            state,
            urgency,
            cell(fmt.since(item.created_at, now)),
            cell(item.service_name),
            cell(who, muted if item.status == "acknowledged" else ""),
            title,
        )

    def action_acknowledge(self) -> None:
        self.act("acknowledge")

    def action_resolve(self) -> None:
        self.act("resolve")

    def action_note(self) -> None:
        self.act("note", single=True)

    def action_snooze(self) -> None:
        self.act("snooze")

    def action_reassign(self) -> None:
        self.act("reassign", single=True)

    def action_escalate(self) -> None:
        self.act("escalate", single=True)

    def time_cells(self, item: Page, now: datetime) -> dict[str, Any]:
        return {"age": cell(fmt.since(item.created_at, now))}

    def searchable(self, item: Page) -> str:
        """The row's words, from the page itself (reading them back out of the cells' markup
        would parse 40,000 cells a keystroke at 5,000 pages)."""
        shown = {"triggered": "TRIG", "acknowledged": "ACK", "resolved": "RES"}
        return " ".join(
            (
                f"#{item.number}",
                item.status,
                shown.get(item.status, ""),
                item.urgency,
                item.service_name,
                *item.assignees,
                *item.acknowledgers,
                item.title,
            )
        )

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
