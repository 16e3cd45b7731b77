"""The data-driven inputs of the credit models, estimated once from all journeys."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

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

__all__ = [
    "MAX_CONVERSION_STAGES",
    "CreditContext",
    "CreditError",
    "PathCounts",
    "build_context",
    "context_of_counts",
    "count_paths",
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

    From a store: ``build_context(training_paths(store.contribution_paths(), policy), policy)``.
    """
    encoded = paths if isinstance(paths, EncodedPaths) else encode_paths(paths)
    return context_of_counts(count_paths(encoded, policy.markov_order), policy)


IntArray = npt.NDArray[np.int64]


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


def count_paths(encoded: EncodedPaths, order: int) -> PathCounts:
    """The :class:`PathCounts` of encoded paths, for a chain of order ``order``.

    >>> from contribnet.credit.markov import encode_paths
    >>> c = count_paths(encode_paths([(("lead", "test_drive"), True), (("lead",), False)]), 1)
    >>> c.masks.tolist(), c.set_journeys.tolist(), c.set_conversions.tolist()
    ([1, 3], [1, 1], [0, 1])
    """
    masks = encoded.masks()
    unique, inverse = np.unique(masks, return_inverse=True)
    set_journeys = np.bincount(inverse, minlength=len(unique)).astype(np.int64)
    set_conversions = np.bincount(
        inverse, weights=encoded.converted.astype(np.int64), minlength=len(unique)
    ).astype(np.int64)
    keys, counts = transition_counts(encoded, order)
    return PathCounts(
        stages=encoded.stages,
        order=order,
        journeys=len(encoded),
        conversions=int(encoded.converted.sum()),
        masks=unique.astype(np.int64),
        set_journeys=set_journeys,
        set_conversions=set_conversions,
        transition_keys=keys,
        transition_counts=counts,
    )


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
