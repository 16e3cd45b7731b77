"""The credit ledger's records: policy versions, settlements and adjustments; no I/O.

A *settlement* is the immutable record of one deal's split under one policy version and model:
the allocations with their explanations, the input hash, who asked and when. A deal's
settlements form one chain -- each re-settlement ``supersedes`` the previous one and carries
``seq`` one higher -- so exactly one of them, the last, is *current*. A settlement's id is a hash
of what it settles (deal, position in the chain, input hash, policy, model): computing the same
settlement twice, even in two processes at once, gives the same id, which the stores keep unique.
How the records follow one another -- the chain, reversals, adjustments -- is in
:mod:`contribnet.domain.ledger`.

Dates of the business -- a policy's ``effective_from``, the ``from``/``to`` of a statement,
roll-up, batch or simulation -- are calendar days in China Standard Time (UTC+8, no daylight
saving), the time of the stores: a policy effective from 2025-03-01 applies to deals closed at or
after 2025-03-01T00:00:00+08:00 (2025-02-28T16:00:00Z).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contribnet.domain.allocation import allocate
from contribnet.domain.errors import ContribnetError
from contribnet.domain.policy import Policy
from contribnet.domain.split import Allocation, Split
from contribnet.domain.unchecked import unchecked

__all__ = [
    "BUSINESS_TZ",
    "FIRST_DAY",
    "LAST_DAY",
    "Adjustment",
    "Credit",
    "DealHeld",
    "DealRef",
    "InvalidRequest",
    "PolicyRecord",
    "RecordConflict",
    "RecordOutcome",
    "Settlement",
    "SettlementConflict",
    "business_date",
    "credits_of",
    "period_bounds",
    "settlement_id",
]

#: The business time zone: China Standard Time, UTC+8 all year.
BUSINESS_TZ = timezone(timedelta(hours=8), "CST")

#: What recording a settlement did: wrote it, found it already recorded, or found that the
#: deal's current settlement is no longer the one it supersedes (someone settled first).
RecordOutcome = Literal["created", "existing", "conflict"]


def business_date(at: datetime) -> date:
    """The calendar day of an instant in China Standard Time.

    >>> from datetime import UTC
    >>> business_date(datetime(2025, 2, 28, 16, 0, tzinfo=UTC))
    datetime.date(2025, 3, 1)
    """
    return at.astimezone(BUSINESS_TZ).date()


#: The days a period may start or end on: its bounds, ``[start 00:00, end + 1 day 00:00)`` in
#: China Standard Time, stay within years 1 to 9999 in UTC as well.
FIRST_DAY = date(1, 1, 2)
LAST_DAY = date(9999, 12, 30)


def period_bounds(
    start: date | None, end: date | None, *, names: tuple[str, str] = ("from", "to")
) -> tuple[datetime | None, datetime | None]:
    """The instants bounding the days ``start`` to ``end`` inclusive: ``[start 00:00, end + 1 day
    00:00)`` in China Standard Time; ``None`` leaves a side open. A day outside
    :data:`FIRST_DAY` to :data:`LAST_DAY` is refused, naming its field (``names``).

    >>> lo, hi = period_bounds(date(2025, 1, 1), date(2025, 1, 31))
    >>> lo.isoformat(), hi.isoformat()
    ('2025-01-01T00:00:00+08:00', '2025-02-01T00:00:00+08:00')
    >>> try:
    ...     period_bounds(None, date(9999, 12, 31))
    ... except InvalidRequest as exc:
    ...     print(exc.problems[0][0])
    to
    """
    for day, name in ((start, names[0]), (end, names[1])):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidRequest.one(
                name,
                f"{day.isoformat()} is out of range: a period's days run from "
                f"{FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}",
            )
    lo = datetime.combine(start, time(), BUSINESS_TZ) if start is not None else None
    hi = datetime.combine(end + timedelta(days=1), time(), BUSINESS_TZ) if end is not None else None
    return lo, hi


@dataclass
class InvalidRequest(ContribnetError):
    """A request the ledger cannot carry out as asked; each problem names its field."""

    problems: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def one(cls, field_name: str, message: str) -> InvalidRequest:
        return cls([(field_name, message)])

    def __str__(self) -> str:
        return "; ".join(f"{f}: {m}" for f, m in self.problems)


@dataclass
class RecordConflict(ContribnetError):
    """An id already recorded with other content (policies and adjustments are never edited)."""

    kind: str
    id: str

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.id!r} is already recorded with other content; "
            "records are never edited"
        )


@dataclass
class SettlementConflict(ContribnetError):
    """A re-settlement that needs a reason (inputs changed), or lost a race to another one."""

    deal: str
    current: str | None
    message: str
    field: str = "reason"

    def __str__(self) -> str:
        return self.message


@dataclass
class DealHeld(SettlementConflict):
    """A deal held out of settlement by open fraud flags (``Policy.hold_flagged``) until a
    leader reviews them."""

    flags: tuple[str, ...] = ()


class PolicyRecord(BaseModel):
    """One stored version of a policy. ``id`` is ``name@version``; versions are never edited."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "default@2",
                    "name": "default",
                    "version": "2",
                    "effective_from": "2025-03-01",
                    "model": "stage_weighted",
                    "description": "Test drives weigh more from March.",
                    "hash": "9f2c41d0a7e3b6c58e1f0a2d3c4b5a69",
                    "created_at": "2025-02-20T08:00:00Z",
                    "created_by": "admin",
                    "policy": {"name": "default", "version": "2", "effective_from": "2025-03-01"},
                    "source": None,
                }
            ]
        },
    )

    id: str
    name: str
    version: str
    effective_from: date
    model: str
    description: str = ""
    hash: str
    created_at: datetime
    created_by: str
    policy: Policy
    source: str | None = Field(default=None, description="the TOML text as posted, if it was")

    def content(self) -> str:
        """What makes two policy versions with one id the same: their policy's hash."""
        return self.hash


