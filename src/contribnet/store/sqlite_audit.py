"""The audit trail on SQLite: an entry table and a (target, entry) index table.

Built on the store's connection (:class:`~contribnet.store.sqlite_connection.SqliteConnection`)
and held by the store as ``store.audit``. An entry is one row (its JSON); each id it touches is
one row of ``audit_targets``, whose primary key makes "the entries touching X" an index seek.
A change and its entry are one transaction: the services write both inside :meth:`unit`.
Triggers refuse any ``UPDATE`` or ``DELETE``: the trail is append-only even to a client of the
file that bypasses the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from contribnet.domain.audit import AuditEntry
from contribnet.store.sqlite_connection import SqliteConnection, utc_text

__all__ = ["AUDIT_SCHEMA", "SqliteAudit"]

AUDIT_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_entries (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, at TEXT NOT NULL, record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_targets (
    target TEXT NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY (target, entry)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS audit_entries_kept BEFORE UPDATE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_entries_not_deleted BEFORE DELETE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_targets_kept BEFORE UPDATE ON audit_targets
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_targets_not_deleted BEFORE DELETE ON audit_targets
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""

#: The read ``entries`` runs (``tests/store/test_sqlite_plans.py`` checks its plan).
ENTRIES_SQL = (
    "SELECT e.record FROM audit_targets t JOIN audit_entries e ON e.seq = t.entry"
    " WHERE t.target = ? AND e.at >= ? AND e.at < ? ORDER BY t.entry"
)

# Bounds of an open period, as sortable UTC text (every stored instant sorts between them).
_EARLIEST, _LATEST = "0000", "9999"


class SqliteAudit:
    """The ``AuditLog`` port on a SQLite store's connection."""

    def __init__(self, connection: SqliteConnection) -> None:
        self._connection = connection
        with connection.lock:
            connection.db.executescript(AUDIT_SCHEMA)

    def append(self, entry: AuditEntry, targets: Sequence[str]) -> None:
        with self._connection.writing() as db:
            cursor = db.execute(
                "INSERT INTO audit_entries (id, at, record) VALUES (?, ?, ?)",
                (entry.id, utc_text(entry.at), entry.model_dump_json()),
            )
            db.executemany(
                "INSERT OR IGNORE INTO audit_targets VALUES (?, ?)",
                [(target, cursor.lastrowid) for target in targets],
            )

    def unit(self) -> AbstractContextManager[object]:
        return self._connection.writing()

    def entries(
        self, target: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[AuditEntry]:
        lo = utc_text(start) if start is not None else _EARLIEST
        hi = utc_text(end) if end is not None else _LATEST
        rows = self._connection.query(ENTRIES_SQL, (target, lo, hi))
        return [AuditEntry.model_validate_json(record) for (record,) in rows]
