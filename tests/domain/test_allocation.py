"""Exact fen allocation, one deal at a time and many at once, and the vectorised rule models."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contribnet.credit import rules
from contribnet.credit.rules import RULES_MANY, rules_many
from contribnet.credit.touches import example_touch
from contribnet.domain.allocation import allocate, allocate_many
from contribnet.domain.policy import Policy

FAST = settings(max_examples=60, deadline=None)

weights_strategy = st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=12)


@FAST
@given(total=st.integers(0, 10**12), weights=weights_strategy, data=st.data())
def test_allocate_is_exact_fair_and_order_free(total: int, weights: list[float], data) -> None:  # type: ignore[no-untyped-def]
    keys = [f"k{i:02d}" for i in range(len(weights))]
    amounts = allocate(total, weights, keys)
    if sum(weights) == 0:
        assert amounts == [0] * len(weights)
        return
    assert sum(amounts) == total
    assert all(a >= 0 for a in amounts)
    for a, w in zip(amounts, weights, strict=True):
        assert abs(a - total * w / sum(weights)) < 1 + total * 2e-12
    order = data.draw(st.permutations(range(len(weights))))
    permuted = allocate(total, [weights[i] for i in order], [keys[i] for i in order])
    assert permuted == [amounts[i] for i in order]


def test_ties_go_to_the_smaller_key() -> None:
    assert allocate(2, [1, 1, 1], ["b", "c", "a"]) == [1, 0, 1]
    assert allocate(0, [1, 2], ["a", "b"]) == [0, 0]
    with pytest.raises(ValueError):
        allocate(-1, [1], ["a"])


@FAST
@given(
    pools=st.lists(st.integers(0, 10**9), min_size=1, max_size=20),
    width=st.integers(1, 6),
    data=st.data(),
)
def test_allocate_many_rows_are_exact(pools: list[int], width: int, data) -> None:  # type: ignore[no-untyped-def]
    w = np.array(
        [data.draw(st.lists(st.floats(0, 100), min_size=width, max_size=width)) for _ in pools]
    )
    amounts = allocate_many(pools, w)
    for pool, row, got in zip(pools, w, amounts, strict=True):
        if row.sum() == 0:
            assert got.tolist() == [0] * width
            continue
        assert got.sum() == pool
        assert np.all(got >= 0)
        assert np.all(np.abs(got - pool * row / row.sum()) < 1 + 1e-6)


def test_allocate_many_handles_huge_pools_exactly() -> None:
    amounts = allocate_many([10**15 + 7], [[1.0, 1.0, 1.0]])
    assert amounts.sum() == 10**15 + 7


deals_strategy = st.lists(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 4)), min_size=1, max_size=9),
    min_size=1,
    max_size=15,
)


@pytest.mark.parametrize("model", RULES_MANY)
@FAST
@given(deals=deals_strategy, pools=st.lists(st.integers(0, 10**8), min_size=15, max_size=15))
def test_rules_many_match_the_one_deal_models(
    model: str, deals: list[list[tuple[int, int]]], pools: list[int]
) -> None:
    offsets = np.cumsum([0] + [len(d) for d in deals])
    ages = [float(age) for d in deals for age, _ in d]
    who = [c for d in deals for _, c in d]
    amounts = rules_many(model, offsets, ages, who, pools[: len(deals)])
    policy = Policy(saturation=1.0)
    fn = getattr(rules, model)
    for d, deal in enumerate(deals):
        touches = [
            example_touch(f"c{c}", "lead", age, id=f"t{i:02d}") for i, (age, c) in enumerate(deal)
        ]
        shares = fn(touches, policy).by_contributor()
        row = amounts[d]
        assert row.sum() == pools[d]
        for c in range(row.shape[0]):
            ideal = pools[d] * sum(v for k, v in shares.items() if k.id == f"c{c}")
            assert abs(row[c] - ideal) < 1 + 1e-6


def test_rules_many_rejects_empty_deals_and_unknown_models() -> None:
    with pytest.raises(ValueError):
        rules_many("linear", [0, 0], [], [], [100])
    with pytest.raises(ValueError):
        rules_many("shapley", [0, 1], [1.0], [0], [100])


# --- exact at any pool up to the schema's maximum (issue 12, finding 7) ----------------------

MAX_POOL = 10**15  # the schema's maximum of a Fen field

# Weights as the models make them: random shares, and exact ratios a float path can misjudge
# (0.2 : 0.8 is exactly 1 : 4 in floats, so quotas are exact integers).
awkward_weights = st.one_of(
    st.floats(0, 1e6, allow_nan=False),
    st.sampled_from([0.0, 0.1, 0.2, 0.4, 0.8, 1 / 3, 2 / 3, 1.0, 2.0, 5e-324, 1e-300, 1e300]),
)


def _exact_quotas(total: int, weights: list[float]) -> list[Fraction]:
    exact = [Fraction(w) if w > 0 else Fraction(0) for w in weights]
    return [total * w / sum(exact) for w in exact]


def _is_largest_remainder(total: int, weights: list[float], amounts: list[int]) -> bool:
    """Each gets the floor of its exact quota or one fen more, and every fen more goes to a
    remainder at least as large as any remainder left without one."""
    quotas = _exact_quotas(total, weights)
    if sum(amounts) != total:
        return False
    extra = [a - math.floor(q) for a, q in zip(amounts, quotas, strict=True)]
    if any(e not in (0, 1) for e in extra):
        return False
    remainders = [q - math.floor(q) for q in quotas]
    paid = [r for r, e in zip(remainders, extra, strict=True) if e]
    unpaid = [r for r, e in zip(remainders, extra, strict=True) if not e]
    return not paid or not unpaid or min(paid) >= max(unpaid)


@FAST
@given(
    total=st.integers(10**12, MAX_POOL),
    weights=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=2, max_size=12),
)
def test_allocate_is_within_one_fen_of_the_exact_quota_at_huge_pools(
    total: int, weights: list[float]
) -> None:
    if sum(weights) == 0:
        return
    amounts = allocate(total, weights, [f"k{i:02d}" for i in range(len(weights))])
    assert sum(amounts) == total
    for a, q in zip(amounts, _exact_quotas(total, weights), strict=True):
        assert abs(a - q) < 1
    assert _is_largest_remainder(total, weights, amounts)


def test_allocate_at_the_schema_maximum() -> None:
    # Quantised to 2**-40, these shares were hundreds of fen off their quotas.
    weights = [0.1234567891234, 0.2718281828459, 0.3141592653589, 0.0299999999999]
    amounts = allocate(MAX_POOL, weights, ["a", "b", "c", "d"])
    assert sum(amounts) == MAX_POOL
    for a, q in zip(amounts, _exact_quotas(MAX_POOL, weights), strict=True):
        assert abs(a - q) < 1
    assert allocate(MAX_POOL, [1 / 3, 1 / 3, 1 / 3], ["c", "a", "b"]) == [
        333_333_333_333_333,
        333_333_333_333_334,
        333_333_333_333_333,
    ]


def test_allocate_rejects_infinite_weights_and_ignores_nan() -> None:
    with pytest.raises(ValueError, match="finite"):
        allocate(100, [math.inf, 1.0], ["a", "b"])
    assert allocate(100, [math.nan, 1.0], ["a", "b"]) == [0, 100]


@settings(max_examples=200, deadline=None)
@given(
    pools=st.lists(st.integers(0, MAX_POOL), min_size=1, max_size=8),
    width=st.integers(1, 6),
    data=st.data(),
)
def test_allocate_many_equals_allocate_row_by_row(pools: list[int], width: int, data) -> None:  # type: ignore[no-untyped-def]
    w = np.array(
        [data.draw(st.lists(awkward_weights, min_size=width, max_size=width)) for _ in pools]
    )
    amounts = allocate_many(pools, w)
    keys = [f"{k:09d}" for k in range(width)]
    for pool, row, got in zip(pools, w, amounts, strict=True):
        assert got.tolist() == allocate(pool, row.tolist(), keys)
        if row.sum() > 0:
            assert _is_largest_remainder(pool, row.tolist(), got.tolist())


def test_allocate_many_on_round_pools_and_exact_ratios() -> None:
    pools = [1_435_415, 500_000, 10**15, 2**40 - 1, 7]
    w = np.array(
        [
            [0.2, 0.8, 0.0],  # exactly 1 : 4, so the quotas are integers
            [0.4, 0.2, 0.4],
            [0.1, 0.2, 0.7],
            [1 / 3, 1 / 3, 1 / 3],
            [1.0, 1.0, 1.0],
        ]
    )
    amounts = allocate_many(pools, w)
    keys = ["0", "1", "2"]
    for pool, row, got in zip(pools, w, amounts, strict=True):
        assert got.tolist() == allocate(pool, row.tolist(), keys)
    assert amounts[0].tolist() == [287_083, 1_148_332, 0]
