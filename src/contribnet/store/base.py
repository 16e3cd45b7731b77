"""The ``Store`` port: what the services need from a system of record.

Two adapters implement it — ``sqlite.py`` (embedded, the default) and ``neo4j.py`` (production) —
and ``tests/contract/`` runs one suite against both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from contribnet.domain.events import (
    Customer,
    Deal,
    Event,
    Handover,
    JointEvent,
    Referral,
    Staff,
    Store as StoreRecord,
    Touch,
)
from contribnet.domain.journey import DealJourney, Journey, Page

__all__ = ["IngestResult", "RecordedEvent", "Store", "assemble_deal_journey", "staff_view"]


@dataclass(frozen=True)
class RecordedEvent:
    """A validated event ready to append: its key, canonical JSON and content hash."""

    key: str
    event: Event
    canonical: bytes
    hash: str


@dataclass(frozen=True)
class IngestResult:
    accepted: int = 0
    duplicates: int = 0

    def __add__(self, other: IngestResult) -> IngestResult:
        return IngestResult(self.accepted + other.accepted, self.duplicates + other.duplicates)


class Store(Protocol):
    """A system of record for the event stream and the reads built on it."""

    def append(self, events: Sequence[RecordedEvent]) -> IngestResult:
        """Write the new events of a batch atomically.

        An event whose key is stored with the same hash is a duplicate (not written again); one
        stored with another hash raises ``ConflictError`` and nothing of the batch is written.
        Keys are unique within a batch (the service merges exact repeats first).
        """
        ...

    def stored_hashes(self, keys: Sequence[str]) -> dict[str, str]:
        """The content hashes of those of ``keys`` already recorded."""
        ...

    def journey(self, customer_id: str) -> Journey:
        """The customer's journey; raises ``NotFound`` if nothing references the customer."""
        ...

    def deal_journey(self, deal_id: str) -> DealJourney:
        """The deal and its customer's journey, voided events removed; ``NotFound`` if no deal."""
        ...

    def stage_paths(self) -> Iterator[tuple[tuple[str, ...], bool]]:
        """Per customer, the stages of their non-voided touches in time order, and whether they
        have a non-voided deal (training data for the data-driven credit models)."""
        ...

    def get(self, kind: str, id: str) -> dict[str, Any]:
        """One store, staff member (with employment spells) or deal; raises ``NotFound``."""
        ...

    def list(self, kind: str, offset: int, limit: int) -> Page:
        """A page of stores, staff, customers or deals, ordered by id."""
        ...

    def count_events(self) -> dict[str, int]:
        """How many events of each type are recorded (voided ones included)."""
        ...

    def put_api_key(self, key_hash: str, role: str, staff: str | None, created_at: str) -> None:
        """Record an API key by the hash of its secret (the secret itself is never stored)."""
        ...

    def find_api_key(self, key_hash: str) -> dict[str, Any] | None:
        """The key recorded under that hash: ``{"role", "staff", "created_at"}``, or None."""
        ...

    def close(self) -> None: ...


def assemble_deal_journey(
    deal: Deal,
    journey: Journey,
    staff_spells: Callable[[Sequence[str]], dict[str, tuple[Staff, ...]]],
    stores: Callable[[Sequence[str]], dict[str, StoreRecord]],
) -> DealJourney:
    """The credit engine's view of a deal, from the customer's journey: voided items dropped, and
    the employment spells and stores of everyone and everywhere involved looked up."""

    def live(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in i.items() if k != "voided"} for i in items if not i["voided"]]

    touches = tuple(Touch.model_validate(t) for t in live(journey.touches))
    referrals = tuple(Referral.model_validate(r) for r in live(journey.referrals))
    handovers = tuple(Handover.model_validate(h) for h in live(journey.handovers))
    joint_events = tuple(JointEvent.model_validate(j) for j in live(journey.joint_events))
    staff_ids = {deal.staff} | {t.staff for t in touches}
    staff_ids |= {h.from_staff for h in handovers} | {h.to_staff for h in handovers}
    staff_ids |= {r.referrer_staff for r in referrals if r.referrer_staff}
    staff = staff_spells(sorted(staff_ids))
    store_ids = {deal.store} | {t.store for t in touches} | {r.to_store for r in referrals}
    store_ids |= {o for j in joint_events for o in j.organisers}
    store_ids |= {s.store for spells in staff.values() for s in spells}
    return DealJourney(
        deal=deal,
        customer=Customer.model_validate(journey.customer) if journey.customer else None,
        touches=touches,
        referrals=referrals,
        handovers=handovers,
        joint_events=joint_events,
        stores=stores(sorted(store_ids)),
        staff=staff,
    )


def staff_view(staff_id: str, spells: Sequence[Staff]) -> dict[str, Any]:
    """A staff member as the API shows them: the latest spell's name, role and store, and every
    employment spell."""
    latest = spells[-1]
    return {
        "id": staff_id,
        "name": latest.name,
        "role": latest.role,
        "store": latest.store,
        "employment": [
            s.model_dump(mode="json", by_alias=True, include={"store", "role", "from_", "to"})
            for s in spells
        ],
    }
