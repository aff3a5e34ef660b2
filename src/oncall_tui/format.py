"""Plain-text formatting shared by the cockpit and the `status` command (no Textual)."""

from __future__ import annotations

from datetime import datetime, tzinfo


def age(seconds: float | None) -> str:
    """A compact duration that stays readable at a glance: 45s, 12m, 3h05m, 2d4h."""
    if seconds is None:
        return "-"
    s = int(max(0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600}h"


def since(then: datetime | None, now: datetime) -> str:
    """How long ago `then` was, as `age`."""
    if then is None:
        return "-"
    return age((now - then).total_seconds())


def clock_time(when: datetime | None, tz: tzinfo | None) -> str:
    """A wall-clock time in the shift's time zone, with the zone's abbreviation."""
    if when is None:
        return "-"
    local = when.astimezone(tz) if tz is not None else when
    return local.strftime("%H:%M %Z").strip()


def until(when: datetime | None, now: datetime) -> str:
    """How long until `when`: "in 3h05m", or "now" once it has passed."""
    if when is None:
        return "-"
    seconds = (when - now).total_seconds()
    return "now" if seconds <= 0 else f"in {age(seconds)}"
