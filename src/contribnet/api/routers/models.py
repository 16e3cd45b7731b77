"""``GET /v1/models``: the credit models, and which of them may be used for pay."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from contribnet.api.auth import require_roles
from contribnet.credit.registry import MODELS, ModelSpec

# every role but ingest: ingest keys write events and read nothing (README, "Who may do what")
router = APIRouter(
    prefix="/v1",
    tags=["models"],
    dependencies=[Depends(require_roles("analyst", "leader", "staff"))],
)


class CreditModel(BaseModel):
    """A credit model (``?model=NAME``; a policy's ``model``).

    ``for_pay`` is false for a model marked "analysis only": it breaks a rule of the fairness
    check on the demo network's scenario instances or the hand-built fixtures, ``fails`` names the
    scenario and ``fails_because`` what happens there. Previews may use any model; a settlement
    or a stored policy using an analysis-only one is refused unless the policy says
    ``analysis_models_for_pay = true``.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "stage_weighted",
                    "family": "rules",
                    "summary": "each stage's weight, shared by who did it",
                    "needs_context": False,
                    "for_pay": True,
                    "fails": None,
                    "fails_because": None,
                },
                {
                    "name": "last_touch",
                    "family": "rules",
                    "summary": "all credit to the last touch",
                    "needs_context": False,
                    "for_pay": False,
                    "fails": "order_grabbing",
                    "fails_because": "the victim keeps 0% < 1/3",
                },
            ]
        }
    )

    name: str = Field(examples=["stage_weighted"])
    family: str = Field(description="rules, shapley or markov", examples=["rules"])
    summary: str = Field(description="the model's definition in one line")
    needs_context: bool = Field(
        description="whether it learns from all journeys in the store (markov, shapley_conversion)"
    )
    for_pay: bool = Field(description="false: analysis only (see fails)")
    fails: str | None = Field(
        default=None,
        description="the scenario an analysis-only model fails: cross_brand_referral, "
        "cross_city_assist, bulk_handover, joint_event, order_grabbing or owner_referral",
        examples=["order_grabbing"],
    )
    fails_because: str | None = Field(
        default=None,
        description="what happens to the scenario's key contributor",
        examples=["the victim keeps 0% < 1/3"],
    )


def _model(spec: ModelSpec) -> CreditModel:
    return CreditModel(
        name=spec.name,
        family=spec.family,
        summary=spec.summary,
        needs_context=spec.needs_context,
        for_pay=spec.for_pay,
        fails=None if spec.for_pay else spec.fails,
        fails_because=None if spec.for_pay else spec.fails_because,
    )


@router.get(
    "/models",
    response_model=list[CreditModel],
    summary="Every credit model, its one-line definition, and whether it may be used for pay",
)
def list_models() -> list[CreditModel]:
    """Any authenticated role may read it. A model that cannot meet the domain brief's six
    scenarios (the order-grab victim keeps at least 1/3 of the staff cash; every referrer,
    cross-city advisor, handing advisor, joint-event advisor, organising store and referring owner
    gets more than 0) is marked analysis only."""
    return [_model(spec) for spec in MODELS.values()]
