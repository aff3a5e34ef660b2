"""`domain.diff`: which transitions between two snapshots are shift events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from oncall_tui.domain.diff import diff
from oncall_tui.domain.models import Event, Monitor, Page, Snapshot

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
T1 = T0 + timedelta(seconds=30)


def page(pid: str, status: str = "triggered", title: str = "") -> Page:
    return Page(
        id=pid,
        number=1000,
        title=title or f"[Datadog] page {pid}",
        status=status,  # type: ignore[arg-type]
        urgency="high",
        service_id="PSVC1",
        service_name="claims-api",
        created_at=T0 - timedelta(minutes=5),
        last_status_change_at=T0 - timedelta(minutes=5),
        html_url=f"https://benefits.pagerduty.com/incidents/{pid}",
    )


def snap(*items: Page | Monitor, at: datetime = T1, source: str = "pages") -> Snapshot:
    return Snapshot(source=source, taken_at=at, items=tuple(items))


def test_first_snapshot_is_not_an_event() -> None:
    assert diff(None, snap(page("A"), page("B"))) == ()


def test_same_snapshot_twice_has_no_events() -> None:
    before = snap(page("A"), page("B", "acknowledged"), at=T0)
    assert diff(before, replace(before, taken_at=T1)) == ()


def test_added_item() -> None:
    events = diff(snap(page("A"), at=T0), snap(page("A"), page("B")))
    assert events == (Event("pages", "added", "B", "[Datadog] page B", T1, None, "triggered"),)


def test_removed_item_keeps_its_last_state_and_title() -> None:
    events = diff(snap(page("A"), page("B", "acknowledged"), at=T0), snap(page("A")))
    assert events == (Event("pages", "removed", "B", "[Datadog] page B", T1, "acknowledged", None),)


def test_state_change_is_changed() -> None:
    events = diff(snap(page("A"), at=T0), snap(page("A", "acknowledged")))
    assert events == (
        Event("pages", "changed", "A", "[Datadog] page A", T1, "triggered", "acknowledged"),
    )


def test_title_only_change_is_not_an_event() -> None:
    before = snap(page("A", title="[Datadog] claims-api p99 > 2s"), at=T0)
    after = snap(page("A", title="[Datadog] claims-api p99 > 3s"))
    assert diff(before, after) == ()


def test_other_field_changes_are_not_events() -> None:
    before = snap(page("A"), at=T0)
    after = snap(replace(page("A"), assignees=("Jordan Lee",), urgency="low", priority="SEV3"))
    assert diff(before, after) == ()


def test_added_changed_and_removed_together() -> None:
    before = snap(page("A"), page("B"), page("C", "acknowledged"), at=T0)
    after = snap(page("A"), page("B", "acknowledged"), page("D"))
    kinds = {(e.kind, e.key, e.old_state, e.new_state) for e in diff(before, after)}
    assert kinds == {
        ("changed", "B", "triggered", "acknowledged"),
        ("added", "D", None, "triggered"),
        ("removed", "C", "acknowledged", None),
    }
    assert all(e.at == T1 and e.source == "pages" for e in diff(before, after))


def test_order_of_items_does_not_matter() -> None:
    before = snap(page("A"), page("B"), at=T0)
    assert diff(before, snap(page("B"), page("A"))) == ()


def test_everything_gone_is_one_removal_each() -> None:
    events = diff(snap(page("A"), page("B"), at=T0), snap())
    assert sorted((e.kind, e.key) for e in events) == [("removed", "A"), ("removed", "B")]


def test_works_on_any_item_by_its_key_and_state() -> None:
    monitor = Monitor(
        id=42,
        name="claims-api p99 latency",
        type="metric alert",
        overall_state="Warn",
        url="https://app.ddog-gov.com/monitors/42",
    )
    before = snap(monitor, at=T0, source="monitors")
    after = snap(replace(monitor, overall_state="Alert"), source="monitors")
    assert diff(before, after) == (
        Event("monitors", "changed", "42", "claims-api p99 latency", T1, "Warn", "Alert"),
    )


def test_sharing_keeps_the_previous_object_of_every_unchanged_item() -> None:
    a, b = page("P1"), page("P2")
    previous = snap(a, b, at=T0)
    fresh_a, changed_b, new_c = page("P1"), page("P2", "acknowledged"), page("P3")
    current = snap(changed_b, fresh_a, new_c).sharing(previous)
    assert [item.key for item in current.items] == ["P2", "P1", "P3"]
    assert current.items[1] is a and fresh_a is not a  # equal: the old object
    assert current.items[0] is changed_b and current.items[2] is new_c
    assert current.taken_at == T1
    assert snap(fresh_a).sharing(None).items[0] is fresh_a
