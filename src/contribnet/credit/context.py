"""The data-driven inputs of the credit models, estimated once from all journeys."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import compress, count, pairwise
from operator import ne

import numpy as np
import numpy.typing as npt

from contribnet.credit.learned import learned_stages
from contribnet.credit.markov import (
    EncodedPaths,
    chain_of_transitions,
    encode_paths,
    removal_effects,
    transition_counts,
)
from contribnet.credit.shapley import conversion_game
from contribnet.domain.errors import ContribnetError
from contribnet.domain.policy import Policy
from contribnet.domain.training import ContributionChanges, ContributionRows

__all__ = [
    "MAX_CONVERSION_STAGES",
    "CreditContext",
    "CreditError",
    "PathCounts",
    "PathTally",
    "build_context",
    "context_of_counts",
    "count_paths",
    "counts_of_tally",
    "encode_training_rows",
    "tally_paths",
    "update_tally",
]

#: The conversion game keeps a value per stage set: at most 2**20 of them.
MAX_CONVERSION_STAGES = 20


class CreditError(ContribnetError):
    """A credit request that cannot be answered as asked (unknown model, missing data)."""


@dataclass(frozen=True)
class CreditContext:
    """What the data-driven models learn from every journey in the store.

    ``stages`` names the bits of ``conversion_values`` (the monotone, smoothed conversion game
    of ``shapley_conversion``, one value per stage set); ``removal_effects`` are the Markov
    removal effects of the order-``markov_order`` chain (``markov``). ``fingerprint`` identifies
    the tables and goes into every split's input hash.
    """

    stages: tuple[str, ...]
    journeys: int
    conversions: int
    conversion_values: npt.NDArray[np.float64] | None
    removal_effects: dict[str, float]
    markov_order: int
    smoothing: float
    fingerprint: str = field(default="")


def build_context(
    paths: Iterable[tuple[Sequence[str], bool]] | EncodedPaths, policy: Policy
) -> CreditContext:
    """Estimate the data-driven models' tables from ``(stage_path, converted)`` pairs.

    ``paths`` are the training paths of :func:`~contribnet.credit.learned.training_paths` (from
    ``Store.contribution_paths()``: the contribution items the split credits, each journey cut at
    its deal's close, outcome stages left out), or any ``(stage_path, converted)`` pairs, or
    them encoded (:func:`~contribnet.credit.markov.encode_paths`). One pass reads them; the
    conversion game (smoothing ``policy.conversion_smoothing``) and the Markov chain (order
    ``policy.markov_order``) are then computed with numpy. With more than
    :data:`MAX_CONVERSION_STAGES` distinct stages the conversion game is not built
    (``shapley_conversion`` then raises :class:`CreditError`).

    Examples
    --------
    >>> paths = [(("lead", "test_drive"), True), (("lead",), False), (("test_drive",), True)]
    >>> ctx = build_context(paths, Policy())
    >>> ctx.stages, ctx.journeys, ctx.conversions
    (('lead', 'test_drive'), 3, 2)
    >>> {s: round(e, 3) for s, e in ctx.removal_effects.items()}
    {'lead': 0.5, 'test_drive': 1.0}

    From a store:
    ``build_context(encode_training_rows(store.contribution_rows(), policy), policy)``.
    """
    encoded = paths if isinstance(paths, EncodedPaths) else encode_paths(paths)
    return context_of_counts(count_paths(encoded, policy.markov_order), policy)


IntArray = npt.NDArray[np.int64]


def encode_training_rows(rows: ContributionRows, policy: Policy) -> EncodedPaths:
    """The training paths of a store, encoded, from its rows (``Store.contribution_rows``).

    The same paths as ``encode_paths(training_paths(store.contribution_paths(), policy))``
    (:func:`~contribnet.credit.learned.training_paths`,
    :func:`~contribnet.credit.markov.encode_paths`) in another order: one converted path per
    distinct close of a customer's live deals, of the learned items after the previous close up
    to and including it and within the policy's lookback; one non-converted path of the learned
    items after the last close, if any. So the same :class:`CreditContext` to the bit: it counts
    stage sets and transitions, which no order of the paths changes. Computed with numpy over
    the columns instead of a Python loop per item.

    Here c-1's lead and test drive come before the two deals closed at one instant (one
    decision, one path); the reception after them is a path that did not convert; c-2's
    follow-up is not a learned stage:

    >>> hour = 3_600_000_000
    >>> rows = ContributionRows(
    ...     ["c-1", "c-1", "c-1", "c-2"], [0, hour, 3 * hour, 0],
    ...     ["lead", "test_drive", "reception", "follow_up"], ["c-1", "c-1"], [2 * hour, 2 * hour])
    >>> e = encode_training_rows(rows, Policy())
    >>> e.stages, e.codes.tolist(), e.offsets.tolist(), e.converted.tolist()
    (('lead', 'reception', 'test_drive'), [0, 2, 1], [0, 2, 3], [True, False])
    """
    n_items = len(rows)
    # a customer's items are consecutive: number the customers as they change
    customers = rows.item_customers
    changes = np.ones(n_items, dtype=bool)
    changes[1:] = np.fromiter(map(ne, customers[1:], customers[:-1]), bool, n_items - 1)
    item_customer = np.cumsum(changes) - 1
    customer_code = dict(zip(compress(customers, changes), count()))
    numbering = count(len(customer_code))
    deal_customer = np.fromiter(
        map(customer_code.setdefault, rows.deal_customers, numbering),
        np.int64,
        len(rows.deal_customers),
    )
    item_at = np.asarray(rows.item_at, dtype=np.int64).reshape(n_items)
    close = np.asarray(rows.deal_closes, dtype=np.int64).reshape(len(deal_customer))
    # each stage coded by where it first occurs (as encode_paths does), then by its name's rank
    first_seen: dict[str, int] = {}
    seen_at = np.fromiter(map(first_seen.setdefault, rows.item_stages, count()), np.int64, n_items)
    stage_names = sorted(first_seen)
    by_name = np.zeros(max(n_items, 1), dtype=np.int64)
    for k, name in enumerate(stage_names):
        by_name[first_seen[name]] = k
    item_stage = by_name[seen_at]
    learned = learned_stages(policy)
    is_learned = np.array([name in learned for name in stage_names], dtype=bool)

    # a customer's distinct closes, in order: two deals closed at one instant are one decision
    by_close = np.lexsort((close, deal_customer))
    deal_customer, close = deal_customer[by_close], close[by_close]
    distinct = np.ones(len(close), dtype=bool)
    distinct[1:] = (deal_customer[1:] != deal_customer[:-1]) | (close[1:] != close[:-1])
    deal_customer, close = deal_customer[distinct], close[distinct]
    n_deals = len(close)

    # Each item's deal: the customer's first distinct close at or after it. Items and closes
    # sorted together by (customer, instant, item before close); deals are numbered in that
    # same order, so the nearest close after a position is the least number after it.
    merged = np.lexsort(
        (
            np.concatenate([np.zeros(n_items, np.int8), np.ones(n_deals, np.int8)]),
            np.concatenate([item_at, close]),
            np.concatenate([item_customer, deal_customer]),
        )
    )
    none = np.iinfo(np.int64).max
    numbers = np.where(merged >= n_items, merged - n_items, none)
    following = np.minimum.accumulate(numbers[::-1])[::-1]
    item_positions = merged < n_items
    item_deal = np.full(n_items, -1, dtype=np.int64)
    candidate = following[item_positions]
    found = candidate != none
    same_customer = np.zeros(len(candidate), dtype=bool)
    same_customer[found] = (
        deal_customer[candidate[found]] == item_customer[merged[item_positions][found]]
    )
    item_deal[merged[item_positions][same_customer]] = candidate[same_customer]

    lookback = timedelta(days=policy.lookback_days) // timedelta(microseconds=1)
    has_deal = item_deal >= 0
    in_window = np.ones(n_items, dtype=bool)
    in_window[has_deal] = item_at[has_deal] >= close[item_deal[has_deal]] - lookback
    kept = is_learned[item_stage] & in_window
    # paths 0 .. n_deals - 1: one per distinct close; then one per customer with items after
    # their last close
    path = np.where(has_deal, item_deal, n_deals + item_customer)[kept]
    order = np.argsort(path, kind="stable")  # within a path, the rows' order: time order
    path, codes = path[order], item_stage[kept][order]
    starts = np.ones(len(path), dtype=bool)
    starts[1:] = path[1:] != path[:-1]
    after_last = path[starts & (path >= n_deals)]  # path is sorted: each once, ascending
    lengths = np.bincount(
        np.searchsorted(np.concatenate([np.arange(n_deals), after_last]), path),
        minlength=n_deals + len(after_last),
    )
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    present = np.flatnonzero(np.bincount(codes, minlength=len(stage_names)))  # in name order
    renumber = np.zeros(len(stage_names) + 1, dtype=np.int16)
    renumber[present] = np.arange(len(present))
    converted = np.zeros(len(lengths), dtype=bool)
    converted[:n_deals] = True
    stages = tuple(stage_names[k] for k in present.tolist())
    return EncodedPaths(stages, renumber[codes], offsets, converted)


@dataclass(frozen=True)
class PathCounts:
    """What the learned models' tables are computed from: counts over training paths coded with
    ``stages`` (:func:`~contribnet.credit.markov.encode_paths`).

    ``masks`` (ascending, each once) are the stage sets seen, ``set_journeys`` and
    ``set_conversions`` how many paths had each and how many of them converted;
    ``transition_keys`` (ascending, each once) and ``transition_counts`` the order-``order``
    chain's transitions (:func:`~contribnet.credit.markov.transition_counts`). Counts of parts
    of the paths, coded with the same stages, add up key by key -- which is how a cluster fits
    the models (``contribnet.scale``) -- and :func:`context_of_counts` turns the sums into the
    very context :func:`build_context` makes from all the paths at once.
    """

    stages: tuple[str, ...]
    order: int
    journeys: int
    conversions: int
    masks: IntArray
    set_journeys: IntArray
    set_conversions: IntArray
    transition_keys: IntArray
    transition_counts: IntArray


def count_paths(encoded: EncodedPaths, order: int, weights: IntArray | None = None) -> PathCounts:
    """The :class:`PathCounts` of encoded paths, for a chain of order ``order``; with
    ``weights`` (positive), path ``p`` counts as ``weights[p]`` paths.

    >>> from contribnet.credit.markov import encode_paths
    >>> c = count_paths(encode_paths([(("lead", "test_drive"), True), (("lead",), False)]), 1)
    >>> c.masks.tolist(), c.set_journeys.tolist(), c.set_conversions.tolist()
    ([1, 3], [1, 1], [0, 1])
    """
    path_weights = (
        np.ones(len(encoded), dtype=np.int64)
        if weights is None
        else np.asarray(weights, dtype=np.int64)
    )
    converted = np.where(encoded.converted, path_weights, 0)
    unique, inverse = np.unique(encoded.masks(), return_inverse=True)
    # float sums of whole numbers: exact below 2**53
    set_journeys = np.bincount(inverse, path_weights, len(unique)).astype(np.int64)
    set_conversions = np.bincount(inverse, converted, len(unique)).astype(np.int64)
    keys, counts = transition_counts(encoded, order, None if weights is None else path_weights)
    return PathCounts(
        stages=encoded.stages,
        order=order,
        journeys=int(path_weights.sum()),
        conversions=int(converted.sum()),
        masks=unique.astype(np.int64),
        set_journeys=set_journeys,
        set_conversions=set_conversions,
        transition_keys=keys,
        transition_counts=counts,
    )


#: Distinct training paths, ``(stages in order, converted)``, and how many journeys took each:
#: all the learned models learn from (a few hundred keys for half a million journeys).
PathTally = Counter[tuple[tuple[str, ...], bool]]


def tally_paths(encoded: EncodedPaths) -> PathTally:
    """How many of the encoded paths are each distinct ``(stages, converted)`` path.

    Tallies add and subtract: the tally of a store is the sum of its customers' tallies, so
    the rows of the customers new events changed, before and after them
    (``Store.contribution_changes``), bring a tally up to date.

    >>> from contribnet.credit.markov import encode_paths
    >>> paths = [(("lead", "test_drive"), True), (("lead",), False), (("lead", "test_drive"), True)]
    >>> sorted(tally_paths(encode_paths(paths)).items())
    [((('lead',), False), 1), ((('lead', 'test_drive'), True), 2)]
    """
    codes = encoded.codes.tolist()
    offsets = encoded.offsets.tolist()
    coded = Counter(
        zip(
            [tuple(codes[start:end]) for start, end in pairwise(offsets)],
            encoded.converted.tolist(),
            strict=True,
        )
    )
    stages = encoded.stages
    return Counter(
        {(tuple(stages[c] for c in path), bool(done)): n for (path, done), n in coded.items()}
    )


def update_tally(tally: PathTally, changes: ContributionChanges, policy: Policy) -> PathTally:
    """``tally`` (of the training paths as of the mark before ``changes``) brought to the mark
    of ``changes``: plus the paths of the changed customers' rows after, less those before
    (``Store.contribution_changes``). A customer's paths depend on that customer's rows alone,
    so this is the tally a whole read at the later mark would give. ``tally`` is not changed.

    >>> hour = 3_600_000_000
    >>> before = ContributionRows(["c-1"], [0], ["lead"], [], [])
    >>> after = ContributionRows(["c-1", "c-1"], [0, hour], ["lead", "test_drive"], ["c-1"],
    ...                          [2 * hour])
    >>> old = tally_paths(encode_training_rows(before, Policy()))
    >>> sorted(update_tally(old, ContributionChanges(2, before, after), Policy()).items())
    [((('lead', 'test_drive'), True), 1)]
    """
    paths = tally.copy()
    paths.update(tally_paths(encode_training_rows(changes.after, policy)))
    paths.subtract(tally_paths(encode_training_rows(changes.before, policy)))
    # zeros dropped; a negative count would be a bug, and counts_of_tally refuses it
    return Counter({path: n for path, n in paths.items() if n})


def counts_of_tally(tally: PathTally, order: int) -> PathCounts:
    """The :class:`PathCounts` of the paths tallied (order ``order``): the same as
    :func:`count_paths` of every path, from one of each and how often it occurs.

    >>> t = Counter({(("lead", "test_drive"), True): 2, (("lead",), False): 1})
    >>> c = counts_of_tally(t, 1)
    >>> c.journeys, c.conversions, c.masks.tolist(), c.set_journeys.tolist()
    (3, 2, [1, 3], [1, 2])
    """
    kept = sorted((path, n) for path, n in tally.items() if n)
    if any(n < 0 for _, n in kept):
        raise ValueError("a tally with a negative count: more paths taken away than added")
    weights = np.fromiter((n for _, n in kept), dtype=np.int64, count=len(kept))
    return count_paths(encode_paths([path for path, _ in kept]), order, weights)


def context_of_counts(counts: PathCounts, policy: Policy) -> CreditContext:
    """The :class:`CreditContext` of the paths counted (order ``counts.order``, smoothing
    ``policy.conversion_smoothing``); the same, bit for bit, as :func:`build_context` of the
    paths themselves."""
    stages = counts.stages
    values = None
    if len(stages) <= MAX_CONVERSION_STAGES:
        size = 1 << len(stages)
        journeys = np.zeros(size, dtype=np.float64)
        conversions = np.zeros(size, dtype=np.float64)
        journeys[counts.masks] = counts.set_journeys
        conversions[counts.masks] = counts.set_conversions
        values = conversion_game(journeys, conversions, len(stages), policy.conversion_smoothing)
    effects = {}
    if counts.journeys:
        chain = chain_of_transitions(
            stages, counts.order, counts.transition_keys, counts.transition_counts
        )
        effects = removal_effects(chain)
    digest = hashlib.sha256()
    digest.update(repr((stages, counts.order, policy.conversion_smoothing)).encode())
    digest.update(repr(sorted(effects.items())).encode())
    if values is not None:
        digest.update(values.tobytes())
    return CreditContext(
        stages=stages,
        journeys=counts.journeys,
        conversions=counts.conversions,
        conversion_values=values,
        removal_effects=effects,
        markov_order=counts.order,
        smoothing=policy.conversion_smoothing,
        fingerprint=digest.hexdigest()[:32],
    )
