"""The ``journey`` column of an export read back in the executors, as the store reads its events.

:func:`contribnet.scale.export.export` writes each deal's
:class:`~contribnet.domain.journey.DealJourney` as JSON (``model_dump_json``) from journeys the
store built out of events it validated when it accepted them. Validating that JSON again
(``DealJourney.model_validate_json``) cost more per deal than the split; :class:`JourneyReader`
builds the journey as the store's read path does instead (:func:`~contribnet.domain.events.stored`:
ISO text becomes instants in UTC and dates, nothing else is checked), so the engine gets the
journey the service would have given it, and its input hash is the same.

The reader also keeps one object per distinct staff spell and store record across the journeys
it reads, as one store read does for a chunk: the engine encodes each shared record once for the
input hash (``credit/engine.py``), and most deals of a batch share their stores and staff.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from contribnet.domain.events import (
    Customer,
    Deal,
    Handover,
    JointEvent,
    LeadAssignment,
    Referral,
    Staff,
    Store,
    Touch,
    stored,
)
from contribnet.domain.journey import DealJourney, DealMark, VoidedItem
from contribnet.domain.unchecked import unchecked

__all__ = ["JourneyReader"]

#: Shared records kept at most, per kind (a worker reads many batches; the records of a network
#: number in the thousands).
MAX_SHARED = 50_000


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


class JourneyReader:
    """Reads exported journeys (``DealJourney`` JSON) without validating them again.

    >>> from contribnet.domain.events import Deal
    >>> from datetime import UTC, datetime
    >>> deal = Deal(id="d", customer="c", store="st", staff="sf", closed_at=datetime(2025, 1, 9,
    ...             tzinfo=UTC), amount=100, reward_pool=10)
    >>> text = DealJourney(deal=deal).model_dump_json()
    >>> JourneyReader().read(text) == DealJourney.model_validate_json(text)
    True
    """

    def __init__(self) -> None:
        self._spells: dict[tuple[Any, ...], Staff] = {}
        self._stores: dict[tuple[Any, ...], Store] = {}

    def _spell(self, fields: dict[str, Any]) -> Staff:
        key = tuple(fields.values())
        found = self._spells.get(key)
        if found is None:
            if len(self._spells) >= MAX_SHARED:
                self._spells.clear()
            found = self._spells[key] = stored(Staff, fields)
        return found

    def _store(self, fields: dict[str, Any]) -> Store:
        key = tuple(fields.values())
        found = self._stores.get(key)
        if found is None:
            if len(self._stores) >= MAX_SHARED:
                self._stores.clear()
            found = self._stores[key] = stored(Store, fields)
        return found

    def read(self, text: str | bytes) -> DealJourney:
        """The journey whose ``model_dump_json`` is ``text``."""
        data = json.loads(text)
        customer = data["customer"]
        assignments = data["assignments"]
        return unchecked(
            DealJourney,
            {
                "deal": stored(Deal, data["deal"]),
                "customer": stored(Customer, customer) if customer is not None else None,
                "touches": tuple(stored(Touch, t) for t in data["touches"]),
                "referrals": tuple(stored(Referral, r) for r in data["referrals"]),
                "handovers": tuple(stored(Handover, h) for h in data["handovers"]),
                "joint_events": tuple(stored(JointEvent, j) for j in data["joint_events"]),
                "stores": {k: self._store(v) for k, v in data["stores"].items()},
                "staff": {
                    k: tuple(self._spell(s) for s in spells) for k, spells in data["staff"].items()
                },
                "earlier_deals": tuple(
                    DealMark(_instant(at), id_) for at, id_ in data["earlier_deals"]
                ),
                "voided": tuple(
                    VoidedItem(_instant(at), id_, source) for at, id_, source in data["voided"]
                ),
                "assignments": (
                    tuple(stored(LeadAssignment, a) for a in assignments)
                    if assignments is not None
                    else None
                ),
            },
        )
