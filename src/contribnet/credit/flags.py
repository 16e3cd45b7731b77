"""Fraud signals: pure rules that find suspicious records among a period's events.

Each rule is a function from :class:`~contribnet.domain.flags.FlagInputs` and the thresholds
(:class:`~contribnet.domain.flags.FlagRules`) to a list of :class:`~contribnet.domain.flags.Flag`;
:func:`find_flags` runs them all. A flag names its rule (``kind``), the records involved, the
suspects among them (what a leader's confirmation voids), the deals those count for, and a plain
reason. Flag ids derive from the rule and the record ids, so the same records give the same id on
every run and on every store.

The examples build touches with :func:`_touch` (staff ``sf-1``, customer ``c-1``, at the
Shanghai store ``st-sh``, unless told) among the stores of :data:`_CITIES`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from operator import attrgetter

import numpy as np
import numpy.typing as npt

from contribnet.domain.events import Deal, Staff, Touch
from contribnet.domain.evidence import evidence_refs
from contribnet.domain.flags import (
    FLAG_KINDS,
    Flag,
    FlagInputs,
    FlagKind,
    FlagRules,
    FlagTouch,
    TouchColumns,
    flag_id,
    microseconds,
)
from contribnet.domain.settlement import BUSINESS_TZ, business_date

__all__ = [
    "RULES",
    "evidence_reuse",
    "find_flags",
    "flagged_deals",
    "grab",
    "impossible_travel",
    "late_log",
    "outside_employment",
    "referral_ring",
    "touch_burst",
]

Rule = Callable[[FlagInputs, FlagRules], list[Flag]]

#: The stores of the examples and their cities.
_CITIES = {"st-sh": "Shanghai", "st-sh-2": "Shanghai", "st-bj": "Beijing"}


def _touch(
    id: str,
    at: datetime,
    staff: str = "sf-1",
    customer: str = "c-1",
    store: str = "st-sh",
    stage: str = "reception",
    **more: object,
) -> Touch:
    """A touch for the examples."""
    return Touch.model_validate(
        {
            "id": id,
            "at": at,
            "staff": staff,
            "customer": customer,
            "store": store,
            "stage": stage,
            **more,
        }
    )


def _flag(
    kind: FlagKind,
    at: datetime,
    records: Sequence[str],
    suspects: Sequence[str],
    reason: str,
    *,
    staff: Iterable[str] = (),
    customers: Iterable[str] = (),
    deals: Iterable[str] = (),
) -> Flag:
    return Flag(
        id=flag_id(kind, records),
        kind=kind,
        at=at,
        records=tuple(records),
        suspects=tuple(suspects),
        staff=tuple(sorted(set(staff))),
        customers=tuple(sorted(set(customers))),
        deals=tuple(sorted(set(deals))),
        reason=reason,
    )


def _first_closed_from(deals: Sequence[Deal], at: datetime) -> int:
    """The index of the first of ``deals`` (by closing time) closed at or after ``at``
    (``len(deals)`` if all closed before): a binary search, not a scan of the customer's deals."""
    return bisect_left(deals, at, key=lambda d: d.closed_at)


def _counts_for(deals: Sequence[Deal], at: datetime) -> list[str]:
    """The deal a contribution at ``at`` counts for: the customer's first deal closed at or
    after it (none if all closed before)."""
    i = _first_closed_from(deals, at)
    return [deals[i].id] if i < len(deals) else []


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _gap(seconds: float) -> str:
    if seconds >= 86_400:
        return f"{seconds / 86_400:.0f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 60:.0f} minutes"


# --- the rules ----------------------------------------------------------------------------------


