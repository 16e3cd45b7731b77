"""Re-settling what changed, on SQLite and on a real Neo4j: ``resettle`` lists exactly the settled
deals whose split changes when computed again now (under the policy version and model their
settlement recorded), a dry run writes nothing, a real run supersedes only those deals with the
reason, and a second run changes nothing.

The deals here close in 2030, after every deal of the tiny network, with customers of their own,
each test's in a month of its own: the events a test adds (on Neo4j they stay in the module's
graph) change nothing another test checks.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest

from contribnet.cli import main
from contribnet.cli.common import money
from contribnet.credit import compute_split
from contribnet.credit.registry import MODELS
from contribnet.domain.ledger import next_settlement
from contribnet.domain.settlement import InvalidRequest, period_bounds
from contribnet.services.credit import preview
from contribnet.services.ingest import ingest_events
from contribnet.services.policies import add_policy
from contribnet.services.settlement import (
    DealChange,
    ResettleReport,
    resettle,
    settle,
    settle_period,
)
from contribnet.store import Store

Ledger = Any  # tests/ledger/conftest.py: kind, url, store, open(), counts()

NAMES = {"sf-edge-1": "Edge One", "sf-edge-2": "Edge Two"}


def _deal(tag: str, closed_at: str = "2030-01-10T06:00:00Z") -> list[dict[str, Any]]:
    """A customer of their own with a test drive (Edge One), a reception (Edge Two, who closes)
    and an owner's referral, and their deal ``d-rs-<tag>``."""
    day = closed_at[:8]  # "2030-01-"
    return [
        {"type": "customer", "id": f"c-rs-{tag}", "city": "Shanghai"},
        {"type": "customer", "id": f"c-rs-{tag}-owner", "name": "Owner One", "city": "Shanghai"},
        {
            "type": "referral",
            "id": f"r-rs-{tag}",
            "at": f"{day}02T02:00:00Z",
            "customer": f"c-rs-{tag}",
            "to_store": "st-edge",
            "referrer_customer": f"c-rs-{tag}-owner",
        },
        _touch(tag, 1, f"{day}05T02:00:00Z", "sf-edge-1", "test_drive"),
        _touch(tag, 2, f"{day}08T02:00:00Z", "sf-edge-2", "reception"),
        {
            "type": "deal",
            "id": f"d-rs-{tag}",
            "customer": f"c-rs-{tag}",
            "store": "st-edge",
            "staff": "sf-edge-2",
            "closed_at": closed_at,
            "amount": 25_000_000,
            "reward_pool": 300_000,
        },
    ]


def _touch(tag: str, n: int | str, at: str, staff: str, stage: str) -> dict[str, Any]:
    return {
        "type": "touch",
        "id": f"t-rs-{tag}-{n}",
        "at": at,
        "customer": f"c-rs-{tag}",
        "staff": staff,
        "store": "st-edge",
        "stage": stage,
    }


def _settle_all(store: Store, start: date | None = None, end: date | None = None) -> None:
    """Settle every deal closed in the period (None: open)."""
    *_, last = settle_period(store, start, end, requested_by="test")
    assert last.failures == 0
    assert store.ledger.count_closed_deals(*period_bounds(start, end), unsettled=True) == 0


def _current(store: Store) -> dict[str, str]:
    """Every settled deal's current settlement id."""
    return {s.deal: s.id for s in store.ledger.current_settlements()}


def _pay(allocations: Any) -> dict[tuple[str, str], tuple[int, int]]:
    return {(a.kind, a.id): (a.amount, a.points) for a in allocations}


def _assert_change(change: DealChange, old: Any, new: Any) -> None:
    """``change`` lists exactly the people whose (fen, points) differ from ``old`` to ``new``
    allocations, with those values."""
    before, after = _pay(old), _pay(new)
    expected = {
        key: (before.get(key, (0, 0)), after.get(key, (0, 0)))
        for key in before.keys() | after.keys()
        if before.get(key, (0, 0)) != after.get(key, (0, 0))
    }
    listed = {
        (p.kind, p.id): ((p.old_fen, p.old_points), (p.new_fen, p.new_points))
        for p in change.people
    }
    assert listed == expected
    for p in change.people:
        assert p.fen == p.new_fen - p.old_fen and p.points == p.new_points - p.old_points
        if p.kind == "staff":
            assert p.name == NAMES[p.id]


