"""Markov credit: stage weights from removal effects of an absorbing Markov chain over journeys.

Every customer's journey is a path ``start -> s_1 -> ... -> s_n -> (conversion | null)`` of the
stages of their touches, absorbed in *conversion* if the customer has a deal. Counting the
transitions of all paths gives a Markov chain whose states are the last ``k`` stages (the
*order*, 1 to 4). The probability ``P`` of being absorbed in conversion from ``start`` is solved
exactly from the linear system of the absorbing chain, ``(I - Q) x = r``. The *removal effect* of
stage ``s`` is ``RE(s) = 1 - P_{-s} / P``, where ``P_{-s}`` is the same probability when every
transition into ``s`` is sent to *null* instead [1]_. In :func:`markov` they scale the policy's
weights of the learned stages.

The paths are the training paths of :mod:`contribnet.credit.learned`: the contribution items the
split credits, each journey cut at its deal's close, without the outcome stages (quote, order,
delivery), which occur on converted journeys only and would otherwise take removal effects near 1.

Unlike simulation-based implementations the result is deterministic and exact: the system is
solved by dense LU decomposition up to 64 states (order 1 over the default stages); beyond, the
walk from start is followed until the probability still in play proves the answer to machine
precision, or, when loops make that slow, by sparse LU decomposition (``scipy.sparse.linalg``):
exact to rounding whatever the number of states and however long the loops of the journeys.

References
----------
.. [1] Anderl, E., Becker, I., von Wangenheim, F., & Schumann, J. H. (2016). Mapping the customer
   journey: Lessons learned from graph-based online attribution modeling. *International
   Journal of Research in Marketing*, 33(3), 457-474.
.. [2] Kemeny, J. G., & Snell, J. L. (1960). *Finite Markov Chains*. Van Nostrand.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, count
from operator import itemgetter

import numpy as np
import numpy.typing as npt

from contribnet.credit.learned import OWNER_REFERRAL, outcome_split
from contribnet.credit.rules import stage_weighted
from contribnet.credit.touches import Attribution, CreditTouch
from contribnet.domain.policy import Policy

__all__ = [
    "EncodedPaths",
    "MarkovChain",
    "chain_of_transitions",
    "encode_paths",
    "markov",
    "markov_chain",
    "removal_effects",
    "transition_counts",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Up to this many transient states the chain is solved by LU decomposition (larger dense
#: solves gain little, and multi-threaded BLAS can make them slow on small machines).
DENSE_LIMIT = 64

#: Beyond :data:`DENSE_LIMIT` states the walk from start is followed for at most this many steps
#: per state before the chain is solved by sparse LU instead (see ``_absorption``).
WALK_STEPS_PER_STATE = 4


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
        nonempty = np.diff(self.offsets) > 0
        # from each non-empty path's start to the next one's, which is where it ends (an empty
        # path after it starts there too): so empty paths at the end cut no path short
        out[nonempty] = np.bitwise_or.reduceat(bits, self.offsets[:-1][nonempty])
        return out


def encode_paths(
    paths: Iterable[tuple[Sequence[str], bool]], stages: Sequence[str] | None = None
) -> EncodedPaths:
    """Encode ``(stage_path, converted)`` pairs into arrays (the training paths of
    :func:`~contribnet.credit.learned.training_paths`, or any).

    ``stages`` fixes the stages and their codes (sorted by name; every stage of the paths must be
    one of them): each part of paths split among machines is then coded alike. By default they
    are the stages the paths hold.

    >>> e = encode_paths([(("lead", "test_drive"), True), (("lead",), False)])
    >>> e.stages, e.codes.tolist(), e.offsets.tolist(), e.converted.tolist()
    (('lead', 'test_drive'), [0, 1, 0], [0, 2, 3], [True, False])
    >>> encode_paths([(("test_drive",), True)], ("lead", "test_drive")).codes.tolist()
    [1]
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
    found = tuple(sorted(first_seen))
    if stages is None:
        stages = found
    else:
        stages = tuple(stages)
        if list(stages) != sorted(set(stages)) or not set(found) <= set(stages):
            raise ValueError("stages must be sorted, distinct, and hold every stage of the paths")
    position = {stage: k for k, stage in enumerate(stages)}
    renumber = np.zeros(max(total, 1), dtype=np.int16)
    for stage in found:
        renumber[first_seen[stage]] = position[stage]
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
    keys, counts = transition_counts(paths, order)
    return chain_of_transitions(paths.stages, order, keys, counts)


