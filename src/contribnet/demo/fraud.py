"""Planted fraud: known cases of every kind of flag, added to a generated network.

:class:`FraudPlanter` passes a generated stream through unchanged, noting stores, employment
spells, deals and touches, and once the stream is exhausted :meth:`FraudPlanter.planted` gives the
events of one case of each flag kind (``domain/flags.py``), built on the network's own staff,
customers and deals, and :attr:`FraudPlanter.cases` says which records each case planted -- what
the flags must find. Picks depend on the seed only, so the same network and seed plant the same
cases.

The planted events come after the whole stream: they are received after it, which is what makes
a backdated touch (``late_log``) visible. Load them in a later batch than the network (``contribnet
import`` of a ``generate --plant-fraud`` file of the demo size does: its early deals are in the
first batch).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from contribnet.domain.flags import FLAG_KINDS, FlagKind

__all__ = ["FraudPlanter", "PlantedCase"]

Event = dict[str, Any]

#: Of the network's deals, those in this leading share are candidates (received in the first
#: batch of a load, and with room before them for backdated touches).
_EARLY_SHARE = 0.2
_REMOTE = ("phone", "wechat", "app", "web", "douyin", "call")


@dataclass(frozen=True)
class PlantedCase:
    """One planted case: the flag kind it should raise, the planted records a flag of that kind
    must name, and what was planted, in words."""

    kind: FlagKind
    records: tuple[str, ...]
    description: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "records": list(self.records), "description": self.description}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class _Seen:
    """What the planter noted of the stream."""

    cities: dict[str, str] = field(default_factory=dict)  # store -> city
    spells: dict[str, list[Event]] = field(default_factory=dict)  # staff -> staff events
    deals: list[Event] = field(default_factory=list)
    touched_by: dict[str, set[str]] = field(default_factory=dict)  # customer -> staff
    in_person: list[Event] = field(default_factory=list)  # a sample of in-person touches
    customers: list[str] = field(default_factory=list)


class FraudPlanter:
    """Passes a generated stream through (:meth:`wrap`) and plants one case of every flag kind
    after it (:meth:`planted`), on the network's own records."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"fraud-{seed}")
        self.seen = _Seen()
        self.cases: list[PlantedCase] = []

    def wrap(self, events: Iterable[Event]) -> Iterator[Event]:
        """The stream, unchanged, noted on the way."""
        seen = self.seen
        for event in events:
            kind = event.get("type")
            if kind == "touch":
                seen.touched_by.setdefault(event["customer"], set()).add(event["staff"])
                if event.get("channel") not in _REMOTE and len(seen.in_person) < 5_000:
                    seen.in_person.append(event)
            elif kind == "deal":
                seen.deals.append(event)
            elif kind == "store":
                seen.cities[event["id"]] = event["city"]
            elif kind == "staff":
                seen.spells.setdefault(event["id"], []).append(event)
            elif kind == "customer" and len(seen.customers) < 5_000:
                seen.customers.append(event["id"])
            yield event

    # --- picking ---------------------------------------------------------------------------

    def _early_deals(self) -> list[Event]:
        deals = self.seen.deals
        early = deals[: max(len(FLAG_KINDS) * 2, int(len(deals) * _EARLY_SHARE))]
        picked = self.rng.sample(early, min(len(early), 12))
        return sorted(picked, key=lambda d: d["id"])

    def _working(self, store: str, day: date, but: set[str]) -> str | None:
        """A staff member employed at ``store`` on ``day`` (none of ``but``), by id order."""
        for staff in sorted(self.seen.spells):
            if staff in but:
                continue
            for spell in self.seen.spells[staff]:
                start = date.fromisoformat(spell["from"]) if spell.get("from") else date.min
                end = date.fromisoformat(spell["to"]) if spell.get("to") else date.max
                if spell["store"] == store and start <= day <= end:
                    return staff
        return None

    @staticmethod
    def _touch(
        id: str, at: datetime, customer: str, staff: str, store: str, stage: str, **more: Any
    ) -> Event:
        return {
            "type": "touch",
            "id": id,
            "at": _stamp(at),
            "customer": customer,
            "staff": staff,
            "store": store,
            "stage": stage,
            **more,
        }

    # --- the cases -------------------------------------------------------------------------

    def planted(self) -> list[Event]:
        """The events of the planted cases (after :meth:`wrap`'s stream is exhausted); fills
        :attr:`cases`."""
        deals = self._early_deals()
        if len(deals) < 7 or not self.seen.in_person:
            raise ValueError("the network is too small to plant every kind of fraud")
        self.cases = []
        events: list[Event] = []
        events += self._late_log(deals[0])
        events += self._outside_employment(deals[1])
        events += self._impossible_travel(deals[2])
        events += self._burst(deals[3])
        events += self._rings(deals[4], deals[5])
        events += self._evidence(deals[6], deals[7 % len(deals)])
        events += self._grab(deals[8 % len(deals)])
        return events

    def _late_log(self, deal: Event) -> list[Event]:
        closed = _instant(deal["closed_at"])
        touch = self._touch(
            "t-fraud-late-1",
            closed - timedelta(days=3),
            deal["customer"],
            deal["staff"],
            deal["store"],
            "test_drive",
        )
        self.cases.append(
            PlantedCase(
                "late_log",
                (touch["id"],),
                f"a test drive of {deal['customer']} three days before deal {deal['id']}, "
                "logged after the deal was on record",
            )
        )
        return [touch]

    def _outside_employment(self, deal: Event) -> list[Event]:
        staff = deal["staff"]
        hired = min(
            date.fromisoformat(s["from"]) for s in self.seen.spells.get(staff, []) if s.get("from")
        )
        at = datetime(hired.year, hired.month, hired.day, 3, tzinfo=UTC) - timedelta(days=30)
        touch = self._touch(
            "t-fraud-employment-1", at, deal["customer"], staff, deal["store"], "reception"
        )
        self.cases.append(
            PlantedCase(
                "outside_employment",
                (touch["id"],),
                f"a reception by {staff} 30 days before they were hired ({hired})",
            )
        )
        return [touch]

    def _impossible_travel(self, deal: Event) -> list[Event]:
        first = self.seen.in_person[self.rng.randrange(len(self.seen.in_person))]
        city = self.seen.cities.get(first["store"])
        elsewhere = sorted(s for s, c in self.seen.cities.items() if c != city)
        store = elsewhere[self.rng.randrange(len(elsewhere))]
        touch = self._touch(
            "t-fraud-travel-1",
            _instant(first["at"]) + timedelta(minutes=40),
            deal["customer"],
            first["staff"],
            store,
            "consultation",
        )
        self.cases.append(
            PlantedCase(
                "impossible_travel",
                (touch["id"],),
                f"{first['staff']} touched {first['customer']} in {city} ({first['id']}) and, "
                f"40 minutes later, {deal['customer']} in {self.seen.cities[store]}",
            )
        )
        return [touch]

    def _burst(self, deal: Event) -> list[Event]:
        start = _instant(deal["closed_at"]) - timedelta(days=2, hours=1)
        touches = [
            self._touch(
                f"t-fraud-burst-{n}",
                start + timedelta(minutes=2 * n),
                deal["customer"],
                deal["staff"],
                deal["store"],
                "consultation",
            )
            for n in range(1, 8)
        ]
        self.cases.append(
            PlantedCase(
                "touch_burst",
                tuple(t["id"] for t in touches),
                f"7 consultations of {deal['customer']} in 12 minutes by {deal['staff']}",
            )
        )
        return touches

    def _rings(self, one: Event, other: Event) -> list[Event]:
        a, b = one["staff"], other["staff"]
        events: list[Event] = []
        ids = []
        for n, (referrer, deal, closer_deal) in enumerate(((a, other, other), (b, one, one)), 1):
            customer = f"c-fraud-ring-{n}"
            at = _instant(deal["closed_at"]) + timedelta(days=10)
            events.append({"type": "customer", "id": customer, "name": f"ring {n}"})
            events.append(
                {
                    "type": "referral",
                    "id": f"r-fraud-ring-{n}",
                    "at": _stamp(at),
                    "customer": customer,
                    "to_store": closer_deal["store"],
                    "referrer_staff": referrer,
                }
            )
            events.append(
                {
                    "type": "deal",
                    "id": f"d-fraud-ring-{n}",
                    "customer": customer,
                    "store": closer_deal["store"],
                    "staff": closer_deal["staff"],
                    "closed_at": _stamp(at + timedelta(days=5)),
                    "amount": deal["amount"],
                    "reward_pool": deal["reward_pool"],
                }
            )
            ids.append(f"r-fraud-ring-{n}")
        self.cases.append(
            PlantedCase(
                "referral_ring",
                tuple(ids),
                f"{a} and {b} each refer a new customer whose deal the other closes",
            )
        )
        owners = (one["customer"], other["customer"])
        at = max(_instant(one["closed_at"]), _instant(other["closed_at"])) + timedelta(days=20)
        for n, (referrer, friend) in enumerate((owners, owners[::-1]), 1):
            events.append(
                {
                    "type": "referral",
                    "id": f"r-fraud-owners-{n}",
                    "at": _stamp(at + timedelta(hours=n)),
                    "customer": friend,
                    "to_store": one["store"],
                    "referrer_customer": referrer,
                }
            )
        self.cases.append(
            PlantedCase(
                "referral_ring",
                ("r-fraud-owners-1", "r-fraud-owners-2"),
                f"owners {owners[0]} and {owners[1]} refer each other",
            )
        )
        return events

    def _evidence(self, one: Event, other: Event) -> list[Event]:
        evidence = {"kind": "photo", "ref": "IMG-fraud-0001"}
        touches = [
            self._touch(
                f"t-fraud-evidence-{n}",
                _instant(deal["closed_at"]) - timedelta(days=1, hours=2),
                deal["customer"],
                deal["staff"],
                deal["store"],
                "test_drive",
                evidence=evidence,
            )
            for n, deal in enumerate((one, other), 1)
        ]
        self.cases.append(
            PlantedCase(
                "evidence_reuse",
                tuple(t["id"] for t in touches),
                f"one photo backs test drives of {one['customer']} and {other['customer']}",
            )
        )
        return touches

    def _grab(self, deal: Event) -> list[Event]:
        closed = _instant(deal["closed_at"])
        day = (closed + timedelta(hours=8)).date()
        already = self.seen.touched_by.get(deal["customer"], set()) | {deal["staff"]}
        grabber = self._working(deal["store"], day, already)
        if grabber is None:
            raise ValueError(f"no colleague at {deal['store']} to plant a grab with")
        touch = self._touch(
            "t-fraud-grab-1",
            closed - timedelta(minutes=20),
            deal["customer"],
            grabber,
            deal["store"],
            "test_drive",
        )
        self.cases.append(
            PlantedCase(
                "grab",
                (touch["id"],),
                f"{grabber}'s first touch on {deal['customer']}, 20 minutes before "
                f"{deal['staff']} closed {deal['id']}",
            )
        )
        return [touch]
