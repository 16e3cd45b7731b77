"""Re-derivation: compute a settlement again from the events and the policy version it recorded.

A settlement records its policy version, model and input hash (a hash of the deal's journey,
policy and model: ``credit.engine.input_hash``). :func:`verify_settlement` (one settlement, the
current one of its deal or a superseded one) and :func:`verify_period` (the current settlements
of the deals closed in a period) compute each split again, under that settlement's own policy
version and model, from the events as the store holds them now, and answer:

* ``reproduced`` -- every person's fen and points are those recorded, the input hash is the one
  recorded, and no event of the deal's journey was edited in the database;
* ``differs`` -- per person the recorded fen, the recomputed fen and the difference; whether the
  input hash differs; which of the journey's events no longer match the content hash taken when
  they were accepted (``altered_events``: edited in the database, bypassing the API), and which
  were received after the settlement was made (``late_events``: late, not altered -- they
  explain a superseded settlement's difference);
* ``failed`` -- the split cannot be computed (its policy version is not recorded, its model no
  longer pays under it), with the reason.

Nothing is written. A data-driven model's inputs include tables fitted on every journey in the
store, so such a settlement is reproduced only while the store's events are as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contribnet.credit import CreditError, compute_split, input_hash
from contribnet.credit.registry import payable
from contribnet.domain.events import event_hash, event_key
from contribnet.domain.journey import DealJourney
from contribnet.domain.settlement import InvalidRequest, PolicyRecord, Settlement, period_bounds
from contribnet.domain.split import Allocation
from contribnet.services.credit import credit_context
from contribnet.store.base import Store, StoredEvent

__all__ = [
    "CHUNK",
    "InputCheck",
    "PersonDifference",
    "Verification",
    "verify_period",
    "verify_settlement",
]

#: Settlements whose journeys are read together by :func:`verify_period`.
CHUNK = 500

Status = Literal["reproduced", "differs", "failed"]


class PersonDifference(BaseModel):
    """A contributor paid differently by the split computed again: staff in fen, owners in
    points; ``difference`` is recomputed minus recorded fen."""

    kind: Literal["staff", "owner"]
    id: str = Field(description="the staff member's (or owner's customer) id")
    name: str | None = None
    recorded_fen: int
    recomputed_fen: int
    difference: int = Field(description="recomputed_fen - recorded_fen")
    recorded_points: int = 0
    recomputed_points: int = 0


class InputCheck(BaseModel):
    """What the split was computed from, then and now."""

    recorded_hash: str = Field(description="the input hash the settlement recorded")
    recomputed_hash: str | None = Field(
        description="the input hash of the journey, policy and model now (null: the deal is "
        "voided now, or the split could not be computed)"
    )
    changed: bool = Field(description="whether the two hashes differ")
    altered_events: list[str] = Field(
        default_factory=list,
        description="ids of the journey's events whose stored content no longer matches the "
        "content hash taken when they were accepted: edited in the database",
    )
    late_events: list[str] = Field(
        default_factory=list,
        description="ids of the journey's events received after the settlement was made",
    )
    deal_voided: bool = Field(default=False, description="the deal is voided now")


class Verification(BaseModel):
    """A settlement computed again from the events and the policy version it recorded."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "settlement": "stl-5b0e9d4c1a2f3e6d7c8b9a01",
                    "deal": "d-1",
                    "seq": 1,
                    "current": True,
                    "policy": "default@1",
                    "model": "stage_weighted",
                    "created_at": "2025-01-11T02:00:00Z",
                    "status": "differs",
                    "reproduced": False,
                    "people": [
                        {
                            "kind": "staff",
                            "id": "sf-x",
                            "name": "Xu",
                            "recorded_fen": 312500,
                            "recomputed_fen": 250000,
                            "difference": -62500,
                            "recorded_points": 0,
                            "recomputed_points": 0,
                        }
                    ],
                    "input": {
                        "recorded_hash": "3f1c0e8a9b7d6c5e4f3a2b1c0d9e8f7a",
                        "recomputed_hash": "81ed2f56ce128fa23fdcb98f0a1b2c3d",
                        "changed": True,
                        "altered_events": ["t-3"],
                        "late_events": [],
                        "deal_voided": False,
                    },
                    "message": "not reproduced: 2 people paid differently; the input hash "
                    "differs; edited in the database since accepted: t-3",
                    "error": None,
                }
            ]
        }
    )

    settlement: str
    deal: str
    seq: int
    current: bool = Field(description="whether it is its deal's current settlement")
    policy: str = Field(description="the policy version it was computed again under (its own)")
    model: str = Field(description="the model it was computed again with (its own)")
    created_at: datetime
    status: Status
    reproduced: bool
    people: list[PersonDifference] = Field(
        default_factory=list, description="every person paid differently, staff first, by id"
    )
    input: InputCheck
    message: str = Field(description="the outcome in a sentence")
    error: str | None = Field(default=None, description="why it could not be computed")


