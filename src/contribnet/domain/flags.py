"""Fraud signals: the kinds of suspicious record, their thresholds, a flag and its review.

The rules themselves are pure functions in :mod:`contribnet.credit.flags`; this module holds the
value types they and the stores share: :class:`FlagRules` (the thresholds, with their defaults),
:class:`FlagInputs` (what the rules read), :class:`Flag` and :class:`FlagReview`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from operator import attrgetter
from typing import Literal, NamedTuple, TypeVar, get_args

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from contribnet.domain.events import Deal, Referral, Staff, Touch
from contribnet.domain.evidence import EvidenceJson

__all__ = [
    "FLAG_KINDS",
    "Decision",
    "Flag",
    "FlagInputs",
    "FlagKind",
    "FlagReview",
    "FlagRules",
    "FlagTouch",
    "Finding",
    "TouchColumns",
    "TouchRecord",
    "flag_id",
    "microseconds",
]

FlagKind = Literal[
    "late_log",
    "outside_employment",
    "impossible_travel",
    "touch_burst",
    "referral_ring",
    "evidence_reuse",
    "grab",
]
#: Every kind of flag, in the order the rules run.
FLAG_KINDS: tuple[FlagKind, ...] = get_args(FlagKind)

Decision = Literal["dismiss", "confirm"]


@dataclass(frozen=True)
class FlagRules:
    """The thresholds of the rules, with their defaults (``CONTRIBNET_FLAG_RULES`` overrides
    them: ``travel_hours=3,burst_touches=8``).

    - ``late_days`` (7): a touch recorded more than this many days after it happened is late, if
      later records of the customer's journey were on record before it.
    - ``travel_hours`` (2): one staff member's in-person touches in two cities less than this
      many hours apart are impossible travel.
    - ``burst_touches`` (5) in ``burst_minutes`` (30): more touches than this on one customer
      within that many minutes are a burst (a real visit logs at most three in an hour).
    - ``grab_minutes`` (60): a staff member's first touch on a customer, at an early stage, less
      than this many minutes before a colleague closes the customer's deal is a grab.
    """

    late_days: float = 7.0
    travel_hours: float = 2.0
    burst_touches: int = 5
    burst_minutes: float = 30.0
    grab_minutes: float = 60.0
    #: Channels that need no travel (a call or a message reaches any city).
    remote_channels: tuple[str, ...] = ("phone", "wechat", "app", "web", "douyin", "call")
    #: Stages a grab claims: the early work a last-minute touch pretends to have done.
    grab_stages: tuple[str, ...] = ("lead", "reception", "consultation", "test_drive", "event")

    @property
    def late_after(self) -> timedelta:
        return timedelta(days=self.late_days)

    @property
    def travel_window(self) -> timedelta:
        return timedelta(hours=self.travel_hours)

    @property
    def burst_window(self) -> timedelta:
        return timedelta(minutes=self.burst_minutes)

    @property
    def grab_window(self) -> timedelta:
        return timedelta(minutes=self.grab_minutes)

    @classmethod
    def parse(cls, text: str) -> FlagRules:
        """Rules from ``name=value`` pairs, comma-separated; an unknown name or a value that is
        not a positive number raises ``ValueError`` naming it.

        >>> FlagRules.parse("travel_hours=3, burst_touches=6").travel_hours
        3.0
        """
        rules = cls()
        numeric = {f.name: f.type for f in fields(cls) if f.name not in _LISTS}
        changes: dict[str, object] = {}
        for pair in filter(None, (p.strip() for p in text.split(","))):
            name, _, value = pair.partition("=")
            name = name.strip()
            if name not in numeric:
                raise ValueError(f"unknown flag rule {name!r} (known: {', '.join(numeric)})")
            try:
                number = int(value) if numeric[name] == "int" else float(value)
            except ValueError:
                raise ValueError(f"flag rule {name}: {value.strip()!r} is not a number") from None
            if number <= 0:
                raise ValueError(f"flag rule {name}: must be positive")
            changes[name] = number
        return replace(rules, **changes)  # type: ignore[arg-type]


_LISTS = ("remote_channels", "grab_stages")


class TouchRecord(NamedTuple):
    """A touch as the rules read it: the fields they use, in a plain tuple. The stores read every
    touch for the rules, and building a model for each (even unvalidated) cost more than the
    rules; a :class:`~contribnet.domain.events.Touch` has the same fields, and the rules take
    either (:data:`FlagTouch`)."""

    id: str
    at: datetime
    customer: str
    staff: str
    store: str
    stage: str
    channel: str | None = None
    evidence: EvidenceJson | None = None


#: A touch the rules read: a stored event, or the light record the stores build.
FlagTouch = Touch | TouchRecord

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def microseconds(at: datetime | timedelta) -> int:
    """An instant as whole microseconds since 1970-01-01 UTC, or a length of time in
    microseconds: exact, as ``datetime`` arithmetic is, so comparing them compares the times.

    >>> microseconds(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC)), microseconds(timedelta(hours=2))
    (1000005, 7200000000)
    """
    return (at - _EPOCH if isinstance(at, datetime) else at) // _MICROSECOND


_Value = TypeVar("_Value", str, str | None)


def _codes(values: Sequence[_Value]) -> tuple[npt.NDArray[np.int64], list[_Value]]:
    """Each value's number (in order of first appearance), and the values by number."""
    number = {value: i for i, value in enumerate(dict.fromkeys(values))}
    codes = np.fromiter(map(number.__getitem__, values), np.int64, count=len(values))
    return codes, list(number)


