"""`format`: the compact durations and wall-clock times the cockpit and `status` print."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from oncall_tui.format import age, clock_time, since, until

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.9, "0s"),
        (45, "45s"),
        (59.99, "59s"),
        (60, "1m"),
        (119, "1m"),
        (12 * 60, "12m"),
        (3599, "59m"),
        (3600, "1h00m"),
        (3 * 3600 + 5 * 60, "3h05m"),
        (23 * 3600 + 59 * 60 + 59, "23h59m"),
        (86400, "1d0h"),
        (2 * 86400 + 4 * 3600 + 59 * 60, "2d4h"),
        (45 * 86400, "45d0h"),
        (-5, "0s"),
    ],
)
def test_age(seconds: float, text: str) -> None:
    assert age(seconds) == text


def test_age_of_nothing() -> None:
    assert age(None) == "-"


def test_since() -> None:
    assert since(NOW - timedelta(hours=3, minutes=5), NOW) == "3h05m"
    assert since(NOW - timedelta(seconds=45), NOW) == "45s"
    assert since(NOW, NOW) == "0s"
    assert since(NOW + timedelta(minutes=2), NOW) == "0s", "clock skew is not negative time"
    assert since(None, NOW) == "-"


def test_since_across_zones_is_the_same_instant() -> None:
    then = datetime(2026, 11, 27, 8, 0, tzinfo=ZoneInfo("America/New_York"))  # 13:00 UTC
    assert since(then, NOW) == "1h00m"


def test_until() -> None:
    assert until(NOW + timedelta(hours=3, minutes=5), NOW) == "in 3h05m"
    assert until(NOW + timedelta(minutes=12), NOW) == "in 12m"
    assert until(NOW, NOW) == "now"
    assert until(NOW - timedelta(hours=1), NOW) == "now"
    assert until(None, NOW) == "-"


@pytest.mark.parametrize(
    ("when", "zone", "text"),
    [
        (NOW, "America/New_York", "09:00 EST"),
        (datetime(2026, 7, 1, 14, 0, tzinfo=UTC), "America/New_York", "10:00 EDT"),
        (NOW, "America/Los_Angeles", "06:00 PST"),
        (NOW, "Europe/London", "14:00 GMT"),
        (datetime(2026, 7, 1, 14, 0, tzinfo=UTC), "Europe/London", "15:00 BST"),
        (NOW, "Asia/Kolkata", "19:30 IST"),
        (NOW, "UTC", "14:00 UTC"),
        # the day changes: only the time is shown
        (datetime(2026, 11, 28, 3, 30, tzinfo=UTC), "America/New_York", "22:30 EST"),
    ],
)
def test_clock_time_across_zones(when: datetime, zone: str, text: str) -> None:
    assert clock_time(when, ZoneInfo(zone)) == text


def test_clock_time_from_another_zone() -> None:
    eastern = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    assert clock_time(eastern, ZoneInfo("Europe/Berlin")) == "15:00 CET"


def test_clock_time_without_a_zone_keeps_the_times_own() -> None:
    assert clock_time(NOW, None) == "14:00 UTC"
    fixed = datetime(2026, 11, 27, 14, 0, tzinfo=timezone(timedelta(hours=-5), "EST"))
    assert clock_time(fixed, None) == "14:00 EST"
    assert clock_time(datetime(2026, 11, 27, 14, 0), None) == "14:00"


def test_clock_time_of_nothing() -> None:
    assert clock_time(None, ZoneInfo("UTC")) == "-"