def verify_settlement(store: Store, settlement_id: str) -> Verification:
    """Compute one settlement again (current or superseded) under its own policy version and
    model; ``NotFound`` if no such settlement."""
    settlement = store.ledger.settlement(settlement_id)
    chain = store.ledger.settlement_history(settlement.deal)
    current = bool(chain) and chain[-1].id == settlement.id
    policies = {r.id: r for r in store.ledger.policies()}
    (found,) = _verify_chunk(store, [settlement], policies, {settlement.id} if current else set())
    return found


def verify_period(
    store: Store, start: date | None, end: date | None, *, chunk: int = CHUNK
) -> Iterator[Verification]:
    """Compute again the current settlement of every deal closed from ``start`` to ``end``
    (business days in China Standard Time, inclusive; None: open), in the ledger's order (close,
    then deal), ``chunk`` journeys per read."""
    if start is not None and end is not None and end < start:
        raise InvalidRequest.one("to", f"{end.isoformat()} is before from {start.isoformat()}")
    if chunk < 1:
        raise InvalidRequest.one("chunk", "must be at least 1")
    lo, hi = period_bounds(start, end)
    policies = {r.id: r for r in store.ledger.policies()}
    batch: list[Settlement] = []
    for settlement in store.ledger.current_settlements(lo, hi):
        batch.append(settlement)
        if len(batch) >= chunk:
            yield from _verify_chunk(store, batch, policies, {s.id for s in batch})
            batch = []
    if batch:
        yield from _verify_chunk(store, batch, policies, {s.id for s in batch})


def _verify_chunk(
    store: Store,
    settlements: Sequence[Settlement],
    policies: dict[str, PolicyRecord],
    current: set[str],
) -> list[Verification]:
    journeys = store.deal_journeys([s.deal for s in settlements])
    keys = {s.id: _event_keys(s, journeys.get(s.deal)) for s in settlements}
    stored = store.stored_events([k for ks in keys.values() for k in ks])
    return [
        _verify(store, s, journeys.get(s.deal), policies, s.id in current, keys[s.id], stored)
        for s in settlements
    ]


def _event_keys(settlement: Settlement, journey: DealJourney | None) -> list[str]:
    """The keys of the events a deal's split is computed from: the deal, its customer, their
    contributions (voided ones too), lead assignments, the joint events, staff spells and stores
    involved."""
    if journey is None:
        return [settlement.deal]
    keys = [journey.deal.id]
    if journey.customer is not None:
        keys.append(journey.customer.id)
    keys += [t.id for t in journey.touches] + [r.id for r in journey.referrals]
    keys += [h.id for h in journey.handovers] + [j.id for j in journey.joint_events]
    keys += [v.id for v in journey.voided]
    keys += [a.id for a in journey.assignments or ()]
    keys += [event_key(spell) for spells in journey.staff.values() for spell in spells]
    keys += list(journey.stores)
    return list(dict.fromkeys(keys))