def late_log(inputs: FlagInputs, rules: FlagRules) -> list[Flag]:
    """Touches logged long after they happened, behind later records of the journey.

    A touch is flagged when it was received (``recorded_at``) more than ``rules.late_days``
    after it happened (``at``) *and* a later record of the same customer -- a touch that happened
    after it, or a deal -- had been received before it: a contribution slipped into the history
    afterwards (say, once the deal was on record). A history loaded in bulk, in time order, is not
    flagged: its later records are not received earlier. Touches with no ``recorded_at`` (recorded
    before the store kept that time) are skipped.

    >>> t0 = datetime(2025, 1, 1, 2, tzinfo=UTC)
    >>> late = _touch("t-late", t0, staff="sf-9")
    >>> later = _touch("t-2", t0 + timedelta(days=3))
    >>> recorded = {"t-2": t0 + timedelta(days=3), "t-late": t0 + timedelta(days=20)}
    >>> [f.suspects for f in late_log(FlagInputs([late, later], recorded=recorded), FlagRules())]
    [('t-late',)]
    """
    if not inputs.recorded:
        return []
    received = inputs.recorded
    deals = inputs.deals_by_customer
    touches = inputs.touches
    suspects = _received_out_of_order(inputs, rules)
    # per customer, the records with a received time: (happened, received, index of the touch;
    # -1 for a deal)
    history: dict[str, list[tuple[datetime, datetime, int]]] = defaultdict(list)
    for i, t in enumerate(touches):
        if t.customer in suspects:
            got = received.get(t.id)
            if got is not None:
                history[t.customer].append((t.at, got, i))
    for customer in suspects:
        for d in deals.get(customer, ()):
            got = received.get(d.id)
            if got is not None:
                history[customer].append((d.closed_at, got, -1))
    late_after = rules.late_after
    late = []
    for records in history.values():
        if len(records) > 1:
            late += _received_behind_later_records(records, late_after)
    flags = []
    for i in sorted(late):
        t = touches[i]
        got = received[t.id]
        customer_deals = deals.get(t.customer, ())
        first = _first_closed_from(customer_deals, t.at)
        closed = first < len(customer_deals) and customer_deals[first].closed_at < got
        after = (
            f"after deal {customer_deals[first].id} of {t.customer} had closed"
            if closed
            else f"after later records of {t.customer}"
        )
        flags.append(
            _flag(
                "late_log",
                t.at,
                [t.id],
                [t.id],
                f"touch {t.id} by {t.staff} happened {_when(t.at)} but was logged "
                f"{_gap((got - t.at).total_seconds())} later, on {_when(got)}, {after}",
                staff=[t.staff],
                customers=[t.customer],
                deals=_counts_for(customer_deals, t.at),
            )
        )
    return flags


def _received_out_of_order(inputs: FlagInputs, rules: FlagRules) -> set[str]:
    """The customers that may have a late touch: one received more than ``rules.late_after``
    after it happened, and a record of theirs received earlier than the one that happened before
    it (by time, then received time). A touch received behind a later record is such a pair, or
    a chain of records between the two holds one; a history loaded in time order has none, so
    the rule looks closer at these customers only."""
    columns = inputs.touch_columns
    received = inputs.recorded
    number = columns.customer_numbers
    deals = [
        (number[d.customer], microseconds(d.closed_at), microseconds(received[d.id]))
        for d in inputs.deals
        if d.customer in number and d.id in received
    ]
    # a network loaded in batches has one received time per batch: each converted once
    got_of = list(map(received.get, map(attrgetter("id"), inputs.touches)))
    got_at: dict[datetime | None, int] = {None: -1}
    got_at.update((got, microseconds(got)) for got in dict.fromkeys(got_of) if got is not None)
    touch_got = np.fromiter(map(got_at.__getitem__, got_of), np.int64, count=len(got_of))
    kept = touch_got >= 0
    late = kept & (touch_got - columns.at > microseconds(rules.late_after))
    deal_columns = np.array(deals, dtype=np.int64).reshape(-1, 3)
    customer = np.concatenate([columns.customer[kept], deal_columns[:, 0]])
    at = np.concatenate([columns.at[kept], deal_columns[:, 1]])
    got = np.concatenate([touch_got[kept], deal_columns[:, 2]])
    order = np.lexsort((got, at, customer))
    customer, got = customer[order], got[order]
    behind = (customer[1:] == customer[:-1]) & (got[1:] < got[:-1])
    found = np.intersect1d(customer[1:][behind], columns.customer[late])
    return {columns.customers[c] for c in found.tolist()}


