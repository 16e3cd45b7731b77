"""Disputes on SQLite: one immutable row per dispute, one per resolution.

Built on the store's connection and held by the store as ``store.disputes``. A resolution's
primary key is its dispute's id, so a dispute is resolved once even between two processes. A
line (deal, staff) has at most one open dispute even between two processes: ``open_disputes``
holds one row per open dispute keyed by its line, written with the dispute and deleted with its
resolution in the same transaction.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from contribnet.domain.disputes import (
    AlreadyDisputed,
    Dispute,
    DisputeResolved,
    DisputeStatus,
    Resolution,
)
from contribnet.domain.errors import NotFound
from contribnet.store.sqlite_connection import SqliteConnection, utc_text

__all__ = ["DISPUTES_SCHEMA", "SqliteDisputes"]

DISPUTES_SCHEMA = """
CREATE TABLE IF NOT EXISTS disputes (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, staff TEXT NOT NULL, deal TEXT NOT NULL,
    closed_at TEXT NOT NULL, record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS disputes_staff ON disputes (staff, closed_at);
CREATE INDEX IF NOT EXISTS disputes_deal ON disputes (deal);
CREATE TABLE IF NOT EXISTS dispute_resolutions (dispute TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS open_disputes (
    deal TEXT NOT NULL, staff TEXT NOT NULL, dispute TEXT NOT NULL UNIQUE,
    PRIMARY KEY (deal, staff)
);
"""

# A file written before ``open_disputes`` existed gains a row per open dispute when opened.
_MARK_OPEN = """
INSERT OR IGNORE INTO open_disputes (deal, staff, dispute)
SELECT d.deal, d.staff, d.id FROM disputes d
WHERE NOT EXISTS (SELECT 1 FROM dispute_resolutions r WHERE r.dispute = d.id)
ORDER BY d.seq
"""

_SELECT = (
    "SELECT d.record, r.record FROM disputes d LEFT JOIN dispute_resolutions r ON r.dispute = d.id"
)


def _dispute(record: str, resolution: str | None) -> Dispute:
    dispute = Dispute.model_validate_json(record)
    if resolution is None:
        return dispute
    return dispute.model_copy(update={"resolution": Resolution.model_validate_json(resolution)})


class SqliteDisputes:
    """The ``DisputeStore`` port on a SQLite store's connection."""

    def __init__(self, connection: SqliteConnection) -> None:
        self._connection = connection
        with connection.lock:
            marked = connection.db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'open_disputes'"
            ).fetchone()
            connection.db.executescript(DISPUTES_SCHEMA)
        if marked is None:
            with connection.writing() as db:
                db.execute(_MARK_OPEN)

    def put_dispute(self, dispute: Dispute) -> None:
        try:
            with self._connection.writing() as db:
                # The line's key first: a concurrent opener fails here, before any row is written.
                db.execute(
                    "INSERT INTO open_disputes (deal, staff, dispute) VALUES (?, ?, ?)",
                    (dispute.deal, dispute.staff, dispute.id),
                )
                db.execute(
                    "INSERT INTO disputes (id, staff, deal, closed_at, record)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        dispute.id,
                        dispute.staff,
                        dispute.deal,
                        utc_text(dispute.closed_at),
                        dispute.model_dump_json(exclude={"resolution", "status"}),
                    ),
                )
        except sqlite3.IntegrityError:
            raise AlreadyDisputed(f"staff member {dispute.staff!r}", dispute.deal) from None

    def resolve(self, dispute_id: str, resolution: Resolution) -> Dispute:
        self.dispute(dispute_id)  # NotFound first
        try:
            with self._connection.writing() as db:
                db.execute(
                    "INSERT INTO dispute_resolutions VALUES (?, ?)",
                    (dispute_id, resolution.model_dump_json()),
                )
                db.execute("DELETE FROM open_disputes WHERE dispute = ?", (dispute_id,))
        except sqlite3.IntegrityError:
            raise DisputeResolved("dispute", dispute_id) from None
        return self.dispute(dispute_id)

    def dispute(self, dispute_id: str) -> Dispute:
        rows = self._connection.query(f"{_SELECT} WHERE d.id = ?", (dispute_id,))
        if not rows:
            raise NotFound("dispute", dispute_id)
        return _dispute(*rows[0])

    def disputes(
        self,
        *,
        status: DisputeStatus | None = None,
        staff: str | None = None,
        deal: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Dispute]:
        clauses, params = ["1"], list[Any]()
        if status is not None:
            clauses.append("r.dispute IS NULL" if status == "open" else "r.dispute IS NOT NULL")
        if staff is not None:
            clauses.append("d.staff = ?")
            params.append(staff)
        if deal is not None:
            clauses.append("d.deal = ?")
            params.append(deal)
        if start is not None:
            clauses.append("d.closed_at >= ?")
            params.append(utc_text(start))
        if end is not None:
            clauses.append("d.closed_at < ?")
            params.append(utc_text(end))
        rows = self._connection.query(
            f"{_SELECT} WHERE {' AND '.join(clauses)} ORDER BY d.seq", params
        )
        return [_dispute(record, resolution) for record, resolution in rows]
