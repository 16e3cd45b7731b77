"""The credit models by name (``?model=NAME``), each a function of touches, policy and context."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from contribnet.credit import rules
from contribnet.credit.context import CreditContext, CreditError
from contribnet.credit.markov import markov
from contribnet.credit.shapley import shapley, shapley_conversion
from contribnet.credit.touches import Attribution, CreditTouch
from contribnet.domain.policy import MODEL_NAMES, Policy

__all__ = ["MODELS", "ModelSpec", "get_model"]

Runner = Callable[[Sequence[CreditTouch], Policy, CreditContext | None], Attribution]


@dataclass(frozen=True)
class ModelSpec:
    """A credit model: its name, family, one-line summary, and whether it needs the context
    estimated from all journeys (``needs_context``)."""

    name: str
    family: str
    summary: str
    needs_context: bool
    run: Runner


def _rule(fn: Callable[[Sequence[CreditTouch], Policy], Attribution]) -> Runner:
    def run(touches: Sequence[CreditTouch], policy: Policy, _: CreditContext | None) -> Attribution:
        return fn(touches, policy)

    return run


def _shapley_conversion(
    touches: Sequence[CreditTouch], policy: Policy, context: CreditContext | None
) -> Attribution:
    if context is None or context.conversion_values is None:
        raise CreditError(
            "model 'shapley_conversion' needs conversion rates estimated from all journeys "
            "(a context built from the store's stage paths)"
        )
    return shapley_conversion(touches, policy, context.stages, context.conversion_values)


def _markov(
    touches: Sequence[CreditTouch], policy: Policy, context: CreditContext | None
) -> Attribution:
    if context is None:
        raise CreditError(
            "model 'markov' needs removal effects estimated from all journeys "
            "(a context built from the store's stage paths)"
        )
    return markov(touches, policy, context.removal_effects)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "first_touch", "rules", "all credit to the first touch", False, _rule(rules.first_touch)
        ),
        ModelSpec(
            "last_touch", "rules", "all credit to the last touch", False, _rule(rules.last_touch)
        ),
        ModelSpec("linear", "rules", "equal credit per touch", False, _rule(rules.linear)),
        ModelSpec(
            "participation",
            "rules",
            "equal credit per contributor",
            False,
            _rule(rules.participation),
        ),
        ModelSpec(
            "time_decay",
            "rules",
            "credit halves every half-life before the close",
            False,
            _rule(rules.time_decay),
        ),
        ModelSpec(
            "position_based",
            "rules",
            "U-shape: first 40%, middle 20%, last 40%",
            False,
            _rule(rules.position_based),
        ),
        ModelSpec(
            "w_shaped",
            "rules",
            "first, first test drive and last 30% each, middle 10%",
            False,
            _rule(rules.w_shaped),
        ),
        ModelSpec(
            "stage_weighted",
            "rules",
            "each stage's weight, shared by who did it",
            False,
            _rule(rules.stage_weighted),
        ),
        ModelSpec(
            "role_based",
            "rules",
            "fixed shares per journey role (source, reception, test drive, closer, delivery)",
            False,
            _rule(rules.role_based),
        ),
        ModelSpec(
            "shapley",
            "shapley",
            "Shapley value of the additive stage-weight game",
            False,
            _rule(shapley),
        ),
        ModelSpec(
            "shapley_conversion",
            "shapley",
            "Shapley value of the monotone conversion game estimated from all journeys",
            True,
            _shapley_conversion,
        ),
        ModelSpec(
            "markov",
            "markov",
            "stage weights from Markov removal effects of all journeys",
            True,
            _markov,
        ),
    )
}

assert tuple(MODELS) == MODEL_NAMES, "the registry and domain.policy.MODEL_NAMES must agree"


def get_model(name: str) -> ModelSpec:
    """The model called ``name``; raises :class:`CreditError` naming the known ones.

    >>> get_model("shapley").family
    'shapley'
    """
    try:
        return MODELS[name]
    except KeyError:
        raise CreditError(f"unknown model {name!r}; one of: {', '.join(MODELS)}") from None
