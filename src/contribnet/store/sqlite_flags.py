"""The fraud signals' port on SQLite: the rules' bulk reads, and reviews of flags.

Built on the store's connection (:class:`~contribnet.store.sqlite_connection.SqliteConnection`)
and held by the store as ``store.flags``. The reads go over the event tables (``sqlite.py``'s
schema); a review is an immutable JSON row keyed by its flag's id, so a flag has one review.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from contribnet.domain.events import Staff
from contribnet.domain.flags import FlagInputs, FlagReview, TouchRecord
from contribnet.domain.settlement import RecordConflict
from contribnet.domain.unchecked import unchecked
from contribnet.store.flags import deal_record, received_times, referral_record, utc_instant
from contribnet.store.sqlite_connection import LIVE, SqliteConnection, between

__all__ = ["FLAGS_SCHEMA", "SqliteFlags"]

FLAGS_SCHEMA = """
CREATE TABLE IF NOT EXISTS flag_reviews (
    seq INTEGER PRIMARY KEY, flag TEXT NOT NULL UNIQUE, record TEXT NOT NULL
);
"""


#: The rules' reads, one query per table, in the table's order (the rules need none): a period
#: reads a range of the table's time index, the whole store one pass over the table; each row's
#: event is a seek by key (its received time; a touch's evidence), its voids a seek by target.
#: ``tests/store/test_sqlite_plans.py`` checks the plans.
TOUCHES_SQL = (
    "SELECT t.id, t.at, t.customer, t.staff, t.store, t.stage, t.channel,"
    " e.payload -> '$.evidence', e.recorded_at"
    " FROM touches t JOIN events e ON e.key = t.id"
    " WHERE {where} AND " + LIVE.format("t")
)
DEALS_SQL = (
    "SELECT d.id, d.customer, d.store, d.staff, d.closed_at, d.amount, d.reward_pool,"
    " e.payload ->> '$.points_pool', e.recorded_at FROM deals d JOIN events e ON e.key = d.id"
    " WHERE {where} AND " + LIVE.format("d")
)
REFERRALS_SQL = (
    "SELECT r.id, r.at, r.customer, r.to_store, r.referrer_staff, r.referrer_customer,"
    " e.recorded_at FROM referrals r JOIN events e ON e.key = r.id"
    " WHERE {where} AND " + LIVE.format("r")
)
SPELLS_SQL = (
    "SELECT staff, name, store, role, from_date, to_date FROM staff_spells"
    " ORDER BY staff, from_date"
)
CITIES_SQL = "SELECT id, city FROM stores"


class SqliteFlags:
    """The ``FlagStore`` port on a SQLite store's connection."""

    def __init__(self, connection: SqliteConnection) -> None:
        self._connection = connection
        with connection.lock:
            connection.db.executescript(FLAGS_SCHEMA)

    def flag_inputs(self, start: datetime | None, end: datetime | None) -> FlagInputs:
        # The rules read every live touch of the store: the columns they need, one query per
        # table, touches as plain records (``TouchRecord``), the few deals, referrals and spells
        # as models built without validation (``unchecked``); a touch's evidence comes from its
        # event's JSON.
        query = self._connection.query
        recorded: dict[str, datetime] = {}
        received = received_times()
        where, params = between("t.at", start, end)
        touches: list[TouchRecord] = []
        for id, at, customer, staff, store, stage, channel, evidence, got in query(
            TOUCHES_SQL.format(where=where), params
        ):
            touches.append(
                TouchRecord(
                    id,
                    utc_instant(at),
                    customer,
                    staff,
                    store,
                    stage,
                    channel,
                    None if evidence is None else json.loads(evidence),
                )
            )
            if got:
                recorded[id] = received(got)
        where, params = between("d.closed_at", start, end)
        deals = []
        for id, customer, store, staff, closed_at, amount, reward_pool, points_pool, got in query(
            DEALS_SQL.format(where=where), params
        ):
            deals.append(
                deal_record(id, customer, store, staff, closed_at, amount, reward_pool, points_pool)
            )
            if got:
                recorded[id] = received(got)
        where, params = between("r.at", start, end)
        referrals = []
        for id, at, customer, to_store, referrer_staff, referrer_customer, got in query(
            REFERRALS_SQL.format(where=where), params
        ):
            referrals.append(
                referral_record(id, at, customer, to_store, referrer_staff, referrer_customer)
            )
            if got:
                recorded[id] = received(got)
        spells: dict[str, list[Staff]] = defaultdict(list)
        for staff, name, store, role, from_date, to_date in query(SPELLS_SQL):
            spells[staff].append(
                unchecked(
                    Staff,
                    {
                        "id": staff,
                        "name": name,
                        "store": store,
                        "role": role,
                        "from_": date.fromisoformat(from_date) if from_date else None,
                        "to": date.fromisoformat(to_date) if to_date else None,
                    },
                )
            )
        cities = {str(store): str(city) for store, city in query(CITIES_SQL) if city}
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
