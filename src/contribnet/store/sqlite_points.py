"""The points ledger on SQLite: points policy versions, redemptions and their reversals.

Built on the store's connection (:class:`~contribnet.store.sqlite_connection.SqliteConnection`:
its lock, and its write transactions, which serialise writers across threads and processes) and
held by the store as ``store.points``. Records are immutable JSON rows keyed by id; a redemption's
reversal is keyed by the redemption's id, so there is at most one. An account's activities,
employment spells and stores are read from the event tables; an owner's points from the current
settlements (the credit ``Ledger`` port) of the deals of the customers they referred.
"""

from __future__ import annotations

import json
from datetime import UTC

from contribnet.domain.errors import NotFound
from contribnet.domain.events import Activity, Staff, stored
from contribnet.domain.points import (
    HolderKind,
    OwnerCredit,
    PointsAccount,
    PointsPolicyRecord,
    Redemption,
    Reversal,
    account_key,
)
from contribnet.domain.settlement import RecordConflict
from contribnet.store.base import Ledger
from contribnet.store.points import PointsRule
from contribnet.store.sqlite_connection import SqliteConnection

__all__ = ["POINTS_SCHEMA", "SqlitePoints"]

POINTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS points_policies (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, hash TEXT NOT NULL, record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS redemptions (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, account TEXT NOT NULL, record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS redemptions_account ON redemptions (account, seq);
CREATE TABLE IF NOT EXISTS redemption_reversals (
    seq INTEGER PRIMARY KEY, redemption TEXT NOT NULL UNIQUE, account TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS redemption_reversals_account ON redemption_reversals (account, seq);
"""

_LIVE = "NOT EXISTS (SELECT 1 FROM voids v WHERE v.target = a.id)"


class SqlitePoints:
    """The ``PointsStore`` port on a SQLite store's connection; ``ledger`` is the store's credit
    ledger (owners' points are in its settlements)."""

    def __init__(self, connection: SqliteConnection, ledger: Ledger) -> None:
        self._connection = connection
        self._ledger = ledger
        with connection.lock:
            connection.db.executescript(POINTS_SCHEMA)

    # --- policies ------------------------------------------------------------------------

    def put_points_policy(self, record: PointsPolicyRecord) -> tuple[PointsPolicyRecord, bool]:
        with self._connection.writing() as db:
            row = db.execute(
                "SELECT hash, record FROM points_policies WHERE id = ?", (record.id,)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO points_policies (id, hash, record) VALUES (?, ?, ?)",
                    (record.id, record.hash, record.model_dump_json()),
                )
        if row is None:
            return record, True
        if row[0] != record.hash:
            raise RecordConflict("points policy", record.id)
        return PointsPolicyRecord.model_validate_json(row[1]), False

    def points_policies(self) -> list[PointsPolicyRecord]:
        rows = self._connection.query("SELECT record FROM points_policies ORDER BY seq")
        return [PointsPolicyRecord.model_validate_json(str(r[0])) for r in rows]

    # --- accounts ------------------------------------------------------------------------

    def points_account(self, kind: HolderKind, holder: str) -> PointsAccount:
        with self._connection.lock:
            return self._account(kind, holder)

    def _account(self, kind: HolderKind, holder: str) -> PointsAccount:
        """The account as recorded now (the caller holds the store's lock, or its write
        transaction)."""
        db = self._connection.db
        key = account_key(kind, holder)
        activities: tuple[Activity, ...] = ()
        spells: tuple[Staff, ...] = ()
        regions: dict[str, str] = {}
        credits: tuple[OwnerCredit, ...] = ()
        if kind == "staff":
            activities = tuple(
                stored(Activity, json.loads(payload))
                for (payload,) in db.execute(
                    "SELECT e.payload FROM activities a JOIN events e ON e.key = a.id"
                    f" WHERE a.staff = ? AND {_LIVE} ORDER BY a.at, a.id",
                    (holder,),
                )
            )
            spells = tuple(
                stored(Staff, json.loads(payload))
                for (payload,) in db.execute(
                    "SELECT e.payload FROM staff_spells s JOIN events e ON e.key = s.key"
                    " WHERE s.staff = ? ORDER BY s.from_date",
                    (holder,),
                )
            )
            stores = sorted({s.store for s in spells})
            if stores:
                marks = ",".join("?" * len(stores))
                regions = dict(
                    db.execute(f"SELECT id, region FROM stores WHERE id IN ({marks})", stores)
                )
        else:
            credits = self._owner_credits(holder)
        policies = tuple(
            PointsPolicyRecord.model_validate_json(r)
            for (r,) in db.execute("SELECT record FROM points_policies ORDER BY seq")
        )
        redemptions = tuple(
            Redemption.model_validate_json(r)
            for (r,) in db.execute(
                "SELECT record FROM redemptions WHERE account = ? ORDER BY seq", (key,)
            )
        )
        reversals = tuple(
            Reversal.model_validate_json(r)
            for (r,) in db.execute(
                "SELECT record FROM redemption_reversals WHERE account = ? ORDER BY seq", (key,)
            )
        )
        return PointsAccount(
            kind=kind,
            holder=holder,
            activities=activities,
            spells=spells,
            regions=regions,
            owner_credits=credits,
            policies=policies,
            redemptions=redemptions,
            reversals=reversals,
        )

    def _owner_credits(self, owner: str) -> tuple[OwnerCredit, ...]:
        """The owner's points in the current settlements of the deals of the customers they
        referred (an owner is credited for nothing else), through the store's ledger port."""
        deals = [
            str(deal)
            for (deal,) in self._connection.db.execute(
                "SELECT DISTINCT d.id FROM referrals r JOIN deals d ON d.customer = r.customer"
                " WHERE r.referrer_customer = ? ORDER BY d.id",
                (owner,),
            )
        ]
        if not deals:
            return ()
        found = []
        for settlement in self._ledger.current_settlements(deals=deals):
            points = sum(
                a.points for a in settlement.allocations if a.kind == "owner" and a.id == owner
            )
            if points:
                closed_at = settlement.closed_at.astimezone(UTC)
                found.append(OwnerCredit(settlement.deal, settlement.id, closed_at, points))
        return tuple(found)

    # --- redemptions -----------------------------------------------------------------------

    def record_redemption(
        self, redemption: Redemption, rule: PointsRule
    ) -> tuple[Redemption, bool]:
        with self._connection.writing() as db:
            row = db.execute(
                "SELECT record FROM redemptions WHERE id = ?", (redemption.id,)
            ).fetchone()
            if row is None:
                # The rule is checked on what is recorded now, in the write transaction: writers
                # are serialised, so parallel redemptions can never overdraw the account together.
                rule(self._account(redemption.kind, redemption.holder))
                db.execute(
                    "INSERT INTO redemptions (id, account, record) VALUES (?, ?, ?)",
                    (
                        redemption.id,
                        account_key(redemption.kind, redemption.holder),
                        redemption.model_dump_json(),
                    ),
                )
        if row is None:
            return redemption, True
        recorded = Redemption.model_validate_json(row[0])
        if recorded.content() != redemption.content():
            raise RecordConflict("redemption", redemption.id)
        return recorded, False

    def redemption(self, redemption_id: str) -> Redemption:
        rows = self._connection.query(
            "SELECT record FROM redemptions WHERE id = ?", (redemption_id,)
        )
        if not rows:
            raise NotFound("redemption", redemption_id)
        return Redemption.model_validate_json(str(rows[0][0]))

    def record_reversal(self, reversal: Reversal) -> tuple[Reversal, bool]:
        with self._connection.writing() as db:
            if not db.execute(
                "SELECT 1 FROM redemptions WHERE id = ?", (reversal.redemption,)
            ).fetchone():
                raise NotFound("redemption", reversal.redemption)
            row = db.execute(
                "SELECT record FROM redemption_reversals WHERE redemption = ?",
                (reversal.redemption,),
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO redemption_reversals (redemption, account, record)"
                    " VALUES (?, ?, ?)",
                    (
                        reversal.redemption,
                        account_key(reversal.kind, reversal.holder),
                        reversal.model_dump_json(),
                    ),
                )
        if row is None:
            return reversal, True
        recorded = Reversal.model_validate_json(row[0])
        if recorded.content() != reversal.content():
            raise RecordConflict("reversal", reversal.redemption)
        return recorded, False

    def reversal(self, redemption_id: str) -> Reversal | None:
        rows = self._connection.query(
            "SELECT record FROM redemption_reversals WHERE redemption = ?", (redemption_id,)
        )
        return Reversal.model_validate_json(str(rows[0][0])) if rows else None
