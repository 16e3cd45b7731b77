"""Settling credit, on SQLite and on a real Neo4j: previews, idempotency, supersedes, effective
dating, adjustments, statements, roll-ups, simulations, and batches that crash or race."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from datetime import date
from typing import Any

import pytest

from contribnet.credit import engine
from contribnet.domain.errors import NotFound
from contribnet.domain.settlement import InvalidRequest, RecordConflict, SettlementConflict
from contribnet.services import settlement as settlement_service
from contribnet.services.credit import preview
from contribnet.services.ingest import ingest_events
from contribnet.services.policies import add_policy, in_force
from contribnet.services.reports import LEVELS, rollup, simulate, statement
from contribnet.services.settlement import adjust, credit_rows, settle, settle_period
from contribnet.store import Store

Ledger = Any  # tests/ledger/conftest.py: kind, url, store, open()


#: The tiny network's deals close from December 2024 to June 2025.
START, END = date(2024, 12, 1), date(2025, 6, 30)


def _run(store: Store, **kwargs: Any) -> Any:
    last = None
    for step in settle_period(store, START, END, requested_by="test", **kwargs):
        last = step
    return last


def _deal_ids(store: Store, limit: int = 10_000) -> list[str]:
    return [r.id for r in store.ledger.closed_deals(None, None, limit=limit)]


def _credited(ledger: Ledger, deal: str) -> list[dict[str, Any]]:
    """The deal's (:Deal)-[:CREDITED]-> relationships in Neo4j (the analysts' projection)."""
    rows, _, _ = ledger.store._driver.execute_query(  # type: ignore[attr-defined]
        "MATCH (:Deal {id: $deal})-[c:CREDITED]->(p) RETURN c {.*, to: p.id} AS c ORDER BY p.id",
        deal=deal,
        database_="neo4j",
    )
    return [r["c"] for r in rows]


def test_preview_equals_settlement(ledger: Ledger) -> None:
    store = ledger.store
    deals = [d for d in _deal_ids(store) if d != "d-edge-early"][:8]
    for deal, model in zip(deals, ["stage_weighted"] * 6 + ["shapley", "markov"], strict=True):
        shown = preview(store, deal, model=model)
        settled, created = settle(store, deal, requested_by="test", model=model)
        assert created
        assert settled.input_hash == shown.split.input_hash
        assert settled.allocations == shown.split.allocations
        assert settled.policy == shown.policy.id == "default@1"
        assert sum(a.amount for a in settled.allocations) in (0, settled.pool)
        assert sum(c.amount for c in settled.credits) == sum(a.amount for a in settled.allocations)
    if ledger.kind == "neo4j":
        s = store.ledger.settlement_history(deals[0])[-1]
        assert [
            (c["to"], c["amount"], c["settlement"], c["policy"], c["policy_version"], c["model"])
            for c in _credited(ledger, deals[0])
        ] == sorted((a.id, a.amount, s.id, "default", "1", s.model) for a in s.allocations)


def test_settling_hashes_the_inputs_once(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hash settle compares with the recorded settlement's is the one the split carries."""
    store = ledger.store
    hashed: list[str] = []
    real = engine.input_hash

    def counted(*args: Any) -> str:
        hashed.append(real(*args))
        return hashed[-1]

    monkeypatch.setattr(engine, "input_hash", counted)
    monkeypatch.setattr(settlement_service, "input_hash", counted)
    deal = _deal_ids(store)[5]
    settled, created = settle(store, deal, requested_by="a")
    assert created and hashed == [settled.input_hash]
    assert settle(store, deal, requested_by="a") == (settled, False)
    assert hashed == [settled.input_hash] * 2


def test_settling_unchanged_inputs_returns_the_same_settlement(ledger: Ledger) -> None:
    store = ledger.store
    deal = _deal_ids(store)[3]
    first, created = settle(store, deal, requested_by="a")
    again, created_again = settle(store, deal, requested_by="b", reason="ignored: nothing changed")
    assert created and not created_again
    assert again == first
    assert [s.id for s in store.ledger.settlement_history(deal)] == [first.id]
    other = ledger.open()  # a second process computes the same id
    try:
        assert settle(other, deal, requested_by="c")[0].id == first.id
    finally:
        other.close()