def _received_behind_later_records(
    records: list[tuple[datetime, datetime, int]], late_after: timedelta
) -> list[int]:
    """The indexes of a customer's touches received more than ``late_after`` after they
    happened and after a record that happened later (``records``: happened, received, index;
    -1 for a deal). One pass from the latest record back, keeping the earliest receipt of those
    that happened strictly later, instead of a scan of the history for each touch.

    >>> t = [datetime(2025, 1, d, tzinfo=UTC) for d in range(1, 30)]
    >>> _received_behind_later_records([(t[0], t[20], 0), (t[2], t[3], 1)], timedelta(days=7))
    [0]
    """
    records.sort()
    found = []
    earliest: datetime | None = None  # of the records that happened after the current group
    end = len(records)
    while end > 0:
        at = records[end - 1][0]
        start = end - 1
        while start > 0 and records[start - 1][0] == at:
            start -= 1
        group = records[start:end]
        if earliest is not None:
            found += [
                i for _, got, i in group if i >= 0 and earliest < got and got - at > late_after
            ]
        for _, got, _ in group:
            if earliest is None or got < earliest:
                earliest = got
        end = start
    return found


#: An employment spell as the instants it covers, ``[start, end)`` in UTC (``None``: open).
_Span = tuple[datetime | None, datetime | None]


def _day_start(day: date) -> datetime | None:
    """00:00 China Standard Time of ``day`` in UTC; ``None`` at the ends of the calendar (an
    open bound there)."""
    try:
        return datetime.combine(day, time(), BUSINESS_TZ).astimezone(UTC)
    except OverflowError:
        return None


def _employment_spans(spells: Sequence[Staff]) -> list[_Span]:
    """The spells as instants: a day ``d`` of China Standard Time is within ``[from, to]`` iff
    its instants are within ``[from 00:00, to + 1 day 00:00)``, so that each touch is compared
    as it is, without converting it to a business date."""
    spans: list[_Span] = []
    for spell in spells:
        start = None if spell.from_ is None else _day_start(spell.from_)
        end = None
        if spell.to is not None and spell.to < date.max:
            end = _day_start(spell.to + timedelta(days=1))
        spans.append((start, end))
    return spans


def _employed(spans: Sequence[_Span], at: datetime) -> bool:
    return any((lo is None or lo <= at) and (hi is None or at < hi) for lo, hi in spans)


_FIRST, _LAST = np.iinfo(np.int64).min, np.iinfo(np.int64).max


def _maybe_outside(columns: TouchColumns, spans: dict[str, list[_Span]]) -> npt.NDArray[np.intp]:
    """The indexes, in order, of the touches that may be outside their staff member's spells:
    outside the one spell of those who have one, and every touch of those who have several."""
    first = np.full(len(columns.staff), _FIRST, dtype=np.int64)
    last = np.full(len(columns.staff), _LAST, dtype=np.int64)
    several = np.zeros(len(columns.staff), dtype=bool)
    for number, staff in enumerate(columns.staff):
        staff_spans = spans.get(staff, ())
        if len(staff_spans) > 1:
            several[number] = True
        elif staff_spans:
            ((start, end),) = staff_spans
            first[number] = _FIRST if start is None else microseconds(start)
            last[number] = _LAST if end is None else microseconds(end)
    member = columns.staff_member
    outside = (columns.at < first[member]) | (columns.at >= last[member]) | several[member]
    return np.flatnonzero(outside)


