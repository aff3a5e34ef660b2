"""Which page changes ring, and the escape sequences that carry desktop notifications."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from oncall_tui.alerts import desktop_sequence, page_alerts
from oncall_tui.domain.models import Page, Snapshot

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def page(pid: str, status: str = "triggered", urgency: str = "high", **kw: object) -> Page:
    return Page(
        id=pid,
        number=1,
        title=f"title {pid}",
        status=status,  # type: ignore[arg-type]
        urgency=urgency,  # type: ignore[arg-type]
        service_id="S",
        service_name="claims-api",
        created_at=T0,
        last_status_change_at=T0,
        html_url="https://x.pagerduty.com/incidents/" + pid,
        **kw,  # type: ignore[arg-type]
    )


def snap(*pages: Page, at: datetime = T0) -> Snapshot:
    return Snapshot(source="pages", taken_at=at, items=pages)


def test_the_first_snapshot_rings_nobody() -> None:
    assert page_alerts(None, snap(page("A"))) == []


def test_new_retriggered_and_escalated_pages_ring_loud_first() -> None:
    before = snap(page("A", "acknowledged"), page("B", assignees=("Ana",)), page("C"))
    after = snap(
        page("A"),  # acknowledged -> triggered again
        page("B", assignees=("Ana", "Ben")),  # escalated to Ben
        page("C"),  # unchanged: no alert
        page("D", urgency="low"),  # new, low urgency
        at=T0 + timedelta(minutes=1),
    )
    alerts = page_alerts(before, after)
    assert [(a.page.id, a.reason, a.loud) for a in alerts] == [
        ("A", "re-triggered", True),
        ("B", "escalated", True),
        ("D", "triggered", False),
    ]
    assert alerts[0].title == "Page re-triggered (HIGH) #1"


def test_acknowledged_or_resolved_pages_never_ring() -> None:
    before = snap(page("A"))
    assert page_alerts(before, snap(replace(page("A"), status="acknowledged"))) == []
    assert page_alerts(before, snap()) == []


def test_desktop_sequences() -> None:
    assert desktop_sequence("osc9", "Page", "db down", in_tmux=False) == "\x1b]9;Page: db down\x07"
    assert desktop_sequence("osc777", "Page", "a;b", in_tmux=False) == (
        "\x1b]777;notify;Page;a,b\x07"
    )
    assert desktop_sequence("off", "Page", "x", in_tmux=False) == ""
    wrapped = desktop_sequence("osc9", "Page", "x", in_tmux=True)
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b]9;") and wrapped.endswith("\x1b\\")


def test_control_characters_cannot_end_the_sequence_early() -> None:
    sequence = desktop_sequence("osc9", "Page\x07", "evil\x1b]52;c;Zm9v\x07", in_tmux=False)
    assert sequence.count("\x07") == 1 and sequence.count("\x1b") == 1