def _assert_totals(report: ResettleReport) -> None:
    diffs = [p.fen for c in report.changes for p in c.people]
    assert report.fen_added == sum(d for d in diffs if d > 0)
    assert report.fen_removed == -sum(d for d in diffs if d < 0)
    assert report.fen_moved == max(report.fen_added, report.fen_removed)


def test_a_dry_run_lists_exactly_the_changed_deals_and_a_run_supersedes_only_them(
    ledger: Ledger,
) -> None:
    store = ledger.store
    a, b, c = (f"{ledger.kind}-dry-{x}" for x in "abc")
    ingest_events(store, _deal(a) + _deal(b) + _deal(c))
    _settle_all(store, date(2024, 11, 1))  # every deal the default policy applies to
    before = _current(store)
    first = {d: store.ledger.settlement_history(d)[-1] for d in (f"d-rs-{a}", f"d-rs-{c}")}
    # Late events: a quote by Edge One and a second owner's referral (so the owners' points
    # split) before deal a closed; deal c cancelled after it was settled; deal b untouched.
    ingest_events(
        store,
        [
            _touch(a, "late", "2030-01-10T05:00:00Z", "sf-edge-1", "quote"),
            {"type": "customer", "id": f"c-rs-{a}-owner-2", "city": "Shanghai"},
            {
                "type": "referral",
                "id": f"r-rs-{a}-2",
                "at": "2030-01-03T02:00:00Z",
                "customer": f"c-rs-{a}",
                "to_store": "st-edge",
                "referrer_customer": f"c-rs-{a}-owner-2",
            },
            {"type": "void", "id": f"v-rs-{c}", "target": f"d-rs-{c}", "reason": "cancelled"},
        ],
    )
    now_a = preview(store, f"d-rs-{a}").split
    assert _pay(now_a.allocations) != _pay(first[f"d-rs-{a}"].allocations)
    counts = ledger.counts()

    dry = resettle(store, requested_by="test", dry_run=True)
    assert [ch.deal for ch in dry.changes] == [f"d-rs-{a}", f"d-rs-{c}"]
    assert (dry.checked, dry.changed, dry.superseded, dry.failures) == (len(before), 2, 0, 0)
    change_a, change_c = dry.changes
    _assert_change(change_a, first[f"d-rs-{a}"].allocations, now_a.allocations)
    assert {p.kind for p in change_a.people} == {"staff", "owner"}
    assert (change_a.settlement, change_a.policy, change_a.model, change_a.voided) == (
        before[f"d-rs-{a}"],
        "default@1",
        "stage_weighted",
        False,
    )
    _assert_change(change_c, first[f"d-rs-{c}"].allocations, [])
    assert change_c.voided and {ch.outcome for ch in dry.changes} == {"listed"}
    _assert_totals(dry)
    assert dry.fen_removed == 300_000 + sum(max(-p.fen, 0) for p in change_a.people)
    # Nothing written: the same current settlements, every history as it was, the same records.
    assert _current(store) == before and ledger.counts() == counts
    assert store.ledger.settlement_history(f"d-rs-{a}") == [first[f"d-rs-{a}"]]

    done = resettle(store, requested_by="leader", reason="late events and a cancelled order")
    assert [ch.deal for ch in done.changes] == [f"d-rs-{a}", f"d-rs-{c}"]
    assert (done.checked, done.changed, done.superseded, done.skipped) == (len(before), 2, 2, 0)
    assert [ch.people for ch in done.changes] == [ch.people for ch in dry.changes]
    after = _current(store)
    assert {d for d in after if after[d] != before[d]} == {f"d-rs-{a}", f"d-rs-{c}"}
    for ch in done.changes:
        old, new = store.ledger.settlement_history(ch.deal)
        assert old == first[ch.deal] and new.id == ch.superseded_by == after[ch.deal]
        assert (new.seq, new.supersedes, new.reason) == (
            2,
            old.id,
            "late events and a cancelled order",
        )
        assert ch.outcome == "superseded" and new.requested_by == "leader"
        assert (new.policy, new.model) == (old.policy, old.model)
    assert store.ledger.settlement(after[f"d-rs-{a}"]).allocations == now_a.allocations
    assert store.ledger.settlement(after[f"d-rs-{c}"]).allocations == []

    again = resettle(store, requested_by="leader", reason="late events and a cancelled order")
    assert (again.checked, again.changed, again.superseded, again.changes) == (
        len(before),
        0,
        0,
        [],
    )
    assert _current(store) == after
    # and settling one deal by hand agrees: nothing left to supersede
    assert settle(store, f"d-rs-{a}", requested_by="test")[0].id == after[f"d-rs-{a}"]


