"""The demo network's activities: the nurturing actions behind its touches, as ``activity`` events.

:class:`ActivityStream` passes a generated stream (``NetworkGenerator.events()``) through and adds,
after some touches, the actions an advisor records for them -- a WeChat add after a lead or a
reception, an invitation to the store after a lead, material after a consultation, a test-drive
invitation after a reception, a deposit with the order -- each a few minutes to hours after the
touch, by the touch's advisor, for its customer; now and then one is voided (logged by mistake).

Which touches get which actions, and when, is a hash of the seed and the touch's id, never the
generator's random stream: the network itself stays byte for byte what ``generate`` gives, and
the same seed gives the same activities. Activities wait in a small heap until the stream's clock
passes them, so the stream stays in time order.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

__all__ = ["ACTIONS_AFTER", "ActivityStream"]

Event = dict[str, Any]

#: Per touch stage, the actions that may follow it: (action, probability, earliest and latest
#: minutes after the touch).
ACTIONS_AFTER: dict[str, tuple[tuple[str, float, int, int], ...]] = {
    "lead": (("wechat_add", 0.7, 5, 30), ("store_invite", 0.6, 60, 240)),
    "reception": (("wechat_add", 0.5, 10, 40), ("test_drive_invite", 0.4, 20, 90)),
    "consultation": (("material_sent", 0.5, 60, 180),),
    "test_drive": (("material_sent", 0.3, 30, 120),),
    "order": (("deposit_taken", 0.8, 2, 15),),
}

#: The share of activities voided, and why.
_P_VOID = 0.02
_VOID_REASON = "logged by mistake: no such contact that day"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _stamp(at: datetime) -> str:
    """ISO 8601 in UTC with ``Z``, as the generator writes its instants."""
    return at.isoformat().replace("+00:00", "Z")


def _when(event: Event) -> str | None:
    """The instant an event of the stream happens at (None for entities and voids)."""
    at = event.get("at") or event.get("closed_at")
    return str(at) if at is not None else None


class ActivityStream:
    """Adds activities to a generated stream; counts what it added: activities by action (voided
    ones too), live activities by staff member, and voids."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.actions: Counter[str] = Counter()
        self.by_staff: Counter[str] = Counter()
        self.voided = 0

    @property
    def total_events(self) -> int:
        """The events added: activities and their voids."""
        return sum(self.actions.values()) + self.voided

    def _unit(self, *parts: object) -> float:
        """A number in [0, 1) from the seed and ``parts``: the same for the same inputs."""
        text = ":".join(str(p) for p in (self.seed, *parts)).encode()
        return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big") / 2**64

    def _after(self, touch: Event) -> list[tuple[str, Event]]:
        """The activities (and voids) following one touch, as ``(sort key, event)``."""
        found: list[tuple[str, Event]] = []
        at = _instant(touch["at"])
        for k, (action, chance, lo, hi) in enumerate(ACTIONS_AFTER.get(touch["stage"], ())):
            if self._unit(touch["id"], k) >= chance:
                continue
            minutes = lo + int(self._unit(touch["id"], k, "when") * (hi - lo + 1))
            when = _stamp(at + timedelta(minutes=minutes))
            activity: Event = {
                "type": "activity",
                "id": f"act-{touch['id'][2:]}-{k + 1}",
                "at": when,
                "staff": touch["staff"],
                "customer": touch["customer"],
                "action": action,
            }
            if action == "deposit_taken":
                activity["evidence"] = {"kind": "crm_record", "ref": f"dep-{touch['id'][2:]}"}
            found.append((when, activity))
            self.actions[action] += 1
            self.by_staff[touch["staff"]] += 1
            if self._unit(touch["id"], k, "void") < _P_VOID:
                void = {
                    "type": "void",
                    "id": f"v-act-{touch['id'][2:]}-{k + 1}",
                    "target": activity["id"],
                    "reason": _VOID_REASON,
                }
                found.append((when, void))
                self.voided += 1
                self.by_staff[touch["staff"]] -= 1
        return found

    def wrap(self, events: Iterable[Event]) -> Iterator[Event]:
        """``events`` with the activities added, in time order."""
        waiting: list[tuple[datetime, int, Event]] = []
        order = 0
        for event in events:
            when = _when(event)
            if when is not None:
                now = _instant(when)
                while waiting and waiting[0][0] <= now:
                    yield heapq.heappop(waiting)[2]
            yield event
            if event["type"] == "touch":
                for at, added in self._after(event):
                    order += 1
                    heapq.heappush(waiting, (_instant(at), order, added))
        while waiting:
            yield heapq.heappop(waiting)[2]
