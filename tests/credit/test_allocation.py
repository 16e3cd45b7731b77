"""Exact fen allocation, one deal at a time and many at once, and the vectorised rule models."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contribnet.credit import rules
from contribnet.credit.allocation import allocate, allocate_many
from contribnet.credit.rules import RULES_MANY, rules_many
from contribnet.credit.touches import example_touch
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
