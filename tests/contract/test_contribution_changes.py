"""``Store.contribution_changes`` brings the learned models' training paths up to date from the
customers new events changed, and the cached context after new events is the one read from
scratch -- on every store (a store that keeps no marks answers None and is read whole)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest

from contribnet.credit.context import (
    PathTally,
    context_of_counts,
    count_paths,
    encode_training_rows,
    tally_paths,
    update_tally,
)
from contribnet.demo.generator import generate
from contribnet.domain.policy import Policy
from contribnet.domain.training import ContributionRows
from contribnet.services.credit import credit_context
from contribnet.services.ingest import ingest_events
from contribnet.store import Store

POLICIES = [Policy(), Policy(lookback_days=3), Policy(markov_order=2, lookback_days=30)]


def _tally(rows: ContributionRows, policy: Policy) -> PathTally:
    return tally_paths(encode_training_rows(rows, policy))


def _batches() -> list[list[dict[str, Any]]]:
    """The tiny network: most of it at once, the rest in small batches, then late news about
    the first part: voids of a touch, a referral, a handover and a deal, a second deal closed at
    the same instant as one before, a touch dated before a customer's deal."""
    events = list(generate("tiny", 7))
    head, tail = events[:1500], events[1500:]
    batches = [head] + [tail[i : i + 60] for i in range(0, len(tail), 60)]
    earlier = {kind: [e for e in head if e["type"] == kind] for kind in ("touch", "deal")}
    referral = next(e for e in head if e["type"] == "referral")
    handover = next(e for e in events if e["type"] == "handover")
    touch, deal = earlier["touch"][0], earlier["deal"][0]
    other = earlier["deal"][1]
    late: list[list[dict[str, Any]]] = [
        [{"type": "void", "id": f"v-late-{e['id']}", "target": e["id"], "reason": "late news"}]
        for e in (touch, referral, handover, deal)
    ]
    late.append([{**other, "id": "d-late-twin"}])  # one instant, one customer: one decision
    late.append(
        [
            {
                **touch,
                "id": "t-late",
                "customer": other["customer"],
                "at": "2024-01-01T00:00:00Z",
                "stage": "test_drive",
            }
        ]
    )
    return batches + late


def test_changes_bring_a_tally_up_to_date(store: Store) -> None:
    tallies: dict[int, tuple[int | None, PathTally]] = {}
    incremental = 0
    for batch in _batches():
        ingest_events(store, batch)
        now = store.contribution_rows()
        for k, policy in enumerate(POLICIES):
            expected = _tally(now, policy)
            mark, tally = tallies.get(k, (None, Counter()))
            changes = None if mark is None else store.contribution_changes(mark)
            if changes is not None:
                assert changes.mark == now.mark
                assert update_tally(tally, changes, policy) == expected, policy
                incremental += 1
            tallies[k] = (now.mark, expected)
    assert incremental >= 3 * 10  # most batches came as changes, not a whole read


def test_no_events_since_a_mark_change_nothing(store: Store) -> None:
    ingest_events(store, list(generate("tiny", 3)))
    mark = store.contribution_rows().mark
    assert mark is not None
    changes = store.contribution_changes(mark)
    assert changes is not None and changes.mark == mark
    assert len(changes.before) == len(changes.after) == 0
    assert store.contribution_changes(mark + 1) is None  # a mark the store never had


def test_the_cached_context_after_new_events_is_the_context_from_scratch(store: Store) -> None:
    for batch in _batches():
        ingest_events(store, batch)
        rows = store.contribution_rows()
        for policy in POLICIES:
            for model in ("markov", "shapley_conversion"):
                cached = credit_context(store, policy, model)
                counts = count_paths(encode_training_rows(rows, policy), policy.markov_order)
                fresh = context_of_counts(counts, policy)
                assert cached is not None
                assert cached.fingerprint == fresh.fingerprint
                assert (cached.journeys, cached.conversions) == (fresh.journeys, fresh.conversions)
                assert cached.removal_effects == fresh.removal_effects


def test_a_saved_tally_is_kept_under_its_key(store: Store) -> None:
    ingest_events(store, list(generate("tiny", 3))[:50])
    mark = store.contribution_rows().mark
    store.save_tally("k", 7, "[1]")
    store.save_tally("other", 8, "[2]")
    assert mark is not None
    assert store.saved_tally("k") == (7, "[1]")
    store.save_tally("k", 5, "[3]")  # in place of what was kept, whatever its mark
    assert (store.saved_tally("k"), store.saved_tally("other")) == ((5, "[3]"), (8, "[2]"))
    assert store.saved_tally("none") is None


def test_a_tally_kept_beside_concurrent_writers_ends_exact(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three writers append the network's tail while a reader brings a tally up to date from
    the changes, reading every journey afresh every other time (on Neo4j a read that writers
    commit into as it goes). Once the writers stop, the tally brought up to date from all that
    is the one read from scratch."""
    # past this share of new events a store would rather be read whole: here, never
    monkeypatch.setattr("contribnet.store.base.CHANGES_SHARE", 1)
    events = list(generate("tiny", 11))
    ingest_events(store, events[:1500])
    tail = events[1500:]
    chunks = [tail[i : i + 5] for i in range(0, len(tail), 5)]
    policy = Policy(lookback_days=30)
    rows = store.contribution_rows()
    mark, tally = rows.mark, _tally(rows, policy)
    failures: list[BaseException] = []

    def write(share: list[list[dict[str, Any]]]) -> None:
        try:
            for chunk in share:
                ingest_events(store, chunk)
                time.sleep(0.005)  # time for the reader to read between the writes
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)

    writers = [threading.Thread(target=write, args=(chunks[k::3],)) for k in range(3)]
    for writer in writers:
        writer.start()
    reads = updates = 0
    while any(writer.is_alive() for writer in writers):
        reads += 1
        assert mark is not None
        if reads % 2 == 0:
            rows = store.contribution_rows()
            mark, tally = rows.mark, _tally(rows, policy)
            continue
        changes = store.contribution_changes(mark)
        assert changes is not None
        mark, tally = changes.mark, update_tally(tally, changes, policy)
        updates += 1
    for writer in writers:
        writer.join()
    assert not failures
    assert mark is not None
    changes = store.contribution_changes(mark)
    assert changes is not None
    assert update_tally(tally, changes, policy) == _tally(store.contribution_rows(), policy)
    assert updates > 0
