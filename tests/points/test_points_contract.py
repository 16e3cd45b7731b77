"""The points ledger on both stores: activities ingested like every event, priced by the points
policy in force (effective dating at the boundary, region overrides, daily caps), redemptions that
never overdraw -- also in parallel -- idempotent by id and reversible, owners' referral points."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from tests.points.conftest import NETWORK, Points, activity

from contribnet.domain.errors import ConflictError, InvalidEvents, NotFound
from contribnet.domain.points import HolderKind, PointsPolicy
from contribnet.domain.settlement import InvalidRequest, RecordConflict
from contribnet.services.ingest import ingest_events
from contribnet.services.points import (
    ensure_default_points_policy,
    points_policy_record,
    points_statement,
    redeem,
    reverse,
)
from contribnet.store import Store
from contribnet.store.points import points_store

T0 = datetime(2025, 1, 1, tzinfo=UTC)
V1 = points_policy_record(PointsPolicy(version="1"), "test", now=T0)
#: From 1 March 2025 (China Standard Time) a store invitation is worth 3 in the East, 7 in the
#: South.
V2 = points_policy_record(
    PointsPolicy(
        version="2",
        effective_from=date(2025, 3, 1),
        region_actions={"East": {"store_invite": 3}, "South": {"store_invite": 7}},
    ),
    "test",
    now=datetime(2025, 1, 2, tzinfo=UTC),
)


def _points(store: Store, staff: str = "sf-x", kind: HolderKind = "staff") -> dict[str, int]:
    """Each entry's points by id."""
    return {e.id: e.points for e in points_statement(store, kind, staff, None, None).entries}


def _available(store: Store, holder: str = "sf-x", kind: HolderKind = "staff") -> int:
    return points_statement(store, kind, holder, None, None).available


def test_activities_are_ingested_all_or_nothing_idempotent_and_voidable(points: Points) -> None:
    store = points.store
    ensure_default_points_policy(store)
    sent = [
        *NETWORK,
        activity("a-1", "2025-01-05T10:00:00+08:00", "wechat_add", customer="c-1"),
        activity(
            "a-2",
            "2025-01-05T11:00:00+08:00",
            "deposit_taken",
            evidence={"kind": "crm_record", "ref": "r-9"},
        ),
    ]
    assert ingest_events(store, sent).accepted == len(sent)
    again = ingest_events(store, sent[-2:])
    assert (again.accepted, again.duplicates) == (0, 2)
    # the same instant in another time zone is the same content
    same = activity("a-1", "2025-01-05T02:00:00Z", "wechat_add", customer="c-1")
    assert ingest_events(store, [same]).duplicates == 1
    with pytest.raises(ConflictError) as conflict:
        ingest_events(store, [activity("a-1", "2025-01-05T10:00:00+08:00", "store_invite")])
    assert conflict.value.ids == ["a-1"]
    # an unknown action refuses the whole batch, naming the field; nothing is written
    with pytest.raises(InvalidEvents) as invalid:
        ingest_events(
            store,
            [
                activity("a-3", "2025-01-06T10:00:00Z", "wechat_add"),
                activity("a-4", "2025-01-06T10:00:00Z", "teleport"),
            ],
        )
    assert [(e.index, e.id, e.field) for e in invalid.value.errors] == [(1, "a-4", "action")]
    assert "a-3" not in store.stored_hashes(["a-3"])
    assert store.stored_types(["a-1"]) == {"a-1": "activity"}
    assert _points(store) == {"a-1": 2, "a-2": 20}
    # a void removes its points
    ingest_events(store, [{"type": "void", "id": "v-1", "target": "a-2", "reason": "no deposit"}])
    assert _points(store) == {"a-1": 2}


def test_a_void_sent_before_its_activity_voids_it_on_arrival(points: Points) -> None:
    store = points.store
    ensure_default_points_policy(store)
    ingest_events(store, NETWORK)
    ingest_events(store, [{"type": "void", "id": "v-9", "target": "a-9", "reason": "early"}])
    ingest_events(store, [activity("a-9", "2025-01-05T10:00:00Z", "deposit_taken")])
    ingest_events(store, [activity("a-10", "2025-01-05T10:00:00Z", "store_invite")])
    assert _points(store) == {"a-10": 5}


