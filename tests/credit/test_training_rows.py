"""``encode_training_rows`` cuts the same training paths as ``training_paths`` does, from a
store's rows instead of its per-customer journeys."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from contribnet.credit.context import build_context, encode_training_rows
from contribnet.credit.learned import training_paths
from contribnet.credit.markov import EncodedPaths
from contribnet.domain.policy import Policy
from contribnet.domain.training import ContributionRows

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STAGES = ["lead", "reception", "test_drive", "referral", "owner_referral", "quote", "follow_up"]
DAY = 86_400_000_000  # microseconds


@st.composite
def journeys(draw: st.DrawFn) -> list[tuple[list[tuple[int, str]], list[int]]]:
    """Up to 8 customers: items at whole days 0-40 (ties and items on a close's instant
    included), and closes on those days (two deals at one instant included)."""
    out = []
    for _ in range(draw(st.integers(0, 8))):
        days = sorted(draw(st.lists(st.integers(0, 40), max_size=10)))
        items = [(d * DAY, draw(st.sampled_from(STAGES))) for d in days]
        closes = draw(st.lists(st.integers(0, 40).map(lambda d: d * DAY), max_size=3))
        if items or closes:
            out.append((items, closes))
    return out


def _rows(customers: list[tuple[list[tuple[int, str]], list[int]]]) -> ContributionRows:
    names = [f"c-{k}" for k in range(len(customers))]
    return ContributionRows(
        item_customers=[n for n, (items, _) in zip(names, customers, strict=True) for _ in items],
        item_at=[at for items, _ in customers for at, _ in items],
        item_stages=[stage for items, _ in customers for _, stage in items],
        deal_customers=[n for n, (_, closes) in zip(names, customers, strict=True) for _ in closes],
        deal_closes=[c for _, closes in customers for c in closes],
    )


def _paths(encoded: EncodedPaths) -> Counter[tuple[tuple[str, ...], bool]]:
    return Counter(
        (tuple(encoded.stages[c] for c in encoded.codes[a:b]), bool(conv))
        for a, b, conv in zip(
            encoded.offsets[:-1], encoded.offsets[1:], encoded.converted, strict=True
        )
    )


@settings(max_examples=200, deadline=None)
@given(customers=journeys(), lookback=st.sampled_from([0.0, 3.0, 10.5, 180.0]))
def test_the_same_paths_and_context_as_training_paths(customers, lookback) -> None:  # type: ignore[no-untyped-def]
    policy = Policy(lookback_days=lookback)

    def at(micros: int) -> datetime:
        return EPOCH + timedelta(microseconds=micros)

    per_customer = [
        ([(at(t), s) for t, s in items], [at(c) for c in closes]) for items, closes in customers
    ]
    expected = Counter(training_paths(per_customer, policy))
    encoded = encode_training_rows(_rows(customers), policy)
    assert _paths(encoded) == expected
    assert list(encoded.stages) == sorted({s for path, _ in expected for s in path})
    if expected:
        before = build_context(list(training_paths(per_customer, policy)), policy)
        assert build_context(encoded, policy).fingerprint == before.fingerprint


def test_stage_sets_of_paths_followed_by_empty_ones() -> None:
    """Empty paths at the end (customers with a deal and no item come last from a store) once
    cut the path before them short: its last stage was left out of its stage set."""
    from contribnet.credit.markov import encode_paths

    encoded = encode_paths(
        [
            ((), True),
            (("referral", "owner_referral"), False),
            (("referral", "lead"), True),
            ((), True),
        ]
    )
    lead, owner, referral = 1, 2, 4
    assert encoded.masks().tolist() == [0, referral | owner, referral | lead, 0]
