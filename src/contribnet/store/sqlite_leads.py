"""The lead pools' port on SQLite: live lead assignments and holders' follow-ups.

Built on the store's connection and held by the store as ``store.leads``; the reads go over the
event tables of ``sqlite.py``'s schema (``lead_assignments``, ``touches``, ``activities``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from itertools import groupby

from contribnet.domain.events import LeadAssignment, Staff, stored
from contribnet.domain.leads import FollowUpWindow
from contribnet.store.sqlite_connection import SqliteConnection, utc_text

__all__ = ["SqliteLeads"]

_LIVE = "NOT EXISTS (SELECT 1 FROM voids v WHERE v.target = {0}.id)"

#: One window's follow-up: a live touch of the customer by the holder, or a live activity of
#: the holder naming the customer, in the window (each read along its index).
_FOLLOW_UP = (
    "SELECT EXISTS (SELECT 1 FROM touches t WHERE t.customer = ? AND t.at BETWEEN ? AND ?"
    " AND t.staff = ? AND " + _LIVE.format("t") + ")"
    " OR EXISTS (SELECT 1 FROM activities a WHERE a.customer = ? AND a.staff = ?"
    " AND a.at BETWEEN ? AND ? AND " + _LIVE.format("a") + ")"
)

#: Ids per ``IN (...)`` list: well under SQLite's limit on a statement's parameters.
_PART = 500


class SqliteLeads:
    """The ``LeadStore`` port on a SQLite store's connection."""

    def __init__(self, connection: SqliteConnection) -> None:
        self._connection = connection

    def lead_assignments(self, until: datetime) -> list[LeadAssignment]:
        rows = self._connection.query(
            "SELECT e.payload FROM lead_assignments a JOIN events e ON e.key = a.id"
            " WHERE a.at <= ? AND " + _LIVE.format("a") + " ORDER BY a.at, a.id",
            (utc_text(until),),
        )
        return [stored(LeadAssignment, json.loads(payload)) for (payload,) in rows]

    def followed_up(self, windows: Sequence[FollowUpWindow]) -> set[str]:
        found = set()
        for w in windows:
            start, end = utc_text(w.start), utc_text(w.end)
            params = (w.customer, start, end, w.staff, w.customer, w.staff, start, end)
            if self._connection.query(_FOLLOW_UP, params)[0][0]:
                found.add(w.assignment)
        return found

    def staff_spells(self, staff_ids: Sequence[str]) -> dict[str, tuple[Staff, ...]]:
        ids = list(dict.fromkeys(staff_ids))
        rows = []
        for i in range(0, len(ids), _PART):
            part = ids[i : i + _PART]
            rows += self._connection.query(
                "SELECT s.staff, e.payload FROM staff_spells s JOIN events e ON e.key = s.key"
                f" WHERE s.staff IN ({','.join('?' * len(part))}) ORDER BY s.staff, s.from_date",
                part,
            )
        return {
            staff: tuple(stored(Staff, json.loads(p)) for _, p in group)
            for staff, group in groupby(rows, key=lambda r: r[0])
        }

    def store_regions(self, store_ids: Sequence[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(store_ids))
        found: dict[str, str] = {}
        for i in range(0, len(ids), _PART):
            part = ids[i : i + _PART]
            found.update(
                self._connection.query(
                    f"SELECT id, region FROM stores WHERE id IN ({','.join('?' * len(part))})",
                    part,
                )
            )
        return found
