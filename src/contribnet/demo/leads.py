"""The demo network's lead pools: who held each lead, as ``lead_assignment`` events.

:class:`LeadStream` passes a generated stream (``NetworkGenerator.events()``) through and, at a
customer's first touch, assigns the customer as a lead:

* most leads go to the advisor who makes that touch (``assigned``, at the touch's instant: the
  touch is the holder's follow-up);
* some (:data:`P_MISSED`) go to a colleague at the same store who never follows them up -- the
  touch is then another advisor's work on the colleague's lead (its lead-stage credit goes to the
  colleague, and the explanation says so) -- and the lead is ``reclaimed`` at the deadline of the
  default pool policy (72 hours), with the id :func:`~contribnet.domain.leads.reclaim_id` gives it
  (so ``contribnet leads reclaim`` records it only once), and ``reassigned`` half an hour later to
  the advisor who made the touch, who follows it up within the hour (a ``wechat_add`` activity).
  Should the colleague touch the customer before the deadline after all, the lead stays theirs.

``contribnet leads reclaim`` on the loaded demo reclaims only the few leads whose one follow-up,
the first touch, the generator voided. Which customers, and which colleague, is a hash of the seed
and the customer's id, never the generator's random stream: the network itself stays byte for
byte what ``generate`` gives. The reclaims and reassignments wait in a small heap until the
stream's clock passes them, so the stream stays in time order.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from contribnet.domain.leads import DEFAULT_FOLLOW_UP_HOURS, reclaim_id

__all__ = ["P_MISSED", "LeadStream"]

Event = dict[str, Any]

#: The share of leads assigned to a colleague who lets them sit until they are reclaimed.
P_MISSED = 0.12
#: How long after a reclaim the lead is reassigned, and after that the new holder follows it up.
_REASSIGN_AFTER = timedelta(minutes=30)
_FOLLOW_UP_AFTER = timedelta(hours=1)


def _stamp(at: datetime) -> str:
    """ISO 8601 in UTC with ``Z``, as the generator writes its instants."""
    return at.isoformat().replace("+00:00", "Z")


class LeadStream:
    """Adds lead assignments to a generated stream; counts them by reason."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.assigned = 0
        self.reclaimed = 0
        self.reassigned = 0
        self.follow_ups = 0
        self._seen: set[str] = set()  # customers assigned already
        self._staff_by_store: dict[str, list[str]] = {}
        # customer -> the colleague holding it, and their deadline
        self._missed: dict[str, tuple[str, datetime]] = {}

    @property
    def total_events(self) -> int:
        return self.assigned + self.reclaimed + self.reassigned + self.follow_ups

    def _unit(self, *parts: object) -> float:
        """A number in [0, 1) from the seed and ``parts``: the same for the same inputs."""
        text = ":".join(str(p) for p in (self.seed, "leads", *parts)).encode()
        return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") / 2**64

    def _assign(self, touch: Event) -> tuple[Event, list[tuple[datetime, Event]]]:
        """The assignment at a customer's first touch, and what follows it later."""
        customer, staff, store = touch["customer"], touch["staff"], touch["store"]
        colleagues = [s for s in self._staff_by_store.get(store, ()) if s != staff]
        holder, later = staff, []
        if colleagues and self._unit(customer) < P_MISSED:
            holder = colleagues[int(self._unit(customer, "who") * len(colleagues))]
            at = datetime.fromisoformat(touch["at"])
            deadline = at + timedelta(hours=DEFAULT_FOLLOW_UP_HOURS)
            assignment_id = f"la-{customer}"
            later = [
                (
                    deadline,
                    {
                        "type": "lead_assignment",
                        "id": reclaim_id(assignment_id),
                        "at": _stamp(deadline),
                        "lead": customer,
                        "reason": "reclaimed",
                        "staff": holder,
                    },
                ),
                (
                    deadline + _REASSIGN_AFTER,
                    {
                        "type": "lead_assignment",
                        "id": f"la-{customer}-2",
                        "at": _stamp(deadline + _REASSIGN_AFTER),
                        "lead": customer,
                        "reason": "reassigned",
                        "staff": staff,
                    },
                ),
                (
                    deadline + _REASSIGN_AFTER + _FOLLOW_UP_AFTER,
                    {
                        "type": "activity",
                        "id": f"act-la-{customer}",
                        "at": _stamp(deadline + _REASSIGN_AFTER + _FOLLOW_UP_AFTER),
                        "staff": staff,
                        "customer": customer,
                        "action": "wechat_add",
                    },
                ),
            ]
            self._missed[customer] = (holder, deadline)
        assigned = {
            "type": "lead_assignment",
            "id": f"la-{customer}",
            "at": touch["at"],
            "lead": customer,
            "reason": "assigned",
            "staff": holder,
        }
        return assigned, later

    def wrap(self, events: Iterable[Event]) -> Iterator[Event]:
        """``events`` with the lead assignments added, in time order."""
        waiting: list[tuple[datetime, int, Event]] = []
        order = 0
        for event in events:
            when = event.get("at") or event.get("closed_at")
            if when is not None:
                now = datetime.fromisoformat(str(when))
                while waiting and waiting[0][0] <= now:
                    yield from self._due(heapq.heappop(waiting)[2])
            if event["type"] == "touch":
                customer = event["customer"]
                missed = self._missed.get(customer)
                if (
                    missed is not None
                    and missed[0] == event["staff"]
                    and datetime.fromisoformat(event["at"]) <= missed[1]
                ):
                    del self._missed[customer]  # the holder followed up after all
                if customer not in self._seen:
                    self._seen.add(customer)
                    assigned, later = self._assign(event)
                    self.assigned += 1
                    yield assigned
                    for at, added in later:
                        order += 1
                        heapq.heappush(waiting, (at, order, added))
                staff = self._staff_by_store.setdefault(event["store"], [])
                if event["staff"] not in staff:
                    staff.append(event["staff"])
            yield event
        while waiting:
            yield from self._due(heapq.heappop(waiting)[2])

    def _due(self, event: Event) -> Iterator[Event]:
        """A waiting reclaim, reassignment or the new holder's follow-up, unless the first holder
        followed up in time."""
        customer = event["customer"] if event["type"] == "activity" else event["lead"]
        if customer not in self._missed:
            return
        if event["type"] == "activity":
            self.follow_ups += 1
            del self._missed[customer]
        elif event["reason"] == "reclaimed":
            self.reclaimed += 1
        else:
            self.reassigned += 1
        yield event
