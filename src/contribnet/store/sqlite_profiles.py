"""The advisor profiles' port on SQLite: one bulk read over the event tables.

Built on the store's connection (:class:`~contribnet.store.sqlite_connection.SqliteConnection`)
and held by the store as ``store.profiles``. Touches and activities are read from their indexed
columns (no payload to parse: the m network holds 1.7 million touches and a million activities),
spells and stores from their log entries.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from datetime import UTC, datetime

from contribnet.domain.events import Activity, Staff, stored
from contribnet.domain.events import Store as StoreRecord
from contribnet.domain.profiles import ProfileInputs, TouchMark
from contribnet.store.sqlite_connection import LIVE, SqliteConnection, between

__all__ = ["SqliteProfiles"]


def _selection(
    table: str, start: datetime | None, end: datetime | None, staff: Collection[str] | None
) -> tuple[str, list[str]]:
    clauses, params = ["1"], []
    if staff is not None:
        # Staff first: the (staff, at) index then seeks each one's period, where the at index
        # alone would read the whole network's period.
        clauses.append(f"{table}.staff IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(sorted(staff)))
    period, period_params = between(f"{table}.at", start, end)
    return " AND ".join([*clauses, period]), params + period_params


class SqliteProfiles:
    """The ``ProfileStore`` port on a SQLite store's connection."""

    def __init__(self, connection: SqliteConnection) -> None:
        self._connection = connection

    def profile_inputs(
        self,
        start: datetime | None,
        end: datetime | None,
        staff: Collection[str] | None = None,
    ) -> ProfileInputs:
        query = self._connection.query
        where, params = _selection("t", start, end, staff)
        touches = [
            TouchMark(id, staff, customer, stage, datetime.fromisoformat(at).astimezone(UTC))
            for id, staff, customer, stage, at in query(
                "SELECT t.id, t.staff, t.customer, t.stage, t.at FROM touches t"
                f" WHERE {where} AND {LIVE.format('t')}",
                params,
            )
        ]
        where, params = _selection("a", start, end, staff)
        # Built from the indexed columns without validation (they were validated at ingest):
        # parsing a million log entries took most of an m network's read.
        activities = [
            Activity.model_construct(
                id=id,
                at=datetime.fromisoformat(at).astimezone(UTC),
                staff=staff,
                customer=customer,
                action=action,
            )
            for id, at, staff, customer, action in query(
                "SELECT a.id, a.at, a.staff, a.customer, a.action FROM activities a"
                f" WHERE {where} AND {LIVE.format('a')}",
                params,
            )
        ]
        spells: defaultdict[str, list[Staff]] = defaultdict(list)
        for staff_id, payload in query(
            "SELECT s.staff, e.payload FROM staff_spells s JOIN events e ON e.key = s.key"
            " ORDER BY s.staff, s.from_date"
        ):
            spells[staff_id].append(stored(Staff, json.loads(payload)))
        stores = {
            record.id: record
            for record in (
                stored(StoreRecord, json.loads(payload))
                for (payload,) in query(
                    "SELECT e.payload FROM stores s JOIN events e ON e.key = s.id"
                )
            )
        }
        return ProfileInputs(
            touches=touches, activities=activities, spells=dict(spells), stores=stores
        )
