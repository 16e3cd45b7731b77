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
from datetime import UTC, date, datetime, timedelta

from contribnet.domain.events import Deal, Touch
from contribnet.domain.flags import (
    FLAG_KINDS,
    Flag,
    FlagInputs,
    FlagKind,
    FlagRules,
    flag_id,
)
from contribnet.domain.settlement import business_date

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


def _deals_by_customer(inputs: FlagInputs) -> dict[str, list[Deal]]:
    by_customer: dict[str, list[Deal]] = defaultdict(list)
    for deal in sorted(inputs.deals, key=lambda d: (d.closed_at, d.id)):
        by_customer[deal.customer].append(deal)
    return by_customer


def _counts_for(deals: Sequence[Deal], at: datetime) -> list[str]:
    """The deal a contribution at ``at`` counts for: the customer's first deal closed at or
    after it (none if all closed before)."""
    for deal in deals:
        if deal.closed_at >= at:
            return [deal.id]
    return []


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
    deals = _deals_by_customer(inputs)
    # per customer, the records with a received time: (happened, received, id)
    history: dict[str, list[tuple[datetime, datetime, str]]] = defaultdict(list)
    for t in inputs.touches:
        if t.id in received:
            history[t.customer].append((t.at, received[t.id], t.id))
    for customer, customer_deals in deals.items():
        for d in customer_deals:
            if d.id in received:
                history[customer].append((d.closed_at, received[d.id], d.id))
    flags = []
    for t in inputs.touches:
        got = received.get(t.id)
        if got is None or got - t.at <= rules.late_after:
            continue
        ahead = [
            (at, rid) for at, r, rid in history[t.customer] if at > t.at and r < got and rid != t.id
        ]
        if not ahead:
            continue
        closed = [d for d in deals.get(t.customer, ()) if t.at <= d.closed_at < got]
        after = (
            f"after deal {closed[0].id} of {t.customer} had closed"
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
                deals=_counts_for(deals.get(t.customer, []), t.at),
            )
        )
    return flags


def _employed(spells: Sequence[object], day: date) -> bool:
    for spell in spells:
        start = getattr(spell, "from_", None)
        end = getattr(spell, "to", None)
        if (start is None or start <= day) and (end is None or day <= end):
            return True
    return False


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
    deals = _deals_by_customer(inputs)
    flags = []
    for t in inputs.touches:
        spells = inputs.spells.get(t.staff)
        if not spells:
            continue
        day = business_date(t.at)
        if _employed(spells, day):
            continue
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
    deals = _deals_by_customer(inputs)
    by_staff: dict[str, list[Touch]] = defaultdict(list)
    for t in inputs.touches:
        if t.channel not in rules.remote_channels and t.store in inputs.cities:
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
    deals = _deals_by_customer(inputs)
    by_customer: dict[str, list[Touch]] = defaultdict(list)
    for t in inputs.touches:
        by_customer[t.customer].append(t)
    flags = []
    limit = rules.burst_touches
    for customer, touches in by_customer.items():
        if len(touches) <= limit:
            continue
        touches.sort(key=lambda t: (t.at, t.id))
        times = [t.at for t in touches]
        in_burst = [False] * len(touches)
        for end in range(limit, len(touches)):
            start = bisect_left(times, times[end] - rules.burst_window)
            if end - start + 1 > limit:
                for i in range(start, end + 1):
                    in_burst[i] = True
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
    deals = _deals_by_customer(inputs)
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
    """One evidence reference (a touch's ``evidence.ref``) on touches of different customers.
    The touches sharing it are involved; all but the earliest are suspects.

    >>> at = datetime(2025, 1, 1, 2, tzinfo=UTC)
    >>> a = _touch("t-1", at, evidence={"kind": "photo", "ref": "img-7"})
    >>> b = _touch("t-2", at, customer="c-2", evidence={"kind": "photo", "ref": "img-7"})
    >>> [f.suspects for f in evidence_reuse(FlagInputs([a, b]), FlagRules())]
    [('t-2',)]
    """
    deals = _deals_by_customer(inputs)
    by_ref: dict[str, list[Touch]] = defaultdict(list)
    for t in inputs.touches:
        ref = (t.evidence or {}).get("ref")
        if isinstance(ref, str) and ref:
            by_ref[ref].append(t)
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
    deals = _deals_by_customer(inputs)
    first: dict[tuple[str, str], Touch] = {}
    for t in sorted(inputs.touches, key=lambda t: (t.at, t.id)):
        first.setdefault((t.customer, t.staff), t)
    flags = []
    for (customer, staff), t in sorted(first.items()):
        if t.stage not in rules.grab_stages:
            continue
        for deal in deals.get(customer, ()):
            if deal.staff == staff or not timedelta(0) <= deal.closed_at - t.at < rules.grab_window:
                continue
            flags.append(
                _flag(
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
            )
            break
    return flags


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
