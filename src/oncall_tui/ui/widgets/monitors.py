"""The Monitors pane: Datadog monitors in Alert, Warn or No Data, worst first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from textual.binding import BindingType

from oncall_tui import format as fmt
from oncall_tui.domain.models import Monitor
from oncall_tui.ui import commands
from oncall_tui.ui.widgets.pane import Pane, cell


class MonitorsPane(Pane[Monitor]):
    """Alert, then Warn, then No Data; since when; groups; muted until when."""

    BINDINGS: ClassVar[list[BindingType]] = commands.table_bindings(commands.MONITOR_COMMANDS)

    COLUMNS: ClassVar[Sequence[tuple[str, str, int | None]]] = (
        ("mark", "", 1),
        ("state", "State", 7),
        ("since", "Since", 6),
        ("priority", "P", 2),
        ("groups", "Groups", 6),
        ("muted", "Muted", 11),
        ("name", "Monitor", 100),
    )

    def key_of(self, item: Monitor) -> str:
        return item.key

    def cells(self, item: Monitor, now: datetime) -> Sequence[Any]:
        colours = self.app.theme_variables
        style = {
            "Alert": f"bold {colours.get('severity-critical', 'red')}",
            "Warn": colours.get("severity-warning", "yellow"),
            "No Data": colours.get("severity-info", "blue"),
        }.get(item.overall_state, colours.get("muted-text", "grey50"))
        muted_style = colours.get("muted-text", "grey50")
        total = sum(n for _, n in item.group_counts)
        alerting = len(item.groups_alerting)
        groups = f"{alerting}/{total}" if total else ("-" if not alerting else str(alerting))
        if item.muted:
            muted = (
                "until " + fmt.clock_time(item.muted_until, self.tz)
                if item.muted_until
                else "indefinitely"
            )
        else:
            muted = ""
        return (
            self.mark_cell(item.key),
            cell(item.overall_state, style),
            cell(fmt.since(item.since, now)),
            cell(f"P{item.priority}" if item.priority else "-"),
            cell(groups),
            cell(muted, muted_style),
            cell(item.name, muted_style if item.muted else ""),
        )

    def time_cells(self, item: Monitor, now: datetime) -> dict[str, Any]:
        return {"since": cell(fmt.since(item.since, now))}

    def action_mute(self) -> None:
        self.act("mute")

    def action_unmute(self) -> None:
        self.act("unmute")

    def summarize(self, items: Sequence[Monitor]) -> str:
        counts = {
            s: sum(1 for m in items if m.overall_state == s) for s in ("Alert", "Warn", "No Data")
        }
        muted = sum(1 for m in items if m.muted)
        text = " · ".join(f"{n} {s.lower()}" for s, n in counts.items() if n) or "0 alerting"
        return f"{text} · {muted} muted" if muted else text

    def searchable(self, item: Monitor) -> str:
        return " ".join(
            (item.name, item.overall_state, item.type, *item.tags, *item.groups_alerting)
        )

    def empty_message(self, *, filtered: bool) -> str:
        return "no monitor matches the filter" if filtered else "no monitor alerting: all green"
