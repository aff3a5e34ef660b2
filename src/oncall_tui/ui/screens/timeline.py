"""The shift's timeline: what the pollers saw, what the engineer did and wrote, newest first.

Everything comes from the journal, so the timeline survives restarts. Type to filter by text
or by source name ("pages", "monitors", "deploys", "dependabot", "you").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Static

from oncall_tui import format as fmt
from oncall_tui.handover import Durations, ShiftMetrics
from oncall_tui.store.journal import Journal

SPARK = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the timeline."""

    at: datetime
    source: str
    what: str


def timeline_lines(journal: Journal, since: datetime | None = None) -> list[Line]:
    """Events, notes and actions from the journal, newest first."""
    lines: list[Line] = []
    for event in journal.events(since=since):
        if event.kind == "added":
            what = f"new {event.new_state or ''}: {event.title}"
        elif event.kind == "removed":
            what = f"gone (was {event.old_state}): {event.title}"
        else:
            what = f"{event.old_state} → {event.new_state}: {event.title}"
        lines.append(Line(event.at, event.source, what))
    for note in journal.annotations(since=since):
        watch = f" [watch: {note.watch_trigger or 'yes'}]" if note.watch else ""
        lines.append(Line(note.at, "you", f"note on {note.title}: {note.text}{watch}"))
    for entry in journal.recent_outbox(limit=1000):
        if since is not None and entry.created_at < since:
            continue
        outcome = {"done": "done", "rejected": f"refused: {entry.last_error}"}.get(
            entry.state, entry.state
        )
        targets = ", ".join(entry.targets[:5])
        lines.append(Line(entry.created_at, "you", f"{entry.action} {targets} ({outcome})"))
    lines.sort(key=lambda line: line.at, reverse=True)
    return lines


def sparkline(counts: list[int]) -> str:
    """Pages per hour as a one-line bar chart."""
    if not counts:
        return ""
    top = max(counts) or 1
    return "".join(SPARK[min(len(SPARK) - 1, round(c * (len(SPARK) - 1) / top))] for c in counts)


class TimelineScreen(ModalScreen[None]):
    """The journal as a filterable table, with the shift's numbers on top."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", id="close-timeline"),
    ]

    def __init__(self, lines: list[Line], summary: str, tz: tzinfo | None) -> None:
        super().__init__(classes="detail")
        self._lines = lines
        self._summary = summary
        self._tz = tz

    def compose(self) -> ComposeResult:
        with Vertical(id="timeline-body") as body:
            body.border_title = "Shift timeline"
            yield Static(self._summary, id="timeline-summary", markup=False)
            yield Input(placeholder="filter: words, or a source (pages, monitors, you…)")
            yield DataTable(cursor_type="row", id="timeline-table")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("When", key="when", width=16)
        table.add_column("Source", key="source", width=11)
        table.add_column("What", key="what")
        self._fill("")
        self.query_one(Input).focus()

    def _fill(self, text: str) -> None:
        words = text.lower().split()
        table = self.query_one(DataTable)
        table.clear()
        for line in self._lines:
            haystack = f"{line.source} {line.what}".lower()
            if all(word in haystack for word in words):
                when = line.at.astimezone(self._tz) if self._tz is not None else line.at
                table.add_row(Text(when.strftime("%a %H:%M")), Text(line.source), Text(line.what))
        if table.row_count == 0:
            table.add_row(Text(""), Text(""), Text("nothing yet" if not words else "no match"))

    @on(Input.Changed)
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)


def summary_line(lines: list[Line], now: datetime, tz: tzinfo | None = None) -> str:
    """Counts for the top of the timeline (the handover has the full figures)."""
    pages = [line for line in lines if line.source == "pages" and line.what.startswith("new ")]
    actions = [line for line in lines if line.source == "you"]
    hours = [0] * 12
    for line in pages:
        age = (now - line.at).total_seconds() / 3600
        if 0 <= age < 12:
            hours[11 - int(age)] += 1
    return (
        f"{len(pages)} new pages · {len(actions)} things you did or wrote · "
        f"pages per hour, last 12 h: {sparkline(hours)} · as of {fmt.clock_time(now, tz)}"
    )


def metrics_line(metrics: ShiftMetrics) -> str:
    """The shift's numbers: pages by urgency, MTTA/MTTR, out of hours, pages per hour."""
    urgency = ", ".join(f"{n} {u}" for u, n in metrics.by_urgency) or "none"

    def minutes(d: Durations) -> str:
        if not d.count or d.median is None or d.mean is None:
            return "-"
        median, mean = d.median.total_seconds(), d.mean.total_seconds()
        return f"median {fmt.age(median)}, mean {fmt.age(mean)} ({d.count})"

    return (
        f"pages: {metrics.pages} ({urgency}) · resolved {metrics.resolved} · "
        f"MTTA {minutes(metrics.mtta)} · MTTR {minutes(metrics.mttr)} · "
        f"outside hours {metrics.outside_hours} · per hour {sparkline(list(metrics.per_hour))}"
    )
