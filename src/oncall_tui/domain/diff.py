"""Pure snapshot comparison: what changed between two polls of the same source."""

from __future__ import annotations

from oncall_tui.domain.models import Event, Snapshot


def diff(previous: Snapshot | None, current: Snapshot) -> tuple[Event, ...]:
    """Events that turn `previous` into `current`.

    Only state transitions count as "changed": a title edit or a new assignee on a row is
    rendered by the pane, but it is not a shift event. With no previous snapshot, nothing is
    an event (the first poll describes the world, it does not change it).
    """
    if previous is None:
        return ()
    before = previous.by_key()
    after = current.by_key()
    at = current.taken_at
    events: list[Event] = []
    for key, item in after.items():
        old = before.get(key)
        if old is None:
            events.append(Event(current.source, "added", key, item.title, at, None, item.state))
        elif old.state != item.state:
            events.append(
                Event(current.source, "changed", key, item.title, at, old.state, item.state)
            )
    for key, item in before.items():
        if key not in after:
            events.append(Event(current.source, "removed", key, item.title, at, item.state, None))
    return tuple(events)
