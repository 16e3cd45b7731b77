"""Batched exact Shapley (``shapley_many``) at 1-20 contributors: the same values as before it
was vectorised over stage sets, and as one deal at a time."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contribnet.credit.shapley import (
    _subset_sums,
    _superset_mobius,
    _superset_sums,
    _unions,
    monotone_closure,
    shapley_many,
    shapley_union_game,
)
from contribnet.domain.allocation import allocate_many

FloatArray = npt.NDArray[np.float64]


def shapley_many_before(
    masks: npt.ArrayLike, values: npt.ArrayLike, chunk: int = 512
) -> FloatArray:
    """``shapley_many`` as it was before the stage-set branch worked on blocks of deals laid out
    by columns (commit eb76f84), kept as the reference its values must equal bit for bit."""
    m = np.asarray(masks, dtype=np.int64)
    f = np.asarray(values, dtype=np.float64)
    size = f.shape[0]
    out = np.empty(m.shape, dtype=np.float64)
    n_deals, n = m.shape
    if n < size.bit_length() - 1:
        index = np.arange(1 << n)
        popcount = np.zeros(1 << n, dtype=np.int64)
        for j in range(n):
            popcount += (index >> j) & 1
        left = (n - popcount).astype(np.float64)
        singles = 1 << np.arange(n)
        for start in range(0, n_deals, chunk):
            block = m[start : start + chunk]
            g = _superset_mobius(f[_unions(block)])
            w = np.divide(g, left, out=np.zeros_like(g), where=left > 0)
            out[start : start + len(block)] = _superset_sums(w)[:, singles] - w.sum(axis=1)[:, None]
        return out
    h = _superset_mobius(f)
    for start in range(0, n_deals, chunk):
        block = m[start : start + chunk]
        rows = block.shape[0]
        flat = (np.arange(rows)[:, None] * size + block).ravel()
        counts = np.bincount(flat, minlength=rows * size).astype(np.float64)
        inside = _subset_sums(counts.reshape(rows, size))
        outside = n - inside
        r = np.divide(h[None, :], outside, out=np.zeros((rows, size)), where=outside > 0)
        r_sup = _superset_sums(r)
        out[start : start + rows] = (
            np.take_along_axis(r_sup, block, axis=1) - r.sum(axis=1)[:, None]
        )
    return out


@st.composite
def batches(draw: st.DrawFn) -> tuple[FloatArray, FloatArray, bool]:
    """Up to 6 deals of 1-20 contributors (padded with null players to the widest) over 1-11
    stages, and a game: the engine's kind (monotone, >= 0) or any values."""
    s = draw(st.integers(1, 11))
    width = draw(st.integers(1, 20))
    deals = draw(st.integers(1, 6))
    rows = []
    for _ in range(deals):
        n = draw(st.integers(1, width))
        real = draw(st.lists(st.integers(0, 2**s - 1), min_size=n, max_size=n))
        rows.append(real + [0] * (width - n))
    seed = draw(st.integers(0, 2**32 - 1))
    monotone = draw(st.booleans())
    rng = np.random.default_rng(seed)
    if monotone:
        values = monotone_closure(rng.uniform(0, 1, size=2**s))
        values[0] = 0.0
    else:
        values = rng.uniform(-10, 10, size=2**s)
    return np.array(rows, dtype=np.int64), values, monotone


@settings(max_examples=150, deadline=None)
@given(batch=batches(), chunk=st.sampled_from([1, 2, 3, 512]))
def test_values_equal_the_previous_implementation_bit_for_bit(batch, chunk) -> None:  # type: ignore[no-untyped-def]
    masks, values, _ = batch
    new = shapley_many(masks, values, chunk=chunk)
    np.testing.assert_array_equal(new, shapley_many_before(masks, values))
    pools = np.full(len(masks), 1_234_567, dtype=np.int64)
    np.testing.assert_array_equal(
        allocate_many(pools, new), allocate_many(pools, shapley_many_before(masks, values))
    )


@settings(max_examples=150, deadline=None)
@given(batch=batches())
def test_shares_equal_one_deal_at_a_time(batch) -> None:  # type: ignore[no-untyped-def]
    masks, values, monotone = batch
    many = shapley_many(masks, values)
    for row, phi in zip(masks, many, strict=True):
        one = shapley_union_game(row.tolist(), values)
        if monotone and one.sum() > 1e-9:
            np.testing.assert_allclose(phi / phi.sum(), one / one.sum(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(phi, one, rtol=0, atol=1e-9)


@pytest.mark.parametrize("contributors", [12, 20])
def test_twelve_and_twenty_contributors_over_eleven_stages(contributors: int) -> None:
    rng = np.random.default_rng(contributors)
    values = monotone_closure(rng.uniform(0, 1, size=2**11))
    values[0] = 0.0
    bits = rng.integers(0, 11, size=(300, contributors, 3))
    keep = rng.random(size=(300, contributors, 3)) < np.array([1.0, 0.5, 0.25])
    masks = np.bitwise_or.reduce((1 << bits) * keep, axis=2)
    many = shapley_many(masks, values)
    np.testing.assert_array_equal(many, shapley_many_before(masks, values))
    np.testing.assert_array_equal(shapley_many(masks, values, chunk=1), many)
    unions = np.bitwise_or.reduce(masks, axis=1)
    np.testing.assert_allclose(many.sum(axis=1), values[unions], rtol=0, atol=1e-12)
    assert many.min() >= -1e-15  # a monotone game: no one's value is negative
