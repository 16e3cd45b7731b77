"""``Store.contribution_rows``, the learned models' training data read in one query, on every
store: the same items and closes as ``contribution_paths``, and the same context from them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any

from tests.contract.test_contribution_paths import MORE

from contribnet.credit.context import build_context, encode_training_rows
from contribnet.credit.learned import training_paths
from contribnet.credit.markov import EncodedPaths, encode_paths
from contribnet.demo.generator import generate
from contribnet.domain.policy import Policy
from contribnet.domain.training import ContributionRows
from contribnet.services.ingest import ingest_events, ingest_stream
from contribnet.store import Store

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


def _per_customer(rows: ContributionRows) -> list[tuple[Any, ...]]:
    """The rows as ``contribution_paths`` gives them (instants in microseconds), sorted."""
    closes: dict[str, list[int]] = {}
    for customer, close in zip(rows.deal_customers, rows.deal_closes, strict=True):
        closes.setdefault(customer, []).append(close)
    out = []
    items = zip(rows.item_customers, rows.item_at, rows.item_stages, strict=True)
    for customer, group in groupby(items, key=lambda r: r[0]):
        out.append(
            (tuple((at, stage) for _, at, stage in group), tuple(sorted(closes.pop(customer, []))))
        )
    out += [((), tuple(sorted(c))) for c in closes.values()]
    return sorted(out)


def _paths(encoded: EncodedPaths) -> Counter[tuple[tuple[str, ...], bool]]:
    return Counter(
        (
            tuple(encoded.stages[c] for c in encoded.codes[start:end]),
            bool(converted),
        )
        for start, end, converted in zip(
            encoded.offsets[:-1], encoded.offsets[1:], encoded.converted, strict=True
        )
    )


def _assert_same_as_contribution_paths(store: Store, policy: Policy) -> None:
    rows = store.contribution_rows()
    paths = [
        (tuple((_micros(at), stage) for at, stage in items), tuple(map(_micros, closes)))
        for items, closes in store.contribution_paths()
    ]
    assert _per_customer(rows) == sorted(paths)
    new = encode_training_rows(rows, policy)
    old = encode_paths(training_paths(store.contribution_paths(), policy))
    assert new.stages == old.stages
    assert _paths(new) == _paths(old)
    ours, before = build_context(new, policy), build_context(old, policy)
    assert (ours.journeys, ours.conversions) == (before.journeys, before.conversions)
    assert ours.removal_effects == before.removal_effects
    assert ours.conversion_values is not None and before.conversion_values is not None
    assert ours.conversion_values.tobytes() == before.conversion_values.tobytes()
    assert ours.fingerprint == before.fingerprint


def test_rows_hold_every_live_item_and_close_of_contribution_paths(
    store: Store, network: list
) -> None:
    ingest_events(store, network + MORE)
    rows = store.contribution_rows()
    c9 = [
        (at, s)
        for c, at, s in zip(rows.item_customers, rows.item_at, rows.item_stages, strict=True)
        if c == "c-9"
    ]
    # a touch before a referral at one instant; no self-referral, no voided handover
    assert c9 == [
        (_micros(datetime(2025, 1, 1, tzinfo=UTC)), "lead"),
        (_micros(datetime(2025, 1, 1, tzinfo=UTC)), "referral"),
    ]
    assert sorted(zip(rows.deal_customers, rows.deal_closes, strict=True)) == [
        ("c-1", _micros(datetime(2025, 1, 10, tzinfo=UTC))),
        ("c-8", _micros(datetime(2025, 1, 5, tzinfo=UTC))),
        ("c-9", _micros(datetime(2025, 2, 1, tzinfo=UTC))),
    ]
    _assert_same_as_contribution_paths(store, Policy())
    _assert_same_as_contribution_paths(store, Policy(lookback_days=3))


def test_empty_store_has_no_rows(store: Store) -> None:
    rows = store.contribution_rows()
    assert len(rows) == 0 and len(rows.deal_closes) == 0
    assert len(encode_training_rows(rows, Policy())) == 0


def test_demo_network_same_paths_and_context(store: Store) -> None:
    ingest_stream(store, generate("demo", 1))
    _assert_same_as_contribution_paths(store, Policy())
    _assert_same_as_contribution_paths(store, Policy(lookback_days=30, markov_order=2))
