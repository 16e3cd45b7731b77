"""The points ledger on Neo4j: points policy versions, redemptions and their reversals.

Built on the store's driver and held by the store as ``store.points``. A points policy version is a
``(:PointsPolicy)`` node holding its record as JSON; a redemption a ``(:Redemption)`` node,
``(:PointsAccount)-[:REDEEMED]->`` it and ``(:Staff|:Customer)-[:REDEEMED]->`` it; a reversal a
``(:RedemptionReversal)-[:REVERSES]->(:Redemption)``. A redemption's write transaction first locks
its account's ``(:PointsAccount {key})`` node, then reads the account and asks the rule, so
redemptions of one account take turns; uniqueness constraints on the ids (a reversal's is its
redemption's) are the last word between concurrent writers. All Cypher is in ``cypher/store/``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import neo4j
from neo4j import Transaction

from contribnet import cypher
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
from contribnet.store import neo4j_retry
from contribnet.store.points import PointsRule

__all__ = ["Neo4jPoints"]


def _native(value: Any) -> datetime:
    """A temporal value read from Neo4j as a Python instant in UTC."""
    native = value.to_native() if hasattr(value, "to_native") else value
    if not isinstance(native, datetime):
        raise TypeError(f"not an instant: {value!r}")
    return native.astimezone(UTC)


def _account(tx: Transaction, kind: HolderKind, holder: str) -> PointsAccount:
    """The account as recorded now, read in the transaction ``tx``."""
    key = account_key(kind, holder)
    staff = holder if kind == "staff" else None
    row = tx.run(
        cypher.load("store/points_account"),
        staff=staff,
        owner=holder if kind == "owner" else None,
        key=key,
    ).single(strict=True)
    spells: tuple[Staff, ...] = ()
    if staff is not None:
        spells = tuple(
            stored(Staff, json.loads(r["payload"]))
            for r in tx.run(cypher.load("store/staff_spells"), ids=[staff])
        )
    activities = sorted(
        (stored(Activity, json.loads(payload)) for payload in row["activities"]),
        key=lambda a: (a.at, a.id),
    )
    credits = sorted(
        (
            OwnerCredit(c["deal"], c["settlement"], _native(c["closed_at"]), int(c["points"]))
            for c in row["credits"]
        ),
        key=lambda c: (c.closed_at, c.deal),
    )
    policies = [
        PointsPolicyRecord.model_validate_json(r["record"])
        for r in tx.run(cypher.load("store/points_policies"))
    ]
    return PointsAccount(
        kind=kind,
        holder=holder,
        activities=tuple(activities),
        spells=spells,
        regions={r["store"]: r["region"] for r in row["regions"]},
        owner_credits=tuple(credits),
        policies=tuple(policies),
        redemptions=tuple(Redemption.model_validate_json(r) for r in row["redemptions"]),
        reversals=tuple(Reversal.model_validate_json(r) for r in row["reversals"]),
    )


def _record_redemption(
    tx: Transaction, redemption: Redemption, rule: PointsRule
) -> tuple[Redemption, bool]:
    """Record a redemption unless its id is recorded; the rule is asked here, in the write
    transaction, with the account locked, on what is recorded at that moment."""
    key = account_key(redemption.kind, redemption.holder)
    tx.run(cypher.load("store/points_lock_account"), key=key).consume()
    found = tx.run(cypher.load("store/find_redemption"), id=redemption.id).single()
    if found is not None:
        recorded = Redemption.model_validate_json(found["record"])
        if recorded.content() != redemption.content():
            raise RecordConflict("redemption", redemption.id)
        return recorded, False
    rule(_account(tx, redemption.kind, redemption.holder))
    tx.run(
        cypher.load("store/put_redemption"),
        id=redemption.id,
        account=key,
        kind=redemption.kind,
        holder=redemption.holder,
        points=redemption.points,
        created_at=redemption.created_at,
        record=redemption.model_dump_json(),
    ).consume()
    return redemption, True


def _record_reversal(tx: Transaction, reversal: Reversal) -> tuple[Reversal, bool]:
    row = tx.run(cypher.load("store/find_reversal"), redemption=reversal.redemption).single(
        strict=True
    )
    if not row["known"]:
        raise NotFound("redemption", reversal.redemption)
    if row["record"] is not None:
        recorded = Reversal.model_validate_json(row["record"])
        if recorded.content() != reversal.content():
            raise RecordConflict("reversal", reversal.redemption)
        return recorded, False
    tx.run(
        cypher.load("store/put_reversal"),
        redemption=reversal.redemption,
        account=account_key(reversal.kind, reversal.holder),
        points=reversal.points,
        created_at=reversal.created_at,
        record=reversal.model_dump_json(),
    ).consume()
    return reversal, True


class Neo4jPoints:
    """The ``PointsStore`` port on a Neo4j store's driver and database."""

    def __init__(self, driver: neo4j.Driver, database: str) -> None:
        self._driver = driver
        self._database = database

    def _read(self, name: str, **params: Any) -> list[neo4j.Record]:
        return neo4j_retry.read(self._driver, self._database, cypher.load(name), params)

    # --- policies ------------------------------------------------------------------------

    def put_points_policy(self, record: PointsPolicyRecord) -> tuple[PointsPolicyRecord, bool]:
        def find() -> PointsPolicyRecord | None:
            found = self._read("store/find_points_policy", id=record.id)
            if not found:
                return None
            if found[0]["hash"] != record.hash:
                raise RecordConflict("points policy", record.id)
            return PointsPolicyRecord.model_validate_json(found[0]["record"])

        def put() -> None:
            neo4j_retry.execute(
                self._driver,
                self._database,
                cypher.load("store/put_points_policy"),
                {
                    "id": record.id,
                    "name": record.name,
                    "version": record.version,
                    "effective_from": record.effective_from,
                    "hash": record.hash,
                    "created_at": record.created_at,
                    "record": record.model_dump_json(),
                },
            )

        return neo4j_retry.put_once(find, put, record, f"points policy {record.id!r}")

    def points_policies(self) -> list[PointsPolicyRecord]:
        return [
            PointsPolicyRecord.model_validate_json(r["record"])
            for r in self._read("store/points_policies")
        ]

    # --- accounts ------------------------------------------------------------------------

    def points_account(self, kind: HolderKind, holder: str) -> PointsAccount:
        with self._driver.session(
            database=self._database, default_access_mode=neo4j.READ_ACCESS
        ) as session:
            account: PointsAccount = neo4j_retry.in_transaction(
                session, _account, kind, holder, commit=False
            )
        return account

    # --- redemptions -----------------------------------------------------------------------

    def record_redemption(
        self, redemption: Redemption, rule: PointsRule
    ) -> tuple[Redemption, bool]:
        found: tuple[Redemption, bool] = neo4j_retry.write_unique(
            self._driver, self._database, _record_redemption, redemption, rule
        )
        return found

    def redemption(self, redemption_id: str) -> Redemption:
        rows = self._read("store/find_redemption", id=redemption_id)
        if not rows:
            raise NotFound("redemption", redemption_id)
        return Redemption.model_validate_json(rows[0]["record"])

    def record_reversal(self, reversal: Reversal) -> tuple[Reversal, bool]:
        found: tuple[Reversal, bool] = neo4j_retry.write_unique(
            self._driver, self._database, _record_reversal, reversal
        )
        return found

    def reversal(self, redemption_id: str) -> Reversal | None:
        row = self._read("store/find_reversal", redemption=redemption_id)[0]
        return Reversal.model_validate_json(row["record"]) if row["record"] else None
