"""Money allocation: shares to exact integer fen, summing to the pool (largest remainder).

The arithmetic is exact at any pool: a float weight is a dyadic rational ``n / 2**k``, so scaling
every weight of a split by the largest ``2**k`` turns them into integers with the same ratios, and
the quotas, floors and remainders are then integer arithmetic on Python's unbounded integers.

References
----------
.. [1] Balinski, M. L., & Young, H. P. (2001). *Fair Representation: Meeting the Ideal of One
   Man, One Vote* (2nd ed.). Brookings Institution Press. (Hamilton's largest-remainder method.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["allocate", "allocate_many", "integer_weights"]


def integer_weights(weights: Sequence[float]) -> list[int]:
    """Integers exactly proportional to ``weights`` (negative or NaN weights count 0).

    Definition: with ``w_i = n_i / d_i`` in lowest terms (``d_i`` a power of two for a float,
    1 for an int), the result is ``n_i * D / d_i`` with ``D = max(d_i)``; every ratio
    ``w_i / w_j`` is kept exactly. Raises ``OverflowError`` for an infinite weight.

    >>> integer_weights([0.5, 0.25, 1, -3.0])
    [2, 1, 4, 0]
    """
    ratios: list[tuple[int, int]] = []
    for w in weights:
        if not w > 0:  # also NaN
            ratios.append((0, 1))
        elif type(w) is float or isinstance(w, int):
            ratios.append(w.as_integer_ratio())
        else:  # numpy scalars and the like
            ratios.append(float(w).as_integer_ratio())
    # Denominators are powers of two, so their least common multiple is the largest of them.
    top = max([d for _, d in ratios])
    return [n if d == top else n * (top // d) for n, d in ratios]


def allocate(total: int, weights: Sequence[float], keys: Sequence[str]) -> list[int]:
    """Split ``total`` (integer fen or points) in proportion to ``weights``, exactly.

    Definition (Hamilton's largest remainder): with ``W_i`` the weights as exact integers
    (:func:`integer_weights`) and ``S = sum(W)``, each gets ``floor(total * W_i / S)``; the fen
    left over go one each to the largest remainders ``total * W_i mod S``, ties broken by
    ``keys`` in ascending order. All arithmetic is on Python integers, so at any ``total`` the
    result sums to ``total`` exactly, is never negative, and differs from the exact quota
    ``total * w_i / sum(w)`` by less than one fen. All-zero weights give all zeros (nothing can
    be allocated). Negative or NaN weights count 0; an infinite one among several is a
    ``ValueError``.

    Examples
    --------
    >>> allocate(100, [1, 1, 1], ["c", "a", "b"])
    [33, 34, 33]
    >>> allocate(1_000_000, [0.5, 0.3, 0.2], ["x", "y", "z"])
    [500000, 300000, 200000]
    >>> allocate(10**15, [1 / 3, 2 / 3], ["a", "b"])
    [333333333333333, 666666666666667]
    """
    if len(weights) != len(keys):
        raise ValueError("one key per weight")
    if total < 0:
        raise ValueError("cannot allocate a negative total")
    if len(weights) == 1:  # the usual case (one store takes a credit whole): nothing to divide
        return [total if weights[0] > 0 else 0]
    try:
        scaled = integer_weights(weights)
    except OverflowError:
        raise ValueError("weights must be finite") from None
    denominator = sum(scaled)
    if denominator == 0:
        return [0] * len(scaled)
    amounts: list[int] = []
    remainders: list[int] = []
    for x in scaled:
        amount, remainder = divmod(total * x, denominator)
        amounts.append(amount)
        remainders.append(remainder)
    short = total - sum(amounts)
    if short:
        order = sorted(range(len(scaled)), key=lambda i: (-remainders[i], keys[i]))
        for i in order[:short]:
            amounts[i] += 1
    return amounts


def allocate_many(pools: npt.ArrayLike, weights: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Largest-remainder allocation of many pools at once (numpy, one row per deal).

    ``weights`` has shape ``(D, K)``: row ``d`` splits ``pools[d]`` among ``K`` columns. Row
    ``d`` equals ``allocate(pools[d], weights[d], keys)`` with the keys in column order: exact,
    summing to its pool, ties between equal remainders going to the lower column; rows whose
    weights are all 0 get zeros.

    How, fast: a row with one positive weight takes the pool whole. Every other row is computed
    in floats with a proven error bound; a row where the bound leaves a floor or the choice of
    who gets a remainder fen in doubt (a quota within it of an integer, different weights with
    remainders within it of each other at the cut) is computed again exactly in int64 if its
    weights are in small integer ratios, else in double-double arithmetic (about 104 bits) with
    its own bound, and what is still in doubt with :func:`allocate`.

    Examples
    --------
    >>> allocate_many([100, 7], [[1.0, 1.0, 1.0], [3.0, 1.0, 0.0]])
    array([[34, 33, 33],
           [ 5,  2,  0]])
    >>> allocate_many([10**15], [[0.1, 0.2, 0.7]])
    array([[100000000000000, 200000000000000, 700000000000000]])
    """
    pool = np.asarray(pools, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != pool.shape[0]:
        raise ValueError("weights must have shape (len(pools), K)")
    if np.any(pool < 0):
        raise ValueError("cannot allocate a negative pool")
    w = np.where(w > 0, w, 0.0)  # negative and NaN weights count 0, as in allocate
    if np.any(np.isinf(w)):
        raise ValueError("weights must be finite")
    n_rows, width = w.shape
    if n_rows == 0 or width == 0:
        return np.zeros((n_rows, width), dtype=np.int64)
    # Extreme weights may overflow the float paths; the bounds then mark their rows in doubt.
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return _allocate_rows(pool, w)


def _allocate_rows(
    pool: npt.NDArray[np.int64], w: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    n_rows, width = w.shape
    amounts: npt.NDArray[np.int64] = np.zeros((n_rows, width), dtype=np.int64)
    positive = w > 0
    count = positive.sum(axis=1)
    single = np.flatnonzero(count == 1)
    amounts[single, positive[single].argmax(axis=1)] = pool[single]
    # Floats first; the rows they leave in doubt exactly in int64 if their weights allow, else
    # in double-double; what is still in doubt with Python's integers.
    if np.all(count > 1):  # spare the copies
        amounts, doubtful = _largest_remainder_float(pool, w)
        rest = np.flatnonzero(doubtful)
    else:
        rest = np.flatnonzero(count > 1)
        if rest.size:
            result, doubtful = _largest_remainder_float(pool[rest], w[rest])
            amounts[rest] = result
            rest = rest[doubtful]
    if rest.size:
        eligible, scaled = _integer_rows(w[rest], pool[rest])
        exact = rest[eligible]
        amounts[exact] = _largest_remainder_int(pool[exact], scaled)
        rest = rest[~eligible]
    if rest.size:
        result, doubtful = _largest_remainder_dd(pool[rest], w[rest])
        amounts[rest] = result
        keys = [f"{k:09d}" for k in range(width)]
        for d in rest[doubtful]:
            amounts[d] = allocate(int(pool[d]), w[d].tolist(), keys)
    return amounts


def _integer_rows(
    w: npt.NDArray[np.float64], pool: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """Which rows have weights in exact integer ratios small enough for int64 (``pool * sum``
    below ``2**62``), and those rows' integers: the weights scaled by a power of two to
    integers, divided by their greatest common divisor (0.2 and 0.8 are 1 and 4 exactly)."""
    mantissa, exponent = np.frexp(w)
    digits = np.ldexp(mantissa, 53).astype(np.int64)  # w = digits * 2**(exponent - 53)
    nonzero = digits > 0
    trailing = np.log2(np.where(nonzero, digits & -digits, 1)).astype(np.int64)
    fraction_bits = np.where(nonzero, 53 - exponent - trailing, 0)
    shift = np.clip(fraction_bits.max(axis=1), 0, 62)
    scaled = np.ldexp(w, shift[:, None])  # exact: a power-of-two scaling
    fits = np.all(scaled == np.floor(scaled), axis=1) & (scaled.max(axis=1) < 2.0**62)
    integers = np.where(fits[:, None], scaled, 0.0).astype(np.int64)
    divisor = np.gcd.reduce(integers, axis=1)
    integers //= np.maximum(divisor, 1)[:, None]
    total = scaled.sum(axis=1) / np.maximum(divisor, 1)  # in floats: int64 could overflow
    eligible = fits & (total < 2.0**62) & (pool.astype(np.float64) * total < 2.0**62)
    return eligible, integers[eligible]


def _largest_remainder_int(
    pool: npt.NDArray[np.int64], weights: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """:func:`allocate` on integer weights, row by row, in int64 (no overflow: see caller)."""
    product = pool[:, None] * weights
    floors, remainder = np.divmod(product, weights.sum(axis=1)[:, None])
    short = pool - floors.sum(axis=1)
    order = np.argsort(-remainder, axis=1, kind="stable")
    rows = np.arange(len(pool))[:, None]
    floors[rows, order] += np.arange(weights.shape[1])[None, :] < short[:, None]
    result: npt.NDArray[np.int64] = floors
    return result


# Error-free transformations (Knuth's TwoSum, Dekker's TwoProduct): a + b and a * b as the
# rounded result plus the exact rounding error, elementwise.
_SPLITTER = 134217729.0  # 2**27 + 1


def _two_sum(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> tuple[Any, Any]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a: npt.NDArray[np.float64]) -> tuple[Any, Any]:
    c = _SPLITTER * a
    high = c - (c - a)
    return high, a - high


def _two_product(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> tuple[Any, Any]:
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _hand_out(
    pool: npt.NDArray[np.int64],
    w: npt.NDArray[np.float64],
    floors: npt.NDArray[np.float64],
    remainder: npt.NDArray[np.float64],
    error: npt.NDArray[np.float64],
    near_integer: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Floors plus one fen each to the largest remainders (ties to the lower column), and which
    rows that may differ from the exact result, given that each remainder is within ``error``
    (per row) of the exact one and ``near_integer`` marks the floors in doubt."""
    n_rows, width = w.shape
    amounts = floors.astype(np.int64)
    short = pool - amounts.sum(axis=1)
    doubtful = near_integer.any(axis=1) | (short < 0) | (short >= width)
    doubtful |= ~np.isfinite(remainder).all(axis=1)
    order = np.argsort(-remainder, axis=1, kind="stable")
    rows = np.arange(n_rows)[:, None]
    amounts[rows, order] += np.arange(width)[None, :] < np.clip(short, 0, width)[:, None]
    # The cut between the last remainder paid and the first not paid must be certain, unless
    # every remainder near it has the same weight: an exact tie, computed identically and
    # broken by column as allocate breaks it by key.
    cut = np.flatnonzero(~doubtful & (short > 0))
    if cut.size:
        paid = remainder[cut, order[cut, short[cut] - 1]]
        unpaid = remainder[cut, order[cut, short[cut]]]
        margin = 2 * error[cut]
        close = paid - unpaid <= margin
        if close.any():
            cut, paid, unpaid, margin = cut[close], paid[close], unpaid[close], margin[close]
            near = remainder[cut]
            band = (near >= (unpaid - margin)[:, None]) & (near <= (paid + margin)[:, None])
            high = np.where(band, w[cut], -np.inf).max(axis=1)
            low = np.where(band, w[cut], np.inf).min(axis=1)
            doubtful[cut[high != low]] = True
    return amounts, doubtful


def _largest_remainder_float(
    pool: npt.NDArray[np.int64], w: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """:func:`allocate`, row by row, with quotas in floats; and the rows left in doubt.

    Each quota ``fl(fl(pool * w_i) / fl(sum w))`` is within ``pool * (K + 3) * 2**-52`` of the
    exact one: the sum has relative error below ``(K - 1) u``, the product and the quotient
    ``u`` each (``u = 2**-53``, doubled for margin), and a quota is at most the pool.
    """
    width = w.shape[1]
    p = pool.astype(np.float64)
    quota = p[:, None] * w / w.sum(axis=1)[:, None]
    error = p * ((width + 3) * 2.0**-52)
    floors = np.floor(quota)
    remainder = quota - floors  # exact
    near_integer = (w > 0) & ((remainder <= error[:, None]) | (remainder >= 1 - error[:, None]))
    near_integer[p >= 2.0**53] = True  # the pool itself would be rounded
    return _hand_out(pool, w, floors, remainder, error, near_integer)


def _largest_remainder_dd(
    pool: npt.NDArray[np.int64], w: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """:func:`allocate`, row by row, with quotas in double-double arithmetic; and the rows
    left in doubt.

    Each quota ``pool * w_i / T`` is ``q_hi + q_lo`` within ``pool * (K**2 + 16) * 2**-104``:
    ``T`` is summed with TwoSum (error at most ``(K-1)**2 u**2 T``, Ogita, Rump & Oishi 2005),
    ``pool * w_i`` is exact with TwoProduct, and one correction step of the division adds a few
    ``u**2`` (``u = 2**-53``); the factor 4 in ``2**-104`` is margin. Remainders are ranked by
    their high part, which is within ``2**-54`` of the double-double value.
    """
    n_rows, width = w.shape
    p = pool.astype(np.float64)
    t_hi = w[:, 0].copy()
    t_lo = np.zeros(n_rows)
    for j in range(1, width):
        t_hi, error = _two_sum(t_hi, w[:, j])
        t_lo += error
    n_hi, n_lo = _two_product(p[:, None], w)
    q_hi = n_hi / t_hi[:, None]
    m_hi, m_lo = _two_product(q_hi, t_hi[:, None])
    q_lo = ((n_hi - m_hi) - m_lo + n_lo - q_hi * t_lo[:, None]) / t_hi[:, None]
    floors = np.floor(q_hi)
    above = q_hi - floors  # exact
    below = (above == 0) & (q_lo < 0)  # q_hi is an integer and the quota just under it
    floors -= below
    r_hi, r_lo = _two_sum(np.where(below, 1.0, above), q_lo)
    eps = p * ((width * width + 16) * 2.0**-104)
    frac = r_hi + r_lo
    positive = w > 0
    near_integer = positive & ((frac <= eps[:, None]) | (frac >= 1 - eps[:, None]))
    # Magnitudes where TwoProduct could overflow or lose bits to underflow go the exact way.
    near_integer |= positive & ((w > 2.0**500) | (w < 2.0**-500))
    near_integer[p >= 2.0**53] = True
    return _hand_out(pool, w, floors, r_hi, eps + 2.0**-53, near_integer)
