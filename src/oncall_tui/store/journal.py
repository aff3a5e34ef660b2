"""The shift journal: one SQLite file (WAL) holding the outbox and, later, the shift's story.

The schema is versioned (`PRAGMA user_version`) and moved forward by the numbered
migrations below, each in its own transaction, so an old journal opens in a new version and
a crash mid-migration leaves the previous version intact.

Times are stored as UTC ISO-8601 text, so they sort and compare as strings.
Every write commits before it returns: a `kill -9` right after a keystroke loses nothing the
engineer did. SQLite calls are short and run on the event loop; the connection is opened
with `check_same_thread=False` and guarded by a lock so a worker thread may use it too.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from oncall_tui.domain.models import Event

JOURNAL_FILE = "journal.sqlite3"

OutboxState = Literal["pending", "in_flight", "done", "rejected", "cancelled"]

MIGRATIONS: tuple[str, ...] = (
    # 1: the outbox of writes to providers.
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        source TEXT NOT NULL,
        action TEXT NOT NULL,
        targets TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        next_attempt_at TEXT,
        done_at TEXT
    );
    CREATE INDEX outbox_state ON outbox(state, next_attempt_at);
    """,
    # 2: the shift's story: transitions seen by the pollers, annotations, shifts, drafts.
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        title TEXT NOT NULL,
        old_state TEXT,
        new_state TEXT,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_at ON events(at);
    CREATE TABLE annotations (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        source TEXT NOT NULL,
        key TEXT NOT NULL,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        watch INTEGER NOT NULL DEFAULT 0,
        watch_trigger TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX annotations_key ON annotations(source, key);
    CREATE TABLE shifts (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        engineer TEXT NOT NULL DEFAULT '',
        secondary TEXT NOT NULL DEFAULT '',
        incoming TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE drafts (
        name TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One write the engineer asked for, and how far it got."""

    id: int
    created_at: datetime
    source: str
    action: str
    targets: tuple[str, ...]
    payload: Mapping[str, Any] = field(default_factory=dict)
    state: OutboxState = "pending"
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    done_at: datetime | None = None

    @property
    def open(self) -> bool:
        """Still to be applied (pending or being sent)."""
        return self.state in ("pending", "in_flight")


class JournalError(Exception):
    """The journal file cannot be opened or written; the message says what to do."""


class Journal:
    """The SQLite journal. Open with `Journal.open(path)`; `Journal.memory()` for tests."""

    def __init__(self, connection: sqlite3.Connection, path: Path | None) -> None:
        self._db = connection
        self._lock = threading.RLock()
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Journal:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=5000")
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(
                f"cannot open the journal {path}: {exc}; check the data directory's permissions"
            ) from None
        journal = cls(connection, path)
        journal.migrate()
        return journal

    @classmethod
    def memory(cls) -> Journal:
        connection = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        journal = cls(connection, None)
        journal.migrate()
        return journal

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Apply every migration newer than the file's version, each atomically."""
        with self._lock:
            current = self.version
            if current > len(MIGRATIONS):
                raise JournalError(
                    f"the journal {self.path} was written by a newer oncall-tui "
                    f"(schema {current}); upgrade oncall-tui"
                )
            for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
                with self._transaction():
                    for statement in _statements(script):
                        self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {number}")

    def integrity_check(self) -> str:
        with self._lock:
            return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

    # -- outbox --------------------------------------------------------------------------

    def add_outbox(
        self,
        *,
        created_at: datetime,
        source: str,
        action: str,
        targets: Sequence[str],
        payload: Mapping[str, Any],
    ) -> OutboxEntry:
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO outbox (created_at, source, action, targets, payload, state) "
                "VALUES (?, ?, ?, ?, ?, 'pending')",
                (
                    created_at.isoformat(),
                    source,
                    action,
                    json.dumps(list(targets)),
                    json.dumps(dict(payload)),
                ),
            )
            entry_id = int(cursor.lastrowid or 0)
        return self.outbox_entry(entry_id)

    def outbox_entry(self, entry_id: int) -> OutboxEntry:
        with self._lock:
            row = self._db.execute("SELECT * FROM outbox WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise KeyError(entry_id)
        return _entry(row)

    def open_outbox(self) -> list[OutboxEntry]:
        """Pending and in-flight writes, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM outbox WHERE state IN ('pending', 'in_flight') ORDER BY id"
            ).fetchall()
        return [_entry(row) for row in rows]

    def recent_outbox(self, limit: int = 200) -> list[OutboxEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM outbox ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_entry(row) for row in rows]

    def update_outbox(
        self,
        entry_id: int,
        *,
        state: OutboxState,
        attempts: int | None = None,
        last_error: str | None = None,
        next_attempt_at: datetime | None = None,
        done_at: datetime | None = None,
    ) -> OutboxEntry:
        with self._transaction():
            self._db.execute(
                "UPDATE outbox SET state = ?, attempts = COALESCE(?, attempts), "
                "last_error = ?, next_attempt_at = ?, done_at = ? WHERE id = ?",
                (
                    state,
                    attempts,
                    last_error,
                    next_attempt_at.isoformat() if next_attempt_at else None,
                    done_at.isoformat() if done_at else None,
                    entry_id,
                ),
            )
        return self.outbox_entry(entry_id)

    # -- events -------------------------------------------------------------------------

    def add_events(self, events: Sequence[Event]) -> None:
        """Record transitions (the journal grows with events, never with polls)."""
        if not events:
            return
        with self._transaction():
            self._db.executemany(
                "INSERT INTO events (at, source, kind, key, title, old_state, new_state, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.at.astimezone(UTC).isoformat(),
                        e.source,
                        e.kind,
                        e.key,
                        e.title,
                        e.old_state,
                        e.new_state,
                        json.dumps(dict(e.detail)),
                    )
                    for e in events
                ],
            )

    def events(self, since: datetime | None = None, until: datetime | None = None) -> list[Event]:
        """Events in time order (oldest first), optionally within [since, until)."""
        query = "SELECT at, source, kind, key, title, old_state, new_state, detail FROM events"
        clauses, args = _window(since, until)
        with self._lock:
            rows = self._db.execute(f"{query}{clauses} ORDER BY at, id", args).fetchall()
        return [
            Event(
                source=source,
                kind=kind,
                key=key,
                title=title,
                at=datetime.fromisoformat(at),
                old_state=old,
                new_state=new,
                detail=json.loads(detail),
            )
            for at, source, kind, key, title, old, new, detail in rows
        ]

    def event_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    # -- annotations ----------------------------------------------------------------------

    def add_annotation(
        self,
        *,
        at: datetime,
        source: str,
        key: str,
        title: str,
        text: str,
        watch: bool = False,
        watch_trigger: str = "",
    ) -> Annotation:
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO annotations (at, source, key, title, text, watch, watch_trigger) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    at.astimezone(UTC).isoformat(),
                    source,
                    key,
                    title,
                    text,
                    int(watch),
                    watch_trigger,
                ),
            )
            annotation_id = int(cursor.lastrowid or 0)
        return Annotation(annotation_id, at, source, key, title, text, watch, watch_trigger)

    def annotations(self, since: datetime | None = None) -> list[Annotation]:
        clauses, args = _window(since, None)
        with self._lock:
            rows = self._db.execute(
                "SELECT id, at, source, key, title, text, watch, watch_trigger "
                f"FROM annotations{clauses} ORDER BY at, id",
                args,
            ).fetchall()
        return [
            Annotation(int(i), datetime.fromisoformat(at), src, key, title, text, bool(w), trig)
            for i, at, src, key, title, text, w, trig in rows
        ]

    # -- shifts and drafts ----------------------------------------------------------------

    def start_shift(
        self, at: datetime, *, engineer: str = "", secondary: str = "", incoming: str = ""
    ) -> Shift:
        """Start a shift (ending any open one at the same moment)."""
        with self._transaction():
            self._db.execute(
                "UPDATE shifts SET ended_at = ? WHERE ended_at IS NULL",
                (at.astimezone(UTC).isoformat(),),
            )
            cursor = self._db.execute(
                "INSERT INTO shifts (started_at, engineer, secondary, incoming) "
                "VALUES (?, ?, ?, ?)",
                (at.astimezone(UTC).isoformat(), engineer, secondary, incoming),
            )
            shift_id = int(cursor.lastrowid or 0)
        return Shift(shift_id, at, None, engineer, secondary, incoming)

    def end_shift(self, at: datetime) -> Shift | None:
        current = self.current_shift()
        if current is None:
            return None
        with self._transaction():
            self._db.execute(
                "UPDATE shifts SET ended_at = ? WHERE id = ?",
                (at.astimezone(UTC).isoformat(), current.id),
            )
        return Shift(
            current.id,
            current.started_at,
            at,
            current.engineer,
            current.secondary,
            current.incoming,
        )

    def current_shift(self) -> Shift | None:
        """The open shift, or else the most recent one."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, started_at, ended_at, engineer, secondary, incoming FROM shifts "
                "ORDER BY (ended_at IS NULL) DESC, started_at DESC LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        shift_id, started, ended, engineer, secondary, incoming = row
        return Shift(
            int(shift_id),
            datetime.fromisoformat(started),
            _when(ended),
            engineer,
            secondary,
            incoming,
        )

    def save_draft(self, name: str, text: str, at: datetime) -> None:
        """Keep a draft (the handover being edited); committed at once, so a crash loses nothing."""
        with self._transaction():
            self._db.execute(
                "INSERT INTO drafts (name, text, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET text = excluded.text, "
                "updated_at = excluded.updated_at",
                (name, text, at.astimezone(UTC).isoformat()),
            )

    def load_draft(self, name: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT text FROM drafts WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    # -- plumbing ------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise


@dataclass(frozen=True, slots=True)
class Annotation:
    """A note the engineer wrote on an item; `watch` puts it in the handover's watch list."""

    id: int
    at: datetime
    source: str
    key: str
    title: str
    text: str
    watch: bool = False
    watch_trigger: str = ""


@dataclass(frozen=True, slots=True)
class Shift:
    """One on-call shift in the journal."""

    id: int
    started_at: datetime
    ended_at: datetime | None
    engineer: str = ""
    secondary: str = ""
    incoming: str = ""


def _window(since: datetime | None, until: datetime | None) -> tuple[str, list[str]]:
    clauses: list[str] = []
    args: list[str] = []
    if since is not None:
        clauses.append("at >= ?")
        args.append(since.astimezone(UTC).isoformat())
    if until is not None:
        clauses.append("at < ?")
        args.append(until.astimezone(UTC).isoformat())
    return (" WHERE " + " AND ".join(clauses) if clauses else "", args)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _entry(row: tuple[Any, ...]) -> OutboxEntry:
    (
        entry_id,
        created_at,
        source,
        action,
        targets,
        payload,
        state,
        attempts,
        last_error,
        next_attempt_at,
        done_at,
    ) = row
    return OutboxEntry(
        id=int(entry_id),
        created_at=datetime.fromisoformat(created_at),
        source=source,
        action=action,
        targets=tuple(json.loads(targets)),
        payload=json.loads(payload),
        state=state,
        attempts=int(attempts),
        last_error=last_error,
        next_attempt_at=_when(next_attempt_at),
        done_at=_when(done_at),
    )


class NoteDrafts:
    """Notes being written, by pane and item: saved on every keystroke, so neither a
    dialog closed with escape nor a crash loses one."""

    def __init__(self, journal: Journal, now: Callable[[], datetime]) -> None:
        self._journal = journal
        self._now = now

    def get(self, source: str, key: str) -> str:
        return self._journal.load_draft(self._name(source, key)) or ""

    def put(self, source: str, key: str, text: str) -> None:
        if text != self.get(source, key):
            self._journal.save_draft(self._name(source, key), text, self._now())

    def clear(self, source: str, key: str) -> None:
        self.put(source, key, "")

    @staticmethod
    def _name(source: str, key: str) -> str:
        return f"note:{source}:{key}"