def _verify(
    store: Store,
    s: Settlement,
    journey: DealJourney | None,
    policies: dict[str, PolicyRecord],
    is_current: bool,
    keys: Sequence[str],
    stored: dict[str, StoredEvent],
) -> Verification:
    records = [stored[k] for k in keys if k in stored]
    altered = sorted(r.key for r in records if event_hash(r.canonical) != r.hash)
    late = sorted(
        r.key for r in records if r.recorded_at is not None and r.recorded_at > s.created_at
    )

    def result(
        status: Status,
        people: list[PersonDifference],
        recomputed: str | None,
        *,
        error: str | None = None,
    ) -> Verification:
        check = InputCheck(
            recorded_hash=s.input_hash,
            recomputed_hash=recomputed,
            changed=recomputed != s.input_hash,
            altered_events=altered,
            late_events=late,
            deal_voided=journey is None,
        )
        return Verification(
            settlement=s.id,
            deal=s.deal,
            seq=s.seq,
            current=is_current,
            policy=s.policy,
            model=s.model,
            created_at=s.created_at,
            status=status,
            reproduced=status == "reproduced",
            people=people,
            input=check,
            message=_message(status, people, check, error),
            error=error,
        )

    if journey is None:  # voided now: it pays nothing; a reversal is what it should be
        if not s.allocations:
            return result("differs" if altered else "reproduced", [], s.input_hash)
        return result("differs", _differences(s.allocations, []), None)
    record = policies.get(s.policy)
    if record is None:
        return result("failed", [], None, error=f"policy {s.policy!r} is not recorded")
    try:
        payable(s.model, record.policy)
        context = credit_context(store, record.policy, s.model)
        hashed = input_hash(journey, record.policy, s.model, context)
        split = compute_split(journey, record.policy, s.model, context, hashed=hashed)
    except (CreditError, InvalidRequest) as exc:
        return result("failed", [], None, error=str(exc))
    people = _differences(s.allocations, split.allocations)
    same = not people and hashed == s.input_hash and not altered
    return result("reproduced" if same else "differs", people, hashed)


def _differences(
    recorded: Iterable[Allocation], recomputed: Iterable[Allocation]
) -> list[PersonDifference]:
    """The people whose fen or points differ, staff first, then by id."""
    old = _pay(recorded)
    new = _pay(recomputed)
    names = {key: name for key, (_, _, name) in (old | new).items()}
    zero = (0, 0, None)
    found = []
    for kind, who in sorted(old.keys() | new.keys(), key=lambda k: (k[0] != "staff", k[1])):
        (fen_then, points_then, _), (fen_now, points_now, _) = (
            old.get((kind, who), zero),
            new.get((kind, who), zero),
        )
        if (fen_then, points_then) == (fen_now, points_now):
            continue
        found.append(
            PersonDifference(
                kind="owner" if kind == "owner" else "staff",
                id=who,
                name=names.get((kind, who)),
                recorded_fen=fen_then,
                recomputed_fen=fen_now,
                difference=fen_now - fen_then,
                recorded_points=points_then,
                recomputed_points=points_now,
            )
        )
    return found


def _pay(allocations: Iterable[Allocation]) -> dict[tuple[str, str], tuple[int, int, str | None]]:
    """Fen, points and name per ``(kind, id)``, summed."""
    found: dict[tuple[str, str], tuple[int, int, str | None]] = {}
    for a in allocations:
        fen, points, name = found.get((a.kind, a.id), (0, 0, None))
        found[a.kind, a.id] = (fen + a.amount, points + a.points, name or a.name)
    return found


def _message(
    status: Status, people: list[PersonDifference], check: InputCheck, error: str | None
) -> str:
    if status == "failed":
        return f"could not be computed again: {error}"
    if status == "reproduced":
        return "reproduced: the same split from the same inputs"
    parts = []
    if check.deal_voided:
        parts.append("the deal is voided now")
    if people:
        parts.append(f"{len(people)} {'person' if len(people) == 1 else 'people'} paid differently")
    if check.changed and check.recomputed_hash is not None:
        parts.append("the input hash differs")
    if check.altered_events:
        parts.append("edited in the database since accepted: " + ", ".join(check.altered_events))
    if check.late_events:
        parts.append("received after the settlement: " + ", ".join(check.late_events))
    return "not reproduced: " + "; ".join(parts)