def _instants(times: Sequence[datetime]) -> npt.NDArray[np.int64]:
    """:func:`microseconds` of many aware instants at once. A float ``timestamp()`` is within a
    quarter of a microsecond of the instant for centuries around now, so rounding its millionfold
    gives the whole microseconds exactly, with no Python arithmetic per instant.

    >>> _instants([datetime(2025, 1, 1, 2, 0, 0, 7, tzinfo=UTC)]).tolist()
    [1735696800000007]
    """
    seconds = np.fromiter(map(datetime.timestamp, times), np.float64, count=len(times))
    return np.rint(seconds * 1e6).astype(np.int64)


@dataclass(frozen=True)
class TouchColumns:
    """The touches as columns of numbers, the i-th entry of each for ``touches[i]``: customer,
    staff member and store as numbers (indexes into ``customers``, ``staff``, ``stores``) and
    ``at`` in microseconds (:func:`microseconds`). The rules screen every touch with a few array
    operations on these, and look at the touches one by one only where the screen finds
    something (a customer, a staff member): a pass of Python per rule over millions of touches
    cost more than reading them."""

    customer: npt.NDArray[np.int64]
    staff_member: npt.NDArray[np.int64]
    store: npt.NDArray[np.int64]
    channel: npt.NDArray[np.int64]
    at: npt.NDArray[np.int64]
    customers: list[str]
    staff: list[str]
    stores: list[str]
    channels: list[str | None]

    @classmethod
    def of(cls, touches: Sequence[FlagTouch]) -> TouchColumns:
        customer, customers = _codes(list(map(attrgetter("customer"), touches)))
        staff_member, staff = _codes(list(map(attrgetter("staff"), touches)))
        store, stores = _codes(list(map(attrgetter("store"), touches)))
        channel, channels = _codes(list(map(attrgetter("channel"), touches)))
        at = _instants(list(map(attrgetter("at"), touches)))
        return cls(customer, staff_member, store, channel, at, customers, staff, stores, channels)

    @cached_property
    def customer_numbers(self) -> dict[str, int]:
        """Each customer's number (the inverse of ``customers``)."""
        return {customer: i for i, customer in enumerate(self.customers)}


@dataclass(frozen=True)
class FlagInputs:
    """What the rules read for a period: live (not voided) touches, deals and referrals, every
    staff member's employment spells, each store's city, and when each event was received
    (``recorded``: event id to ``recorded_at``; an event missing from it was recorded before the
    store kept that time, and the rules that need it skip it)."""

    touches: Sequence[FlagTouch] = ()
    deals: Sequence[Deal] = ()
    referrals: Sequence[Referral] = ()
    spells: Mapping[str, Sequence[Staff]] = field(default_factory=dict)
    cities: Mapping[str, str] = field(default_factory=dict)
    recorded: Mapping[str, datetime] = field(default_factory=dict)

    @cached_property
    def deals_by_customer(self) -> Mapping[str, Sequence[Deal]]:
        """Each customer's deals by closing time, then id (built once: every rule reads it)."""
        by_customer: dict[str, list[Deal]] = defaultdict(list)
        for deal in sorted(self.deals, key=lambda d: (d.closed_at, d.id)):
            by_customer[deal.customer].append(deal)
        return dict(by_customer)

    @cached_property
    def touch_columns(self) -> TouchColumns:
        """The touches as columns of numbers (built once: most rules screen them)."""
        return TouchColumns.of(self.touches)


def flag_id(kind: str, records: Sequence[str]) -> str:
    """A flag's id: stable, derived from its rule and the ids of the records involved.

    >>> flag_id("grab", ["t-2", "d-1"]) == flag_id("grab", ["d-1", "t-2"])
    True
    >>> flag_id("grab", ["t-2", "d-1"])
    'fl-grab-40b62fca5b570573'
    """
    digest = hashlib.sha256("\n".join([kind, *sorted(set(records))]).encode()).hexdigest()
    return f"fl-{kind}-{digest[:16]}"


class Finding(BaseModel):
    """A suspicious pattern found by one rule: the records involved, the suspects among them
    (what a confirmation voids), the deals those count for and a plain reason."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: FlagKind
    at: datetime = Field(description="when the flagged behaviour happened (its latest record)")
    records: tuple[str, ...] = Field(description="ids of the records involved")
    suspects: tuple[str, ...] = Field(description="the records a confirmation voids")
    staff: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    deals: tuple[str, ...] = Field(default=(), description="deals the suspect records count for")
    reason: str


class FlagReview(BaseModel):
    """A leader's review of a flag: ``dismiss`` (recorded only) or ``confirm`` (the flag's
    suspect records were voided with the reason, by the void events ``voids``). It keeps the
    finding as it was reviewed: once its records are voided the rule no longer finds it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    flag: str
    decision: Decision
    reason: str
    voids: tuple[str, ...] = Field(default=(), description="ids of the void events (confirm)")
    reviewed_by: str
    reviewed_at: datetime
    finding: Finding


class Flag(Finding):
    """A finding, with its review once a leader reviewed it."""

    review: FlagReview | None = None
