"""The fraud signals' port on SQLite: the rules' bulk reads, and reviews of flags.

Built on the store's connection (:class:`~contribnet.store.sqlite_connection.SqliteConnection`)
and held by the store as ``store.flags``. The reads go over the event tables (``sqlite.py``'s
schema); a review is an immutable JSON row keyed by its flag's id, so a flag has one review.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from contribnet.domain.events import Deal, Referral, Staff, Touch, stored
from contribnet.domain.flags import FlagInputs, FlagReview
from contribnet.domain.settlement import RecordConflict
from contribnet.store.sqlite_connection import SqliteConnection, utc_text

__all__ = ["FLAGS_SCHEMA", "SqliteFlags"]

FLAGS_SCHEMA = """
CREATE TABLE IF NOT EXISTS flag_reviews (
    seq INTEGER PRIMARY KEY, flag TEXT NOT NULL UNIQUE, record TEXT NOT NULL
);
"""

_LIVE = "NOT EXISTS (SELECT 1 FROM voids v WHERE v.target = {0}.id)"


def _between(column: str, start: datetime | None, end: datetime | None) -> tuple[str, list[str]]:
    clauses, params = ["1"], []
    if start is not None:
        clauses.append(f"{column} >= ?")
        params.append(utc_text(start))
    if end is not None:
        clauses.append(f"{column} < ?")
        params.append(utc_text(end))
    return " AND ".join(clauses), params


def _received(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(UTC) if text else None


class SqliteFlags:
    """The ``FlagStore`` port on a SQLite store's connection."""

    def __init__(self, connection: SqliteConnection) -> None:
        self._connection = connection
        with connection.lock:
            connection.db.executescript(FLAGS_SCHEMA)

    def flag_inputs(self, start: datetime | None, end: datetime | None) -> FlagInputs:
        recorded: dict[str, datetime] = {}

        def read(model: Any, sql: str, params: Sequence[Any]) -> list[Any]:
            found = []
            for payload, received in self._connection.query(sql, params):
                event = stored(model, json.loads(payload))
                found.append(event)
                at = _received(received)
                if at is not None:
                    recorded[event.id] = at
            return found

        where, params = _between("t.at", start, end)
        touches: list[Touch] = read(
            Touch,
            "SELECT e.payload, e.recorded_at FROM touches t JOIN events e ON e.key = t.id"
            f" WHERE {where} AND {_LIVE.format('t')} ORDER BY t.at, t.id",
            params,
        )
        where, params = _between("d.closed_at", start, end)
        deals: list[Deal] = read(
            Deal,
            "SELECT e.payload, e.recorded_at FROM deals d JOIN events e ON e.key = d.id"
            f" WHERE {where} AND {_LIVE.format('d')} ORDER BY d.closed_at, d.id",
            params,
        )
        where, params = _between("r.at", start, end)
        referrals: list[Referral] = read(
            Referral,
            "SELECT e.payload, e.recorded_at FROM referrals r JOIN events e ON e.key = r.id"
            f" WHERE {where} AND {_LIVE.format('r')} ORDER BY r.at, r.id",
            params,
        )
        spells: dict[str, list[Staff]] = defaultdict(list)
        for staff, payload in self._connection.query(
            "SELECT s.staff, e.payload FROM staff_spells s JOIN events e ON e.key = s.key"
            " ORDER BY s.staff, s.from_date"
        ):
            spells[staff].append(stored(Staff, json.loads(payload)))
        cities = {
            str(store): str(city)
            for store, city in self._connection.query("SELECT id, city FROM stores")
            if city
        }
        return FlagInputs(
            touches=touches,
            deals=deals,
            referrals=referrals,
            spells=dict(spells),
            cities=cities,
            recorded=recorded,
        )

    def put_flag_review(self, review: FlagReview) -> tuple[FlagReview, bool]:
        with self._connection.writing() as db:
            row = db.execute(
                "SELECT record FROM flag_reviews WHERE flag = ?", (review.flag,)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO flag_reviews (flag, record) VALUES (?, ?)",
                    (review.flag, review.model_dump_json()),
                )
        if row is None:
            return review, True
        recorded = FlagReview.model_validate_json(row[0])
        if (recorded.decision, recorded.reason) != (review.decision, review.reason):
            raise RecordConflict("flag review", review.flag)
        return recorded, False

    def flag_reviews(self, flags: Sequence[str] | None = None) -> dict[str, FlagReview]:
        if flags is None:
            rows = self._connection.query("SELECT flag, record FROM flag_reviews ORDER BY seq")
        else:
            rows = []
            ids = list(dict.fromkeys(flags))
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                rows += self._connection.query(
                    "SELECT flag, record FROM flag_reviews"
                    f" WHERE flag IN ({','.join('?' * len(part))})",
                    part,
                )
        return {str(flag): FlagReview.model_validate_json(str(r)) for flag, r in rows}
