"""The credit ledger on Neo4j: policy versions, settlements and adjustments.

The ``Ledger`` port, on the driver its :class:`~contribnet.store.neo4j.Neo4jStore` opened, in
the same graph as the events. A settlement is a ``(:Settlement)`` node holding its full record as
JSON plus the fields analysts filter on; ``(:Deal).settlement`` names the current one, and the
current one alone is projected as ``(:Deal)-[:CREDITED]->(:Staff|:Customer)``. Uniqueness
constraints on ``Settlement.id`` and ``Settlement.slot`` (``deal#seq``) make double settlement
impossible even between concurrent writers: the loser of a race fails on the constraint, and its
retry finds the winner's record. The ledger's rules (``domain/ledger.py``) are applied inside the
write transactions, with the deals locked. All Cypher is in ``cypher/store/``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import neo4j
from neo4j import Transaction

from contribnet import cypher
from contribnet.domain.errors import NotFound
from contribnet.domain.ledger import check_adjustment, same_request, settlement_outcomes
from contribnet.domain.settlement import (
    Adjustment,
    DealRef,
    PolicyRecord,
    RecordOutcome,
    Settlement,
)
from contribnet.store import neo4j_retry

__all__ = ["Neo4jLedger"]

#: Open ends of a period, as instants Neo4j can compare (so range queries use the index).
_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def _instant(text: str) -> datetime:
    """An instant the queries return as ISO text (the driver reads text far faster than
    temporal values)."""
    return datetime.fromisoformat(text).astimezone(UTC)


def _at_store(settlement: Settlement, store: str) -> bool:
    """Whether a settlement's deal closed at ``store`` or it credits someone for it."""
    return settlement.deal_store == store or any(c.store == store for c in settlement.credits)


def _credits(settlement: Settlement, kind: str) -> list[dict[str, Any]]:
    return [
        {"id": a.id, "amount": a.amount, "share": a.share, "points": a.points}
        for a in settlement.allocations
        if a.kind == kind
    ]


def _settlement_row(s: Settlement) -> dict[str, Any]:
    return {
        "id": s.id,
        "deal": s.deal,
        "seq": s.seq,
        "slot": s.slot,
        "closed_at": s.closed_at.isoformat(),
        "model": s.model,
        "policy": s.policy,
        "policy_name": s.policy_name,
        "policy_version": s.policy_version,
        "input_hash": s.input_hash,
        "requested_by": s.requested_by,
        "created_at": s.created_at.isoformat(),
        "supersedes": s.supersedes,
        "reason": s.reason,
        "pool": s.pool,
        "record": s.model_dump_json(),
        "staff": _credits(s, "staff"),
        "owners": _credits(s, "owner"),
    }


def _outcomes(tx: Transaction, settlements: Sequence[Settlement]) -> list[RecordOutcome]:
    """What recording each settlement does, given what is recorded now."""
    state = tx.run(
        cypher.load("store/settlement_state"),
        ids=[s.id for s in settlements],
        deals=sorted({s.deal for s in settlements}),
    ).single(strict=True)
    current: dict[str, str | None] = {deal: sid for deal, sid in state["current"]}
    return settlement_outcomes(settlements, set(state["existing"]), current)


def _record_settlements(tx: Transaction, settlements: Sequence[Settlement]) -> list[RecordOutcome]:
    # Lock the deals first, so concurrent writers of one deal's chain take turns and each reads
    # the chain as the previous one left it (the slot constraint stays the last word).
    tx.run(cypher.load("store/lock_deals"), deals=sorted({s.deal for s in settlements})).consume()
    outcomes = _outcomes(tx, settlements)
    new = [s for s, o in zip(settlements, outcomes, strict=True) if o == "created"]
    if new:
        tx.run(cypher.load("store/record_settlements"), rows=[_settlement_row(s) for s in new])
    return outcomes


def _put_adjustment(tx: Transaction, adjustment: Adjustment) -> tuple[Adjustment, bool]:
    """Record an adjustment unless its id is recorded; the ledger's rule is checked here, in the
    write transaction, with the deal locked, on what is recorded at that moment."""
    locked = tx.run(cypher.load("store/lock_deal"), deal=adjustment.deal).single()
    found = tx.run(cypher.load("store/find_adjustment"), id=adjustment.id).single()
    if found is not None:
        recorded = Adjustment.model_validate_json(found["record"])
        return same_request("adjustment", recorded, adjustment), False
    current = None
    if locked is not None and locked["settlement"] is not None:
        current = Settlement.model_validate_json(locked["settlement"])
    earlier = [
        Adjustment.model_validate_json(r["record"])
        for r in tx.run(cypher.load("store/deal_adjustments"), deal=adjustment.deal)
    ]
    check_adjustment(current, earlier, adjustment)
    tx.run(
        cypher.load("store/put_adjustment"),
        id=adjustment.id,
        deal=adjustment.deal,
        closed_at=adjustment.closed_at,
        from_staff=adjustment.from_staff,
        to_staff=adjustment.to_staff,
        amount=adjustment.amount,
        created_at=adjustment.created_at,
        record=adjustment.model_dump_json(),
    ).consume()
    return adjustment, True