def test_each_deal_is_computed_again_under_the_policy_and_model_it_was_settled_under(
    ledger: Ledger,
) -> None:
    store = ledger.store
    a, b = (f"{ledger.kind}-policy-{x}" for x in "ab")
    may = "2030-05-10T06:00:00Z"
    ingest_events(store, _deal(a, may) + _deal(b, may))
    # A later version weighs test drives far more; deal b is settled under it by name.
    add_policy(
        store,
        "effective_from = 2031-01-01\n[stage_weights]\n"
        "test_drive = 200.0\nreception = 1.0\nquote = 5.0\norder = 15.0\n",
        "test",
    )
    settled_b, _ = settle(store, f"d-rs-{b}", requested_by="test", policy="default@2")
    _settle_all(store, date(2030, 5, 1), date(2030, 5, 31))
    in_force = preview(store, f"d-rs-{b}").split  # default@1, in force at the close
    assert _pay(in_force.allocations) != _pay(settled_b.allocations)
    nothing = resettle(store, date(2030, 5, 1), date(2030, 5, 31), requested_by="t", dry_run=True)
    assert (nothing.checked, nothing.changed) == (2, 0)

    ingest_events(store, [_touch(b, "late", "2030-05-09T02:00:00Z", "sf-edge-1", "quote")])
    report = resettle(store, date(2030, 5, 1), None, requested_by="test", reason="a late quote")
    (change,) = report.changes
    assert (change.deal, change.policy, change.model) == (
        f"d-rs-{b}",
        "default@2",
        "stage_weighted",
    )
    now_b = preview(store, f"d-rs-{b}", policy="default@2").split
    _assert_change(change, settled_b.allocations, now_b.allocations)
    current = store.ledger.settlement_history(f"d-rs-{b}")[-1]
    assert (current.policy, current.allocations) == ("default@2", now_b.allocations)


def test_a_deal_settled_under_a_model_no_longer_paid_with_is_a_failure_left_as_it_is(
    ledger: Ledger,
) -> None:
    store = ledger.store
    tag = f"{ledger.kind}-analysis"
    ingest_events(store, _deal(tag, "2030-03-10T06:00:00Z"))
    model = next(
        name for name, spec in MODELS.items() if not spec.for_pay and not spec.needs_context
    )
    # Settled before the model was marked analysis only (as settle() refuses it now).
    journey = store.deal_journeys([f"d-rs-{tag}"])[f"d-rs-{tag}"]
    (record,) = store.ledger.policies()
    split = compute_split(journey, record.policy, model)
    old = next_settlement(split, journey, record, "then", now=datetime.now(UTC))
    assert store.ledger.record_settlements([old]) == ["created"]
    ingest_events(store, [_touch(tag, "late", "2030-03-09T02:00:00Z", "sf-edge-1", "quote")])
    report = resettle(store, date(2030, 3, 1), date(2030, 3, 31), requested_by="t", reason="x")
    assert (report.checked, report.changed, report.failures) == (1, 0, 1)
    ((deal, message),) = report.failed
    assert deal == f"d-rs-{tag}" and f"model {model!r} is analysis only" in message
    assert store.ledger.settlement_history(f"d-rs-{tag}") == [old]


