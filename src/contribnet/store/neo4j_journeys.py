"""Many deals' journeys from Neo4j in one query: the credit engine's input on this store.

:meth:`~contribnet.store.neo4j.Neo4jStore.deal_journeys` reads them here -- the batch
settlement's chunks and the preview's single deals alike -- from ``cypher/store/deal_journeys``:
each deal's event, its customer's items with their voided flags, and once for all the deals the
staff spells and store records they involve.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, TypeVar

import neo4j

from contribnet import cypher
from contribnet.domain.events import (
    Customer,
    Deal,
    Handover,
    JointEvent,
    LeadAssignment,
    Referral,
    Staff,
    Touch,
    stored,
)
from contribnet.domain.events import Store as StoreRecord
from contribnet.domain.journey import DealJourney, DealMark, VoidedItem, earlier_live_deals
from contribnet.store import neo4j_retry
from contribnet.store.base import deal_journey_of, lookup

__all__ = ["deal_journeys", "touch_fields"]


def _instant(text: str) -> datetime:
    """An instant the queries return as ISO text (the driver reads text far faster than
    temporal values)."""
    return datetime.fromisoformat(text).astimezone(UTC)


_Timed = TypeVar("_Timed", Referral, Handover, JointEvent, LeadAssignment)


def _when(event: Touch | Referral | Handover | JointEvent | LeadAssignment) -> tuple[datetime, str]:
    return event.at, event.id


def _voided(row: Mapping[str, Any]) -> tuple[VoidedItem, ...]:
    """The voided touches, referrals and handovers of one of ``deal_journeys``' journeys."""
    items = [
        VoidedItem(datetime.fromisoformat(t["at"]).astimezone(UTC), t["id"], "touch")
        for t in row["touches"]
        if t["voided"]
    ]
    for i in row["referrals"]:
        if i["voided"]:
            referral = stored(Referral, json.loads(i["payload"]))
            items.append(VoidedItem(referral.at, referral.id, "referral"))
    for i in row["handovers"]:
        if i["voided"]:
            handover = stored(Handover, json.loads(i["payload"]))
            items.append(VoidedItem(handover.at, handover.id, "handover"))
    return tuple(sorted(items))


def _live(model: type[_Timed], items: list[dict[str, Any]]) -> tuple[_Timed, ...]:
    """The recorded events of one kind that are not voided, in time order."""
    return tuple(
        sorted(
            (stored(model, json.loads(i["payload"])) for i in items if not i["voided"]), key=_when
        )
    )


_LOG_FIELDS = frozenset({"hash", "voided", "recorded_at", "batch"})


def touch_fields(properties: dict[str, Any]) -> dict[str, Any]:
    """A touch's event fields, from its relationship's properties (less those of its log
    entry: its hash, whether it is voided, when it was received, which write it came in)."""
    fields = {k: v for k, v in properties.items() if k not in _LOG_FIELDS and v is not None}
    if "evidence" in fields:
        fields["evidence"] = json.loads(fields["evidence"])
    return fields


def deal_journeys(
    driver: neo4j.Driver, database: str, deal_ids: Sequence[str]
) -> dict[str, DealJourney]:
    """``Store.deal_journeys``: the journeys of the live deals among ``deal_ids``."""
    ids = list(dict.fromkeys(deal_ids))
    (row,) = neo4j_retry.read(driver, database, cypher.load("store/deal_journeys"), {"ids": ids})
    journeys, spell_rows, store_payloads = row  # by position: a record looks keys up in a list
    stores: dict[str, StoreRecord] = {}
    for payload in store_payloads:
        record = stored(StoreRecord, json.loads(payload))
        stores[record.id] = record
    spells: dict[str, list[tuple[str, Staff]]] = {}
    for spell in spell_rows:
        spells.setdefault(spell["staff"], []).append(
            (spell["from"] or "", stored(Staff, json.loads(spell["payload"])))
        )
    by_staff = {k: tuple(s for _, s in sorted(v, key=itemgetter(0))) for k, v in spells.items()}
    staff_lookup, store_lookup = lookup(by_staff), lookup(stores)
    found = {}
    for journey in journeys:
        deal = stored(Deal, json.loads(journey["deal"]))
        customer = journey["customer"]
        touches = tuple(
            sorted(
                (stored(Touch, touch_fields(t)) for t in journey["touches"] if not t["voided"]),
                key=_when,
            )
        )
        found[deal.id] = deal_journey_of(
            deal,
            stored(Customer, json.loads(customer)) if customer else None,
            touches,
            _live(Referral, journey["referrals"]),
            _live(Handover, journey["handovers"]),
            _live(JointEvent, journey["joint_events"]),
            staff_lookup,
            store_lookup,
            earlier_live_deals(
                DealMark(deal.closed_at, deal.id),
                (DealMark(_instant(o["closed_at"]), o["id"]) for o in journey["deals"]),
            ),
            _voided(journey),
            _live(LeadAssignment, journey["lead_assignments"]),
        )
    return found
