"""The credit ledger on SQLite: policy versions, settlements and adjustments.

Mixed into :class:`~contribnet.store.sqlite.SqliteStore`. Records are immutable JSON rows; the
only row ever replaced is a deal's pointer to its current settlement (``current_settlements``),
in the same transaction that appends the settlement superseding it. ``settlements.slot``
(``deal#seq``) is unique, so two settlements can never supersede the same one. Each write is one
transaction of the store's ``_writing``, which serialises writers across threads and processes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from itertools import islice
from typing import Any

from contribnet.domain.errors import NotFound
from contribnet.domain.settlement import (
    Adjustment,
    DealRef,
    PolicyRecord,
    RecordConflict,
    RecordOutcome,
    Settlement,
    check_adjustment,
)

__all__ = ["LEDGER_SCHEMA", "SqliteLedger"]

LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS policies (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, hash TEXT NOT NULL, record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settlements (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, deal TEXT NOT NULL,
    slot TEXT NOT NULL UNIQUE, closed_at TEXT NOT NULL, record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS settlements_deal ON settlements (deal, seq);
CREATE TABLE IF NOT EXISTS current_settlements (
    deal TEXT PRIMARY KEY, settlement TEXT NOT NULL UNIQUE, closed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS current_settlements_closed_at ON current_settlements (closed_at, deal);
CREATE TABLE IF NOT EXISTS settlement_staff (
    staff TEXT NOT NULL, settlement TEXT NOT NULL, PRIMARY KEY (staff, settlement)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS adjustments (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, deal TEXT NOT NULL,
    closed_at TEXT NOT NULL, from_staff TEXT NOT NULL, to_staff TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS adjustments_deal ON adjustments (deal);
CREATE INDEX IF NOT EXISTS adjustments_closed_at ON adjustments (closed_at);
CREATE INDEX IF NOT EXISTS adjustments_from ON adjustments (from_staff);
CREATE INDEX IF NOT EXISTS adjustments_to ON adjustments (to_staff);
"""

_NOT_VOIDED = "NOT EXISTS (SELECT 1 FROM voids v WHERE v.target = d.id)"
_UNSETTLED = "NOT EXISTS (SELECT 1 FROM current_settlements c WHERE c.deal = d.id)"
#: A settlement (``s``) of a deal closed at a store, or crediting someone for it (two params).
_AT_STORE = (
    "(json_extract(s.record, '$.deal_store') = ? OR EXISTS (SELECT 1 FROM"
    " json_each(s.record, '$.credits') j WHERE json_extract(j.value, '$.store') = ?))"
)


def _text(at: datetime | None) -> str | None:
    """An instant as the store's sortable UTC text (``None`` stays ``None``)."""
    from contribnet.domain.events import _utc
    from contribnet.store.sqlite import _sortable

    return None if at is None else _sortable(_utc(at))


def _range(column: str, start: datetime | None, end: datetime | None) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if start is not None:
        clauses.append(f"{column} >= ?")
        params.append(_text(start))
    if end is not None:
        clauses.append(f"{column} < ?")
        params.append(_text(end))
    return (" AND ".join(clauses) or "1"), params