def test_effective_dating_and_region_overrides_at_the_boundary(points: Points) -> None:
    """Version 2 prices from 2025-03-01T00:00:00+08:00 exactly; a staff member's region is that
    of their store on the activity's day (Xu moves from the East to the South that day)."""
    store = points.store
    ledger = points_store(store)
    assert ledger.put_points_policy(V2) == (V2, True)
    assert ledger.put_points_policy(V1) == (V1, True)
    ingest_events(store, NETWORK)
    last, first = "2025-02-28T23:59:59.999999+08:00", "2025-03-01T00:00:00+08:00"
    ingest_events(
        store,
        [
            activity("x-before", last, "store_invite"),
            activity("x-at", first, "store_invite"),
            activity("y-before", last, "store_invite", staff="sf-y"),
            activity("y-at", first, "store_invite", staff="sf-y"),
            activity("y-other", first, "wechat_add", staff="sf-y"),  # not overridden
        ],
    )
    assert _points(store) == {"x-before": 5, "x-at": 7}
    assert _points(store, "sf-y") == {"y-before": 5, "y-at": 3, "y-other": 2}
    entries = {e.id: e for e in points_statement(store, "staff", "sf-x", None, None).entries}
    assert (entries["x-before"].policy, entries["x-before"].region) == ("points@1", "East")
    assert (entries["x-at"].policy, entries["x-at"].region) == ("points@2", "South")
    assert entries["x-at"].note == "store_invite: 7 points (points@2, South)"
    # before the first effective_from nothing is in force: 0 points, and the entry says why
    ingest_events(store, [activity("x-early", "2024-10-31T23:59:59+08:00", "deposit_taken")])
    early = next(
        e for e in points_statement(store, "staff", "sf-x", None, None).entries if e.id == "x-early"
    )
    assert early.points == 0 and "no points policy is in force on 2024-10-31" in early.note


def test_a_version_recorded_later_with_the_same_effective_from_wins(points: Points) -> None:
    store = points.store
    ledger = points_store(store)
    ledger.put_points_policy(V1)
    correction = points_policy_record(
        PointsPolicy(version="1b", actions={"deposit_taken": 30}), "test", now=T0.replace(day=5)
    )
    ledger.put_points_policy(correction)
    ingest_events(store, [*NETWORK, activity("a-1", "2025-01-05T10:00:00Z", "deposit_taken")])
    assert _points(store) == {"a-1": 30}
    assert [p.id for p in ledger.points_policies()] == ["points@1", "points@1b"]
    with pytest.raises(RecordConflict):
        ledger.put_points_policy(
            points_policy_record(PointsPolicy(version="1", description="x"), "t")
        )


def test_daily_caps_per_staff_action_and_business_day(points: Points) -> None:
    store = points.store
    capped = PointsPolicy(
        actions={"wechat_add": 3, "material_sent": 1}, daily_caps={"wechat_add": 7}
    )
    points_store(store).put_points_policy(points_policy_record(capped, "test", now=T0))
    ingest_events(store, NETWORK)
    day = [
        activity(f"w-{n}", f"2025-01-05T{9 + n:02d}:00:00+08:00", "wechat_add") for n in range(4)
    ]
    ingest_events(
        store,
        [
            *day,
            # the last microsecond of the same business day, and the first of the next one
            activity("w-late", "2025-01-05T23:59:59.999999+08:00", "wechat_add"),
            activity("w-next", "2025-01-06T00:00:00+08:00", "wechat_add"),
            # another action, and another staff member, have caps of their own
            activity("m-1", "2025-01-05T09:00:00+08:00", "material_sent"),
            activity("w-y", "2025-01-05T09:00:00+08:00", "wechat_add", staff="sf-y"),
        ],
    )
    assert _points(store) == {
        "m-1": 1, "w-0": 3, "w-1": 3, "w-2": 1, "w-3": 0, "w-late": 0, "w-next": 3
    }  # fmt: skip
    assert _points(store, "sf-y") == {"w-y": 3}
    entries = {e.id: e for e in points_statement(store, "staff", "sf-x", None, None).entries}
    assert (entries["w-2"].base, entries["w-2"].points) == (3, 1)
    assert entries["w-2"].note.endswith("the daily cap of 7 was reached")
    # voiding one of the day's activities makes room for a later one: the day still pays 7
    ingest_events(store, [{"type": "void", "id": "v-w0", "target": "w-0", "reason": "dup"}])
    assert {k: v for k, v in _points(store).items() if k.startswith("w-")} == {
        "w-1": 3, "w-2": 3, "w-3": 1, "w-late": 0, "w-next": 3
    }  # fmt: skip