def outside_employment(inputs: FlagInputs, rules: FlagRules) -> list[Flag]:
    """Touches made on a day (China Standard Time) outside every employment spell of their staff
    member -- before they joined or after they left. Staff with no spell recorded are skipped
    (their staff event may not have arrived yet).

    >>> from datetime import date
    >>> from contribnet.domain.events import Staff
    >>> spell = Staff(id="sf-1", name="Li", store="st-sh", role="advisor", to=date(2025, 1, 31))
    >>> inputs = FlagInputs([_touch("t-1", datetime(2025, 2, 3, 2, tzinfo=UTC))],
    ...                     spells={"sf-1": [spell]})
    >>> [f.kind for f in outside_employment(inputs, FlagRules())]
    ['outside_employment']
    """
    deals = inputs.deals_by_customer
    spans = {staff: _employment_spans(spells) for staff, spells in inputs.spells.items() if spells}
    touches = inputs.touches
    flags = []
    for i in _maybe_outside(inputs.touch_columns, spans).tolist():
        t = touches[i]
        staff_spans = spans.get(t.staff)
        if staff_spans is None or _employed(staff_spans, t.at):
            continue
        spells = inputs.spells[t.staff]
        day = business_date(t.at)
        dates = ", ".join(f"{s.from_ or '…'} to {s.to or 'now'} at {s.store}" for s in spells)
        flags.append(
            _flag(
                "outside_employment",
                t.at,
                [t.id],
                [t.id],
                f"touch {t.id} on {day} is outside {t.staff}'s employment ({dates})",
                staff=[t.staff],
                customers=[t.customer],
                deals=_counts_for(deals.get(t.customer, []), t.at),
            )
        )
    return flags


def _quick_city_changes(inputs: FlagInputs, rules: FlagRules) -> set[str]:
    """The staff members with two in-person touches in a row (by time) in different cities less
    than ``rules.travel_window`` apart. Two such touches anywhere in a staff member's day have
    such a pair between them (the touches between are closer still), so the rule looks closer
    at these staff members only."""
    columns = inputs.touch_columns
    cities: dict[str, int] = {}
    city_of_store = np.array(
        [
            cities.setdefault(inputs.cities[s], len(cities)) if s in inputs.cities else -1
            for s in columns.stores
        ],
        dtype=np.int64,
    )
    remote = np.array([c in rules.remote_channels for c in columns.channels], dtype=bool)
    city = city_of_store[columns.store]
    kept = (city >= 0) & ~remote[columns.channel]
    staff, at, city = columns.staff_member[kept], columns.at[kept], city[kept]
    order = np.lexsort((at, staff))
    staff, at, city = staff[order], at[order], city[order]
    quick = (
        (staff[1:] == staff[:-1])
        & (city[1:] != city[:-1])
        & (at[1:] - at[:-1] < microseconds(rules.travel_window))
    )
    return {columns.staff[s] for s in np.unique(staff[1:][quick]).tolist()}


def impossible_travel(inputs: FlagInputs, rules: FlagRules) -> list[Flag]:
    """One staff member's in-person touches in two different cities less than
    ``rules.travel_hours`` apart. Consecutive in-person touches (a channel in
    ``rules.remote_channels`` needs no travel) of a staff member are compared; the later touch is
    the suspect. Touches at a store of unknown city are skipped.

    >>> a = _touch("t-1", datetime(2025, 1, 1, 2, tzinfo=UTC))
    >>> b = _touch("t-2", datetime(2025, 1, 1, 3, tzinfo=UTC), customer="c-2", store="st-bj")
    >>> [f.records for f in impossible_travel(FlagInputs([a, b], cities=_CITIES), FlagRules())]
    [('t-1', 't-2')]
    """
    deals = inputs.deals_by_customer
    suspects = _quick_city_changes(inputs, rules)
    by_staff: dict[str, list[FlagTouch]] = defaultdict(list)
    for t in inputs.touches:
        if (
            t.staff in suspects
            and t.channel not in rules.remote_channels
            and t.store in inputs.cities
        ):
            by_staff[t.staff].append(t)
    flags = []
    for staff, touches in by_staff.items():
        touches.sort(key=lambda t: (t.at, t.id))
        for a, b in zip(touches, touches[1:], strict=False):
            city_a, city_b = inputs.cities[a.store], inputs.cities[b.store]
            if city_a == city_b or b.at - a.at >= rules.travel_window:
                continue
            flags.append(
                _flag(
                    "impossible_travel",
                    b.at,
                    [a.id, b.id],
                    [b.id],
                    f"{staff} touched {a.customer} in {city_a} at {_when(a.at)} and "
                    f"{b.customer} in {city_b} {_gap((b.at - a.at).total_seconds())} later",
                    staff=[staff],
                    customers=[a.customer, b.customer],
                    deals=_counts_for(deals.get(b.customer, []), b.at),
                )
            )
    return flags


