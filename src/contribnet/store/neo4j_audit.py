"""The audit trail on Neo4j: ``(:AuditEntry {id, at, record})`` nodes and one
``(:AuditTarget {target, entry})`` node per id an entry touches.

Built on the store's driver and held by the store as ``store.audit``. The index on
``AuditTarget.target`` makes "the entries touching X" a seek. All Cypher is in ``cypher/store/``;
none of it edits or deletes an entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

import neo4j

from contribnet import cypher
from contribnet.domain.audit import AuditEntry
from contribnet.store import neo4j_retry

__all__ = ["Neo4jAudit"]


def _append(tx: neo4j.Transaction, params: dict[str, Any]) -> None:
    tx.run(cypher.load("store/put_audit_entry"), params).consume()


class Neo4jAudit:
    """The ``AuditLog`` port on a Neo4j store's driver and database."""

    def __init__(self, driver: neo4j.Driver, database: str) -> None:
        self._driver = driver
        self._database = database

    def append(self, entry: AuditEntry, targets: Sequence[str]) -> None:
        params = {
            "id": entry.id,
            "at": entry.at,
            "action": entry.action,
            "record": entry.model_dump_json(),
            "targets": list(dict.fromkeys(targets)),
        }
        neo4j_retry.write(self._driver, self._database, _append, params)

    def unit(self) -> AbstractContextManager[object]:
        # Each adapter write is a transaction of its own: the entry follows its change.
        return nullcontext()

    def entries(
        self, target: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[AuditEntry]:
        params = {"target": target, "start": start, "end": end}
        records = neo4j_retry.read(
            self._driver, self._database, cypher.load("store/audit_entries"), params
        )
        return [AuditEntry.model_validate_json(r["record"]) for r in records]
