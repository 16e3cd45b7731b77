"""The credit models by name (``?model=NAME``), each a function of touches, policy and context."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from contribnet.credit import rules
from contribnet.credit.context import CreditContext, CreditError
from contribnet.credit.markov import markov
from contribnet.credit.shapley import shapley, shapley_conversion
from contribnet.credit.touches import Attribution, CreditTouch
from contribnet.domain.fairness import SCENARIO_NAMES
from contribnet.domain.policy import MODEL_NAMES, Policy

__all__ = ["MODELS", "ModelSpec", "get_model", "payable"]

Runner = Callable[[Sequence[CreditTouch], Policy, CreditContext | None], Attribution]


@dataclass(frozen=True)
class ModelSpec:
    """A credit model: its name, family, one-line summary, and whether it needs the context
    estimated from all journeys (``needs_context``).

    ``for_pay`` is False for a model marked "analysis only": on the demo network's scenario
    instances or the hand-built fixtures it breaks a rule of the fairness check
    (:mod:`contribnet.credit.fairness`); ``fails`` names the scenario (a key of
    :data:`~contribnet.domain.fairness.SCENARIO_NAMES`) and ``fails_because`` what happens there.
    The marks are what ``tools/scenario_table.py`` shows, and ``tests/credit/test_fairness.py``
    fails if they drift from it.
    """

    name: str
    family: str
    summary: str
    needs_context: bool
    run: Runner
    for_pay: bool = True
    fails: str | None = None
    fails_because: str | None = None

    @property
    def analysis_only(self) -> str | None:
        """Why the model is analysis only, in words (None if it may pay).

        >>> MODELS["last_touch"].analysis_only
        'analysis only: it fails the order-grab scenario (the victim keeps 0% < 1/3)'
        """
        if self.for_pay:
            return None
        scenario = SCENARIO_NAMES.get(self.fails or "", self.fails or "a fairness")
        return f"analysis only: it fails the {scenario} scenario ({self.fails_because})"


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
            "first_touch",
            "rules",
            "all credit to the first touch",
            False,
            _rule(rules.first_touch),
            for_pay=False,
            fails="cross_city_assist",
            fails_because="the cross-city advisor gets 0 fen",
        ),
        ModelSpec(
            "last_touch",
            "rules",
            "all credit to the last touch",
            False,
            _rule(rules.last_touch),
            for_pay=False,
            fails="order_grabbing",
            fails_because="the victim keeps 0% < 1/3",
        ),
        ModelSpec(
            "linear",
            "rules",
            "equal credit per touch",
            False,
            _rule(rules.linear),
            for_pay=False,
            fails="order_grabbing",
            fails_because="the victim keeps 22.6% < 1/3",
        ),
        ModelSpec(
            "participation",
            "rules",
            "equal credit per contributor",
            False,
            _rule(rules.participation),
            for_pay=False,
            fails="order_grabbing",
            fails_because="the victim keeps 25.0% < 1/3",
        ),
        ModelSpec(
            "time_decay",
            "rules",
            "credit halves every half-life before the close",
            False,
            _rule(rules.time_decay),
            for_pay=False,
            fails="order_grabbing",
            fails_because="the victim keeps 4.2% < 1/3",
        ),
        ModelSpec(
            "position_based",
            "rules",
            "U-shape: first 40%, middle 20%, last 40%",
            False,
            _rule(rules.position_based),
            for_pay=False,
            fails="order_grabbing",
            fails_because="the victim keeps 5.2% < 1/3",
        ),
        ModelSpec(
            "w_shaped",
            "rules",
            "first, first test drive and last 30% each, middle 10%",
            False,
            _rule(rules.w_shaped),
            for_pay=False,
            fails="order_grabbing",
            fails_because="the victim keeps 31.9% < 1/3",
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
            for_pay=False,
            fails="joint_event",
            fails_because="the joint-event advisor gets 0 fen",
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


def payable(name: str, *policies: Policy) -> None:
    """Refuse to pay with a model marked analysis only, unless the policy allows it.

    Raises :class:`CreditError` naming the failed scenario unless the model is ``for_pay`` or
    the policy says ``analysis_models_for_pay = true``. Previews never call this; a batch whose
    deals fall under several policy versions passes them all (any one allowing it is enough
    for the batch to start; each deal is then checked under its own).

    >>> payable("stage_weighted", Policy())
    >>> payable("last_touch", Policy())
    Traceback (most recent call last):
    ...
    contribnet.credit.context.CreditError: model 'last_touch' is analysis only: it fails the ...
    >>> payable("last_touch", Policy(analysis_models_for_pay=True))
    """
    spec = get_model(name)
    if spec.for_pay or any(p.analysis_models_for_pay for p in policies):
        return
    raise CreditError(
        f"model {name!r} is {spec.analysis_only}; set analysis_models_for_pay = true in the "
        "policy to pay with it anyway"
    )


def get_model(name: str) -> ModelSpec:
    """The model called ``name``; raises :class:`CreditError` naming the known ones.

    >>> get_model("shapley").family
    'shapley'
    """
    try:
        return MODELS[name]
    except KeyError:
        raise CreditError(f"unknown model {name!r}; one of: {', '.join(MODELS)}") from None