def touch_burst(inputs: FlagInputs, rules: FlagRules) -> list[Flag]:
    """More than ``rules.burst_touches`` touches on one customer within
    ``rules.burst_minutes``. Each maximal run of touches whose every window of that length
    holds too many is one flag; all touches of the run but the first are suspects.

    >>> t0 = datetime(2025, 1, 1, 2, tzinfo=UTC)
    >>> many = [_touch(f"t-{i}", t0 + timedelta(minutes=i)) for i in range(4)]
    >>> [f.suspects for f in touch_burst(FlagInputs(many), FlagRules(burst_touches=3))]
    [('t-1', 't-2', 't-3')]
    """
    deals = inputs.deals_by_customer
    limit = rules.burst_touches
    columns = inputs.touch_columns
    # a burst has limit + 1 touches on one customer in a window: the screen over every touch
    order = np.lexsort((columns.at, columns.customer))
    numbers, stamps = columns.customer[order], columns.at[order]
    full = (numbers[limit:] == numbers[:-limit]) & (
        stamps[limit:] - stamps[:-limit] <= microseconds(rules.burst_window)
    )
    suspects = {columns.customers[c] for c in np.unique(numbers[limit:][full]).tolist()}
    by_customer: dict[str, list[FlagTouch]] = defaultdict(list)
    for t in inputs.touches:
        if t.customer in suspects:
            by_customer[t.customer].append(t)
    flags = []
    for customer, touches in by_customer.items():
        if len(touches) <= limit:
            continue
        touches.sort(key=lambda t: (t.at, t.id))
        times = [t.at for t in touches]
        in_burst = [False] * len(touches)
        marked = 0  # touches before this index are marked already: each is marked once
        for end in range(limit, len(touches)):
            start = bisect_left(times, times[end] - rules.burst_window)
            if end - start + 1 > limit:
                for i in range(max(start, marked), end + 1):
                    in_burst[i] = True
                marked = end + 1
        i = 0
        while i < len(touches):
            if not in_burst[i]:
                i += 1
                continue
            j = i
            while j + 1 < len(touches) and in_burst[j + 1]:
                j += 1
            run = touches[i : j + 1]
            span = (run[-1].at - run[0].at).total_seconds()
            flags.append(
                _flag(
                    "touch_burst",
                    run[-1].at,
                    [t.id for t in run],
                    [t.id for t in run[1:]],
                    f"{len(run)} touches on customer {customer} within {_gap(span)} from "
                    f"{_when(run[0].at)} (more than {limit} in {rules.burst_minutes:g} minutes)",
                    staff=[t.staff for t in run],
                    customers=[customer],
                    deals=_counts_for(deals.get(customer, []), run[-1].at),
                )
            )
            i = j + 1
    return flags


def referral_ring(inputs: FlagInputs, rules: FlagRules) -> list[Flag]:
    """Referrers who refer to each other back and forth.

    Staff: ``A`` referred a customer whose deal ``B`` closed, and ``B`` referred a customer whose
    deal ``A`` closed. Owners: customer ``A`` referred ``B`` and ``B`` referred ``A``. Every
    referral of the pair in either direction is involved and suspect.

    >>> from contribnet.domain.events import Deal, Referral
    >>> at = datetime(2025, 1, 1, 2, tzinfo=UTC)
    >>> refs = [Referral(id="r-1", at=at, customer="c-2", to_store="s", referrer_customer="c-1"),
    ...         Referral(id="r-2", at=at, customer="c-1", to_store="s", referrer_customer="c-2")]
    >>> [f.records for f in referral_ring(FlagInputs(referrals=refs), FlagRules())]
    [('r-1', 'r-2')]
    """
    deals = inputs.deals_by_customer
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)  # (from, to) -> referral ids
    at_of: dict[str, datetime] = {}
    customer_of: dict[str, str] = {}
    for r in inputs.referrals:
        at_of[r.id] = r.at
        customer_of[r.id] = r.customer
        if r.referrer_customer is not None:
            if r.referrer_customer != r.customer:
                edges[(f"owner {r.referrer_customer}", f"owner {r.customer}")].append(r.id)
        elif r.referrer_staff is not None:
            for deal in deals.get(r.customer, ()):
                if deal.closed_at >= r.at and deal.staff != r.referrer_staff:
                    edges[(f"staff {r.referrer_staff}", f"staff {deal.staff}")].append(r.id)
                    break
    flags = []
    for (a, b), there in sorted(edges.items()):
        back = edges.get((b, a))
        if not back or a > b:
            continue
        ids = sorted(set(there + back))
        people = [p.split(" ", 1)[1] for p in (a, b)]
        flags.append(
            _flag(
                "referral_ring",
                max(at_of[i] for i in ids),
                ids,
                ids,
                f"{a} and {b} refer customers to each other: {len(there)} referral(s) one way "
                f"({', '.join(sorted(there))}), {len(back)} back ({', '.join(sorted(back))})",
                staff=people if a.startswith("staff") else (),
                customers=[customer_of[i] for i in ids],
                deals=[
                    d for i in ids for d in _counts_for(deals.get(customer_of[i], []), at_of[i])
                ],
            )
        )
    return flags