def _earn(store: Store, deposits: int, staff: str = "sf-x") -> int:
    """``deposits`` deposits of 20 points each on as many days (no cap on deposits)."""
    ensure_default_points_policy(store)
    ingest_events(
        store,
        [
            activity(
                f"d-{staff}-{n}", f"2025-01-{n + 1:02d}T10:00:00Z", "deposit_taken", staff=staff
            )
            for n in range(deposits)
        ],
    )
    return 20 * deposits


def test_redemptions_never_overdraw_are_idempotent_and_reversible(points: Points) -> None:
    store = points.store
    ingest_events(store, NETWORK)
    assert _earn(store, 5) == 100
    first, created = redeem(store, "rd-1", "staff", "sf-x", 60, "leads", "leader")
    assert created and _available(store) == 40
    # the same id and content again: the recorded one (not redeemed twice)
    again, created = redeem(store, "rd-1", "staff", "sf-x", 60, "leads", "leader")
    assert not created and again == first and _available(store) == 40
    with pytest.raises(RecordConflict):
        redeem(store, "rd-1", "staff", "sf-x", 50, "leads", "leader")
    with pytest.raises(InvalidRequest) as refused:
        redeem(store, "rd-2", "staff", "sf-x", 41, "more leads", "leader")
    assert refused.value.problems[0][0] == "points"
    assert "holds 40 points; cannot redeem 41" in refused.value.problems[0][1]
    with pytest.raises(NotFound):
        points_store(store).redemption("rd-2")  # nothing was written
    assert redeem(store, "rd-2", "staff", "sf-x", 40, "more leads", "leader")[1]
    assert _available(store) == 0
    # a reversal gives the points back, once
    reversal, created = reverse(store, "rd-1", "leads never assigned", "leader")
    assert created and reversal.points == 60 and _available(store) == 60
    assert reverse(store, "rd-1", "leads never assigned", "leader") == (reversal, False)
    with pytest.raises(RecordConflict):
        reverse(store, "rd-1", "another reason", "leader")
    with pytest.raises(NotFound):
        reverse(store, "rd-404", "no such", "leader")
    assert points_store(store).reversal("rd-1") == reversal
    assert points_store(store).reversal("rd-2") is None
    kinds = [
        (e.kind, e.points) for e in points_statement(store, "staff", "sf-x", None, None).entries
    ]
    assert kinds[-3:] == [("redemption", -60), ("redemption", -40), ("reversal", 60)]
    # nothing earned, nothing to redeem; an unknown staff member holds nothing either
    with pytest.raises(InvalidRequest):
        redeem(store, "rd-3", "staff", "sf-y", 1, "leads", "leader")
    with pytest.raises(InvalidRequest):
        redeem(store, "rd-4", "staff", "sf-404", 1, "leads", "leader")
    with pytest.raises(NotFound):
        points_statement(store, "staff", "sf-404", None, None)


def test_a_void_after_a_redemption_shows_a_debt_and_refuses_more(points: Points) -> None:
    store = points.store
    ingest_events(store, NETWORK)
    _earn(store, 3)
    redeem(store, "rd-1", "staff", "sf-x", 50, "leads", "leader")
    ingest_events(store, [{"type": "void", "id": "v-1", "target": "d-sf-x-0", "reason": "none"}])
    assert _available(store) == -10
    with pytest.raises(InvalidRequest):
        redeem(store, "rd-2", "staff", "sf-x", 1, "leads", "leader")


def _race(
    points: Points, n: int, work: Callable[[Store, int], Any], connections: int = 4
) -> list[Any]:
    """``work(store, i)`` for i in 0..n-1 in n threads released at once, over a few connections
    of their own; each result is what ``work`` returned or the exception it raised."""
    stores = [points.open() for _ in range(connections)]
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(stores[i % connections], i)
        except Exception as exc:  # collected and asserted on below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for s in stores:
            s.close()
    return results


