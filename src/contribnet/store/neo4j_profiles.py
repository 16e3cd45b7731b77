"""The advisor profiles' port on Neo4j: one bulk read.

Built on the store's driver and held by the store as ``store.profiles``. Touches are read from
their ``[:TOUCHED]`` relationships, activities from their ``(:Activity)`` nodes, spells and
stores by the fraud rules' ``flag_entities`` read (every staff and store event). All Cypher is in
``cypher/store/``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import neo4j

from contribnet import cypher
from contribnet.domain.events import Activity, Staff, stored
from contribnet.domain.events import Store as StoreRecord
from contribnet.domain.profiles import ProfileInputs, TouchMark
from contribnet.store import neo4j_retry

__all__ = ["Neo4jProfiles"]

_FIRST = datetime.min.replace(tzinfo=UTC)
_LAST = datetime.max.replace(tzinfo=UTC)


class Neo4jProfiles:
    """The ``ProfileStore`` port on a Neo4j store's driver and database."""

    def __init__(self, driver: neo4j.Driver, database: str) -> None:
        self._driver = driver
        self._database = database

    def _read(self, name: str, **params: Any) -> list[neo4j.Record]:
        return neo4j_retry.read(self._driver, self._database, cypher.load(name), params)

    def profile_inputs(
        self,
        start: datetime | None,
        end: datetime | None,
        staff: Collection[str] | None = None,
    ) -> ProfileInputs:
        # An open side as an instant: "$start IS NULL OR ..." would keep the planner off the index.
        params: dict[str, Any] = {"start": start or _FIRST, "end": end or _LAST}
        if staff is None:
            touches_query, activities_query = "store/profile_touches", "store/profile_activities"
        else:
            touches_query = "store/profile_staff_touches"
            activities_query = "store/profile_staff_activities"
            params["staff"] = sorted(staff)
        touches = [
            TouchMark(
                r["id"], r["staff"], r["customer"], r["stage"], datetime.fromisoformat(r["at"])
            )
            for r in self._read(touches_query, **params)
        ]
        # Built without validation (validated at ingest): parsing a million log entries took
        # most of an m network's read.
        activities = [
            Activity.model_construct(
                id=r["id"],
                at=datetime.fromisoformat(r["at"]),
                staff=r["staff"],
                customer=r["customer"],
                action=r["action"],
            )
            for r in self._read(activities_query, **params)
        ]
        spells: defaultdict[str, list[Staff]] = defaultdict(list)
        stores: dict[str, StoreRecord] = {}
        for row in self._read("store/flag_entities"):
            payload = json.loads(row["payload"])
            if row["type"] == "staff":
                spell = stored(Staff, payload)
                spells[spell.id].append(spell)
            else:
                record = stored(StoreRecord, payload)
                stores[record.id] = record
        for group in spells.values():
            group.sort(key=lambda s: (s.from_ is not None, s.from_))
        return ProfileInputs(
            touches=touches, activities=activities, spells=dict(spells), stores=stores
        )