def evidence_reuse(inputs: FlagInputs, rules: FlagRules) -> list[Flag]:
    """One evidence reference (the ``ref`` of an item of a touch's typed evidence) on touches of
    different customers. The touches sharing it are involved; all but the earliest are suspects.

    >>> at = datetime(2025, 1, 1, 2, tzinfo=UTC)
    >>> a = _touch("t-1", at, evidence={"kind": "photo", "ref": "img-7"})
    >>> b = _touch("t-2", at, customer="c-2", evidence={"kind": "photo", "ref": "img-7"})
    >>> [f.suspects for f in evidence_reuse(FlagInputs([a, b]), FlagRules())]
    [('t-2',)]
    """
    deals = inputs.deals_by_customer
    # most references back one touch: a list only for those that back more
    first: dict[str, FlagTouch] = {}
    by_ref: dict[str, list[FlagTouch]] = {}
    for t in inputs.touches:
        if t.evidence is not None:
            for ref in evidence_refs(t.evidence):
                seen = first.setdefault(ref, t)
                if seen is not t:
                    by_ref.setdefault(ref, [seen]).append(t)
    flags = []
    for ref, touches in sorted(by_ref.items()):
        if len({t.customer for t in touches}) < 2:
            continue
        touches.sort(key=lambda t: (t.at, t.id))
        customers = sorted({t.customer for t in touches})
        flags.append(
            _flag(
                "evidence_reuse",
                touches[-1].at,
                [t.id for t in touches],
                [t.id for t in touches[1:]],
                f"evidence {ref!r} backs {len(touches)} touches on {len(customers)} customers "
                f"({', '.join(customers)})",
                staff=[t.staff for t in touches],
                customers=customers,
                deals=[
                    d for t in touches[1:] for d in _counts_for(deals.get(t.customer, []), t.at)
                ],
            )
        )
    return flags


def _touched_just_before_a_deal(inputs: FlagInputs, rules: FlagRules) -> set[str]:
    """The customers with a touch less than ``rules.grab_window`` before (or as) one of their
    deals closed: those a grab may be of, at whom the rule looks closer."""
    columns = inputs.touch_columns
    number = columns.customer_numbers
    deals = [
        (number[d.customer], microseconds(d.closed_at))
        for d in inputs.deals
        if d.customer in number
    ]
    deal_columns = np.array(deals, dtype=np.int64).reshape(-1, 2)
    touches = len(columns.at)
    customer = np.concatenate([columns.customer, deal_columns[:, 0]])
    at = np.concatenate([columns.at, deal_columns[:, 1]])
    is_deal = np.arange(len(at)) >= touches
    # by customer, time, touches before deals at the same time: each touch's next deal is the
    # first closed at or after it
    order = np.lexsort((is_deal, at, customer))
    customer, at, is_deal = customer[order], at[order], is_deal[order]
    end = len(at)
    next_deal = np.where(is_deal, np.arange(end), end)
    next_deal = np.minimum.accumulate(next_deal[::-1])[::-1]
    touch = np.flatnonzero(~is_deal)
    deal = next_deal[touch]
    touch, deal = touch[deal < end], deal[deal < end]
    close = (customer[deal] == customer[touch]) & (
        at[deal] - at[touch] < microseconds(rules.grab_window)
    )
    return {columns.customers[c] for c in np.unique(customer[touch][close]).tolist()}


