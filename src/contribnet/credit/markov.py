"""Markov credit: stage weights from removal effects of an absorbing Markov chain over journeys.

Every customer's journey is a path ``start -> s_1 -> ... -> s_n -> (conversion | null)`` of the
stages of their touches, absorbed in *conversion* if the customer has a deal. Counting the
transitions of all paths gives a Markov chain whose states are the last ``k`` stages (the
*order*, 1 to 4). The probability ``P`` of being absorbed in conversion from ``start`` is solved
exactly from the linear system of the absorbing chain, ``(I - Q) x = r``. The *removal effect* of
stage ``s`` is ``RE(s) = 1 - P_{-s} / P``, where ``P_{-s}`` is the same probability when every
transition into ``s`` is sent to *null* instead [1]_. The removal effects, normalised, are the
stage weights of :func:`~contribnet.credit.rules.stage_weighted`.

Unlike simulation-based implementations the result is deterministic: the system is solved by
LU decomposition up to 64 states (order 1 over the default stages), and beyond that by
fixed-point iteration ``x <- r + Q x`` until no probability changes by more than 1e-15 of the
largest -- machine precision.

References
----------
.. [1] Anderl, E., Becker, I., von Wangenheim, F., & Schumann, J. H. (2016). Mapping the customer
   journey: Lessons learned from graph-based online attribution modeling. *International
   Journal of Research in Marketing*, 33(3), 457-474.
.. [2] Kemeny, J. G., & Snell, J. L. (1960). *Finite Markov Chains*. Van Nostrand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, count
from operator import itemgetter

import numpy as np
import numpy.typing as npt

from contribnet.credit.rules import stage_weighted
from contribnet.credit.touches import Attribution, CreditTouch
from contribnet.domain.policy import Policy

__all__ = [
    "EncodedPaths",
    "MarkovChain",
    "encode_paths",
    "markov",
    "markov_chain",
    "markov_stage_weights",
    "removal_effects",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Up to this many transient states the chain is solved by LU decomposition (larger dense
#: solves gain little, and multi-threaded BLAS can make them slow on small machines).
DENSE_LIMIT = 64


@dataclass(frozen=True)
class EncodedPaths:
    """Journeys as arrays: path ``p`` is ``codes[offsets[p]:offsets[p+1]]`` (indices into
    ``stages``, sorted by name) and ``converted[p]`` says whether it ended in a deal."""

    stages: tuple[str, ...]
    codes: npt.NDArray[np.int16]
    offsets: IntArray
    converted: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.converted)

    def masks(self) -> IntArray:
        """Each path's stage set as a bit mask (bit ``k`` = ``stages[k]``; 0 for an empty path)."""
        out = np.zeros(len(self), dtype=np.int64)
        if len(self.codes) == 0:
            return out
        bits = np.left_shift(1, self.codes.astype(np.int64))
        starts = self.offsets[:-1]
        nonempty = np.diff(self.offsets) > 0
        reduced = np.bitwise_or.reduceat(bits, np.minimum(starts, len(bits) - 1))
        out[nonempty] = reduced[nonempty]
        return out