def test_the_period_bounds_the_deals_checked_and_a_reason_is_required(ledger: Ledger) -> None:
    store = ledger.store
    jul, sep = f"{ledger.kind}-period-jul", f"{ledger.kind}-period-sep"
    ingest_events(store, _deal(jul, "2030-07-10T06:00:00Z") + _deal(sep, "2030-09-10T06:00:00Z"))
    _settle_all(store, date(2030, 7, 1), date(2030, 9, 30))
    ingest_events(
        store,
        [
            _touch(jul, "late", "2030-07-09T02:00:00Z", "sf-edge-1", "quote"),
            _touch(sep, "late", "2030-09-09T02:00:00Z", "sf-edge-1", "quote"),
        ],
    )
    with pytest.raises(InvalidRequest) as refused:
        resettle(store, requested_by="test", reason="  ")
    assert refused.value.problems[0][0] == "reason"
    with pytest.raises(InvalidRequest) as backwards:
        resettle(store, date(2030, 9, 1), date(2030, 7, 1), requested_by="test", dry_run=True)
    assert backwards.value.problems[0][0] == "to"
    sept = resettle(store, date(2030, 9, 1), date(2030, 9, 30), requested_by="test", dry_run=True)
    assert (sept.total, sept.checked, [c.deal for c in sept.changes]) == (1, 1, [f"d-rs-{sep}"])
    # July to September, one deal per chunk: both
    both = resettle(
        store, date(2030, 7, 1), date(2030, 9, 30), requested_by="t", reason="late", chunk=1
    )
    assert [c.deal for c in both.changes] == [f"d-rs-{jul}", f"d-rs-{sep}"]
    assert (both.checked, both.superseded) == (2, 2)
    _assert_totals(both)


def test_the_command_lists_then_supersedes_then_finds_nothing(ledger: Ledger, capsys: Any) -> None:
    store = ledger.store
    tag = f"{ledger.kind}-cli"
    ingest_events(store, _deal(tag, "2030-11-10T06:00:00Z"))
    _settle_all(store, date(2030, 11, 1), date(2030, 11, 30))
    old = store.ledger.settlement_history(f"d-rs-{tag}")[-1]
    ingest_events(store, [_touch(tag, "late", "2030-11-09T02:00:00Z", "sf-edge-1", "quote")])
    new = preview(store, f"d-rs-{tag}").split
    period = ["--from", "2030-11-01", "--to", "2030-11-30", "--store", ledger.url]

    assert main(["settle", "--resettle", *period]) == 2
    assert "--reason" in capsys.readouterr().err
    assert main(["settle", "--resettle", "--dry-run", *period]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(f"d-rs-{tag} ")]
    assert len(rows) == 2  # Edge One gains, Edge Two loses
    for row in rows:
        who = next(p for p in NAMES if f" {p} " in row)
        fen = {a.id: a.amount for a in old.allocations}[who]
        now = {a.id: a.amount for a in new.allocations}[who]
        assert f" {NAMES[who]} " in row and money(fen) in row and money(now) in row
        assert ("+" if now > fen else "") + money(now - fen) in row
    assert re.search(r"deals checked +1\b", out) and re.search(r"deals changed +1\b", out)
    assert "dry run" in out
    assert store.ledger.settlement_history(f"d-rs-{tag}") == [old]

    assert main(["settle", "--resettle", "--reason", "a late quote", *period]) == 0
    out = capsys.readouterr().out
    current = store.ledger.settlement_history(f"d-rs-{tag}")[-1]
    assert f"superseded by {current.id}" in out and current.reason == "a late quote"
    assert main(["settle", "--resettle", "--reason", "a late quote", *period]) == 0
    out = capsys.readouterr().out
    assert "No settled deal's split changes." in out and re.search(r"deals changed +0\b", out)
    assert store.ledger.settlement_history(f"d-rs-{tag}")[-1] == current
