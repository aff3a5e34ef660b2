"""Shift metrics: pages by urgency, MTTA and MTTR (median and mean), pages outside working
hours and pages per hour, computed from the pages' lifecycles (pure, standard library only).

Definitions (docs: oncall-domain.md, "Severity and metrics"):

- a page counts for the shift when it was *triggered* within the shift;
- MTTA is acknowledged_at - triggered_at over the shift's pages that were acknowledged (a page
  resolved without an acknowledgement has no time to acknowledge);
- MTTR is resolved_at - triggered_at over the pages *resolved* within the shift (wherever they
  were triggered), so a page inherited from the previous shift counts where it was fixed;
- a page is outside working hours when it triggered outside `[shift] working_hours` in the
  shift's time zone (`ShiftSettings.in_working_hours`).

The timeline header and the handover both use `shift_metrics`, so they always agree.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from oncall_tui.config import ShiftSettings

__all__ = [
    "SPARK_BARS",
    "Durations",
    "PageRecord",
    "ShiftMetrics",
    "hour_buckets",
    "shift_metrics",
    "sparkline",
]

SPARK_BARS = "▁▂▃▄▅▆▇█"
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class PageRecord:
    """One page's life as the journal saw it: when it triggered, was acknowledged, resolved.

    Times the journal only saw at a poll are the poll's time; an acknowledgement or a
    resolution the engineer made in the app carries the moment the provider confirmed it.
    """

    key: str
    title: str
    urgency: str = ""
    priority: str | None = None
    service_id: str = ""
    service_name: str = ""
    number: int | None = None
    url: str = ""
    triggered_at: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    acknowledged_by_me: bool = False
    resolved_by_me: bool = False

    @property
    def severity(self) -> str:
        """SEV1..SEV4 when the page has a priority, else its urgency ("high urgency")."""
        if self.priority:
            return self.priority
        return f"{self.urgency} urgency" if self.urgency else "unknown urgency"

    @property
    def urgent(self) -> bool:
        """SEV1/SEV2 or high urgency: respond at once, and log an incident report."""
        if self.priority:
            return self.priority.upper() in ("SEV1", "SEV2", "P1", "P2")
        return self.urgency == "high"

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        if self.triggered_at is None or self.acknowledged_at is None:
            return None
        return max(timedelta(0), self.acknowledged_at - self.triggered_at)

    @property
    def time_to_resolve(self) -> timedelta | None:
        if self.triggered_at is None or self.resolved_at is None:
            return None
        return max(timedelta(0), self.resolved_at - self.triggered_at)


@dataclass(frozen=True, slots=True)
class Durations:
    """How many, and their median and mean (None when there are none)."""

    count: int = 0
    median: timedelta | None = None
    mean: timedelta | None = None

    @classmethod
    def of(cls, values: Iterable[timedelta]) -> Durations:
        seconds = sorted(value.total_seconds() for value in values)
        if not seconds:
            return cls()
        return cls(
            count=len(seconds),
            median=timedelta(seconds=statistics.median(seconds)),
            mean=timedelta(seconds=statistics.fmean(seconds)),
        )


@dataclass(frozen=True, slots=True)
class ShiftMetrics:
    """The numbers of one shift (or any window): see the module docstring for definitions."""

    start: datetime
    end: datetime
    pages: int = 0
    by_urgency: tuple[tuple[str, int], ...] = ()
    """(urgency, count), high first; "unknown" when the journal never learnt it."""
    resolved: int = 0
    mtta: Durations = Durations()
    mttr: Durations = Durations()
    outside_hours: int = 0
    first_hour: datetime | None = None
    """Start of the first bucket of `per_hour` (the shift's start, down to the hour)."""
    per_hour: tuple[int, ...] = ()
    """Pages triggered in each hour from `first_hour` on: the sparkline's data."""

    @property
    def urgent(self) -> int:
        return dict(self.by_urgency).get("high", 0)


def hour_buckets(start: datetime, end: datetime, settings: ShiftSettings) -> list[datetime]:
    """The starts of the hours from `start` (down to the hour, in the shift's zone) to `end`."""
    local = start.astimezone(settings.tz)
    first = local.replace(minute=0, second=0, microsecond=0)
    buckets = [first]
    while buckets[-1] + HOUR < end:
        buckets.append(buckets[-1] + HOUR)
    return buckets


def shift_metrics(
    pages: Iterable[PageRecord], start: datetime, end: datetime, settings: ShiftSettings
) -> ShiftMetrics:
    """The metrics of the window [start, end] (`settings` gives the zone and working hours)."""
    records = list(pages)
    in_shift = [p for p in records if p.triggered_at is not None and start <= p.triggered_at <= end]
    resolved = [p for p in records if p.resolved_at is not None and start <= p.resolved_at <= end]
    counts: dict[str, int] = {}
    for page in in_shift:
        urgency = page.urgency or "unknown"
        counts[urgency] = counts.get(urgency, 0) + 1
    order = {"high": 0, "low": 1}
    by_urgency = tuple(sorted(counts.items(), key=lambda item: (order.get(item[0], 2), item[0])))
    buckets = hour_buckets(start, end, settings)
    per_hour = [0] * len(buckets)
    first = buckets[0]
    for page in in_shift:
        assert page.triggered_at is not None
        index = int((page.triggered_at - first) // HOUR)
        if 0 <= index < len(per_hour):
            per_hour[index] += 1
    return ShiftMetrics(
        start=start,
        end=end,
        pages=len(in_shift),
        by_urgency=by_urgency,
        resolved=len(resolved),
        mtta=Durations.of(
            p.time_to_acknowledge for p in in_shift if p.time_to_acknowledge is not None
        ),
        mttr=Durations.of(p.time_to_resolve for p in resolved if p.time_to_resolve is not None),
        outside_hours=sum(
            1
            for p in in_shift
            if p.triggered_at is not None and not settings.in_working_hours(p.triggered_at)
        ),
        first_hour=first,
        per_hour=tuple(per_hour),
    )


def sparkline(counts: Sequence[int], width: int | None = None) -> str:
    """One bar per count (▁ for none, █ for the most); with `width`, adjacent counts are
    summed so that the line is at most `width` bars long."""
    values = list(counts)
    if width is not None and width > 0 and len(values) > width:
        step = -(-len(values) // width)
        values = [sum(values[i : i + step]) for i in range(0, len(values), step)]
    if not values:
        return ""
    top = max(values)
    if top == 0:
        return SPARK_BARS[0] * len(values)
    last = len(SPARK_BARS) - 1
    return "".join(SPARK_BARS[0 if v == 0 else max(1, round(v / top * last))] for v in values)


def spark_step(length: int, width: int) -> int:
    """How many counts one bar of `sparkline(counts, width)` sums."""
    return 1 if length <= width else -(-length // width)
