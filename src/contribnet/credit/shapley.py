"""Shapley credit: a deal's contributors as players of a cooperative game over stages.

The players are the deal's contributors; contributor ``i`` covers the set of stages ``m_i`` of
its qualifying touches (a bit mask). A coalition ``C`` is worth ``f(union of m_i, i in C)`` for a
set function ``f`` of stage sets. Two games are offered:

* ``shapley`` -- the *additive* game ``f(M) = sum of the policy's stage weights over M``; its
  Shapley value has the closed form ``phi_i = sum over s in m_i of w(s) / n(s)``, ``n(s)`` being
  the number of contributors covering ``s`` (:func:`additive_shapley`);
* ``shapley_conversion`` -- the *conversion* game: ``f(M)`` is the conversion rate of journeys
  whose stage set is ``M``, estimated from the training journeys (converted or not), smoothed
  toward a per-stage model that also values the sets never observed, and made monotone with a
  least gain per stage (:func:`conversion_values`), so no marginal contribution -- and no one's
  credit -- is ever negative, and everyone who did a stage seen on converting journeys gets some.
  It values the learned stages only; the outcome stages are paid by stage weights.

Exact values come from :func:`shapley_union_game` in ``O(min(s 2^s, k 2^k) + n)`` time for ``n``
players with ``k`` distinct stage sets over ``s`` covered stages; :func:`shapley_many` does the
same for many deals at once; :func:`shapley_brute_force` enumerates coalitions (a reference for
tests); :func:`shapley_sampled` estimates any game by permutation sampling with standard errors.

References
----------
.. [1] Shapley, L. S. (1953). A value for n-person games. In H. W. Kuhn & A. W. Tucker (Eds.),
   *Contributions to the Theory of Games II* (pp. 307-317). Princeton University Press.
.. [2] Owen, G. (1972). Multilinear extensions of games. *Management Science*, 18(5), 64-79.
.. [3] Castro, J., Gomez, D., & Tejada, J. (2009). Polynomial calculation of the Shapley value
   based on sampling. *Computers & Operations Research*, 36(5), 1726-1730.
.. [4] Shao, X., & Li, L. (2011). Data-driven multi-touch attribution models. *Proceedings of
   KDD '11*, 258-264.
.. [5] Pearl, J. (1988). *Probabilistic Reasoning in Intelligent Systems* (sec. 4.3.2, noisy-OR
   interaction). Morgan Kaufmann.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from itertools import combinations
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from contribnet.credit.learned import outcome_split
from contribnet.credit.rules import spread
from contribnet.credit.touches import Attribution, Contributor, CreditTouch
from contribnet.domain.policy import Policy

__all__ = [
    "MIN_GAIN",
    "additive_shapley",
    "conversion_game",
    "conversion_values",
    "monotone_closure",
    "shapley",
    "shapley_brute_force",
    "shapley_conversion",
    "shapley_many",
    "shapley_sampled",
    "shapley_union_game",
    "stage_masks",
    "stage_model",
]

FloatArray = npt.NDArray[np.float64]
SetFunction = Callable[[int], float] | npt.NDArray[np.float64]


# --- transforms over the subsets of s stages (arrays of length 2**s, index = stage mask) --------


def _butterfly(a: FloatArray, *, to_superset_side: bool, sign: float) -> FloatArray:
    """One pass per stage bit over the last axis: the shared core of the three transforms below.

    At each bit, the half with the bit set (``to_superset_side``) or the half without it receives
    ``sign`` times the other half.
    """
    out = a.astype(np.float64, copy=True)
    size = out.shape[-1]
    lead = out.shape[:-1]
    target, source = (1, 0) if to_superset_side else (0, 1)
    bit = 1
    while bit < size:
        view = out.reshape(*lead, size // (2 * bit), 2, bit)
        view[..., target, :] += sign * view[..., source, :]
        bit *= 2
    return out


def _subset_sums(a: FloatArray) -> FloatArray:
    """``out[M] = sum of a[T] over T subset of M`` along the last axis (zeta transform)."""
    return _butterfly(a, to_superset_side=True, sign=1.0)


def _superset_sums(a: FloatArray) -> FloatArray:
    """``out[M] = sum of a[T] over T superset of M`` along the last axis."""
    return _butterfly(a, to_superset_side=False, sign=1.0)


def _superset_mobius(f: FloatArray) -> FloatArray:
    """The ``h`` with ``f(M) = sum of h(T) over T superset of M`` (inverse of the above)."""
    return _butterfly(f, to_superset_side=False, sign=-1.0)


def _subset_sums_in_place(a: npt.NDArray[Any]) -> None:
    """:func:`_subset_sums` along the first axis, in place (stage sets by rows)."""
    _butterfly_rows(a, target=1, source=0)


def _superset_sums_in_place(a: npt.NDArray[Any]) -> None:
    """:func:`_superset_sums` along the first axis, in place (stage sets by rows)."""
    _butterfly_rows(a, target=0, source=1)


def _butterfly_rows(a: npt.NDArray[Any], target: int, source: int) -> None:
    """:func:`_butterfly` with ``sign`` 1 along the first axis, in place."""
    size = a.shape[0]
    bit = 1
    while bit < size:
        view = a.reshape(size // (2 * bit), 2, bit, *a.shape[1:])
        view[:, target] += view[:, source]
        bit *= 2


def _unions(masks: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``out[..., T]`` = the union of ``masks[..., j]`` over the bits ``j`` of ``T``."""
    k = masks.shape[-1]
    out = np.zeros((*masks.shape[:-1], 1 << k), dtype=np.int64)
    for j in range(k):
        out[..., 1 << j : 2 << j] = out[..., : 1 << j] | masks[..., j : j + 1]
    return out


