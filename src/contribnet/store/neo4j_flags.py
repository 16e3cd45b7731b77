"""The fraud signals' port on Neo4j: the rules' bulk reads, and reviews of flags.

Built on the store's driver and held by the store as ``store.flags``. Touches are read from their
``[:TOUCHED]`` relationships, deals and referrals from the graph, with the received times of their
``(:Event)`` log entries; a review is a ``(:FlagReview {flag, record})`` node, unique by flag. All
Cypher is in ``cypher/store/``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import neo4j

from contribnet import cypher
from contribnet.domain.events import Staff, stored
from contribnet.domain.events import Store as StoreRecord
from contribnet.domain.flags import FlagInputs, FlagReview, TouchRecord
from contribnet.domain.settlement import RecordConflict
from contribnet.store import neo4j_retry
from contribnet.store.flags import deal_record, received_times, referral_record, utc_instant

__all__ = ["Neo4jFlags"]


#: Staff members per page of the touches read: about 40,000 touches on the m network, a page
#: well within the server's transaction timeout (60 s by default here) on a loaded machine.
_STAFF_PAGE = 50


class Neo4jFlags:
    """The ``FlagStore`` port on a Neo4j store's driver and database."""

    def __init__(self, driver: neo4j.Driver, database: str) -> None:
        self._driver = driver
        self._database = database

    def _read(self, name: str, **params: Any) -> list[neo4j.Record]:
        return neo4j_retry.read(self._driver, self._database, cypher.load(name), params)

    def _pages(self, name: str, **params: Any) -> Iterator[neo4j.Record]:
        """The rows of a read paged by staff id (``$after``, ``$limit``), page after page, each
        in a transaction of its own."""
        after = ""
        while True:
            rows = self._read(name, after=after, limit=_STAFF_PAGE, **params)
            yield from rows
            if len(rows) < _STAFF_PAGE:
                return
            after = rows[-1]["staff"]

    def flag_inputs(self, start: datetime | None, end: datetime | None) -> FlagInputs:
        # Rows of lists: touches as plain records (``TouchRecord``), the few deals and referrals
        # as models built without validation (``unchecked``); the rules read every touch of the
        # store, and a driver record or a model per touch cost more than the rules.
        recorded: dict[str, datetime] = {}
        received = received_times()
        touches: list[TouchRecord] = []
        for row in self._pages("store/flag_touches", start=start, end=end):
            staff = row["staff"]
            for id, at, customer, store, stage, channel, evidence, got in row["touches"]:
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
        deals = []
        for row in self._read("store/flag_deals", start=start, end=end):
            store = row["store"]
            for id, customer, closer, closed_at, amount, reward_pool, points_pool, got in row[
                "deals"
            ]:
                deals.append(
                    deal_record(
                        id, customer, store, closer, closed_at, amount, reward_pool, points_pool
                    )
                )
                if got:
                    recorded[id] = received(got)
        referrals = []
        (row,) = self._read("store/flag_referrals", start=start, end=end)
        for id, at, customer, to_store, referrer_staff, referrer_customer, got in row["referrals"]:
            referrals.append(
                referral_record(id, at, customer, to_store, referrer_staff, referrer_customer)
            )
            if got:
                recorded[id] = received(got)
        spells: dict[str, list[Staff]] = defaultdict(list)
        cities: dict[str, str] = {}
        for row in self._read("store/flag_entities"):
            payload = json.loads(row["payload"])
            if row["type"] == "staff":
                spell = stored(Staff, payload)
                spells[spell.id].append(spell)
            else:
                store_record = stored(StoreRecord, payload)
                cities[store_record.id] = store_record.city
        for group in spells.values():
            group.sort(key=lambda s: (s.from_ is not None, s.from_))
        return FlagInputs(
            touches=touches,
            deals=deals,
            referrals=referrals,
            spells=dict(spells),
            cities=cities,
            recorded=recorded,
        )

    def put_flag_review(self, review: FlagReview) -> tuple[FlagReview, bool]:
        def find() -> FlagReview | None:
            found = self._read("store/find_flag_review", flag=review.flag)
            if not found:
                return None
            recorded = FlagReview.model_validate_json(found[0]["record"])
            if (recorded.decision, recorded.reason) != (review.decision, review.reason):
                raise RecordConflict("flag review", review.flag)
            return recorded

        def put() -> None:
            neo4j_retry.execute(
                self._driver,
                self._database,
                cypher.load("store/put_flag_review"),
                {
                    "flag": review.flag,
                    "decision": review.decision,
                    "reviewed_at": review.reviewed_at,
                    "record": review.model_dump_json(),
                },
            )

        return neo4j_retry.put_once(find, put, review, f"the review of flag {review.flag!r}")

    def flag_reviews(self, flags: Sequence[str] | None = None) -> dict[str, FlagReview]:
        rows = self._read(
            "store/flag_reviews", flags=None if flags is None else list(dict.fromkeys(flags))
        )
        return {str(r["flag"]): FlagReview.model_validate_json(r["record"]) for r in rows}