def grab(inputs: FlagInputs, rules: FlagRules) -> list[Flag]:
    """A staff member's first touch on a customer, at an early stage (``rules.grab_stages``),
    less than ``rules.grab_minutes`` before a colleague closes the customer's deal: early work
    claimed at the last minute (or an order pulled away just before it closed).

    >>> from contribnet.domain.events import Deal
    >>> close = datetime(2025, 1, 1, 3, tzinfo=UTC)
    >>> deal = Deal(id="d-1", customer="c-1", store="st-sh", staff="sf-2", closed_at=close,
    ...             amount=100, reward_pool=10)
    >>> t = _touch("t-9", datetime(2025, 1, 1, 2, 50, tzinfo=UTC), stage="test_drive")
    >>> [f.records for f in grab(FlagInputs([t], [deal]), FlagRules())]
    [('t-9', 'd-1')]
    """
    deals = inputs.deals_by_customer
    suspects = _touched_just_before_a_deal(inputs, rules)
    # each staff member's first touch on each of those customers, in one pass (no sort of every
    # touch)
    first: dict[tuple[str, str], FlagTouch] = {}
    for t in inputs.touches:
        if t.customer not in suspects:
            continue
        key = (t.customer, t.staff)
        seen = first.get(key)
        if seen is None or t.at < seen.at or (t.at == seen.at and t.id < seen.id):
            first[key] = t
    found: list[tuple[tuple[str, str], Flag]] = []
    for (customer, staff), t in first.items():
        if t.stage not in rules.grab_stages:
            continue
        customer_deals = deals[customer]
        for deal in customer_deals[_first_closed_from(customer_deals, t.at) :]:
            if deal.closed_at - t.at >= rules.grab_window:
                break
            if deal.staff == staff:
                continue
            flag = _flag(
                "grab",
                deal.closed_at,
                [t.id, deal.id],
                [t.id],
                f"{staff}'s first touch on {customer} ({t.stage}, {t.id}) came "
                f"{_gap((deal.closed_at - t.at).total_seconds())} before {deal.staff} "
                f"closed deal {deal.id}",
                staff=[staff, deal.staff],
                customers=[customer],
                deals=[deal.id],
            )
            found.append(((customer, staff), flag))
            break
    return [flag for _, flag in sorted(found, key=lambda pair: pair[0])]


#: The rules by kind, in the order :func:`find_flags` runs them.
RULES: dict[FlagKind, Rule] = {
    "late_log": late_log,
    "outside_employment": outside_employment,
    "impossible_travel": impossible_travel,
    "touch_burst": touch_burst,
    "referral_ring": referral_ring,
    "evidence_reuse": evidence_reuse,
    "grab": grab,
}
assert tuple(RULES) == FLAG_KINDS


def find_flags(
    inputs: FlagInputs, rules: FlagRules | None = None, kinds: Iterable[FlagKind] | None = None
) -> list[Flag]:
    """Every flag the rules (all, or ``kinds``) find, by time then id; a flag found twice (the
    same rule and records) once.

    >>> find_flags(FlagInputs())
    []
    """
    rules = rules or FlagRules()
    wanted = FLAG_KINDS if kinds is None else tuple(kinds)
    found: dict[str, Flag] = {}
    for kind in wanted:
        for flag in RULES[kind](inputs, rules):
            found.setdefault(flag.id, flag)
    return sorted(found.values(), key=lambda f: (f.at, f.id))


def flagged_deals(flags: Iterable[Flag]) -> set[str]:
    """The deals that carry a flag: those its suspect records count for.

    >>> flagged_deals([])
    set()
    """
    return {d for f in flags for d in f.deals}