def monotone_closure(values: npt.ArrayLike) -> FloatArray:
    """``v'(M) = max of v(T) over all T subset of M``, for ``v`` indexed by stage mask.

    The closure is the smallest monotone set function above ``v``; in a monotone game every
    marginal contribution, hence every Shapley value, is >= 0.

    >>> monotone_closure([0.0, 0.3, 0.1, 0.2]).tolist()   # masks 0, {a}, {b}, {a, b}
    [0.0, 0.3, 0.1, 0.3]
    """
    out = np.asarray(values, dtype=np.float64).copy()
    size = out.shape[-1]
    if size & (size - 1):
        raise ValueError("values must have length 2**s")
    bit = 1
    while bit < size:
        view = out.reshape(size // (2 * bit), 2, bit)
        np.maximum(view[:, 1, :], view[:, 0, :], out=view[:, 1, :])
        bit *= 2
    return out


# --- exact Shapley of union games -----------------------------------------------------------


def shapley_union_game(masks: Sequence[int], value: SetFunction) -> FloatArray:
    """Exact Shapley values of the game ``v(C) = f(union of masks[i] for i in C)``.

    Parameters
    ----------
    masks : sequence of int
        Player ``i`` covers the stages whose bits are set in ``masks[i]`` (0: a null player).
    value : callable or ndarray
        ``f`` as a function of a stage mask, or an array indexed by mask (length ``2**s``). It
        is evaluated only on subsets of the union of all masks.

    Returns
    -------
    ndarray
        ``phi[i]``; they sum to ``f(union of all) - f(0)``.

    Notes
    -----
    Write ``f`` through its superset Mobius transform, ``f(M) = sum over T superset of M of
    h(T)``. By Owen's multilinear extension [2]_, ``phi_i`` is the integral over ``p`` in [0, 1]
    of the expected marginal contribution of ``i`` when every other player joins independently
    with probability ``p``. The union ``U`` of such a random coalition satisfies
    ``P(U subset of M) = (1-p)^N(M)``, where ``N(M)`` is the number of players whose mask is
    not inside ``M``; integrating gives the closed form

        ``phi_i = - sum over M with m_i not inside M of h(M) / N(M)``
        ``      = R_sup(m_i) - sum over all M of R(M)``,  ``R = h / N``,

    where ``R_sup`` sums ``R`` over supersets. ``h``, ``N`` and ``R_sup`` are subset/superset
    transforms over the ``2^s`` stage sets covered (dynamic programming over masks), so the cost
    is ``O(s 2^s + n)``: players with the same stage set are symmetric and cost nothing extra.
    For 100 contributors over 11 stages that is 2,048 masks, well under a millisecond. When the
    ``k`` distinct stage sets of the players are fewer than the stages, the same sum is taken over
    the ``2^k`` sets of player types instead (``O(k 2^k)``; see ``_by_player_types``).

    Examples
    --------
    Two advisors both did the test drive (weight 25), one also closed (weight 15):

    >>> weights = {1: 25.0, 2: 15.0}                  # bit 1 = test_drive, bit 2 = order
    >>> f = lambda mask: sum(w for bit, w in weights.items() if mask & bit)
    >>> shapley_union_game([0b01, 0b11], f).tolist()
    [12.5, 27.5]
    """
    m = np.asarray(masks, dtype=np.int64)
    n = len(m)
    if n == 0:
        return np.zeros(0)
    if np.any(m < 0):
        raise ValueError("masks must be >= 0")
    types, kind, counts = np.unique(m, return_inverse=True, return_counts=True)
    union = int(np.bitwise_or.reduce(types))
    bits = [b for b in range(union.bit_length()) if union >> b & 1]
    if len(types) < len(bits):
        return _by_player_types(types, kind, counts, value)
    s = len(bits)
    local = np.zeros(n, dtype=np.int64)
    for j, b in enumerate(bits):
        local |= ((m >> b) & 1) << j
    size = 1 << s
    index = np.arange(size, dtype=np.int64)
    glob = np.zeros(size, dtype=np.int64)
    for j, b in enumerate(bits):
        glob |= ((index >> j) & 1) << b
    f = _evaluate(value, glob)
    inside = _subset_sums(np.bincount(local, minlength=size).astype(np.float64))
    outside = n - inside
    h = _superset_mobius(f)
    r = np.divide(h, outside, out=np.zeros(size), where=outside > 0)
    r_sup = _superset_sums(r)
    phi: FloatArray = r_sup[local] - r.sum()
    return phi


def _evaluate(value: SetFunction, masks: npt.NDArray[np.int64]) -> FloatArray:
    if callable(value):
        return np.array([value(int(g)) for g in masks.ravel()], dtype=np.float64).reshape(
            masks.shape
        )
    return np.asarray(value, dtype=np.float64)[masks]


def _by_player_types(
    types: npt.NDArray[np.int64],
    kind: npt.NDArray[np.intp],
    counts: npt.NDArray[np.int64],
    value: SetFunction,
) -> FloatArray:
    """The same values over the lattice of player types (distinct masks) when it is smaller.

    Group the stage sets ``M`` by ``I(M)``, the types whose mask lies inside ``M``. The sets with
    ``I(M)`` containing the types ``T`` are the supersets of ``U(T)``, the union of their masks, so
    the ``h`` over them sums to ``f(U(T))``; Mobius inversion over type sets gives
    ``G(T) = sum of h(M) over I(M) = T``, and
    ``phi_t = - sum over T without t of G(T) / (n - c(T))``, ``c(T)`` the players of ``T``.
    """
    k = len(types)
    n = int(counts.sum())
    g = _superset_mobius(_evaluate(value, _unions(types)))
    index = np.arange(1 << k)
    players = np.zeros(1 << k, dtype=np.int64)
    for t in range(k):
        players += ((index >> t) & 1) * int(counts[t])
    left = n - players
    w = np.divide(g, left, out=np.zeros(1 << k), where=left > 0)
    with_t = _superset_sums(w)[1 << np.arange(k)]
    phi: FloatArray = (with_t - w.sum())[kind]
    return phi


def shapley_many(masks: npt.ArrayLike, values: npt.ArrayLike, chunk: int = 512) -> FloatArray:
    """Exact Shapley values of many union games that share one set function ``f``.

    ``masks`` has shape ``(D, n)``: row ``d`` holds deal ``d``'s players (pad with 0 -- a null
    player changes no one's value); ``values`` is ``f`` indexed by mask over the ``s`` stages
    (length ``2**s``). The formulas of :func:`shapley_union_game`, vectorised over deals: over the
    ``2**n`` player sets when ``n < s`` (8 contributors: 256 per deal), else over the ``2**s``
    stage sets with ``h`` computed once (12 or 20 contributors over 11 stages: 2,048 per deal,
    about ``2 s 2**s`` additions and ``2**s`` divisions): ``O(2**min(n, s))`` per deal.

    >>> shapley_many([[0b01, 0b11], [0b10, 0]], [0.0, 25.0, 15.0, 40.0]).tolist()
    [[12.5, 27.5], [15.0, 0.0]]
    """
    m = np.asarray(masks, dtype=np.int64)
    f = np.asarray(values, dtype=np.float64)
    size = f.shape[0]
    if m.ndim != 2:
        raise ValueError("masks must have shape (D, n)")
    if size & (size - 1) or np.any(m >= size) or np.any(m < 0):
        raise ValueError("values must have length 2**s and masks must be below it")
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
    h = _superset_mobius(f)[:, None]
    # Stage sets along the first axis and deals along the second, so every pass of a transform
    # adds contiguous runs of whole rows (a deal per row made the low bits' passes stride over
    # single values); blocks of about 2 MiB stay in cache. Every value takes the same operations
    # in the same order as with a deal per row, so the values are the same to the bit
    # (tests/credit/test_shapley_many.py) whatever the block size.
    rows_per_block = max(1, min(chunk, (1 << 18) // size))
    counter = np.int8 if n < 127 else np.int32
    # N(M), the players whose mask is not inside M, by the count inside; inf where it is 0, so
    # that h / N is 0 there as the formula takes it
    outside = np.array([n - k if k < n else np.inf for k in range(n + 1)], dtype=np.float64)
    for start in range(0, n_deals, rows_per_block):
        block = m[start : start + rows_per_block]
        rows = block.shape[0]
        column = np.arange(rows)
        flat = (block * rows + column[:, None]).ravel()
        inside = np.bincount(flat, minlength=size * rows).astype(counter).reshape(size, rows)
        _subset_sums_in_place(inside)
        r = h / np.take(outside, cast("npt.NDArray[np.integer[Any]]", inside))
        # summed deal by deal along contiguous rows: the same rounding as one deal's r.sum()
        total = np.ascontiguousarray(r.T).sum(axis=1)
        _superset_sums_in_place(r)
        out[start : start + rows] = r[block, column[:, None]] - total[:, None]
    return out


def additive_shapley(masks: Sequence[int], weights: Sequence[float]) -> list[float]:
    """Closed form of the additive game ``f(M) = sum of weights[s] for s in M``.

    ``phi_i = sum over the stages s in masks[i] of weights[s] / n(s)``, ``n(s)`` = the number of
    players covering ``s``: each stage's weight is shared equally by those who did it.

    >>> additive_shapley([0b01, 0b11], [25.0, 15.0])
    [12.5, 27.5]
    """
    counts = [sum(1 for m in masks if m >> s & 1) for s in range(len(weights))]
    return [
        math.fsum(weights[s] / counts[s] for s in range(len(weights)) if m >> s & 1) for m in masks
    ]


# --- reference and sampled estimators for any game ------------------------------------------


def shapley_brute_force(n: int, value: Callable[[frozenset[int]], float]) -> list[float]:
    """Shapley values by enumerating every coalition (the definition; ``O(n 2^n)`` calls).

    ``phi_i = sum over S subset of N - {i} of |S|! (n-|S|-1)! / n! * (v(S + {i}) - v(S))`` [1]_.

    >>> shapley_brute_force(2, lambda c: 10.0 if c == {0, 1} else (4.0 if 0 in c else 0.0))
    [7.0, 3.0]
    """
    cache: dict[frozenset[int], float] = {}

    def v(c: frozenset[int]) -> float:
        if c not in cache:
            cache[c] = float(value(c))
        return cache[c]

    weight = [math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)]
    phi = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        total = 0.0
        for k in range(n):
            for rest in combinations(others, k):
                s = frozenset(rest)
                total += weight[k] * (v(s | {i}) - v(s))
        phi.append(total)
    return phi


def shapley_sampled(
    n: int,
    value: Callable[[frozenset[int]], float],
    samples: int = 1000,
    seed: int = 0,
) -> tuple[FloatArray, FloatArray]:
    """Shapley values estimated by permutation sampling, with standard errors [3]_.

    Each of ``samples`` uniformly random orders of the players is walked once; player ``i``'s
    estimate is the mean of its marginal contributions ``v(P + {i}) - v(P)`` (``P`` = the players
    before it), and its standard error is their standard deviation over ``sqrt(samples)``.
    The estimate is unbiased, needs ``n * samples`` calls of ``value``, and works for any game;
    the same ``seed`` gives the same answer.

    >>> phi, se = shapley_sampled(2, lambda c: 10.0 if c == {0, 1} else (4.0 if 0 in c else 0.0),
    ...                           samples=2000)
    >>> [round(x) for x in phi], bool(se.max() < 0.1)
    ([7, 3], True)
    """
    if samples < 2:
        raise ValueError("need at least 2 samples for a standard error")
    rng = np.random.default_rng(seed)
    contributions = np.empty((samples, n), dtype=np.float64)
    for k in range(samples):
        before: frozenset[int] = frozenset()
        previous = float(value(before))
        for player in rng.permutation(n):
            after = before | {int(player)}
            current = float(value(after))
            contributions[k, player] = current - previous
            before, previous = after, current
    mean: FloatArray = contributions.mean(axis=0)
    se: FloatArray = contributions.std(axis=0, ddof=1) / math.sqrt(samples)
    return mean, se


# --- the conversion game's values from data ---------------------------------------------------


#: The least part of its per-stage gain a stage adds to any stage set in the conversion game
#: (``kappa`` of :func:`conversion_values`).
MIN_GAIN = 0.1


def stage_model(masks: npt.ArrayLike, converted: npt.ArrayLike, n_stages: int) -> FloatArray:
    """The per-stage (noisy-OR) conversion model: ``g(M) = 1 - prod over s in M of (1 - q(s))``.

    ``q(s)`` is the conversion rate of the journeys with stage ``s``: the chance that ``M``'s
    customer converts if each of its stages converted them on its own, independently, as often
    as journeys with that stage convert [5]_. ``g`` is 0 for the empty set, never negative,
    monotone, and grows with every stage seen on a converting journey (``q > 0``).

    >>> stage_model([1, 1, 2, 2, 3], [0, 1, 1, 1, 1], 2).round(3).tolist()  # q = 2/3, 1
    [0.0, 0.667, 1.0, 1.0]
    """
    journeys, conversions = _tallies(masks, converted, n_stages)
    return _stage_model(journeys, conversions, n_stages)


def _tallies(
    masks: npt.ArrayLike, converted: npt.ArrayLike, n_stages: int
) -> tuple[FloatArray, FloatArray]:
    """Journeys and conversions per stage set (indexed by mask), as floats."""
    size = 1 << n_stages
    m = np.asarray(masks, dtype=np.int64)
    journeys = np.asarray(np.bincount(m, minlength=size), dtype=np.float64)
    conversions = np.asarray(
        np.bincount(m, weights=np.asarray(converted, dtype=np.float64), minlength=size),
        dtype=np.float64,
    )
    return journeys, conversions


def _stage_model(journeys: FloatArray, conversions: FloatArray, n_stages: int) -> FloatArray:
    """:func:`stage_model` from the journeys and conversions per stage set."""
    size = 1 << n_stages
    singles = np.left_shift(1, np.arange(n_stages, dtype=np.int64))
    with_stage = _superset_sums(journeys)[singles]
    converted_with = _superset_sums(conversions)[singles]
    q = np.divide(converted_with, with_stage, out=np.zeros(n_stages), where=with_stage > 0)
    log_miss = np.zeros(size)
    with np.errstate(divide="ignore"):  # q = 1: a stage that always converted, log 0 = -inf
        log_miss[singles] = np.log1p(-np.minimum(q, 1.0))
    g: FloatArray = 0.0 - np.expm1(_subset_sums(log_miss))  # 0.0 - : no -0.0 for the empty set
    return g


def conversion_values(
    masks: npt.ArrayLike,
    converted: npt.ArrayLike,
    n_stages: int,
    smoothing: float = 1.0,
    kappa: float = MIN_GAIN,
) -> FloatArray:
    """The monotone, smoothed conversion game over ``n_stages`` stages, from journeys.

    Definition: with ``g`` the per-stage model of :func:`stage_model`, a stage set ``M`` observed
    in ``n(M)`` journeys of which ``c(M)`` converted is worth ``f(M) = (c(M) + a g(M)) / (n(M) +
    a)``, ``a = smoothing`` pseudo-journeys converting at the model's rate; a set never observed
    is worth ``g(M)``, the model's rate; the empty set is worth 0. The game is then

        ``v = kappa g + closure(f - kappa g)``,  ``closure(h)(M) = max of h(T) over T subset of M``

    the smallest function above ``f`` in which adding a stage ``s`` to a set ``M`` always adds
    at least ``kappa`` times what it adds in the model, ``kappa q(s) (1 - g(M))``. So ``v`` is
    never negative, 0 for the empty set, monotone (no marginal contribution, hence no Shapley
    value, is negative), and every stage seen on a converting journey adds value to every set
    it joins (unless the set holds a stage whose journeys all converted), even where the
    observed rates say otherwise: a stage that brought customers who then converted through
    later stages (a referral, a handover) is not a null player.

    Parameters
    ----------
    masks : array of int
        Each journey's stage set as a bit mask (bit ``k`` = stage ``k``).
    converted : array of bool
        Whether each journey converted.
    smoothing : float
        ``a``, the policy's ``conversion_smoothing``.
    kappa : float
        The least part of the model's gain a stage adds (:data:`MIN_GAIN`); 0 gives the plain
        monotone closure of ``f``.

    Examples
    --------
    Stage 0 = lead, 1 = test drive; lead-only journeys rarely convert:

    >>> v = conversion_values([1, 1, 1, 1, 2, 2, 3, 3], [0, 0, 0, 1, 0, 1, 1, 1], 2, smoothing=0)
    >>> v.tolist()
    [0.0, 0.25, 0.5, 1.0]

    A third stage (bit 2), referral, seen on two journeys with a lead, one converting. Each
    stage's journeys convert half the time (lead 4 of 8, referral 1 of 2), test drives 3 of 4,
    so the model gives ``{referral}`` 0.5 and ``{test_drive, referral}`` ``1 - 0.25 * 0.5``:
    never observed, they get these rates. All three together, also unobserved, would be worth
    no more than lead and test drive (0.958, observed) by the rates alone; the least gain makes
    the referral add ``0.1 * (0.938 - 0.875)`` to them:

    >>> masks, converted = [1, 1, 1, 1, 2, 2, 3, 3, 5, 5], [0, 0, 0, 1, 0, 1, 1, 1, 0, 1]
    >>> conversion_values(masks, converted, 3, smoothing=1).round(4).tolist()
    [0.0, 0.3, 0.5833, 0.9583, 0.5, 0.5833, 0.875, 0.9646]
    """
    journeys, conversions = _tallies(masks, converted, n_stages)
    return conversion_game(journeys, conversions, n_stages, smoothing, kappa)


def conversion_game(
    journeys: npt.ArrayLike,
    conversions: npt.ArrayLike,
    n_stages: int,
    smoothing: float = 1.0,
    kappa: float = MIN_GAIN,
) -> FloatArray:
    """:func:`conversion_values` from counts: ``journeys[M]`` and ``conversions[M]`` are how
    many journeys had stage set ``M`` (indexed by mask, ``2**n_stages`` of each) and how many of
    them converted. The same numbers, bit for bit, as from the journeys themselves: a cluster
    counts stage sets (``contribnet.scale``) and the values are computed from the counts.

    >>> conversion_game([0, 4, 2, 2], [0, 1, 1, 2], 2, smoothing=0).tolist()
    [0.0, 0.25, 0.5, 1.0]
    """
    size = 1 << n_stages
    journeys = np.asarray(journeys, dtype=np.float64)
    conversions = np.asarray(conversions, dtype=np.float64)
    if journeys.shape != (size,) or conversions.shape != (size,):
        raise ValueError(f"journeys and conversions need {size} entries, one per stage set")
    g = _stage_model(journeys, conversions, n_stages)
    f = np.divide(
        conversions + smoothing * g, journeys + smoothing, out=g.copy(), where=journeys > 0
    )
    f[0] = 0.0
    values: FloatArray = kappa * g + monotone_closure(f - kappa * g)
    values[0] = 0.0
    return values


# --- the credit models ----------------------------------------------------------------------


def stage_masks(
    touches: Sequence[CreditTouch], stages: Sequence[str]
) -> tuple[list[Contributor], list[int]]:
    """The contributors (sorted) and the bit mask of the stages each covers (bit k =
    ``stages[k]``; stages not in ``stages`` are left out)."""
    bit = {s: 1 << k for k, s in enumerate(stages)}
    cover: dict[Contributor, int] = {}
    for t in touches:
        cover[t.contributor] = cover.get(t.contributor, 0) | bit.get(t.stage, 0)
    players = sorted(cover)
    return players, [cover[p] for p in players]


def _game_attribution(
    touches: Sequence[CreditTouch],
    policy: Policy,
    players: list[Contributor],
    phi: Iterable[float],
    label: str,
) -> Attribution:
    values = {p: max(float(x), 0.0) for p, x in zip(players, phi, strict=True)}
    spread_ = spread(touches, values, policy)
    factors = tuple(
        {
            label: values[t.contributor],
            # the sum of the values, so a clerk can recompute value / total * touch_part
            "value_total": f.get("value_total", math.fsum(values.values())),
            "touch_part": f["touch_part"],
        }
        for t, f in zip(touches, spread_.factors, strict=True)
    )
    return Attribution(spread_.touches, spread_.credit, factors)


def shapley(touches: Sequence[CreditTouch], policy: Policy) -> Attribution:
    """Shapley value of the additive stage game.

    Definition: players are the contributors; a coalition is worth the sum of the policy's
    stage weights over the stages its members covered. The Shapley value [1]_ is then each
    stage's weight shared equally among the contributors who did that stage
    (:func:`additive_shapley`); repeats add nothing. Each contributor's value is spread over
    their touches by :func:`~contribnet.credit.rules.spread`.

    Examples
    --------
    >>> from contribnet.credit.touches import example_touch as t, shares
    >>> journey = [t("x", "test_drive", 30), t("x", "test_drive", 20), t("z", "test_drive", 9),
    ...            t("y", "quote", 1), t("y", "order", 0)]
    >>> shares(shapley(journey, Policy()))   # 25 shared by x and z; 5 + 15 to y
    {'x': 0.278, 'y': 0.444, 'z': 0.278}
    """
    if not touches:
        return Attribution((), (), ())
    stages = sorted({t.stage for t in touches})
    players, masks = stage_masks(touches, stages)
    weights = [policy.weight(s) for s in stages]

    def f(mask: int) -> float:
        return math.fsum(w for k, w in enumerate(weights) if mask >> k & 1)

    phi = shapley_union_game(masks, f)
    return _game_attribution(touches, policy, players, phi, "shapley")


def shapley_conversion(
    touches: Sequence[CreditTouch],
    policy: Policy,
    stages: Sequence[str],
    values: npt.ArrayLike,
) -> Attribution:
    """Shapley value of the conversion game estimated from all journeys, for the learned stages;
    the outcome stages are paid by the policy's weights.

    Definition: :func:`~contribnet.credit.learned.outcome_split` with, as the learned model, the
    Shapley value [1]_ [4]_ of the game whose players are the contributors of the learned
    touches and whose coalitions are worth ``f(M)``, ``M`` the learned stages they covered and
    ``f`` the conversion game of :func:`conversion_values` (``stages`` names the bits of
    ``values``; the engine passes the tables of its
    :class:`~contribnet.credit.context.CreditContext`). Each contributor's value is spread over
    their touches by :func:`~contribnet.credit.rules.spread`. An owner's referral is the stage
    ``owner_referral``. As ``f`` is monotone, no one's value is negative; as every stage seen on a
    converting journey adds to every stage set, everyone who did such a stage gets more than 0.

    Examples
    --------
    From the example of :func:`conversion_values`: ann's lead and bob's test drive, then cat's
    quote and order. The outcomes take ``a = (5 + 15) / 55`` of the pool by stage weights; ann and
    bob share the rest by their Shapley values, ``(f({lead}) + f({lead, test_drive}) -
    f({test_drive})) / 2`` for ann.

    >>> from contribnet.credit.touches import example_touch as t, shares
    >>> v = conversion_values([1, 1, 1, 1, 2, 2, 3, 3], [0, 0, 0, 1, 0, 1, 1, 1], 2, smoothing=0)
    >>> journey = [t("ann", "lead", 20), t("bob", "test_drive", 5), t("cat", "quote", 2),
    ...            t("cat", "order", 0)]
    >>> shares(shapley_conversion(journey, Policy(), ["lead", "test_drive"], v))
    {'ann': 0.239, 'bob': 0.398, 'cat': 0.364}
    """
    table = np.asarray(values, dtype=np.float64)

    def learned(part: Sequence[CreditTouch]) -> Attribution:
        players, masks = stage_masks(part, stages)
        phi = shapley_union_game(masks, table)
        return _game_attribution(part, policy, players, phi, "shapley")

    return outcome_split(touches, policy, stages, learned)