def test_parallel_redemptions_never_overdraw(points: Points) -> None:
    store = points.store
    ingest_events(store, NETWORK)
    earned = _earn(store, 10)  # 200 points: three redemptions of 60 fit, not four
    results = _race(
        points, 16, lambda s, i: redeem(s, f"rd-{i}", "staff", "sf-x", 60, f"race {i}", "leader")
    )
    accepted = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, InvalidRequest)]
    assert len(accepted) == 3 and len(refused) == 13, results
    assert all(created for _, created in accepted)
    assert all(r.problems[0][0] == "points" for r in refused)
    assert _available(store) == earned - 3 * 60 == 20
    account = points_store(store).points_account("staff", "sf-x")
    assert len(account.redemptions) == 3


def test_parallel_redemptions_of_one_id_record_it_once(points: Points) -> None:
    store = points.store
    ingest_events(store, NETWORK)
    _earn(store, 2)
    results = _race(points, 8, lambda s, i: redeem(s, "rd-same", "staff", "sf-x", 30, "once", "l"))
    assert all(isinstance(r, tuple) for r in results), results
    assert sum(created for _, created in results) == 1
    assert _available(store) == 10


def test_owner_referral_points_land_in_the_owners_ledger(points: Points) -> None:
    from contribnet.services.policies import ensure_default_policy
    from contribnet.services.settlement import settle

    store = points.store
    ingest_events(store, NETWORK)
    ensure_default_policy(store)
    ensure_default_points_policy(store)
    with pytest.raises(NotFound):
        points_statement(store, "owner", "c-404", None, None)
    assert points_statement(store, "owner", "c-owner", None, None).entries == []
    settled, _ = settle(store, "d-1", requested_by="test")
    owed = sum(a.points for a in settled.allocations if a.kind == "owner" and a.id == "c-owner")
    assert owed == 800  # the deal's points pool: one owner referrer
    statement = points_statement(store, "owner", "c-owner", None, None)
    (entry,) = statement.entries
    assert (entry.kind, entry.id, entry.points, entry.settlement) == (
        "owner_referral", "d-1", 800, settled.id
    )  # fmt: skip
    assert entry.at == datetime(2025, 1, 10, tzinfo=UTC)
    assert redeem(store, "rd-o", "owner", "c-owner", 500, "service voucher", "leader")[1]
    with pytest.raises(InvalidRequest):
        redeem(store, "rd-o2", "owner", "c-owner", 301, "voucher", "leader")
    assert _available(store, "c-owner", "owner") == 300
    # an owner's account is not a staff member's of the same id
    assert points_store(store).points_account("staff", "c-owner").redemptions == ()


def test_a_statement_covers_its_period_with_opening_and_closing_balances(points: Points) -> None:
    store = points.store
    ingest_events(store, NETWORK)
    _earn(store, 5)  # 20 points on each of 1 to 5 January, 10:00 UTC
    march = datetime(2025, 3, 1, 2, tzinfo=UTC)
    redeem(store, "rd-1", "staff", "sf-x", 30, "leads", "leader", now=march)
    s = points_statement(store, "staff", "sf-x", date(2025, 1, 2), date(2025, 1, 3))
    assert [e.id for e in s.entries] == ["d-sf-x-1", "d-sf-x-2"]
    assert (s.opening, s.earned, s.redeemed, s.balance, s.available) == (20, 40, 0, 60, 70)
    s = points_statement(store, "staff", "sf-x", date(2025, 3, 1), None)
    assert (s.opening, s.earned, s.redeemed, s.balance) == (100, 0, 30, 70)
    with pytest.raises(InvalidRequest) as bad:
        points_statement(store, "staff", "sf-x", date(2025, 3, 1), date(2025, 2, 1))
    assert bad.value.problems[0][0] == "to"


def test_the_shipped_policy_prices_while_none_is_recorded(points: Points) -> None:
    """A store filled before any points policy was recorded (``contribnet import``, say) reads
    its ledgers under the shipped default; the first redemption records it."""
    store = points.store
    ingest_events(store, [*NETWORK, activity("a-1", "2025-01-05T10:00:00Z", "deposit_taken")])
    assert points_store(store).points_policies() == []
    (entry,) = points_statement(store, "staff", "sf-x", None, None).entries
    assert (entry.points, entry.policy) == (20, "points@1")
    redeem(store, "rd-1", "staff", "sf-x", 5, "leads", "leader")
    assert [p.id for p in points_store(store).points_policies()] == ["points@1"]
    assert _available(store) == 15
