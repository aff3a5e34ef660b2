"""The shift journal: one SQLite file (WAL) holding the outbox and, later, the shift's story.

The schema is versioned (`PRAGMA user_version`) and moved forward by the numbered
migrations below, each in its own transaction, so an old journal opens in a new version and
a crash mid-migration leaves the previous version intact.

Every write commits before it returns: a `kill -9` right after a keystroke loses nothing the
engineer did. SQLite calls are short and run on the event loop; the connection is opened
with `check_same_thread=False` and guarded by a lock so a worker thread may use it too.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

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