def test_changed_inputs_need_a_reason_and_supersede(ledger: Ledger) -> None:
    store = ledger.store
    journey = store.deal_journeys(["d-edge-before"])["d-edge-before"]
    first, _ = settle(store, "d-edge-before", requested_by="test")
    assert {a.id for a in first.allocations} == {"sf-edge-1", "sf-edge-2"}
    # A late-arriving touch and a voided one change the journey.
    ingest_events(
        store,
        [
            {
                "type": "touch",
                "id": f"t-late-{ledger.kind}",
                "at": "2025-02-20T03:00:00Z",
                "customer": "c-edge-before",
                "staff": "sf-edge-1",
                "store": "st-edge",
                "stage": "quote",
            },
            {
                "type": "void",
                "id": f"v-late-{ledger.kind}",
                "target": journey.touches[0].id,
                "reason": "logged for the wrong customer",
            },
        ],
    )
    with pytest.raises(SettlementConflict) as refused:
        settle(store, "d-edge-before", requested_by="test")
    assert refused.value.field == "reason" and refused.value.current == first.id
    second, created = settle(store, "d-edge-before", requested_by="leader", reason="late touches")
    assert created and second.id != first.id
    assert (second.seq, second.supersedes, second.reason) == (2, first.id, "late touches")
    assert second.input_hash != first.input_hash
    assert [s.id for s in store.ledger.settlement_history("d-edge-before")] == [first.id, second.id]
    assert store.ledger.settlement(first.id) == first  # the superseded one stays readable
    assert [s.id for s in store.ledger.current_settlements(deals=["d-edge-before"])] == [second.id]
    # Settling again after that is idempotent again.
    assert settle(store, "d-edge-before", requested_by="test")[0].id == second.id
    if ledger.kind == "neo4j":
        assert {c["settlement"] for c in _credited(ledger, "d-edge-before")} == {second.id}
        assert len(_credited(ledger, "d-edge-before")) == len(second.allocations)


def test_a_deal_voided_after_settlement_is_reversed_with_a_reason(ledger: Ledger) -> None:
    store = ledger.store
    settled, _ = settle(store, "d-edge-cancel", requested_by="test")
    ingest_events(
        store,
        [{"type": "void", "id": "v-cancel", "target": "d-edge-cancel", "reason": "cancelled"}],
    )
    with pytest.raises(SettlementConflict) as refused:
        settle(store, "d-edge-cancel", requested_by="test")
    assert refused.value.field == "reason"
    reversal, created = settle(store, "d-edge-cancel", requested_by="leader", reason="cancelled")
    assert created and reversal.supersedes == settled.id and reversal.allocations == []
    assert settle(store, "d-edge-cancel", requested_by="leader") == (reversal, False)
    lines = statement(store, "sf-edge-1", date(2025, 1, 15), date(2025, 1, 15)).lines
    assert lines == []
    assert rollup(store, "staff", date(2025, 1, 15), date(2025, 1, 15)).totals["total"] == 0
    if ledger.kind == "neo4j":
        assert _credited(ledger, "d-edge-cancel") == []
    with pytest.raises(NotFound):
        settle(store, "d-never", requested_by="test")


def test_policy_effective_dating_at_the_boundary(ledger: Ledger) -> None:
    store = ledger.store
    v2, created = add_policy(
        store,
        'effective_from = 2025-03-01\ndescription = "March"\n[stage_weights]\ntest_drive = 60.0\n',
        "admin",
    )
    assert created and v2.id == "default@2"
    assert add_policy(store, v2.source or "", "admin") == (v2, False)  # same text: same version
    with pytest.raises(RecordConflict):
        add_policy(store, {"version": "2", "effective_from": "2025-03-01"}, "admin")
    before = settle(store, "d-edge-before", requested_by="t")[0]
    at = settle(store, "d-edge-at", requested_by="t")[0]
    assert (before.policy, at.policy) == ("default@1", "default@2")
    assert preview(store, "d-edge-at").policy.id == "default@2"
    assert preview(store, "d-edge-at", policy="default@1").policy.id == "default@1"
    # A correction with the same effective_from, recorded later, wins from that day on.
    v3, _ = add_policy(store, {"effective_from": "2025-03-01", "saturation": 1.0}, "admin")
    assert in_force(store.ledger.policies(), date(2025, 3, 1)).id == v3.id == "default@3"
    assert in_force(store.ledger.policies(), date(2025, 2, 28)).id == "default@1"
    with pytest.raises(InvalidRequest) as early:
        preview(store, "d-edge-early")
    assert early.value.problems[0][0] == "policy"
    assert preview(store, "d-edge-early", policy="default@1").policy.id == "default@1"
    with pytest.raises(InvalidRequest) as missing:
        add_policy(store, {"stage_weights": {"test_drive": 1}}, "admin")
    assert missing.value.problems[0][0] == "policy.effective_from"