class Credit(BaseModel):
    """One contributor's credit on one deal for one store: an allocation divided among the
    stores it was earned for (largest remainder, so the parts sum to the allocation)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["staff", "owner"]
    contributor: str
    store: str | None = None
    brand: str | None = None
    amount: int
    points: int
    share: float


class Settlement(BaseModel):
    """An immutable record of a deal's split, as paid."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "stl-5b0e9d4c1a2f3e6d7c8b9a01",
                    "deal": "d-1",
                    "seq": 1,
                    "closed_at": "2025-01-10T06:00:00Z",
                    "deal_store": "st-a",
                    "closer": "sf-y",
                    "pool": 500000,
                    "model": "stage_weighted",
                    "policy": "default@1",
                    "policy_name": "default",
                    "policy_version": "1",
                    "input_hash": "3f1c0e8a9b7d6c5e4f3a2b1c0d9e8f7a",
                    "allocations": [],
                    "credits": [
                        {
                            "kind": "staff",
                            "contributor": "sf-x",
                            "store": "st-a",
                            "brand": "nio",
                            "amount": 312500,
                            "points": 0,
                            "share": 0.625,
                        }
                    ],
                    "requested_by": "leader",
                    "created_at": "2025-01-11T02:00:00Z",
                    "supersedes": None,
                    "reason": None,
                }
            ]
        },
    )

    id: str
    deal: str
    seq: int = Field(ge=1, description="position in the deal's chain of settlements, from 1")
    closed_at: datetime
    deal_store: str
    closer: str
    pool: int
    model: str
    policy: str = Field(description="the policy version's id, name@version")
    policy_name: str
    policy_version: str
    input_hash: str
    allocations: list[Allocation]
    credits: list[Credit]
    requested_by: str
    created_at: datetime
    supersedes: str | None = None
    reason: str | None = None

    @property
    def slot(self) -> str:
        """Unique per deal and position: two settlements can never supersede the same one."""
        return f"{self.deal}#{self.seq}"


class Adjustment(BaseModel):
    """A leader moved ``amount`` fen of a deal's credit from one staff member to another."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "adj-1",
                    "deal": "d-1",
                    "closed_at": "2025-01-10T06:00:00Z",
                    "settlement": "stl-5b0e9d4c1a2f3e6d7c8b9a01",
                    "from_staff": "sf-y",
                    "to_staff": "sf-x",
                    "amount": 20000,
                    "reason": "X ran the second test drive; the log was lost",
                    "requested_by": "leader",
                    "created_at": "2025-01-12T02:00:00Z",
                }
            ]
        },
    )

    id: str
    deal: str
    closed_at: datetime
    settlement: str = Field(description="the deal's current settlement when it was adjusted")
    from_staff: str
    to_staff: str
    amount: int = Field(gt=0)
    reason: str
    requested_by: str
    created_at: datetime

    def content(self) -> tuple[str, str, str, int, str]:
        """What makes two adjustments with one id the same request."""
        return (self.deal, self.from_staff, self.to_staff, self.amount, self.reason)


@dataclass(frozen=True, order=True)
class DealRef:
    """A deal by its close: the sort key of batch settlement (closed_at, then id)."""

    closed_at: datetime
    id: str


def settlement_id(deal: str, seq: int, input_hash: str, policy: str, model: str) -> str:
    """The deterministic id of a settlement.

    >>> settlement_id("d-1", 1, "ab", "default@1", "shapley")
    'stl-81ed2f56ce128fa23fdcb98f'
    """
    text = "\x1f".join((deal, str(seq), input_hash, policy, model))
    return "stl-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def credits_of(split: Split) -> list[Credit]:
    """The split's allocations divided among the stores each was earned for, in the manner of
    :func:`contribnet.credit.store_totals`: amounts (and points) sum exactly per allocation.

    An allocation with no store shares is one credit for its own store (or none known).
    """
    credits: list[Credit] = []
    for a in split.allocations:
        parts: dict[str | None, tuple[float, str | None]] = {
            s.store: (s.share, s.brand) for s in a.explanation.stores
        }
        if not parts or sum(p for p, _ in parts.values()) <= 0:
            parts = {a.store: (1.0, a.brand)}
        keys = sorted(parts, key=lambda k: k or "")
        weights = [parts[k][0] for k in keys]
        names = [k or "" for k in keys]
        amounts = allocate(a.amount, weights, names)
        points = allocate(a.points, weights, names)
        for key, amount, point in zip(keys, amounts, points, strict=True):
            # values of the declared types (the split's own, fen from ``allocate``): a batch
            # builds thousands, and validating them again cost more than dividing the money
            credits.append(
                unchecked(
                    Credit,
                    {
                        "kind": a.kind,
                        "contributor": a.id,
                        "store": key,
                        "brand": parts[key][1],
                        "amount": amount,
                        "points": point,
                        "share": a.share * parts[key][0],
                    },
                )
            )
    return credits
