"""Money allocation: shares to exact integer fen, summing to the pool (largest remainder).

References
----------
.. [1] Balinski, M. L., & Young, H. P. (2001). *Fair Representation: Meeting the Ideal of One
   Man, One Vote* (2nd ed.). Brookings Institution Press. (Hamilton's largest-remainder method.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["RESOLUTION", "allocate", "allocate_many", "quantise"]

#: Shares are fixed to multiples of 2**-40 (about 1e-12) before money is divided, so that float
#: noise cannot decide who gets a remainder fen; equal shares stay exactly equal.
RESOLUTION = 2**40


def quantise(weights: Sequence[float]) -> list[int]:
    """Integer weights proportional to ``weights`` at :data:`RESOLUTION` (negatives count 0).

    >>> quantise([1.0, 1.0, 2.0])
    [274877906944, 274877906944, 549755813888]
    """
    clean = [w if w > 0 else 0.0 for w in weights]
    total = sum(clean)
    if total <= 0:
        return [0] * len(clean)
    return [round(w / total * RESOLUTION) for w in clean]


def allocate(total: int, weights: Sequence[float], keys: Sequence[str]) -> list[int]:
    """Split ``total`` (integer fen or points) in proportion to ``weights``, exactly.

    Definition (Hamilton's largest remainder): with ``q_i`` the quantised weights and
    ``Q = sum(q)``, each gets ``floor(total * q_i / Q)``; the fen left over go one each to the
    largest remainders ``total * q_i mod Q``, ties broken by ``keys`` in ascending order. The
    arithmetic is on Python integers, so the result sums to ``total`` exactly, is never negative,
    and differs from the ideal ``total * share`` by less than one fen. All-zero weights give all
    zeros (nothing can be allocated).

    Examples
    --------
    >>> allocate(100, [1, 1, 1], ["c", "a", "b"])
    [33, 34, 33]
    >>> allocate(1_000_000, [0.5, 0.3, 0.2], ["x", "y", "z"])
    [500000, 300000, 200000]
    """
    if len(weights) != len(keys):
        raise ValueError("one key per weight")
    if total < 0:
        raise ValueError("cannot allocate a negative total")
    if len(weights) == 1:  # the usual case (one store takes a credit whole): nothing to divide
        return [total if weights[0] > 0 else 0]
    q = quantise(weights)
    denominator = sum(q)
    if denominator == 0:
        return [0] * len(q)
    amounts = [total * x // denominator for x in q]
    short = total - sum(amounts)
    if short:
        order = sorted(range(len(q)), key=lambda i: (-(total * q[i] % denominator), keys[i]))
        for i in order[:short]:
            amounts[i] += 1
    return amounts


def allocate_many(pools: npt.ArrayLike, weights: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Largest-remainder allocation of many pools at once (numpy, one row per deal).

    ``weights`` has shape ``(D, K)``: row ``d`` splits ``pools[d]`` among ``K`` columns. Each
    row with a positive total sums exactly to its pool; ties between equal remainders go to the
    lower column. Rows whose weights are all 0 get zeros. Shares are quantised as in
    :func:`allocate`; rows whose float quotas could be off by a fen (pools above ``2**40``) are
    recomputed exactly with :func:`allocate`.

    Examples
    --------
    >>> allocate_many([100, 7], [[1.0, 1.0, 1.0], [3.0, 1.0, 0.0]])
    array([[34, 33, 33],
           [ 5,  2,  0]])
    """
    pool = np.asarray(pools, dtype=np.int64)
    w = np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    if w.ndim != 2 or w.shape[0] != pool.shape[0]:
        raise ValueError("weights must have shape (len(pools), K)")
    if np.any(pool < 0):
        raise ValueError("cannot allocate a negative pool")
    n_rows, width = w.shape
    total = w.sum(axis=1)
    positive = total > 0
    share = np.divide(w, total[:, None], out=np.zeros_like(w), where=positive[:, None])
    share = np.round(share * RESOLUTION) / RESOLUTION
    quota = pool[:, None].astype(np.float64) * share
    amounts: npt.NDArray[np.int64] = np.floor(quota).astype(np.int64)
    remainder = quota - amounts
    short = np.where(positive, pool - amounts.sum(axis=1), 0)
    order = np.argsort(-remainder, axis=1, kind="stable")
    bonus = np.arange(width)[None, :] < short[:, None]
    rows = np.arange(n_rows)[:, None]
    amounts[rows, order] += bonus
    bad = positive & ((short < 0) | (short > width) | (pool >= 2**40))
    keys = [f"{k:09d}" for k in range(width)]
    for d in np.flatnonzero(bad):
        amounts[d] = allocate(int(pool[d]), w[d].tolist(), keys)
    return amounts