def test_adjustments_statements_and_rollups_agree(ledger: Ledger) -> None:
    store = ledger.store
    done = _run(store)
    assert done.finished and done.created == done.total > 50 and done.failures == 0
    settled = list(store.ledger.current_settlements())
    deal = next(s for s in settled if sum(a.kind == "staff" for a in s.allocations) >= 2)
    giver, taker = [a for a in deal.allocations if a.kind == "staff"][:2]
    moved, created = adjust(
        store,
        deal.deal,
        from_staff=giver.id,
        to_staff=taker.id,
        amount=1_234,
        reason="a test drive logged under the wrong advisor",
        requested_by="leader",
        adjustment_id="adj-1",
    )
    assert created
    assert adjust(
        store,
        deal.deal,
        from_staff=giver.id,
        to_staff=taker.id,
        amount=1_234,
        reason="a test drive logged under the wrong advisor",
        requested_by="leader",
        adjustment_id="adj-1",
    ) == (moved, False)
    with pytest.raises(RecordConflict):
        adjust(
            store,
            deal.deal,
            from_staff=giver.id,
            to_staff=taker.id,
            amount=999,
            reason="other",
            requested_by="leader",
            adjustment_id="adj-1",
        )
    with pytest.raises(InvalidRequest) as too_much:
        adjust(
            store,
            deal.deal,
            from_staff=giver.id,
            to_staff=taker.id,
            amount=giver.amount,
            reason="all of it",
            requested_by="leader",
        )
    assert too_much.value.problems[0][0] == "amount"

    giving = statement(store, giver.id, START, END)
    taking = statement(store, taker.id, START, END)
    assert [(a.deal, a.amount) for a in giving.adjustments] == [(deal.deal, -1_234)]
    assert [(a.deal, a.amount) for a in taking.adjustments] == [(deal.deal, 1_234)]
    line = next(x for x in giving.lines if x.deal == deal.deal)
    assert (line.amount, line.settlement, line.explanation) == (
        giver.amount,
        deal.id,
        giver.explanation.text,
    )
    assert sum(line.stages.values()) == len(line.touches) > 0

    # Statement totals are the settled amounts; roll-ups are the sum of the statements.
    rows = list(credit_rows(store, START, END))
    per_staff: dict[str, int] = defaultdict(int)
    for r in rows:
        if r.kind == "staff":
            per_staff[r.contributor] += r.amount
    statements = {s: statement(store, s, START, END) for s in per_staff}
    for staff, s in statements.items():
        assert s.totals.settled == per_staff[staff] == sum(x.amount for x in s.lines)
        assert s.totals.total == s.totals.settled + s.totals.adjustments
    assert sum(s.totals.settled for s in statements.values()) == sum(
        a.amount for s in settled for a in s.allocations
    )
    grand = sum(s.totals.total for s in statements.values())
    by_staff = {r.key: r for r in rollup(store, "staff", START, END).rows}
    for staff, s in statements.items():
        assert (by_staff[staff].amount, by_staff[staff].adjustments) == (
            s.totals.settled,
            s.totals.adjustments,
        )
    for level in LEVELS:
        report = rollup(store, level, START, END)
        assert sum(r.total for r in report.rows) == report.totals["total"] == grand
        assert all(0 <= r.assist_amount <= r.amount for r in report.rows)
    assert rollup(store, "store", START, END).totals["deals"] == len(settled)


def test_credit_rows_sum_to_each_allocation(ledger: Ledger) -> None:
    store = ledger.store
    _run(store)
    rows = list(credit_rows(store, START, END))
    by_allocation: Counter[tuple[str, str]] = Counter()
    for r in rows:
        by_allocation[(r.deal, r.contributor)] += r.amount if r.kind == "staff" else r.points
    for s in store.ledger.current_settlements():
        for a in s.allocations:
            assert by_allocation[(s.deal, a.id)] == (a.amount if a.kind == "staff" else a.points)
    joint = [r for r in rows if r.store is not None and r.deal_store is not None]
    assert joint and all(r.deal_brand in ("nio", "onvo") for r in joint)
    assert any(r.brand != r.deal_brand for r in rows if r.kind == "staff")  # cross-brand credit