class SqliteLedger:
    """The ledger half of the ``Store`` port; needs the store's ``_db``, ``_writing`` and
    ``_query``."""

    _db: sqlite3.Connection
    _writing: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _query: Any

    # --- reads for the ledger ----------------------------------------------------------

    def event_count(self) -> int:
        return int(self._query("SELECT coalesce(max(seq), 0) FROM events")[0][0])

    def _deals_where(
        self, start: datetime | None, end: datetime | None, unsettled: bool
    ) -> tuple[str, list[Any]]:
        where, params = _range("d.closed_at", start, end)
        where += " AND " + _NOT_VOIDED
        if unsettled:
            where += " AND " + _UNSETTLED
        return where, params

    def closed_deals(
        self,
        start: datetime | None,
        end: datetime | None,
        *,
        unsettled: bool = False,
        after: DealRef | None = None,
        limit: int = 1000,
    ) -> list[DealRef]:
        from contribnet.domain.events import _utc

        where, params = self._deals_where(start, end, unsettled)
        if after is not None:
            where += " AND (d.closed_at, d.id) > (?, ?)"
            params += [_text(after.closed_at), after.id]
        rows = self._query(
            f"SELECT d.id, d.closed_at FROM deals d WHERE {where}"
            " ORDER BY d.closed_at, d.id LIMIT ?",
            [*params, limit],
        )
        return [DealRef(_utc(datetime.fromisoformat(at)), deal) for deal, at in rows]

    def count_closed_deals(
        self, start: datetime | None, end: datetime | None, *, unsettled: bool = False
    ) -> int:
        where, params = self._deals_where(start, end, unsettled)
        return int(self._query(f"SELECT count(*) FROM deals d WHERE {where}", params)[0][0])

    # --- policies ------------------------------------------------------------------------

    def put_policy(self, record: PolicyRecord) -> tuple[PolicyRecord, bool]:
        with self._writing() as db:
            row = db.execute(
                "SELECT hash, record FROM policies WHERE id = ?", (record.id,)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO policies (id, hash, record) VALUES (?, ?, ?)",
                    (record.id, record.hash, record.model_dump_json()),
                )
        if row is None:
            return record, True
        if row[0] != record.hash:
            raise RecordConflict("policy", record.id)
        return PolicyRecord.model_validate_json(row[1]), False

    def policies(self) -> list[PolicyRecord]:
        rows = self._query("SELECT record FROM policies ORDER BY seq")
        found = [PolicyRecord.model_validate_json(r[0]) for r in rows]
        return sorted(found, key=lambda p: (p.created_at, p.id))

    # --- settlements ---------------------------------------------------------------------

    def record_settlements(self, settlements: Sequence[Settlement]) -> list[RecordOutcome]:
        outcomes: list[RecordOutcome] = []
        with self._writing():
            for s in settlements:
                outcomes.append(self._record_one(s))
        return outcomes

    def _record_one(self, s: Settlement) -> RecordOutcome:
        db = self._db
        if db.execute("SELECT 1 FROM settlements WHERE id = ?", (s.id,)).fetchone():
            return "existing"
        row = db.execute(
            "SELECT settlement FROM current_settlements WHERE deal = ?", (s.deal,)
        ).fetchone()
        if (row[0] if row else None) != s.supersedes:
            return "conflict"
        closed_at = _text(s.closed_at)
        db.execute(
            "INSERT INTO settlements (id, deal, slot, closed_at, record) VALUES (?, ?, ?, ?, ?)",
            (s.id, s.deal, s.slot, closed_at, s.model_dump_json()),
        )
        db.execute(
            "INSERT INTO current_settlements (deal, settlement, closed_at) VALUES (?, ?, ?)"
            " ON CONFLICT (deal) DO UPDATE SET settlement = excluded.settlement",
            (s.deal, s.id, closed_at),
        )
        staff = sorted({c.contributor for c in s.credits if c.kind == "staff"})
        db.executemany(
            "INSERT OR IGNORE INTO settlement_staff (staff, settlement) VALUES (?, ?)",
            [(sid, s.id) for sid in staff],
        )
        return "created"

    def settlement(self, settlement_id: str) -> Settlement:
        rows = self._query("SELECT record FROM settlements WHERE id = ?", (settlement_id,))
        if not rows:
            raise NotFound("settlement", settlement_id)
        return Settlement.model_validate_json(rows[0][0])

    def settlement_history(self, deal_id: str) -> list[Settlement]:
        rows = self._query("SELECT record FROM settlements WHERE deal = ? ORDER BY seq", (deal_id,))
        return [Settlement.model_validate_json(r[0]) for r in rows]

    def current_settlements(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        staff: str | None = None,
        deals: Sequence[str] | None = None,
        store: str | None = None,
        after: DealRef | None = None,
        limit: int | None = None,
    ) -> Iterator[Settlement]:
        found = self._current(start, end, staff, deals, store, after, limit)
        return found if limit is None else islice(found, limit)

    def _current(
        self,
        start: datetime | None,
        end: datetime | None,
        staff: str | None,
        deals: Sequence[str] | None,
        store: str | None,
        after: DealRef | None,
        limit: int | None,
    ) -> Iterator[Settlement]:
        where, params = _range("c.closed_at", start, end)
        joins = ""
        if staff is not None:
            joins = " JOIN settlement_staff ss ON ss.settlement = c.settlement AND ss.staff = ?"
            params = [staff, *params]
        if store is not None:
            where += f" AND {_AT_STORE}"
            params += [store, store]
        if after is not None:
            where += " AND (c.closed_at, c.deal) > (?, ?)"
            params += [_text(after.closed_at), after.id]
        page = min(limit, 1000) if limit is not None else 1000
        if deals is not None:
            wanted = list(dict.fromkeys(deals))
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                marks = ",".join("?" * len(chunk))
                yield from self._settlements(
                    joins, f"{where} AND c.deal IN ({marks})", [*params, *chunk], page
                )
            return
        yield from self._settlements(joins, where, params, page)

    def _settlements(
        self, joins: str, where: str, params: list[Any], page: int = 1000
    ) -> Iterator[Settlement]:
        sql = (
            f"SELECT c.closed_at, c.deal, s.record FROM current_settlements c{joins}"
            f" JOIN settlements s ON s.id = c.settlement WHERE {where}"
        )
        cursor: tuple[str, str] | None = None
        while True:  # pages by (closed_at, deal), so the lock is never held for long
            page_where = "" if cursor is None else " AND (c.closed_at, c.deal) > (?, ?)"
            rows = self._query(
                f"{sql}{page_where} ORDER BY c.closed_at, c.deal LIMIT ?",
                [*params, *(cursor or ()), page],
            )
            for _, _, record in rows:
                yield Settlement.model_validate_json(record)
            if len(rows) < page:
                return
            cursor = (rows[-1][0], rows[-1][1])

    # --- adjustments -----------------------------------------------------------------------

    def put_adjustment(self, adjustment: Adjustment) -> tuple[Adjustment, bool]:
        with self._writing() as db:
            row = db.execute(
                "SELECT record FROM adjustments WHERE id = ?", (adjustment.id,)
            ).fetchone()
            if row is None:
                # The rule is checked on what is recorded now, in the write transaction: writers
                # are serialised, so concurrent adjustments cannot overdraw a credit together.
                check_adjustment(
                    self._current_of(db, adjustment.deal),
                    [
                        Adjustment.model_validate_json(r[0])
                        for r in db.execute(
                            "SELECT record FROM adjustments WHERE deal = ?", (adjustment.deal,)
                        )
                    ],
                    adjustment,
                )
                db.execute(
                    "INSERT INTO adjustments"
                    " (id, deal, closed_at, from_staff, to_staff, record)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        adjustment.id,
                        adjustment.deal,
                        _text(adjustment.closed_at),
                        adjustment.from_staff,
                        adjustment.to_staff,
                        adjustment.model_dump_json(),
                    ),
                )
        if row is None:
            return adjustment, True
        recorded = Adjustment.model_validate_json(row[0])
        if recorded.content() != adjustment.content():
            raise RecordConflict("adjustment", adjustment.id)
        return recorded, False

    @staticmethod
    def _current_of(db: sqlite3.Connection, deal: str) -> Settlement | None:
        row = db.execute(
            "SELECT s.record FROM current_settlements c JOIN settlements s ON s.id = c.settlement"
            " WHERE c.deal = ?",
            (deal,),
        ).fetchone()
        return None if row is None else Settlement.model_validate_json(row[0])

    def adjustments(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        deal: str | None = None,
        staff: str | None = None,
    ) -> list[Adjustment]:
        where, params = _range("closed_at", start, end)
        if deal is not None:
            where += " AND deal = ?"
            params.append(deal)
        if staff is not None:
            where += " AND (from_staff = ? OR to_staff = ?)"
            params += [staff, staff]
        rows = self._query(f"SELECT record FROM adjustments WHERE {where} ORDER BY seq", params)
        found = [Adjustment.model_validate_json(r[0]) for r in rows]
        return sorted(found, key=lambda a: (a.created_at, a.id))
