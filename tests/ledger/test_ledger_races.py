"""Ledger invariants under concurrency, on SQLite and on a real Neo4j (issue #13, finding 1).

Many writers at once, each with its own connection to the store, released together by a
barrier: parallel adjustments never overdraw a staff member's credit on a deal, and parallel
supersedes never give a deal two current settlements. The rules are checked inside each store's
write transaction, so the outcome is exactly what serial requests would give.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from contribnet.domain.ledger import held_on_deal
from contribnet.domain.settlement import InvalidRequest, Settlement
from contribnet.services.settlement import adjust, settle
from contribnet.store import Store

Ledger = Any  # tests/ledger/conftest.py: kind, url, store, open()

ADJUSTERS = 24
SUPERSEDERS = 10
CONNECTIONS = 4


def _race(ledger: Ledger, n: int, work: Callable[[Store, int], Any]) -> list[Any]:
    """Run ``work(store, i)`` for i in 0..n-1 in n threads released at once, over a few
    connections of their own; each result is what ``work`` returned or the exception it raised."""
    stores = [ledger.open() for _ in range(CONNECTIONS)]
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(stores[i % CONNECTIONS], i)
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


def _two_staff_deal(store: Store) -> Settlement:
    settled, _ = settle(store, "d-edge-before", requested_by="test")
    assert sorted(a.id for a in settled.allocations if a.kind == "staff") == [
        "sf-edge-1",
        "sf-edge-2",
    ]
    return settled


def test_parallel_adjustments_never_overdraw(ledger: Ledger) -> None:
    settled = _two_staff_deal(ledger.store)
    giver = next(a for a in settled.allocations if a.id == "sf-edge-1")
    amount = giver.amount * 6 // 10  # 60%: only one such move fits

    def move(store: Store, i: int) -> Any:
        return adjust(
            store,
            settled.deal,
            from_staff="sf-edge-1",
            to_staff="sf-edge-2",
            amount=amount,
            reason=f"race {i}",
            requested_by="leader",
        )

    results = _race(ledger, ADJUSTERS, move)
    accepted = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, InvalidRequest)]
    assert len(accepted) == 1 and all(created for _, created in accepted)
    assert len(refused) == ADJUSTERS - 1, [r for r in results if not isinstance(r, tuple)]
    assert all(r.problems[0][0] == "amount" and "holds" in r.problems[0][1] for r in refused)
    recorded = ledger.store.ledger.adjustments(deal=settled.deal)
    assert len(recorded) == 1
    assert held_on_deal(settled, recorded, "sf-edge-1") == giver.amount - amount >= 0


def test_parallel_small_adjustments_stop_exactly_at_the_balance(ledger: Ledger) -> None:
    settled = _two_staff_deal(ledger.store)
    giver = next(a for a in settled.allocations if a.id == "sf-edge-1")
    amount = giver.amount // 5 + 1  # four fit, a fifth would overdraw

    def move(store: Store, i: int) -> Any:
        return adjust(
            store,
            settled.deal,
            from_staff="sf-edge-1",
            to_staff="sf-edge-2",
            amount=amount,
            reason=f"race {i}",
            requested_by="leader",
        )

    results = _race(ledger, ADJUSTERS, move)
    kinds = Counter(type(r).__name__ for r in results)
    assert kinds == {"tuple": 4, "InvalidRequest": ADJUSTERS - 4}, results
    recorded = ledger.store.ledger.adjustments(deal=settled.deal)
    assert len(recorded) == 4
    assert held_on_deal(settled, recorded, "sf-edge-1") == giver.amount - 4 * amount >= 0


def test_parallel_supersedes_leave_one_current_settlement(ledger: Ledger) -> None:
    first = _two_staff_deal(ledger.store)
    # Ten different settlements of the deal, each superseding the first: only one can.
    rivals = [
        first.model_copy(
            update={
                "id": f"stl-race-{ledger.kind}-{i}",
                "seq": 2,
                "input_hash": f"race-{i}",
                "supersedes": first.id,
                "reason": f"race {i}",
            }
        )
        for i in range(SUPERSEDERS)
    ]

    def record(store: Store, i: int) -> Any:
        return store.ledger.record_settlements([rivals[i]])

    results = _race(ledger, SUPERSEDERS, record)
    assert Counter(r[0] for r in results) == {"created": 1, "conflict": SUPERSEDERS - 1}, results
    winner = rivals[[r[0] for r in results].index("created")]
    history = ledger.store.ledger.settlement_history(first.deal)
    assert [s.id for s in history] == [first.id, winner.id]
    assert [s.id for s in ledger.store.ledger.current_settlements(deals=[first.deal])] == [
        winner.id
    ]
