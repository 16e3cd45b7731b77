"""The fraud signals' port on Neo4j: the rules' bulk reads, and reviews of flags.

Built on the store's driver and held by the store as ``store.flags``. Touches are read from their
``[:TOUCHED]`` relationships, deals and referrals from their ``(:Event)`` log entries; a review is
a ``(:FlagReview {flag, record})`` node, unique by flag. All Cypher is in ``cypher/store/``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import neo4j

from contribnet import cypher
from contribnet.domain.events import Deal, Referral, Staff, Touch, stored
from contribnet.domain.events import Store as StoreRecord
from contribnet.domain.flags import FlagInputs, FlagReview
from contribnet.domain.settlement import RecordConflict
from contribnet.store import neo4j_retry
from contribnet.store.neo4j_journeys import touch_fields

__all__ = ["Neo4jFlags"]


def _received(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(UTC) if text else None


class Neo4jFlags:
    """The ``FlagStore`` port on a Neo4j store's driver and database."""

    def __init__(self, driver: neo4j.Driver, database: str) -> None:
        self._driver = driver
        self._database = database

    def _read(self, name: str, **params: Any) -> list[neo4j.Record]:
        records, _, _ = self._driver.execute_query(
            cypher.load(name), params, database_=self._database, routing_=neo4j.RoutingControl.READ
        )
        return records

    def flag_inputs(self, start: datetime | None, end: datetime | None) -> FlagInputs:
        recorded: dict[str, datetime] = {}
        touches: list[Touch] = []
        for row in self._read("store/flag_touches", start=start, end=end):
            touch = stored(Touch, touch_fields(dict(row["touch"])))
            touches.append(touch)
            at = _received(row["recorded_at"])
            if at is not None:
                recorded[touch.id] = at
        touches.sort(key=lambda t: (t.at, t.id))
        deals: list[Deal] = []
        referrals: list[Referral] = []
        for row in self._read("store/flag_events", start=start, end=end):
            payload = json.loads(row["payload"])
            if payload["type"] == "deal":
                deal = stored(Deal, payload)
                deals.append(deal)
                event_id = deal.id
            else:
                referral = stored(Referral, payload)
                referrals.append(referral)
                event_id = referral.id
            at = _received(row["recorded_at"])
            if at is not None:
                recorded[event_id] = at
        spells: dict[str, list[Staff]] = defaultdict(list)
        cities: dict[str, str] = {}
        for row in self._read("store/flag_entities"):
            payload = json.loads(row["payload"])
            if row["type"] == "staff":
                spell = stored(Staff, payload)
                spells[spell.id].append(spell)
            else:
                store = stored(StoreRecord, payload)
                cities[store.id] = store.city
        for group in spells.values():
            group.sort(key=lambda s: (s.from_ is not None, s.from_))
        return FlagInputs(
            touches=touches,
            deals=sorted(deals, key=lambda d: (d.closed_at, d.id)),
            referrals=sorted(referrals, key=lambda r: (r.at, r.id)),
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
            self._driver.execute_query(
                cypher.load("store/put_flag_review"),
                flag=review.flag,
                decision=review.decision,
                reviewed_at=review.reviewed_at,
                record=review.model_dump_json(),
                database_=self._database,
            )

        return neo4j_retry.put_once(find, put, review, f"the review of flag {review.flag!r}")

    def flag_reviews(self, flags: Sequence[str] | None = None) -> dict[str, FlagReview]:
        rows = self._read(
            "store/flag_reviews", flags=None if flags is None else list(dict.fromkeys(flags))
        )
        return {str(r["flag"]): FlagReview.model_validate_json(r["record"]) for r in rows}
