"""The journal's outbox and the Outbox loop under a fake clock, with scripted writers."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.domain.clock import FakeClock
from oncall_tui.engine.outbox import Outbox, ReadOnly
from oncall_tui.sources.base import BadResponse, RateLimited, SourceError, Unavailable
from oncall_tui.store.journal import MIGRATIONS, Journal, JournalError, OutboxEntry

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


class ScriptedWriter:
    """Answers each apply with the next scripted outcome (None = success)."""

    def __init__(self, script: list[Exception | None]) -> None:
        self.script = list(script)
        self.calls: list[tuple[str, tuple[str, ...], dict[str, Any], int]] = []

    def apply(
        self, action: str, targets: Sequence[str], payload: Mapping[str, Any], *, attempt: int
    ) -> None:
        self.calls.append((action, tuple(targets), dict(payload), attempt))
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome


def outbox(journal: Journal, writer: ScriptedWriter, clock: FakeClock, **kw: Any) -> Outbox:
    changes: list[OutboxEntry] = []
    box = Outbox(
        journal,
        {"pages": writer},
        clock,
        on_change=changes.append,
        rng=random.Random(3),
        backoff_base=5,
        **kw,
    )
    box.changes = changes  # type: ignore[attr-defined]
    return box


def test_journal_is_wal_versioned_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = Journal.open(path)
    assert journal.version == len(MIGRATIONS)
    entry = journal.add_outbox(
        created_at=T0, source="pages", action="note", targets=["Q1"], payload={"content": "hi"}
    )
    journal.close()
    again = Journal.open(path)
    assert again.open_outbox() == [entry]
    assert again.integrity_check() == "ok"
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_a_journal_from_a_newer_version_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    Journal.open(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(JournalError, match="upgrade oncall-tui"):
        Journal.open(path)


def test_an_unwritable_journal_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(JournalError, match="cannot open the journal"):
        Journal.open(blocker / "journal.sqlite3")


async def test_submit_persists_then_applies_once() -> None:
    clock = FakeClock(T0)
    journal = Journal.memory()
    writer = ScriptedWriter([None])
    box = outbox(journal, writer, clock)
    entry = box.submit("pages", "acknowledge", ["Q1", "Q2"], {})
    assert journal.open_outbox() == [entry]
    await box.drain()
    assert writer.calls == [("acknowledge", ("Q1", "Q2"), {}, 0)]
    assert journal.open_outbox() == []
    done = journal.outbox_entry(entry.id)
    assert done.state == "done" and done.attempts == 1 and done.done_at == T0
    assert [c.state for c in box.changes] == ["pending", "in_flight", "done"]  # type: ignore[attr-defined]


async def test_transient_failures_retry_with_backoff_and_retry_after() -> None:
    clock = FakeClock(T0)
    journal = Journal.memory()
    writer = ScriptedWriter(
        [Unavailable("PagerDuty failed (500)"), RateLimited("slow", retry_after=90), None]
    )
    box = outbox(journal, writer, clock)
    entry = box.submit("pages", "note", ["Q1"], {"content": "x"})
    wait = await box.drain()
    failed = journal.outbox_entry(entry.id)
    assert failed.state == "pending" and failed.last_error == "PagerDuty failed (500)"
    assert 5 <= wait <= 5.0 or wait == 5.0
    assert await box.drain() == pytest.approx(wait)  # not due yet: nothing sent
    assert len(writer.calls) == 1
    clock.advance(wait)
    wait = await box.drain()
    assert wait >= 90, "Retry-After must win over a shorter backoff"
    clock.advance(wait)
    await box.drain()
    assert journal.outbox_entry(entry.id).state == "done"
    assert [c[3] for c in writer.calls] == [0, 1, 2], "each retry knows it is a retry"


async def test_a_refusal_is_final_and_keeps_the_reason() -> None:
    clock = FakeClock(T0)
    journal = Journal.memory()
    writer = ScriptedWriter([SourceError("PagerDuty answered 400: Incident Already Resolved")])
    box = outbox(journal, writer, clock)
    entry = box.submit("pages", "acknowledge", ["Q1"], {})
    await box.drain()
    refused = journal.outbox_entry(entry.id)
    assert refused.state == "rejected"
    assert refused.last_error == "PagerDuty answered 400: Incident Already Resolved"
    clock.advance(3600)
    await box.drain()
    assert len(writer.calls) == 1


async def test_an_unreadable_answer_is_retried_as_a_retry_not_refused() -> None:
    # A 2xx whose body cannot be read (broken JSON, the wrong shape) may mean the write
    # landed: marking it refused would tell the engineer it did not happen. It is retried,
    # and the retry (attempt 1) checks whether the provider already has it.
    clock = FakeClock(T0)
    journal = Journal.memory()
    writer = ScriptedWriter([BadResponse("Datadog mute: the answer does not parse"), None])
    box = outbox(journal, writer, clock)
    entry = box.submit("pages", "note", ["Q1"], {"content": "x"})
    wait = await box.drain()
    pending = journal.outbox_entry(entry.id)
    assert pending.state == "pending"
    assert pending.last_error == "Datadog mute: the answer does not parse"
    clock.advance(wait)
    await box.drain()
    assert journal.outbox_entry(entry.id).state == "done"
    assert [c[3] for c in writer.calls] == [0, 1]


async def test_a_write_caught_in_flight_is_retried_as_a_retry_after_restart() -> None:
    clock = FakeClock(T0)
    journal = Journal.memory()
    entry = journal.add_outbox(
        created_at=T0, source="pages", action="note", targets=["Q1"], payload={"content": "x"}
    )
    # The process died after committing "in flight" and before the answer came.
    journal.update_outbox(entry.id, state="in_flight", attempts=1)
    writer = ScriptedWriter([None])
    box = outbox(journal, writer, clock)
    box.start()
    for _ in range(100):
        await asyncio.sleep(0.005)
        if writer.calls:
            break
    await box.stop()
    assert writer.calls == [("note", ("Q1",), {"content": "x"}, 1)]
    assert journal.outbox_entry(entry.id).state == "done"


async def test_a_hung_write_times_out_and_stays_queued() -> None:
    clock = FakeClock(T0)
    journal = Journal.memory()

    class Hung(ScriptedWriter):
        def apply(self, *args: Any, **kwargs: Any) -> None:
            import time

            time.sleep(0.3)

    box = outbox(journal, Hung([]), clock, timeout=0.05)
    entry = box.submit("pages", "note", ["Q1"], {"content": "x"})
    await box.drain()
    stuck = journal.outbox_entry(entry.id)
    assert stuck.state == "pending" and "no answer within" in (stuck.last_error or "")
    await asyncio.sleep(0.3)


def test_read_only_refuses_before_anything_is_stored() -> None:
    journal = Journal.memory()
    box = outbox(journal, ScriptedWriter([]), FakeClock(T0), read_only=True)
    with pytest.raises(ReadOnly, match="read-only mode: resolve was not sent"):
        box.submit("pages", "resolve", ["Q1"], {})
    assert journal.recent_outbox() == []


def test_cancel_drops_a_pending_write() -> None:
    journal = Journal.memory()
    box = outbox(journal, ScriptedWriter([]), FakeClock(T0))
    entry = box.submit("pages", "snooze", ["Q1"], {"seconds": 3600})
    assert box.cancel(entry.id).state == "cancelled"
    assert journal.open_outbox() == []


def test_journal_v2_keeps_events_annotations_shifts_and_drafts(tmp_path: Path) -> None:
    from datetime import timedelta

    from oncall_tui.domain.models import Event

    path = tmp_path / "journal.sqlite3"
    journal = Journal.open(path)
    events = [
        Event("pages", "added", "Q1", "db down", T0, None, "triggered"),
        Event(
            "pages",
            "changed",
            "Q1",
            "db down",
            T0 + timedelta(minutes=3),
            "triggered",
            "acknowledged",
        ),
    ]
    journal.add_events(events)
    journal.add_events([])
    journal.add_annotation(
        at=T0,
        source="monitors",
        key="42",
        title="queue lag",
        text="watching",
        watch=True,
        watch_trigger="if lag > 5 min, page data team",
    )
    journal.start_shift(T0, engineer="Alex")
    journal.save_draft("handover", "first", T0)
    journal.save_draft("handover", "second", T0 + timedelta(minutes=1))
    journal.close()

    again = Journal.open(path)
    assert again.events() == events
    assert again.events(since=T0 + timedelta(minutes=1)) == events[1:]
    assert again.event_count() == 2
    (note,) = again.annotations()
    assert (note.key, note.watch, note.watch_trigger) == (
        "42",
        True,
        "if lag > 5 min, page data team",
    )
    shift = again.current_shift()
    assert shift is not None and shift.engineer == "Alex" and shift.ended_at is None
    ended = again.end_shift(T0 + timedelta(hours=8))
    assert ended is not None and ended.ended_at == T0 + timedelta(hours=8)
    assert again.load_draft("handover") == "second"
    assert again.load_draft("nothing") is None


def test_a_version_1_journal_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0].split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute(
        "INSERT INTO outbox (created_at, source, action, targets, payload, state) "
        "VALUES ('2026-11-27T14:00:00+00:00', 'pages', 'note', '[\"Q1\"]', '{}', 'pending')"
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    journal = Journal.open(path)
    assert journal.version == len(MIGRATIONS)
    assert [e.action for e in journal.open_outbox()] == ["note"]
    assert journal.events() == []
