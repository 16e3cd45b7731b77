"""The data-driven inputs of the credit models, estimated once from all journeys."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from contribnet.credit.markov import (
    EncodedPaths,
    encode_paths,
    markov_chain,
    removal_effects,
)
from contribnet.credit.shapley import conversion_values
from contribnet.domain.errors import ContribnetError
from contribnet.domain.policy import Policy

__all__ = ["MAX_CONVERSION_STAGES", "CreditContext", "CreditError", "build_context"]

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
    stages = encoded.stages
    values = None
    if len(stages) <= MAX_CONVERSION_STAGES:
        values = conversion_values(
            encoded.masks(), encoded.converted, len(stages), policy.conversion_smoothing
        )
    effects = removal_effects(markov_chain(encoded, policy.markov_order)) if len(encoded) else {}
    digest = hashlib.sha256()
    digest.update(repr((stages, policy.markov_order, policy.conversion_smoothing)).encode())
    digest.update(repr(sorted(effects.items())).encode())
    if values is not None:
        digest.update(values.tobytes())
    return CreditContext(
        stages=stages,
        journeys=len(encoded),
        conversions=int(encoded.converted.sum()),
        conversion_values=values,
        removal_effects=effects,
        markov_order=policy.markov_order,
        smoothing=policy.conversion_smoothing,
        fingerprint=digest.hexdigest()[:32],
    )
