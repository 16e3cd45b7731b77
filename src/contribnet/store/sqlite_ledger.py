"""The credit ledger on SQLite: policy versions, settlements and adjustments.

The ``Ledger`` port, on the connection its :class:`~contribnet.store.sqlite.SqliteStore` opened
(``sqlite_connection.py``), in the same file as the events. Records are immutable JSON rows; the
only row ever replaced is a deal's pointer to its current settlement (``current_settlements``),
in the same transaction that appends the settlement superseding it. ``settlements.slot``
(``deal#seq``) is unique, so two settlements can never supersede the same one. Each write is one
transaction of the connection's ``writing``, which serialises writers across threads and
processes; the ledger's rules (``domain/ledger.py``) are applied inside it, on what is recorded
at that moment.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from contribnet.domain.errors import NotFound
from contribnet.domain.ledger import check_adjustment, same_request, settlement_outcomes
from contribnet.domain.settlement import (
    Adjustment,
    DealRef,
    PolicyRecord,
    RecordOutcome,
    Settlement,
)
from contribnet.store.sqlite_connection import SqliteConnection, utc_text

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


#: Ids per ``IN (...)`` list: well under SQLite's limit on a statement's parameters.
_PART = 500


def _text(at: datetime | None) -> str | None:
    """An instant as the store's sortable UTC text (``None`` stays ``None``)."""
    return None if at is None else utc_text(at)


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
    """The ``Ledger`` port on a SQLite file, sharing the event store's connection."""

    def __init__(self, connection: SqliteConnection) -> None:
        self._connection = connection
        connection.db.executescript(LEDGER_SCHEMA)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._connection.query(sql, params)

    # --- the work list of batch settlement (the event store's deals and voids tables) -----

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
        where, params = self._deals_where(start, end, unsettled)
        if after is not None:
            where += " AND (d.closed_at, d.id) > (?, ?)"
            params += [_text(after.closed_at), after.id]
        rows = self._query(
            f"SELECT d.id, d.closed_at FROM deals d WHERE {where}"
            " ORDER BY d.closed_at, d.id LIMIT ?",
            [*params, limit],
        )
        return [DealRef(datetime.fromisoformat(at).astimezone(UTC), deal) for deal, at in rows]

    def count_closed_deals(
        self, start: datetime | None, end: datetime | None, *, unsettled: bool = False
    ) -> int:
        where, params = self._deals_where(start, end, unsettled)
        return int(self._query(f"SELECT count(*) FROM deals d WHERE {where}", params)[0][0])

    # --- policies ------------------------------------------------------------------------

    def put_policy(self, record: PolicyRecord) -> tuple[PolicyRecord, bool]:
        with self._connection.writing() as db:
            row = db.execute("SELECT record FROM policies WHERE id = ?", (record.id,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO policies (id, hash, record) VALUES (?, ?, ?)",
                    (record.id, record.hash, record.model_dump_json()),
                )
        if row is None:
            return record, True
        return same_request("policy", PolicyRecord.model_validate_json(row[0]), record), False

    def policies(self) -> list[PolicyRecord]:
        rows = self._query("SELECT record FROM policies ORDER BY seq")
        found = [PolicyRecord.model_validate_json(r[0]) for r in rows]
        return sorted(found, key=lambda p: (p.created_at, p.id))

    # --- settlements ---------------------------------------------------------------------

    def record_settlements(self, settlements: Sequence[Settlement]) -> list[RecordOutcome]:
        if not settlements:
            return []
        with self._connection.writing() as db:
            outcomes = settlement_outcomes(
                settlements,
                self._recorded(db, [s.id for s in settlements]),
                self._current_ids(db, sorted({s.deal for s in settlements})),
            )
            created = [s for s, o in zip(settlements, outcomes, strict=True) if o == "created"]
            if created:
                self._insert(db, created)
        return outcomes

    @staticmethod
    def _recorded(db: sqlite3.Connection, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` recorded as settlements."""
        found: set[str] = set()
        for i in range(0, len(ids), _PART):
            part = ids[i : i + _PART]
            marks = ",".join("?" * len(part))
            found.update(
                r[0] for r in db.execute(f"SELECT id FROM settlements WHERE id IN ({marks})", part)
            )
        return found

    @staticmethod
    def _current_ids(db: sqlite3.Connection, deals: Sequence[str]) -> dict[str, str | None]:
        """The current settlement's id of each of ``deals`` that is settled."""
        found: dict[str, str | None] = {}
        for i in range(0, len(deals), _PART):
            part = deals[i : i + _PART]
            marks = ",".join("?" * len(part))
            found.update(
                db.execute(
                    f"SELECT deal, settlement FROM current_settlements WHERE deal IN ({marks})",
                    part,
                ).fetchall()
            )
        return found

    @staticmethod
    def _insert(db: sqlite3.Connection, created: Sequence[Settlement]) -> None:
        """Append settlements, each becoming its deal's current one (in order: a later one of
        the same deal supersedes an earlier one)."""
        rows = [(s, _text(s.closed_at)) for s in created]
        db.executemany(
            "INSERT INTO settlements (id, deal, slot, closed_at, record) VALUES (?, ?, ?, ?, ?)",
            [(s.id, s.deal, s.slot, closed_at, s.model_dump_json()) for s, closed_at in rows],
        )
        db.executemany(
            "INSERT INTO current_settlements (deal, settlement, closed_at) VALUES (?, ?, ?)"
            " ON CONFLICT (deal) DO UPDATE SET settlement = excluded.settlement",
            [(s.deal, s.id, closed_at) for s, closed_at in rows],
        )
        db.executemany(
            "INSERT OR IGNORE INTO settlement_staff (staff, settlement) VALUES (?, ?)",
            [
                (staff, s.id)
                for s in created
                for staff in sorted({c.contributor for c in s.credits if c.kind == "staff"})
            ],
        )

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
        with self._connection.writing() as db:
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
        return same_request("adjustment", recorded, adjustment), False

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
