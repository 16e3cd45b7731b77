"""Holds: a deal involved in an open fraud flag waits for a leader's review before it is paid.

Under a credit policy with ``hold_flagged = ["grab", "late_log", ...]``, a deal that an open
(unreviewed) flag of one of those kinds involves -- a deal its suspect records count for
(``Flag.deals``) -- is held: :func:`~contribnet.services.settlement.settle` refuses it (409 naming
the flags), a batch leaves it unsettled and reports it as held with the flag ids, a
re-settlement leaves its current settlement as it is (reported as held), splits recomputed
elsewhere are not recorded for it (a failure naming the flags), and previews show the hold.

The *whole deal* is held, not only the suspect contribution, because that is what payroll
expects: nobody is paid on a suspect deal, and nothing needs re-settling once it is reviewed. A
dismissed flag releases the deal as it stands; a confirmed one voids its suspect records (a
leader's review), and the next settlement pays the deal without them. Paying the other
contributors at once, without the suspect record, would pay them shares that a dismissal then
has to take back (every share changes when a contribution comes back), by a superseding
settlement with a reason.

Flags are those :func:`~contribnet.services.flags.list_flags` lists, found over the whole store
(the ids a leader reviews), with the configured thresholds (``CONTRIBNET_FLAG_RULES``). Finding
them reads every touch of the store, and every settlement and preview under a holding policy
asks, so the flags found are kept per store until it records another event (its
``event_count``, which grows with every accepted event, voids too); reviews are read afresh
each time, since a dismissal writes no event.
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from contribnet.credit.flags import find_flags
from contribnet.domain.flags import Flag, FlagKind, FlagRules
from contribnet.domain.policy import Policy
from contribnet.process import fewer_gc_pauses
from contribnet.store.base import Store
from contribnet.store.flags import flag_store

__all__ = ["OpenFlags", "find_store_flags", "open_flags"]


@dataclass(frozen=True)
class OpenFlags:
    """The open (unreviewed) flags by the deals they involve: ``(flag id, kind)`` pairs."""

    by_deal: Mapping[str, tuple[tuple[str, FlagKind], ...]] = field(default_factory=dict)

    def holding(self, deal_id: str, policy: Policy) -> tuple[str, ...]:
        """The ids of the open flags that hold ``deal_id`` under ``policy`` (none: it is not
        held).

        >>> flags = OpenFlags({"d-1": (("fl-grab-1", "grab"), ("fl-touch_burst-2", "touch_burst"))})
        >>> flags.holding("d-1", Policy(hold_flagged=("grab",)))
        ('fl-grab-1',)
        >>> flags.holding("d-1", Policy()), flags.holding("d-2", Policy(hold_flagged=("grab",)))
        ((), ())
        """
        held = policy.hold_flagged
        if not held:
            return ()
        return tuple(flag for flag, kind in self.by_deal.get(deal_id, ()) if kind in held)


def find_store_flags(
    store: Store,
    start: datetime | None,
    end: datetime | None,
    kinds: Sequence[FlagKind] | None = None,
    rules: FlagRules | None = None,
) -> list[Flag]:
    """The flags the rules (all, or ``kinds``) find in what the store holds for ``[start, end)``
    (``None``: open), unreviewed as found. The read and the rules make a few short-lived
    objects per touch, millions on a large store and none in reference cycles, so the collector
    runs less often meanwhile (it would rescan them many times)."""
    with fewer_gc_pauses():
        return find_flags(flag_store(store).flag_inputs(start, end), rules, kinds)


@dataclass
class _FoundFlags:
    """A store's flags as found when it held ``event_count`` events, by rules and kinds."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    event_count: int = -1
    found: dict[tuple[FlagRules, tuple[FlagKind, ...]], list[Flag]] = field(default_factory=dict)


_found: weakref.WeakKeyDictionary[Store, _FoundFlags] = weakref.WeakKeyDictionary()
_found_lock = threading.Lock()


def _store_flags(store: Store, kinds: tuple[FlagKind, ...], rules: FlagRules) -> list[Flag]:
    """The flags of the rules ``kinds`` over the whole store, found again only once it has
    recorded another event (as ``services.credit.credit_context`` keeps its context)."""
    with _found_lock:
        cache = _found.get(store)
        if cache is None:
            cache = _found[store] = _FoundFlags()
    # counted before reading: an event recorded meanwhile makes the next call find them again
    count = store.event_count()
    with cache.lock:
        if cache.event_count != count:
            cache.found.clear()
            cache.event_count = count
        found = cache.found.get((rules, kinds))
        if found is None:
            found = cache.found[(rules, kinds)] = find_store_flags(store, None, None, kinds, rules)
    return found


def open_flags(
    store: Store, kinds: Iterable[FlagKind], rules: FlagRules | None = None
) -> OpenFlags:
    """The open flags of the rules ``kinds`` (nothing is computed for none), by deal."""
    wanted = tuple(sorted(set(kinds)))
    if not wanted:
        return OpenFlags()
    port = flag_store(store)
    found = _store_flags(store, wanted, rules or FlagRules())
    reviewed = port.flag_reviews([f.id for f in found]) if found else {}
    by_deal: dict[str, list[tuple[str, FlagKind]]] = defaultdict(list)
    for flag in found:
        if flag.id not in reviewed:
            for deal in flag.deals:
                by_deal[deal].append((flag.id, flag.kind))
    return OpenFlags({deal: tuple(flags) for deal, flags in by_deal.items()})