def test_simulation_writes_nothing(ledger: Ledger) -> None:
    store = ledger.store
    _run(store)

    def snapshot() -> tuple[Any, ...]:
        counts = ledger.counts()
        return (
            store.event_count(),
            store.ledger.policies(),
            list(store.ledger.current_settlements()),
            store.ledger.adjustments(),
            counts,
        )

    before = snapshot()
    result = simulate(
        store,
        "default@1",
        {"name": "what-if", "stage_weights": {"test_drive": 60, "order": 5}},
        START,
        END,
        model_b="shapley",
    )
    assert snapshot() == before
    assert result.policy_a == "default@1" and result.model_b == "shapley"
    settled = sum(a.amount for s in before[2] for a in s.allocations)
    assert result.totals["amount_a"] == settled == sum(r.amount_a for r in result.stores)
    assert sum(r.delta for r in result.staff) == result.totals["delta"]
    with pytest.raises(InvalidRequest) as bad:
        simulate(store, "default@1", {"stage_weights": {"test_drive": -1}}, START, END)
    assert bad.value.problems[0][0].startswith("policy_b.stage_weights")


class _CrashingLedger:
    """A ledger whose writes fail after ``chunks`` successful ones (a crash mid-batch)."""

    def __init__(self, ledger: Any, chunks: int) -> None:
        self._ledger, self._left = ledger, chunks

    def record_settlements(self, settlements: Any) -> Any:
        if self._left == 0:
            raise RuntimeError("crashed")
        self._left -= 1
        return self._ledger.record_settlements(settlements)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ledger, name)


class _CrashingStore:
    """A store whose ledger crashes after ``chunks`` successful writes."""

    def __init__(self, store: Store, chunks: int) -> None:
        self._store = store
        self.ledger = _CrashingLedger(store.ledger, chunks)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _assert_settled_once(store: Store) -> None:
    refs = store.ledger.closed_deals(*_bounds(), limit=10_000)
    assert refs
    for ref in refs:
        assert len(store.ledger.settlement_history(ref.id)) == 1, ref.id


def _bounds() -> tuple[Any, Any]:
    from contribnet.domain.settlement import period_bounds

    return period_bounds(START, END)


def test_a_killed_batch_restarted_settles_every_deal_exactly_once(ledger: Ledger) -> None:
    store = ledger.store
    total = store.ledger.count_closed_deals(*_bounds(), unsettled=True)
    crashing = _CrashingStore(store, chunks=2)
    with pytest.raises(RuntimeError, match="crashed"):
        _run(crashing, chunk=10)  # type: ignore[arg-type]
    assert store.ledger.count_closed_deals(*_bounds(), unsettled=True) == total - 20
    done = _run(store, chunk=7)
    assert (done.total, done.created, done.failures) == (total - 20, total - 20, 0)
    _assert_settled_once(store)
    again = _run(store)
    assert (again.total, again.created) == (0, 0)


def test_a_batch_counts_each_settlement_it_sends_once_by_outcome(ledger: Ledger) -> None:
    """``contribnet_settlements{action="period"}`` counts created and existing settlements as
    the batch's progress does (the batch adds a chunk's counts at once)."""
    from prometheus_client import REGISTRY

    def counted(outcome: str) -> float:
        labels = {"action": "period", "outcome": outcome}
        return REGISTRY.get_sample_value("contribnet_settlements_total", labels) or 0.0

    before = {o: counted(o) for o in ("created", "existing", "conflict")}
    done = _run(ledger.store, chunk=7)
    assert done.created > 7  # several chunks
    after = {o: counted(o) for o in before}
    assert after == {**before, "created": before["created"] + done.created}


def test_racing_batches_settle_every_deal_exactly_once(ledger: Ledger) -> None:
    total = ledger.store.ledger.count_closed_deals(*_bounds(), unsettled=True)
    results: list[Any] = []

    def worker() -> None:
        store = ledger.open()
        try:
            results.append(_run(store, chunk=5))
        finally:
            store.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2
    assert sum(r.created for r in results) == total
    assert all(r.failures == 0 for r in results)
    _assert_settled_once(ledger.store)