def encode_paths(paths: Iterable[tuple[Sequence[str], bool]]) -> EncodedPaths:
    """Encode ``(stage_path, converted)`` pairs (as ``Store.stage_paths()`` yields) into arrays.

    >>> e = encode_paths([(("lead", "test_drive"), True), (("lead",), False)])
    >>> e.stages, e.codes.tolist(), e.offsets.tolist(), e.converted.tolist()
    (('lead', 'test_drive'), [0, 1, 0], [0, 2, 3], [True, False])
    """
    pairs = paths if isinstance(paths, list) else list(paths)
    n = len(pairs)
    first = itemgetter(0)
    lengths = np.fromiter(map(len, map(first, pairs)), dtype=np.int64, count=n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    total = int(offsets[-1])
    # One pass in C (map, chain, fromiter), some 60 ns a stage: each stage is coded by the
    # position where it first occurs (dict.setdefault), then renumbered in name order.
    first_seen: dict[str, int] = {}
    codes = np.fromiter(
        map(first_seen.setdefault, chain.from_iterable(map(first, pairs)), count()),
        dtype=np.int64,
        count=total,
    )
    if len(first_seen) > 32000:
        raise ValueError("too many distinct stages")
    stages = tuple(sorted(first_seen))
    renumber = np.zeros(max(total, 1), dtype=np.int16)
    for new, stage in enumerate(stages):
        renumber[first_seen[stage]] = new
    converted = np.fromiter(map(bool, map(itemgetter(1), pairs)), dtype=bool, count=n)
    return EncodedPaths(stages, renumber[codes], offsets, converted)


@dataclass(frozen=True)
class MarkovChain:
    """The transient part of an absorbing chain, as sparse transitions.

    State 0 is ``start``; state ``i`` stands for the history ``history[i]`` (stage indices, the
    latest last). ``src -> dst`` with probability ``prob`` among transient states; ``to_conversion``
    is each state's probability of converting next. ``last[i]`` is the latest stage of state
    ``i`` (-1 for start).
    """

    stages: tuple[str, ...]
    order: int
    history: tuple[tuple[int, ...], ...]
    last: IntArray
    src: IntArray
    dst: IntArray
    prob: FloatArray
    to_conversion: FloatArray

    @property
    def size(self) -> int:
        return len(self.history)


def markov_chain(paths: EncodedPaths, order: int = 1) -> MarkovChain:
    """Estimate the order-``order`` chain of the paths by counting transitions.

    Transition probabilities are maximum-likelihood: the count of ``a -> b`` over the count of
    transitions out of ``a``. The state after a touch is the tuple of the last ``order`` stages
    (shorter at the start of a path).
    """
    if not 1 <= order <= 4:
        raise ValueError("order must be 1 to 4")
    n_stages = len(paths.stages)
    base = n_stages + 1
    n_touches = len(paths.codes)
    digit0 = paths.codes.astype(np.int64) + 1  # 0 stands for "no stage" (before the path)
    lengths = np.diff(paths.offsets)
    first = np.zeros(n_touches, dtype=bool)  # the first touch of each path
    first[paths.offsets[:-1][lengths > 0]] = True
    # State id: the last `order` stages as digits in base (stages + 1), the latest lowest.
    state = digit0.copy()
    blocked = first.copy()  # blocked[t]: the path has no j-th previous stage at t
    scale = base
    for j in range(1, order):
        digit = np.zeros(n_touches, dtype=np.int64)
        digit[j:] = digit0[:-j]
        digit[blocked] = 0
        state += digit * scale
        scale *= base
        blocked[j:] |= first[:-j]
    conversion, null = scale, scale + 1
    width = scale + 2
    previous = np.zeros(n_touches, dtype=np.int64)  # 0 = start
    previous[1:] = state[:-1]
    previous[first] = 0
    ends = paths.offsets[1:] - 1
    end_state = np.zeros(len(lengths), dtype=np.int64)
    end_state[lengths > 0] = state[ends[lengths > 0]]
    end_dst = np.where(paths.converted, conversion, null)
    pairs = np.concatenate([previous * width + state, end_state * width + end_dst])
    if width * width <= 1 << 24:  # few possible transitions: count them in place
        tally = np.bincount(pairs, minlength=width * width)
        keys = np.flatnonzero(tally)
        counts = tally[keys]
    else:
        keys, counts = np.unique(pairs, return_counts=True)
    src_id, dst_id = keys // width, keys % width
    ids = np.unique(np.concatenate([[0], src_id, dst_id[dst_id < conversion]]))
    src = np.searchsorted(ids, src_id)
    out = np.bincount(src, weights=counts, minlength=len(ids))
    prob = counts / out[src]
    transient = dst_id < conversion
    to_conv = np.bincount(
        src[dst_id == conversion], weights=prob[dst_id == conversion], minlength=len(ids)
    ).astype(np.float64)
    history = []
    last = np.full(len(ids), -1, dtype=np.int64)
    for i, sid in enumerate(ids.tolist()):
        digits = []
        x = sid
        for _ in range(order):
            digits.append(x % base - 1)
            x //= base
        hist = tuple(d for d in reversed(digits) if d >= 0)
        history.append(hist)
        if hist:
            last[i] = hist[-1]
    return MarkovChain(
        paths.stages,
        order,
        tuple(history),
        last,
        src[transient],
        np.searchsorted(ids, dst_id[transient]),
        prob[transient],
        to_conv,
    )


def _absorption(chain: MarkovChain, keep: npt.NDArray[np.bool_]) -> float:
    """P(conversion from start) using only the transitions with ``keep`` true."""
    n = chain.size
    src, dst, prob = chain.src[keep], chain.dst[keep], chain.prob[keep]
    r = chain.to_conversion
    if n <= DENSE_LIMIT:
        a = np.eye(n)
        np.subtract.at(a, (src, dst), prob)
        return float(np.linalg.solve(a, r)[0])
    x = r.copy()
    for _ in range(100_000):
        new = r + np.bincount(src, weights=prob * x[dst], minlength=n)
        if np.max(np.abs(new - x)) <= 1e-15 * max(float(np.max(np.abs(new))), 1e-300):
            return float(new[0])
        x = new
    return float(x[0])


def removal_effects(chain: MarkovChain) -> dict[str, float]:
    """The removal effect ``RE(s) = 1 - P_{-s} / P`` of every stage of the chain.

    ``P_{-s}`` redirects every transition into a state whose latest stage is ``s`` to null (for
    higher orders, every state containing ``s`` is reached only that way). All 0 if nothing
    converts.

    Examples
    --------
    Two of three journeys with a test drive convert, none without; removing the lead loses the
    two thirds of conversions that went through it:

    >>> paths = encode_paths([(("lead", "test_drive"), True), (("lead", "test_drive"), False),
    ...                       (("lead",), False), (("test_drive",), True)])
    >>> {s: round(e, 3) for s, e in removal_effects(markov_chain(paths)).items()}
    {'lead': 0.667, 'test_drive': 1.0}
    """
    keep_all = np.ones(len(chain.src), dtype=bool)
    p = _absorption(chain, keep_all)
    if p <= 0:
        return {s: 0.0 for s in chain.stages}
    effects = {}
    for k, stage in enumerate(chain.stages):
        keep = chain.last[chain.dst] != k
        effects[stage] = max(0.0, 1.0 - _absorption(chain, keep) / p)
    return effects


def markov_stage_weights(effects: Mapping[str, float], policy: Policy) -> dict[str, float]:
    """Stage weights from removal effects: ``RE(s) / sum(RE)`` for the stages of the data.

    A stage the journeys never showed (e.g. ``handover`` when handovers are not logged as
    touches) keeps its default share of the policy's weights, ``w(s) / sum(w)``; so do all
    stages when no journey converted (every removal effect is 0).

    >>> markov_stage_weights({"lead": 0.5, "test_drive": 1.5}, Policy())["test_drive"]
    0.75
    """
    total = sum(effects.values())
    policy_total = sum(policy.stage_weights.values())
    weights = {
        s: w / policy_total if policy_total > 0 else 0.0 for s, w in policy.stage_weights.items()
    }
    if total > 0:
        weights.update({s: e / total for s, e in effects.items()})
    return weights


def markov(
    touches: Sequence[CreditTouch], policy: Policy, effects: Mapping[str, float]
) -> Attribution:
    """Stage-weighted credit with the removal effects of the journeys' Markov chain as weights.

    Definition: :func:`~contribnet.credit.rules.stage_weighted` with
    ``W(s) = markov_stage_weights(effects)[s]``; ``effects`` are :func:`removal_effects` of the
    order-``policy.markov_order`` chain of all journeys (the engine's context carries them).

    Examples
    --------
    >>> from contribnet.credit.touches import example_touch as t, shares
    >>> journey = [t("ann", "lead", 20), t("bob", "test_drive", 5)]
    >>> shares(markov(journey, Policy(), {"lead": 0.333, "test_drive": 1.0}))
    {'ann': 0.25, 'bob': 0.75}
    """
    weights = markov_stage_weights(effects, policy)
    result = stage_weighted(touches, policy, weights)
    factors = tuple(
        {("removal_weight" if k == "stage_weight" else k): v for k, v in f.items()}
        for f in result.factors
    )
    return Attribution(result.touches, result.credit, factors)
