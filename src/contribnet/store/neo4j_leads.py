"""The lead pools' port on Neo4j: live lead assignments and holders' follow-ups.

Built on the store's driver and held by the store as ``store.leads``. Assignments are
``(:LeadAssignment)`` nodes (their events in the log), follow-ups the holder's ``[:TOUCHED]``
relationships and ``(:Activity)`` nodes. All Cypher is in ``cypher/store/``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

import neo4j

from contribnet import cypher
from contribnet.domain.events import LeadAssignment, Staff, stored
from contribnet.domain.leads import FollowUpWindow
from contribnet.store import neo4j_retry

__all__ = ["Neo4jLeads"]


class Neo4jLeads:
    """The ``LeadStore`` port on a Neo4j store's driver and database."""

    def __init__(self, driver: neo4j.Driver, database: str) -> None:
        self._driver = driver
        self._database = database

    def _read(self, name: str, **params: Any) -> list[neo4j.Record]:
        return neo4j_retry.read(self._driver, self._database, cypher.load(name), params)

    def lead_assignments(self, until: datetime) -> list[LeadAssignment]:
        rows = self._read("store/lead_assignments", until=until.astimezone(UTC))
        return [stored(LeadAssignment, json.loads(r["payload"])) for r in rows]

    def followed_up(self, windows: Sequence[FollowUpWindow]) -> set[str]:
        if not windows:
            return set()
        rows = self._read(
            "store/lead_follow_ups",
            windows=[
                {
                    "assignment": w.assignment,
                    "customer": w.customer,
                    "staff": w.staff,
                    "start": w.start.astimezone(UTC),
                    "end": w.end.astimezone(UTC),
                }
                for w in windows
            ],
        )
        return {str(r["assignment"]) for r in rows}

    def staff_spells(self, staff_ids: Sequence[str]) -> dict[str, tuple[Staff, ...]]:
        rows = self._read("store/staff_spells", ids=list(dict.fromkeys(staff_ids)))
        return {
            staff: tuple(stored(Staff, json.loads(r["payload"])) for r in group)
            for staff, group in groupby(rows, key=lambda r: r["staff"])
        }

    def store_regions(self, store_ids: Sequence[str]) -> dict[str, str]:
        rows = self._read("store/store_regions", ids=list(dict.fromkeys(store_ids)))
        return {r["id"]: json.loads(r["payload"])["region"] for r in rows}