def transition_counts(
    paths: EncodedPaths, order: int = 1, weights: IntArray | None = None
) -> tuple[IntArray, IntArray]:
    """The transitions of the paths' order-``order`` chain and how often each occurs, as
    ``(keys, counts)``, keys ascending: what :func:`markov_chain` estimates the chain from.
    With ``weights``, path ``p`` counts as ``weights[p]`` paths (distinct paths with how often
    each was seen give the counts of all of them).

    A key is ``src * width + dst`` with states numbered as in :func:`markov_chain` (``width``
    from the number of ``paths.stages`` and the order), so counts of paths encoded with the
    same stages (:func:`encode_paths`) add up key by key: a cluster counts its parts and
    :func:`chain_of_transitions` takes the sums.

    >>> transition_counts(encode_paths([(("lead", "test_drive"), True), (("lead",), False)]))
    (array([ 1,  7,  9, 13]), array([2, 1, 1, 1]))
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
    if weights is None:
        if width * width <= 1 << 24:  # few possible transitions: count them in place
            tally = np.bincount(pairs, minlength=width * width)
            keys = np.flatnonzero(tally)
            counts = tally[keys]
        else:
            keys, counts = np.unique(pairs, return_counts=True)
        return keys.astype(np.int64), counts.astype(np.int64)
    path_weights = np.asarray(weights, dtype=np.int64)
    pair_weights = np.concatenate([np.repeat(path_weights, lengths), path_weights])
    keys, inverse = np.unique(pairs, return_inverse=True)
    # float sums of whole numbers: exact below 2**53
    counts = np.bincount(inverse, pair_weights, len(keys)).astype(np.int64)
    present = counts != 0
    return keys[present].astype(np.int64), counts[present]


def chain_of_transitions(
    stages: Sequence[str], order: int, keys: npt.ArrayLike, counts: npt.ArrayLike
) -> MarkovChain:
    """The chain :func:`markov_chain` estimates, from the :func:`transition_counts` of paths
    coded with ``stages`` (keys ascending, each once)."""
    stages = tuple(stages)
    keys = np.asarray(keys, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    base = len(stages) + 1
    scale = base**order
    conversion = scale
    width = scale + 2
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
        stages,
        order,
        tuple(history),
        last,
        src[transient],
        np.searchsorted(ids, dst_id[transient]),
        prob[transient],
        to_conv,
    )


def _absorption(chain: MarkovChain, keep: npt.NDArray[np.bool_]) -> float:
    """P(conversion from start) using only the transitions with ``keep`` true.

    The absorption probabilities ``x`` solve ``(I - Q) x = r`` [2]_: ``Q`` the kept transient
    transitions, ``r`` each state's probability of converting next. Up to :data:`DENSE_LIMIT`
    states the system is solved by dense LU. Beyond, the walk is followed from start: after
    ``k`` steps it has converted with probability ``P_k`` and is still transient with
    probability ``m_k``, so ``P_k <= P <= P_k + m_k`` -- a proof of the error, not a guess. The
    walk stops once ``m_k <= 2**-52 P_k`` (or ``m_k`` is below 1e-300); if that takes more than
    :data:`WALK_STEPS_PER_STATE` steps a state (long loops), the system is solved by sparse LU
    (SuperLU) instead. Either way the answer is exact to rounding, for any number of states.
    ``I - Q`` is never singular here: every state lies on an observed path that ends absorbed,
    so from every state some kept transition leads out of the transient states, or was dropped
    (its probability goes to null).
    """
    n = chain.size
    src, dst, prob = chain.src[keep], chain.dst[keep], chain.prob[keep]
    r = chain.to_conversion
    if n <= DENSE_LIMIT:
        a = np.eye(n)
        np.subtract.at(a, (src, dst), prob)
        return _checked(float(np.linalg.solve(a, r)[0]), n)
    # imported here: scipy.sparse takes a while to import, and order-1 chains over the default
    # stages never need it
    from scipy.sparse import csc_matrix, csr_matrix, identity  # type: ignore[import-untyped]

    step = csr_matrix((prob, (dst, src)), shape=(n, n))  # mass after a step = step @ mass
    mass = np.zeros(n)
    mass[0] = 1.0
    converted = 0.0
    for _ in range(WALK_STEPS_PER_STATE * (n + 16)):
        converted += float(mass @ r)
        mass = step @ mass
        left = float(mass.sum())
        if left <= 2.0**-52 * converted or left <= 1e-300:
            return _checked(converted, n)
    from scipy.sparse.linalg import splu  # type: ignore[import-untyped]

    # repeated (src, dst) pairs are summed by the conversion, as np.subtract.at does above
    a = (identity(n, format="csc") - csc_matrix((prob, (src, dst)), shape=(n, n))).tocsc()
    return _checked(float(splu(a).solve(r)[0]), n)


def _checked(p: float, n: int) -> float:
    if not math.isfinite(p):
        raise ArithmeticError(f"the Markov chain's absorption solve failed ({n} states)")
    return min(max(p, 0.0), 1.0)  # rounding only


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


def markov(
    touches: Sequence[CreditTouch], policy: Policy, effects: Mapping[str, float]
) -> Attribution:
    """Stage-weighted credit with each learned stage's weight scaled by its removal effect; the
    outcome stages are paid by the policy's weights.

    Definition: :func:`~contribnet.credit.learned.outcome_split` with, as the learned model,
    :func:`~contribnet.credit.rules.stage_weighted` over the learned touches with
    ``W(s) = w(s) RE(s)``: the policy's weight of the stage times its removal effect, the share
    of conversions the chain loses without it. ``effects`` are the :func:`removal_effects` of
    the order-``policy.markov_order`` chain of the training paths
    (:func:`~contribnet.credit.learned.training_paths`; the engine's context carries them), keyed
    by learned stage (an owner's referral is ``owner_referral``, weighted as ``referral``). So a
    learned stage ``s`` present in the deal gets ``(1 - a) W(s) / sum of W over the learned
    stages present``, shared by its touches by time decay and saturation; ``a``, the part of the
    outcome stages and of any stage the chain never saw, is shared by stage weights. A stage on
    every converting path keeps its full weight; one the conversions do not need loses it.

    Why scaled, not replaced: a removal effect is the share of all conversions that pass
    through a stage, so a stage at the door of every journey (reception) has one near 1 whatever
    its part in the decision; the policy's weight keeps the test drive worth more than the
    reception, and the removal effect lowers the stages the conversions do not depend on.

    Examples
    --------
    X received the customer and test-drove; Y received them again, quoted and took the order. Of
    the stage weights present (reception 10, test drive 25, quote 5, order 15) the outcomes take
    ``a = 20/55``. With removal effects 0.5 (reception) and 1.0 (test drive) the learned
    ``35/55`` is shared 5 : 25 by reception and test drive, and the reception part mostly goes to
    Y, whose reception is recent:

    >>> from contribnet.credit.touches import example_touch as t, shares
    >>> journey = [t("x", "reception", 20), t("x", "test_drive", 10), t("y", "reception", 2),
    ...            t("y", "quote", 1), t("y", "order", 0)]
    >>> shares(markov(journey, Policy(), {"reception": 0.5, "test_drive": 1.0}))
    {'x': 0.546, 'y': 0.454}
    """

    def learned(part: Sequence[CreditTouch]) -> Attribution:
        # `part` carries learned stages: an owner's referral is weighted as a referral
        weights = {
            s: policy.weight("referral" if s == OWNER_REFERRAL else s) * e
            for s, e in effects.items()
        }
        result = stage_weighted(part, policy, weights)
        factors = tuple(
            {
                **{("removal_weight" if k == "stage_weight" else k): v for k, v in f.items()},
                "removal_effect": effects.get(t.stage, 0.0),
            }
            for t, f in zip(part, result.factors, strict=True)
        )
        return Attribution(result.touches, result.credit, factors)

    return outcome_split(touches, policy, effects.keys(), learned)
