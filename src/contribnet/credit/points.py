"""Activity points: what each activity earns under the points policy in force, and an account's
ledger and balance.

Definition
----------
An activity of staff member ``s`` with action ``a`` at instant ``t`` falls on the business day
``d`` (``t``'s calendar day in China Standard Time). It is priced by the points policy version *in
force* on ``d``: of the versions whose ``effective_from`` is on or before ``d``, the latest; of
several with that ``effective_from``, the one recorded last (the rule of credit policies:
:func:`contribnet.services.policies.in_force`). Before every ``effective_from`` it earns 0.

Its *base* points are the version's ``actions[a]`` (0 if it does not list ``a``), or
``region_actions[R][a]`` if that is given and ``s``'s store on ``d`` -- the store of the
employment spell covering ``d``, as the credit guards read it
(:func:`contribnet.credit.guards.store_at`) -- is in region ``R``.

The version's ``daily_caps[a]``, if given, bounds what ``s`` earns for ``a`` on ``d``: the day's
activities of ``s`` and ``a``, in order of ``(t, id)``, earn their base points until the cap is
reached; the one that reaches it earns what is left of the cap, any later one 0. Only live
activities are priced: a voided one earns nothing and takes no room under the cap.

An account's ledger is its entries in order of ``(at, kind, id)`` (kinds in the order activity,
owner_referral, redemption, reversal): its activities' points; for an owner the points of each
current settlement crediting them (``owner_referral``, at the deal's close); minus each
redemption and plus each reversal (at the time recorded). The balance is the sum of the entries.

Worked example
--------------
Version 1 pays 2 points a WeChat add, at most 4 a day, and 5 a store invitation; version 2, from
1 March 2025, pays 3 for a store invitation in the East. Xu works at a store in the East:

>>> from datetime import UTC, date, datetime
>>> from contribnet.domain.events import Activity, Staff
>>> from contribnet.domain.points import PointsPolicy, PointsPolicyRecord
>>> def version(n, start, **keys):
...     policy = PointsPolicy(version=str(n), effective_from=start, **keys)
...     return PointsPolicyRecord(id=f"points@{n}", name="points", version=str(n),
...         effective_from=start, hash=str(n), created_at=datetime(2025, 1, 1, tzinfo=UTC),
...         created_by="example", policy=policy)
>>> v1 = version(1, date(2025, 1, 1), actions={"wechat_add": 2, "store_invite": 5},
...              daily_caps={"wechat_add": 4})
>>> v2 = version(2, date(2025, 3, 1), actions={"wechat_add": 2, "store_invite": 5},
...              daily_caps={"wechat_add": 4}, region_actions={"East": {"store_invite": 3}})
>>> xu = Staff(id="sf-xu", name="Xu", store="st-e", role="advisor")
>>> def act(id, at, action):
...     return Activity(id=id, at=at, staff="sf-xu", action=action)
>>> activities = [
...     act("a-1", "2025-02-10T10:00:00+08:00", "wechat_add"),
...     act("a-2", "2025-02-10T11:00:00+08:00", "wechat_add"),
...     act("a-3", "2025-02-10T12:00:00+08:00", "wechat_add"),   # over the day's cap of 4
...     act("a-4", "2025-02-28T23:59:59+08:00", "store_invite"),  # the last second of version 1
...     act("a-5", "2025-03-01T00:00:00+08:00", "store_invite"),  # the first of version 2
... ]
>>> entries = activity_entries(activities, [v1, v2], [xu], {"st-e": "East"})
>>> for e in entries:
...     print(e.id, e.points, e.policy)
a-1 2 points@1
a-2 2 points@1
a-3 0 points@1
a-4 5 points@1
a-5 3 points@2
>>> balance(entries)
12
>>> entries[2].note
'wechat_add: 0 of 2 points (points@1): the daily cap of 4 was reached'

Voiding ``a-1`` (leaving it out) makes room for ``a-3`` under the cap; the day still pays 4.

>>> [e.points for e in activity_entries(activities[1:3], [v1, v2], [xu], {"st-e": "East"})]
[2, 2]

References
----------
NIO's advisor development programme (the domain brief, ``DOMAIN.md``): actions that nurture a
customer earn points by configurable weights, a region strong at an action weighs it lower.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from contribnet.credit.guards import store_at
from contribnet.domain.events import Activity, Staff
from contribnet.domain.points import (
    ENTRY_KINDS,
    PointsAccount,
    PointsEntry,
    PointsPolicyRecord,
)
from contribnet.domain.settlement import business_date

__all__ = ["activity_entries", "balance", "ledger", "policy_in_force"]


def policy_in_force(records: Sequence[PointsPolicyRecord], day: date) -> PointsPolicyRecord | None:
    """The points policy version in force on a business day; None before the first.

    >>> from datetime import UTC, datetime
    >>> from contribnet.domain.points import PointsPolicy
    >>> def record(n, start):
    ...     return PointsPolicyRecord(id=f"points@{n}", name="points", version=str(n),
    ...         effective_from=start, hash="h", created_at=datetime(2025, 1, n, tzinfo=UTC),
    ...         created_by="t", policy=PointsPolicy(version=str(n), effective_from=start))
    >>> found = [record(1, date(2024, 11, 1)), record(2, date(2025, 3, 1))]
    >>> policy_in_force(found, date(2025, 2, 28)).id, policy_in_force(found, date(2025, 3, 1)).id
    ('points@1', 'points@2')
    >>> policy_in_force(found, date(2024, 10, 31)) is None
    True
    """
    candidates = [
        (r.effective_from, r.created_at, r.id, r) for r in records if r.effective_from <= day
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[:3])[3]


def activity_entries(
    activities: Iterable[Activity],
    policies: Sequence[PointsPolicyRecord],
    spells: Sequence[Staff] | Mapping[str, Sequence[Staff]],
    regions: Mapping[str, str],
) -> list[PointsEntry]:
    """The points each live activity earns (see the module's definition), in ``(at, id)`` order.

    ``spells`` are the employment spells of the activities' staff member (or, for activities of
    several staff, their spells by staff id); ``regions`` the region of each of their stores.
    """
    ordered = sorted(activities, key=lambda a: (a.at, a.id))
    by_day: dict[date, PointsPolicyRecord | None] = {}
    used: dict[tuple[str, date, str], int] = {}
    entries: list[PointsEntry] = []
    for activity in ordered:
        day = _day(activity)
        if day not in by_day:
            by_day[day] = policy_in_force(policies, day)
        record = by_day[day]
        staff_spells = spells.get(activity.staff, ()) if isinstance(spells, Mapping) else spells
        store = store_at(staff_spells, day)
        region = regions.get(store) if store is not None else None
        if record is None:
            entries.append(
                _activity_entry(
                    activity,
                    0,
                    None,
                    None,
                    region,
                    f"{activity.action}: no points policy is in force on {day.isoformat()}",
                )
            )
            continue
        policy = record.policy
        base = policy.points(activity.action, region)
        overridden = region is not None and activity.action in policy.region_actions.get(region, {})
        where = f"{record.id}, {region}" if overridden else record.id
        cap = policy.daily_caps.get(activity.action)
        points = base
        note = f"{activity.action}: {base} points ({where})"
        if cap is not None:
            key = (activity.staff, day, activity.action)
            room = max(cap - used.get(key, 0), 0)
            points = min(base, room)
            used[key] = used.get(key, 0) + points
            if points < base:
                note = (
                    f"{activity.action}: {points} of {base} points ({where}): "
                    f"the daily cap of {cap} was reached"
                )
        entries.append(_activity_entry(activity, points, base, record.id, region, note))
    return entries


def _day(activity: Activity) -> date:
    """The activity's business day (the last day of the calendar for an instant whose day in
    China Standard Time is past year 9999)."""
    try:
        return business_date(activity.at)
    except OverflowError:
        return date.max


def _activity_entry(
    activity: Activity,
    points: int,
    base: int | None,
    policy: str | None,
    region: str | None,
    note: str,
) -> PointsEntry:
    return PointsEntry(
        at=activity.at,
        kind="activity",
        id=activity.id,
        points=points,
        action=activity.action,
        customer=activity.customer,
        policy=policy,
        region=region,
        base=base,
        note=note,
    )


def ledger(account: PointsAccount) -> list[PointsEntry]:
    """Every entry of an account's ledger, in order of ``(at, kind, id)``."""
    entries = activity_entries(
        account.activities, account.policies, account.spells, account.regions
    )
    for credit in account.owner_credits:
        entries.append(
            PointsEntry(
                at=credit.closed_at,
                kind="owner_referral",
                id=credit.deal,
                points=credit.points,
                deal=credit.deal,
                settlement=credit.settlement,
                note=f"owner referral: {credit.points} points on deal {credit.deal!r}"
                f" (settlement {credit.settlement})",
            )
        )
    for r in account.redemptions:
        entries.append(
            PointsEntry(
                at=r.created_at,
                kind="redemption",
                id=r.id,
                points=-r.points,
                reason=r.reason,
                note=f"redeemed {r.points} points: {r.reason}",
            )
        )
    for v in account.reversals:
        entries.append(
            PointsEntry(
                at=v.created_at,
                kind="reversal",
                id=v.redemption,
                points=v.points,
                reason=v.reason,
                note=f"redemption {v.redemption!r} reversed, {v.points} points back: {v.reason}",
            )
        )
    return sorted(entries, key=lambda e: (e.at, ENTRY_KINDS.index(e.kind), e.id))


def balance(entries: Iterable[PointsEntry]) -> int:
    """The sum of the entries' points."""
    return sum(e.points for e in entries)
