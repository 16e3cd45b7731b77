"""Lead pools: the pool policy, reclaiming leads not followed up in time, and who held a lead when.

The definitions (holder, follow-up, deadline) are in :mod:`contribnet.domain.leads`. Reclaiming
as of an instant records, for each lead whose holder did not follow up by the deadline, a
``lead_assignment`` event with reason ``reclaimed``, at the deadline, from the holder, with an
id derived from the holding (:func:`~contribnet.domain.leads.reclaim_id`). Its content depends
only on the holding and the policy, so a second run -- or two at once -- sends the same events,
which ingest answers as duplicates: nothing new is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from contribnet.credit.guards import store_at
from contribnet.domain.events import DEFAULT_ACTIONS, DEFAULT_STAGES, LeadAssignment
from contribnet.domain.leads import (
    FollowUpWindow,
    Holding,
    PoolPolicy,
    current_holdings,
    deadline,
    reclaim_event,
)
from contribnet.domain.settlement import InvalidRequest
from contribnet.paths import POLICIES_DIR
from contribnet.services.ingest import ingest_events
from contribnet.services.journeys import customer_journey, journey_holdings
from contribnet.services.policies import policy_document, validation_problems
from contribnet.store.base import Store
from contribnet.store.leads import lead_store

__all__ = [
    "DEFAULT_POOL_POLICY",
    "LeadHistory",
    "ReclaimResult",
    "due_reclaims",
    "lead_history",
    "load_pool_policy",
    "parse_pool_policy",
    "reclaim",
]

#: The shipped pool policy (72 hours everywhere), used unless ``CONTRIBNET_POOL_POLICY`` names
#: another file.
DEFAULT_POOL_POLICY = POLICIES_DIR / "pool" / "default.toml"


def parse_pool_policy(text: str, field: str = "pool_policy") -> PoolPolicy:
    """A pool policy from TOML text; problems raise :class:`InvalidRequest` naming the key
    (``pool_policy.region_hours.East``).

    >>> parse_pool_policy("follow_up_hours = 48\\n[region_hours]\\nEast = 24").hours("East")
    24.0
    """
    data, _ = policy_document(text, "a pool policy", field)
    try:
        return PoolPolicy.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(validation_problems(exc, field)) from None


def load_pool_policy(path: Path | None = None) -> PoolPolicy:
    """The pool policy in ``path`` (``CONTRIBNET_POOL_POLICY``), else the shipped one; a bad
    file raises :class:`InvalidRequest` naming the file and key."""
    path = path or DEFAULT_POOL_POLICY
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRequest.one(str(path), f"cannot read the pool policy: {exc}") from None
    return parse_pool_policy(text, field=str(path))


class Reclaimed(BaseModel):
    """One lead reclaimed: the reclaim event's id, the lead, the holder it was taken from, the
    deadline they missed (the event's ``at``) and the assignment that gave them the lead."""

    id: str
    lead: str
    staff: str
    at: datetime
    assignment: str
    hours: float


class ReclaimResult(BaseModel):
    """What a reclaim run found due as of ``as_of``, and what of it was new in the store
    (``accepted``) or recorded already, by an earlier or concurrent run (``duplicates``)."""

    as_of: datetime
    reclaimed: list[Reclaimed]
    accepted: int
    duplicates: int


def due_reclaims(
    store: Store, as_of: datetime, policy: PoolPolicy
) -> list[tuple[LeadAssignment, LeadAssignment, float]]:
    """The holdings not followed up by their deadline, which passed before ``as_of``: for each,
    ``(holding, its reclaim event, the follow-up hours)``, by lead."""
    leads = lead_store(store)
    holdings = current_holdings(leads.lead_assignments(as_of), as_of)
    shortest = min([policy.follow_up_hours, *policy.region_hours.values()])

    def overdue(a: LeadAssignment, hours: float) -> datetime | None:
        due = deadline(a, hours)
        return due if due is not None and due < as_of else None  # at the deadline: in time

    # only holdings that could be overdue under the shortest deadline need their region
    candidates = [a for a in holdings.values() if a.staff and overdue(a, shortest)]
    spells = leads.staff_spells(sorted({str(a.staff) for a in candidates}))
    stores = {a.id: store_at(spells.get(str(a.staff), ()), a.at.date()) for a in candidates}
    regions = leads.store_regions(sorted({s for s in stores.values() if s}))
    hours: dict[str, float] = {}
    windows: dict[str, FollowUpWindow] = {}
    for a in candidates:
        store_id = stores[a.id]
        hours[a.id] = policy.hours(regions.get(store_id) if store_id else None)
        due = overdue(a, hours[a.id])
        if due is not None:
            windows[a.id] = FollowUpWindow(a.id, a.lead, str(a.staff), a.at, due)
    followed = leads.followed_up(list(windows.values()))
    missed = [a for a in candidates if a.id in windows and a.id not in followed]
    return sorted(
        ((a, reclaim_event(a, windows[a.id].end), hours[a.id]) for a in missed),
        key=lambda d: d[0].lead,
    )


def reclaim(
    store: Store,
    as_of: datetime | None = None,
    policy: PoolPolicy | None = None,
    stages: Sequence[str] = DEFAULT_STAGES,
    actions: Sequence[str] = DEFAULT_ACTIONS,
) -> ReclaimResult:
    """Reclaim, as of ``as_of`` (default now), every lead whose holder did not follow it up by
    the deadline under ``policy`` (default: the shipped one): one ``reclaimed`` assignment each,
    ingested in one all-or-nothing batch."""
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    due = due_reclaims(store, as_of, policy or load_pool_policy())
    events: list[dict[str, Any]] = [
        event.model_dump(mode="json", by_alias=True, exclude_none=True) for _, event, _ in due
    ]
    accepted = duplicates = 0
    if events:
        result = ingest_events(store, events, stages, actions)
        accepted, duplicates = result.accepted, result.duplicates
    return ReclaimResult(
        as_of=as_of,
        reclaimed=[
            Reclaimed(
                id=event.id,
                lead=event.lead,
                staff=str(event.staff),
                at=event.at,
                assignment=holding.id,
                hours=hours,
            )
            for holding, event, hours in due
        ],
        accepted=accepted,
        duplicates=duplicates,
    )


class LeadHistory(BaseModel):
    """A lead's holding history: who holds it now (``None``: in the pool or never assigned) and
    every holding (``domain/leads.py``)."""

    lead: str
    holder: str | None
    holdings: list[Holding]


def lead_history(store: Store, customer_id: str) -> LeadHistory:
    """Who held the customer's lead when; raises ``NotFound`` for an unknown customer."""
    holdings = journey_holdings(customer_journey(store, customer_id))
    # only the holding begun by the latest assignment is open (``to`` None)
    holder = holdings[-1].staff if holdings and holdings[-1].to is None else None
    return LeadHistory(lead=customer_id, holder=holder, holdings=holdings)
