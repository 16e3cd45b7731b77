"""Disputes on Neo4j: ``(:Dispute {id, staff, deal, closed_at, opened_at, record})`` and one
``(:DisputeResolution {dispute, record})`` per resolved dispute, unique by dispute. While a
dispute is open its line holds ``(:OpenDispute {deal, staff, dispute})``, unique by (deal,
staff) and deleted with the resolution: a line has one open dispute even between concurrent
writers. Opening the store marks the lines of disputes opened before markers existed.

Built on the store's driver and held by the store as ``store.disputes``. All Cypher is in
``cypher/store/``.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import neo4j

from contribnet import cypher
from contribnet.domain.disputes import (
    AlreadyDisputed,
    Dispute,
    DisputeResolved,
    DisputeStatus,
    Resolution,
)
from contribnet.domain.errors import NotFound
from contribnet.store import neo4j_retry

__all__ = ["Neo4jDisputes"]


def _dispute(record: str, resolution: str | None) -> Dispute:
    dispute = Dispute.model_validate_json(record)
    if resolution is None:
        return dispute
    return dispute.model_copy(update={"resolution": Resolution.model_validate_json(resolution)})


class Neo4jDisputes:
    """The ``DisputeStore`` port on a Neo4j store's driver and database."""

    def __init__(self, driver: neo4j.Driver, database: str) -> None:
        self._driver = driver
        self._database = database
        # Another process opening the store may mark the same lines first.
        with contextlib.suppress(neo4j.exceptions.ConstraintError):
            self._run("store/mark_open_disputes")

    def _run(self, name: str, *, read: bool = False, **params: Any) -> list[neo4j.Record]:
        if read:
            return neo4j_retry.read(self._driver, self._database, cypher.load(name), params)
        return neo4j_retry.execute(self._driver, self._database, cypher.load(name), params)

    def put_dispute(self, dispute: Dispute) -> None:
        try:
            self._run(
                "store/put_dispute",
                id=dispute.id,
                staff=dispute.staff,
                deal=dispute.deal,
                closed_at=dispute.closed_at,
                opened_at=dispute.opened_at,
                record=dispute.model_dump_json(exclude={"resolution", "status"}),
            )
        except neo4j.exceptions.ConstraintError:
            # A concurrent writer opened one on the line first (the OpenDispute constraint).
            raise AlreadyDisputed(f"staff member {dispute.staff!r}", dispute.deal) from None

    def resolve(self, dispute_id: str, resolution: Resolution) -> Dispute:
        try:
            (row,) = self._run(
                "store/put_dispute_resolution",
                dispute=dispute_id,
                record=resolution.model_dump_json(),
            )
        except neo4j.exceptions.ConstraintError:
            raise DisputeResolved("dispute", dispute_id) from None
        if not row["written"]:
            raise NotFound("dispute", dispute_id)
        return self.dispute(dispute_id)

    def dispute(self, dispute_id: str) -> Dispute:
        rows = self._run("store/find_dispute", read=True, id=dispute_id)
        if not rows:
            raise NotFound("dispute", dispute_id)
        return _dispute(rows[0]["record"], rows[0]["resolution"])

    def disputes(
        self,
        *,
        status: DisputeStatus | None = None,
        staff: str | None = None,
        deal: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Dispute]:
        rows = self._run(
            "store/list_disputes",
            read=True,
            status=status,
            staff=staff,
            deal=deal,
            start=start,
            end=end,
        )
        return [_dispute(r["record"], r["resolution"]) for r in rows]
