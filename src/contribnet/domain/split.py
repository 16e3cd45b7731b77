"""The credit engine's output: a deal's split, one allocation per contributor, each explained."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Allocation",
    "Explanation",
    "NotCounted",
    "PolicyRef",
    "Split",
    "StoreShare",
    "TouchCredit",
]


class TouchCredit(BaseModel):
    """A touch that counted: where it came from and the factors applied to it.

    ``credit`` is the touch's part of the pool the contributor is paid from (after floor/cap);
    a contributor's touch credits add up to their ``share``. ``factors`` hold what a clerk needs
    to recompute it by hand: the model's weight of the touch and the total it is divided by
    (``stage_weight`` / ``weight_total`` times ``stage_part`` under stage_weighted; the
    contributor's value / ``value_total`` times ``touch_part`` under the set-based models).
    ``held_by`` names the lead's holder when someone else made the touch (lead pools): a
    ``lead``-stage touch by ``touched_by`` counts for the holder.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    source: Literal["touch", "referral", "handover", "deal"]
    stage: str
    at: datetime
    store: str | None = None
    joint_event: str | None = None
    credit: float
    factors: dict[str, float]
    held_by: str | None = None
    touched_by: str | None = None


class NotCounted(BaseModel):
    """An item of the deal's journey that earns nothing on this deal, and why.

    ``code`` is one of ``after_close``, ``earlier_deal`` (``ref`` names the deal it counted
    for), ``lookback``, ``zero_weight``, ``repeated`` (a duplicate visit of the kept touch
    ``ref``), ``self_referral``, ``owner_ignored``, ``voided``, ``over_limit`` (older than the most
    recent ``MAX_JOURNEY_ITEMS`` in the window), ``no_evidence`` (a touch without the evidence the
    policy requires of its stage); ``reason`` says it in words.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    source: Literal["touch", "referral", "handover", "deal"]
    stage: str | None = None
    kind: Literal["staff", "owner"] | None = None
    contributor: str | None = None
    name: str | None = None
    at: datetime | None = None
    code: str
    reason: str
    ref: str | None = None


class StoreShare(BaseModel):
    """The part of a contributor's share credited to a store (joint events share it)."""

    model_config = ConfigDict(frozen=True)

    store: str
    brand: str | None = None
    share: float


class Explanation(BaseModel):
    """Why a contributor gets what they get, as data and as one sentence.

    ``model_share`` is the share the model gave (among those paid from the same pool) before
    ``adjustments`` -- ``floor``/``cap`` (the share after them), ``equal_fallback`` (1 when the
    model valued no one and the pool was split equally).
    """

    model_config = ConfigDict(frozen=True)

    text: str
    model_share: float
    adjustments: dict[str, float] = Field(default_factory=dict)
    touches: list[TouchCredit]
    stores: list[StoreShare] = Field(default_factory=list)


class Allocation(BaseModel):
    """One contributor's part of the deal: staff in fen (``amount``), owners in ``points``."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["staff", "owner"]
    id: str
    name: str | None = None
    store: str | None = None
    brand: str | None = None
    share: float
    amount: int
    points: int
    explanation: Explanation


class PolicyRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str


class Split(BaseModel):
    """A deal's reward pool split among its contributors.

    Amounts are integer fen and sum exactly to ``pool`` (with no qualifying contribution the
    closer receives it). ``not_counted`` lists every other item of the deal's journey with the
    reason it earns nothing here, so the split accounts for the whole journey. ``input_hash``
    is a hash of the journey, policy, model and data-driven tables: equal inputs give an equal
    hash and an equal split.
    """

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "deal": "d-5",
                    "model": "stage_weighted",
                    "policy": {"name": "default", "version": "1"},
                    "pool": 500000,
                    "input_hash": "3f1c0e8a9b7d6c5e4f3a2b1c0d9e8f7a",
                    "allocations": [
                        {
                            "kind": "staff",
                            "id": "sf-x",
                            "name": "Xu",
                            "store": "st-a",
                            "brand": "nio",
                            "share": 0.5556,
                            "amount": 277778,
                            "points": 0,
                            "explanation": {
                                "text": "Xu (sf-x; st-a, nio) gets 55.6% = ¥2,777.78 under "
                                "stage_weighted for 3 test_drive touches (weight 25; "
                                "saturated ×0.5, ×0.25).",
                                "model_share": 0.5556,
                                "adjustments": {},
                                "touches": [],
                                "stores": [{"store": "st-a", "brand": "nio", "share": 1.0}],
                            },
                        }
                    ],
                }
            ]
        },
    )

    deal: str
    model: str
    policy: PolicyRef
    pool: int
    input_hash: str
    allocations: list[Allocation]
    not_counted: list[NotCounted] = Field(default_factory=list)
