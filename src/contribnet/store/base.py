"""The ports of a system of record: the event ``Store`` and the credit ``Ledger`` it holds.

Two adapters implement each -- ``sqlite.py`` with ``sqlite_ledger.py`` (embedded, the default)
and ``neo4j.py`` with ``neo4j_ledger.py`` (production); a store builds its ledger on its own
connection and hands it out as ``store.ledger``. ``tests/contract/`` runs one suite against both.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol, TypeVar

from contribnet.domain.events import (
    Customer,
    Deal,
    Event,
    Handover,
    JointEvent,
    LeadAssignment,
    Referral,
    Staff,
    Touch,
    stored,
)
from contribnet.domain.events import (
    Store as StoreRecord,
)
from contribnet.domain.journey import (
    DealJourney,
    DealMark,
    Journey,
    Page,
    VoidedItem,
    earlier_live_deals,
)
from contribnet.domain.settlement import (
    Adjustment,
    DealRef,
    PolicyRecord,
    RecordOutcome,
    Settlement,
)
from contribnet.domain.training import ContributionChanges, ContributionRows

__all__ = [
    "IngestResult",
    "Ledger",
    "RecordedEvent",
    "Store",
    "StoredEvent",
    "assemble_deal_journey",
    "deal_journey_of",
    "lookup",
    "read_whole",
    "recorded_text",
    "staff_view",
]


class RecordedEvent(NamedTuple):
    """A validated event ready to append: its key, canonical JSON and content hash.

    A named tuple, not a dataclass: ingest makes one per event, and it is the cheapest to build.
    """

    key: str
    event: Event
    canonical: bytes
    hash: str
    #: When the service received it (UTC), set by the ingest service; no part of ``hash``.
    recorded_at: datetime | None = None


class StoredEvent(NamedTuple):
    """An event as the store holds it now: ``hash`` is the content hash taken when it was
    accepted, ``canonical`` its canonical JSON rebuilt from the stored fields (the two disagree
    when the record was edited in the database since), ``recorded_at`` when the service received
    it (None for an event stored before received times were kept)."""

    key: str
    hash: str
    canonical: bytes
    recorded_at: datetime | None


#: Past this share of a store's events recorded since a mark (1 in ``CHANGES_SHARE``), reading
#: every journey once costs less than reading the changed customers' twice
#: (``Store.contribution_changes``).
CHANGES_SHARE = 10


def read_whole(new_events: int, events: int) -> bool:
    """Whether ``Store.contribution_changes`` had better answer None -- read every journey --
    when ``new_events`` of the store's ``events`` were recorded since the mark.

    >>> read_whole(100, 10_000), read_whole(1_001, 10_000)
    (False, True)
    """
    return new_events * CHANGES_SHARE > events


def recorded_text(at: datetime | None) -> str | None:
    """A received time as reads show it (``recorded_at``): ISO 8601 in UTC with ``Z``; None for
    an event stored before received times were kept.

    >>> recorded_text(datetime(2026, 12, 2, 11, 30, 0, 250000, tzinfo=UTC))
    '2026-12-02T11:30:00.250000Z'
    """
    if at is None:
        return None
    utc = at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return utc.isoformat(timespec="microseconds").replace("+00:00", "Z")


class BulkLoad(NamedTuple):
    """A whole file's appends in one transaction (:meth:`Store.bulk_load`), split in two so
    that a file's batches can be made ready in another process while this one writes:
    ``rows`` turns recorded events into what ``write`` stores (a pure, module-level function:
    it is sent to the other process by name), ``write`` appends them as ``Store.append``
    would."""

    rows: Callable[[Sequence[RecordedEvent]], Any]
    write: Callable[[Any], IngestResult]


@dataclass(frozen=True)
class IngestResult:
    accepted: int = 0
    duplicates: int = 0

    def __add__(self, other: IngestResult) -> IngestResult:
        return IngestResult(self.accepted + other.accepted, self.duplicates + other.duplicates)


class Store(Protocol):
    """A system of record for the event stream and the reads built on it."""

    def append(self, events: Sequence[RecordedEvent]) -> IngestResult:
        """Write the new events of a batch atomically, each with its ``recorded_at``: when the
        service received it (UTC; set by the ingest service, never by the sender, and no part
        of the event's content or hash).

        An event whose key is stored with the same hash is a duplicate (not written again, its
        first ``recorded_at`` kept); one stored with another hash raises ``ConflictError`` and
        nothing of the batch is written. Keys are unique within a batch (the service merges
        exact repeats first).
        """
        ...

    def bulk_load(self) -> AbstractContextManager[BulkLoad | None]:
        """A block in which to append a whole file; it gives a :class:`BulkLoad` when its
        writes are one transaction, undone together when the block raises (SQLite), or None
        when each batch is its own, committed as it comes through ``append`` (Neo4j: a file
        may hold millions of events)."""
        ...

    def stored_events(self, keys: Sequence[str]) -> dict[str, StoredEvent]:
        """Those of ``keys`` that are recorded, as the store holds them now: the content hash
        taken at ingest, the canonical JSON rebuilt from what is stored now, and when they were
        received (re-derivation, ``services/verify.py``, tells an edited record by them)."""
        ...

    def stored_hashes(self, keys: Sequence[str]) -> dict[str, str]:
        """The content hashes of those of ``keys`` already recorded."""
        ...

    def stored_types(self, ids: Sequence[str]) -> dict[str, str]:
        """The type of the event recorded under each of those ``ids`` that is recorded (a staff
        member's id, whose spells are keyed ``id@from``, gives ``"staff"``): what a void may
        target is told by it."""
        ...

    def journey(self, customer_id: str) -> Journey:
        """The customer's journey; raises ``NotFound`` if nothing references the customer."""
        ...

    def deal_journey(self, deal_id: str) -> DealJourney:
        """The deal and its customer's journey, voided events removed; ``NotFound`` if no deal."""
        ...

    def contribution_paths(
        self,
    ) -> Iterator[tuple[tuple[tuple[datetime, str], ...], tuple[datetime, ...]]]:
        """Per customer, ``(items, closes)``: the live (non-voided) contribution items as
        ``(at, stage)`` in time order -- logged touches by their stage, staff referrals as
        ``referral``, owner referrals as ``owner_referral`` (a customer's referral of themselves
        left out), handovers that include the customer as ``handover``; at one instant a touch,
        then a referral, then a handover, then by id -- and the close instants of the customer's
        live deals, in order. Every customer with an item or a live deal, once, in no set order.
        Training data of the learned credit models (``credit.learned.training_paths``); streamed,
        one pass over the touches."""
        ...

    def contribution_rows(self) -> ContributionRows:
        """The same items and closes as :meth:`contribution_paths`, as columns of primitives
        (:class:`~contribnet.domain.training.ContributionRows`): what the learned models' context
        is built from (``credit.context.encode_training_rows``), read in one ordered query.
        Their ``mark`` is the store's mark they are as of (:meth:`contribution_changes`), if it
        keeps one."""
        ...

    def contribution_changes(self, after: int) -> ContributionChanges | None:
        """The rows of the customers whose contribution rows the events recorded since mark
        ``after`` changed, as of ``after`` and as of the store's mark now
        (:class:`~contribnet.domain.training.ContributionChanges`). A mark counts the store's
        writes in the order they committed: on SQLite the last event's ``seq`` (writers take
        turns), on Neo4j the number of the last write transaction of events
        (``store/commit_batch.cypher``); rows as of a mark are exact however writers race.
        So the learned models' context is brought up to date from what changed, not from every
        journey again. None when the store keeps no marks, or when so much changed that
        reading every journey (:meth:`contribution_rows`) costs less."""
        ...

    def saved_tally(self, key: str) -> tuple[int, str] | None:
        """The mark and text :meth:`save_tally` last kept under ``key``; None if none is kept
        (or the store keeps no marks)."""
        ...

    def save_tally(self, key: str, mark: int, text: str) -> None:
        """Keep ``text``, what the caller made of the contribution rows as of ``mark``, under
        ``key``, in place of what was kept: it saves a new process reading every journey
        (``services.credit``). A store that keeps no marks, or opened read-only, keeps
        nothing."""
        ...

    def get(self, kind: str, id: str) -> dict[str, Any]:
        """One store, staff member (with employment spells) or deal; raises ``NotFound``."""
        ...

    # Below this method ``list`` names it, not the builtin: annotations use ``builtins.list``.
    def list(
        self,
        kind: str,
        offset: int,
        limit: int,
        *,
        store: str | None = None,
        staff: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Page:
        """A page of stores, staff, customers or deals, ordered by id. Deals only may be
        filtered: closed at ``store``, by ``staff``, in ``[start, end)``; ``total`` counts the
        matches."""
        ...

    def count_events(self) -> dict[str, int]:
        """How many events of each type are recorded (voided ones included)."""
        ...

    # API keys (services/keys.py): the store keeps ``(digest, sealed)`` pairs it cannot read --
    # the digest a peppered HMAC of the key, the record sealed under the same pepper.

    def put_api_key(self, digest: str, sealed: str) -> None:
        """Record a key's sealed record under its digest (the secret itself is never stored)."""
        ...

    def find_api_key(self, digest: str) -> str | None:
        """The sealed record kept under ``digest``, or None."""
        ...

    def api_keys(self) -> builtins.list[dict[str, Any]]:
        """Every key record: ``{"digest", "sealed"}``, or, for a record written before keys
        were peppered and not re-sealed yet, ``{"hash", "role", "staff", "created_at",
        "expires_at", "revoked_at"}``."""
        ...

    def replace_api_keys(self, changes: Sequence[tuple[str, str, str]]) -> None:
        """For each ``(old, digest, sealed)`` whose record under ``old`` (a digest, or the hash
        of a record from before peppering) is still there: remove it and keep ``sealed`` under
        ``digest``; all in one transaction. A change whose ``old`` is gone (replaced meanwhile,
        say revoked) does nothing, so a stale copy never overwrites a newer record."""
        ...

    def event_count(self) -> int:
        """How many events are recorded: cheap, and it grows with every accepted event, so it
        tells a cache built from the events whether it is stale."""
        ...

    def deal_journeys(self, deal_ids: Sequence[str]) -> dict[str, DealJourney]:
        """``deal_journey`` of many deals in few reads; voided and unknown deals are left out."""
        ...

    @property
    def ledger(self) -> Ledger:
        """The credit ledger kept in the same database (its own port, below)."""
        ...

    def close(self) -> None: ...


class Ledger(Protocol):
    """The credit ledger: policy versions, settlements and adjustments, immutable records kept
    beside the event stream (``Store.ledger``) by the rules of :mod:`contribnet.domain.ledger`.
    Two adapters implement it, ``sqlite_ledger.py`` and ``neo4j_ledger.py``, each on its
    store's connection; ``tests/contract/`` runs one suite against both."""

    def closed_deals(
        self,
        start: datetime | None,
        end: datetime | None,
        *,
        unsettled: bool = False,
        after: DealRef | None = None,
        limit: int = 1000,
    ) -> list[DealRef]:
        """Non-voided deals closed in ``[start, end)`` (``None``: open), ordered by close then id,
        after the ``after`` cursor; with ``unsettled`` only those with no settlement (the work
        list of a batch settlement, which is why the ledger answers it)."""
        ...

    def count_closed_deals(
        self, start: datetime | None, end: datetime | None, *, unsettled: bool = False
    ) -> int:
        """How many deals ``closed_deals`` would list in all."""
        ...

    def put_policy(self, record: PolicyRecord) -> tuple[PolicyRecord, bool]:
        """Record a policy version: ``(record, True)``; one with that id and hash already
        recorded: ``(it, False)``; that id with another hash raises ``RecordConflict``."""
        ...

    def policies(self) -> list[PolicyRecord]:
        """Every policy version, in the order recorded."""
        ...

    def record_settlements(self, settlements: Sequence[Settlement]) -> list[RecordOutcome]:
        """Record settlements atomically, one outcome each: ``created`` (it is now its deal's
        current settlement), ``existing`` (that id is recorded: nothing written) or ``conflict``
        (its deal's current settlement is not the one it supersedes: nothing written for it).
        In Neo4j the current settlement is also projected as ``(:Deal)-[:CREDITED]->``."""
        ...

    def settlement(self, settlement_id: str) -> Settlement:
        """One settlement by id; raises ``NotFound``."""
        ...

    def settlement_history(self, deal_id: str) -> list[Settlement]:
        """A deal's settlements, oldest first (the last is current)."""
        ...

    def current_settlements(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        staff: str | None = None,
        deals: Sequence[str] | None = None,
        store: str | None = None,
        after: DealRef | None = None,
        limit: int | None = None,
    ) -> Iterator[Settlement]:
        """The current settlements of deals closed in ``[start, end)``, by close then deal;
        only those crediting ``staff``, or of ``deals``, or of a deal closed at ``store`` or
        crediting someone for it, if given; only those after the ``after`` cursor (close, deal);
        at most ``limit``."""
        ...

    def put_adjustment(self, adjustment: Adjustment) -> tuple[Adjustment, bool]:
        """Append an adjustment: ``(it, True)``; the same id and content again: ``(the recorded
        one, False)``; the same id with other content raises ``RecordConflict``."""
        ...

    def adjustments(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        deal: str | None = None,
        staff: str | None = None,
    ) -> list[Adjustment]:
        """Adjustments of deals closed in ``[start, end)``, of one deal, or moving credit from or
        to one staff member; in the order recorded."""
        ...


_Found = TypeVar("_Found")


def lookup(known: dict[str, _Found]) -> Callable[[Sequence[str]], dict[str, _Found]]:
    """Look ids up in ``known`` (read once for many journeys), leaving out those it lacks."""
    return lambda ids: {i: known[i] for i in ids if i in known}


def assemble_deal_journey(
    deal: Deal,
    journey: Journey,
    staff_spells: Callable[[Sequence[str]], dict[str, tuple[Staff, ...]]],
    stores: Callable[[Sequence[str]], dict[str, StoreRecord]],
) -> DealJourney:
    """The credit engine's view of a deal, from the customer's journey: voided items dropped, and
    the employment spells and stores of everyone and everywhere involved looked up."""

    def live(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [i for i in items if not i["voided"]]  # ``stored`` ignores the ``voided`` key

    return deal_journey_of(
        deal,
        stored(Customer, journey.customer) if journey.customer else None,
        tuple(stored(Touch, t) for t in live(journey.touches)),
        tuple(stored(Referral, r) for r in live(journey.referrals)),
        tuple(stored(Handover, h) for h in live(journey.handovers)),
        tuple(stored(JointEvent, j) for j in live(journey.joint_events)),
        staff_spells,
        stores,
        earlier_live_deals(
            DealMark(deal.closed_at, deal.id),
            (DealMark(_instant(d["closed_at"]), d["id"]) for d in journey.deals if not d["voided"]),
        ),
        tuple(
            sorted(
                VoidedItem(_instant(i["at"]), i["id"], source)
                for source, items in (
                    ("touch", journey.touches),
                    ("referral", journey.referrals),
                    ("handover", journey.handovers),
                )
                for i in items
                if i["voided"]
            )
        ),
        tuple(
            sorted(
                (stored(LeadAssignment, a) for a in live(journey.lead_assignments)),
                key=lambda a: (a.at, a.id),
            )
        ),
    )


def _instant(text: str) -> datetime:
    """An instant as stored in an event payload (ISO 8601 with an offset), in UTC."""
    return datetime.fromisoformat(text).astimezone(UTC)


def deal_journey_of(
    deal: Deal,
    customer: Customer | None,
    touches: tuple[Touch, ...],
    referrals: tuple[Referral, ...],
    handovers: tuple[Handover, ...],
    joint_events: tuple[JointEvent, ...],
    staff_spells: Callable[[Sequence[str]], dict[str, tuple[Staff, ...]]],
    stores: Callable[[Sequence[str]], dict[str, StoreRecord]],
    earlier_deals: tuple[DealMark, ...] = (),
    voided: tuple[VoidedItem, ...] = (),
    assignments: tuple[LeadAssignment, ...] = (),
) -> DealJourney:
    """A :class:`DealJourney` from the deal's live events (in journey order), with the employment
    spells and store records of every staff member and store they involve looked up, and the
    customer's live deals ordered before it (``earlier_deals``), voided contributions and live
    lead assignments (by ``(at, id)``)."""
    staff_ids = {deal.staff} | {t.staff for t in touches}
    staff_ids |= {a.staff for a in assignments if a.staff}
    staff_ids |= {h.from_staff for h in handovers} | {h.to_staff for h in handovers}
    staff_ids |= {r.referrer_staff for r in referrals if r.referrer_staff}
    staff = staff_spells(sorted(staff_ids))
    store_ids = {deal.store} | {t.store for t in touches} | {r.to_store for r in referrals}
    store_ids |= {o for j in joint_events for o in j.organisers}
    store_ids |= {s.store for spells in staff.values() for s in spells}
    return DealJourney(
        deal=deal,
        customer=customer,
        touches=touches,
        referrals=referrals,
        handovers=handovers,
        joint_events=joint_events,
        stores=stores(sorted(store_ids)),
        staff=staff,
        earlier_deals=earlier_deals,
        voided=voided,
        assignments=assignments or None,
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