class Neo4jLedger:
    """The ``Ledger`` port on a Neo4j database, sharing the event store's driver."""

    def __init__(self, driver: neo4j.Driver, database: str) -> None:
        self._driver = driver
        self._database = database

    def _read(self, query: str, **params: Any) -> list[neo4j.Record]:
        return neo4j_retry.read(self._driver, self._database, cypher.load(query), params)

    def _write(self, query: str, **params: Any) -> None:
        neo4j_retry.execute(self._driver, self._database, cypher.load(query), params)

    # --- the work list of batch settlement (the event store's deals) -----------------------

    def closed_deals(
        self,
        start: datetime | None,
        end: datetime | None,
        *,
        unsettled: bool = False,
        after: DealRef | None = None,
        limit: int = 1000,
    ) -> list[DealRef]:
        lo = start or _EARLIEST
        if after is not None and after.closed_at > lo:
            lo = after.closed_at
        rows = self._read(
            "store/closed_deals",
            start=lo,
            end=end or _LATEST,
            after_at=after.closed_at if after else _EARLIEST,
            after_id=after.id if after else "",
            unsettled=unsettled,
            limit=limit,
        )
        return [DealRef(_instant(r["closed_at"]), r["id"]) for r in rows]

    def count_closed_deals(
        self, start: datetime | None, end: datetime | None, *, unsettled: bool = False
    ) -> int:
        rows = self._read(
            "store/count_closed_deals",
            start=start or _EARLIEST,
            end=end or _LATEST,
            unsettled=unsettled,
        )
        return int(rows[0]["total"])

    # --- policies ------------------------------------------------------------------------

    def put_policy(self, record: PolicyRecord) -> tuple[PolicyRecord, bool]:
        def find() -> PolicyRecord | None:
            found = self._read("store/find_policy", id=record.id)
            if not found:
                return None
            recorded = PolicyRecord.model_validate_json(found[0]["record"])
            return same_request("policy", recorded, record)

        def put() -> None:
            self._write(
                "store/put_policy",
                id=record.id,
                name=record.name,
                version=record.version,
                effective_from=record.effective_from,
                hash=record.hash,
                created_at=record.created_at,
                record=record.model_dump_json(),
            )

        return neo4j_retry.put_once(find, put, record, f"policy {record.id!r}")

    def policies(self) -> list[PolicyRecord]:
        return [PolicyRecord.model_validate_json(r["record"]) for r in self._read("store/policies")]

    # --- settlements ---------------------------------------------------------------------

    def record_settlements(self, settlements: Sequence[Settlement]) -> list[RecordOutcome]:
        if not settlements:
            return []
        # A writer that recorded one of these (or superseded the same settlement) between our
        # read and our write makes the next attempt see what it wrote.
        outcomes: list[RecordOutcome] = neo4j_retry.write_unique(
            self._driver, self._database, _record_settlements, list(settlements)
        )
        return outcomes

    def settlement(self, settlement_id: str) -> Settlement:
        rows = self._read("store/settlement", id=settlement_id)
        if not rows:
            raise NotFound("settlement", settlement_id)
        return Settlement.model_validate_json(rows[0]["record"])

    def settlement_history(self, deal_id: str) -> list[Settlement]:
        rows = self._read("store/settlement_history", deal=deal_id)
        return [Settlement.model_validate_json(r["record"]) for r in rows]

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
        if store is not None:
            found = (s for s in found if _at_store(s, store))
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
        bounds = {"start": start or _EARLIEST, "end": end or _LATEST}
        if staff is not None or deals is not None:
            if staff is not None:
                rows = self._read("store/staff_settlements", staff=staff, **bounds)
                wanted = set(deals) if deals is not None else None
                rows = [r for r in rows if wanted is None or r["deal"] in wanted]
            else:
                rows = self._read("store/deal_settlements", deals=list(deals or ()), **bounds)
            for r in rows:
                if after is None or (_instant(r["closed_at"]), r["deal"]) > (
                    after.closed_at,
                    after.id,
                ):
                    yield Settlement.model_validate_json(r["record"])
            return
        after_at, after_id = (after.closed_at, after.id) if after else (_EARLIEST, "")
        # A store filter drops rows after the read: read full pages then.
        page = min(limit, 1000) if limit is not None and store is None else 1000
        while True:
            rows = self._read(
                "store/current_settlements",
                start=bounds["start"],
                end=bounds["end"],
                after_at=after_at,
                after_id=after_id,
                limit=page,
            )
            for r in rows:
                yield Settlement.model_validate_json(r["record"])
            if len(rows) < page:
                return
            after_at, after_id = _instant(rows[-1]["closed_at"]), rows[-1]["deal"]

    # --- adjustments -----------------------------------------------------------------------

    def put_adjustment(self, adjustment: Adjustment) -> tuple[Adjustment, bool]:
        # Recorded meanwhile under this id (a writer that did not lock its deal): the next
        # attempt finds it.
        found: tuple[Adjustment, bool] = neo4j_retry.write_unique(
            self._driver, self._database, _put_adjustment, adjustment
        )
        return found

    def adjustments(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        deal: str | None = None,
        staff: str | None = None,
    ) -> list[Adjustment]:
        rows = self._read(
            "store/adjustments",
            start=start or _EARLIEST,
            end=end or _LATEST,
            deal=deal,
            staff=staff,
        )
        return [Adjustment.model_validate_json(r["record"]) for r in rows]
