"""Credit policies: which model splits a deal, with which stage weights and guards.

A policy is a TOML file in ``policies/`` read into the pydantic :class:`Policy`. Every key has a
default (``policies/default.toml`` documents them all), so a policy file names only what it
changes; a key the model does not know is an error naming the key, so a typo never passes
silently.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from contribnet.domain.errors import ContribnetError
from contribnet.domain.evidence import EvidenceKind
from contribnet.domain.flags import FlagKind

__all__ = [
    "DEFAULT_STAGE_WEIGHTS",
    "LATER_KEYS",
    "MODEL_NAMES",
    "MAX_WEIGHT",
    "InvalidPolicy",
    "Policy",
    "PositionWeights",
    "RoleShares",
    "WShapeWeights",
    "default_policy",
    "load_policy",
]

#: Every credit model, by the name the API and the CLI use (``?model=NAME``).
MODEL_NAMES: tuple[str, ...] = (
    "first_touch",
    "last_touch",
    "linear",
    "participation",
    "time_decay",
    "position_based",
    "w_shaped",
    "stage_weighted",
    "role_based",
    "shapley",
    "shapley_conversion",
    "markov",
)

#: Stage weights of the default policy (relative numbers; only their ratios matter).
DEFAULT_STAGE_WEIGHTS: dict[str, float] = {
    "lead": 10.0,
    "reception": 10.0,
    "consultation": 10.0,
    "test_drive": 25.0,
    "referral": 15.0,
    "handover": 10.0,
    "event": 5.0,
    "quote": 5.0,
    "order": 15.0,
    "delivery": 5.0,
    "follow_up": 0.0,
}

#: The largest weight a policy may give. Weights are relative, so a bound loses nothing, and it
#: keeps every model's sums of products of weights finite (shapley would otherwise overflow and
#: stage_weighted fall back to an equal split when weights near 1e308 sum to infinity).
MAX_WEIGHT = 1e6
#: The longest span, in days, a policy's windows may cover; beyond it dates leave the calendar.
MAX_DAYS = 36_525.0

# strict: a number written as a string ("10") is a mistake, not a value to coerce; an integer
# for a float field is still a number (TOML's ``10`` for ``10.0``). Booleans are not numbers.
Weight = Annotated[float, Field(ge=0, le=MAX_WEIGHT, allow_inf_nan=False, strict=True)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False, strict=True)]

#: Keys added after policy versions were first recorded. They are hashed only when set (see
#: :meth:`Policy.hashed`), so that every version recorded before them keeps its hash, and every
#: settlement under one its input hash.
LATER_KEYS: tuple[str, ...] = ("evidence_required", "hold_flagged")


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PositionWeights(_Table):
    """``position_based``: the weights of the first touch, of all middle touches, of the last."""

    first: Weight = 0.4
    middle: Weight = 0.2
    last: Weight = 0.4


class WShapeWeights(_Table):
    """``w_shaped``: first touch, first test drive, last touch, and all other touches."""

    first: Weight = 0.3
    test_drive: Weight = 0.3
    last: Weight = 0.3
    middle: Weight = 0.1


class RoleShares(_Table):
    """``role_based``: the fixed share of each role of the journey (as in Lianjia's ACN)."""

    source: Weight = 0.20
    reception: Weight = 0.15
    test_drive: Weight = 0.25
    closer: Weight = 0.30
    delivery: Weight = 0.10


class Policy(BaseModel):
    """A credit policy; every field has the default that ``policies/default.toml`` documents.

    Stage weights are relative numbers. A stage weighted 0, or not listed, does not count under
    any model (its touches are not *qualifying*). ``region_stage_weights`` overrides single stage
    weights for the deals of one region (the region of the deal's store). Every weight lies in
    ``[0, MAX_WEIGHT]``, and numbers are never read from strings.

    ``outcome_stages`` are the stages that only happen once the customer has decided (quote,
    order, delivery): the learned models (markov, shapley_conversion) do not learn them, and
    their part of the pool is paid by the stage weights. ``analysis_models_for_pay`` lets a
    settlement use a model marked "analysis only" (one that fails a fairness scenario).

    ``evidence_required`` maps a stage to the evidence kinds (``domain/evidence.py``) a logged
    touch of that stage needs, at least one item of one of them, to count: under ``{"test_drive":
    ("test_drive_log",)}`` a test drive logged without a test-drive log is not counted, and says
    so. ``hold_flagged`` names the kinds of fraud flag (``domain/flags.py``) whose open
    (unreviewed) flags hold a deal out of settlement until a leader reviews them
    (``services/holds.py``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="default", min_length=1)
    version: str = Field(default="1", min_length=1)
    effective_from: date = date(2024, 11, 1)
    description: str = ""
    model: str = "stage_weighted"
    stage_weights: dict[str, Weight] = Field(default_factory=lambda: dict(DEFAULT_STAGE_WEIGHTS))
    region_stage_weights: dict[str, dict[str, Weight]] = Field(default_factory=dict)
    half_life_days: float = Field(default=7.0, gt=0, le=MAX_DAYS, allow_inf_nan=False, strict=True)
    lookback_days: float = Field(default=180.0, ge=0, le=MAX_DAYS, allow_inf_nan=False, strict=True)
    dedup_minutes: float = Field(
        default=30.0, ge=0, le=MAX_DAYS * 1440, allow_inf_nan=False, strict=True
    )
    saturation: float = Field(default=0.5, gt=0, le=1, allow_inf_nan=False, strict=True)
    floor: Fraction = 0.0
    cap: float = Field(default=1.0, gt=0, le=1, allow_inf_nan=False, strict=True)
    position_based: PositionWeights = PositionWeights()
    w_shaped: WShapeWeights = WShapeWeights()
    role_shares: RoleShares = RoleShares()
    role_fallback: str = "pro_rata"
    markov_order: int = Field(default=1, ge=1, le=4, strict=True)
    conversion_smoothing: Weight = 1.0
    owner_referrals: Literal["points", "cash", "ignore"] = "points"
    owner_points: int = Field(default=1000, ge=0, le=10**15, strict=True)
    outcome_stages: tuple[str, ...] = ("quote", "order", "delivery")
    analysis_models_for_pay: bool = Field(default=False, strict=True)
    evidence_required: dict[str, Annotated[tuple[EvidenceKind, ...], Field(min_length=1)]] = Field(
        default_factory=dict
    )
    hold_flagged: tuple[FlagKind, ...] = ()

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        if value not in MODEL_NAMES:
            raise ValueError(f"unknown model {value!r}; one of: {', '.join(MODEL_NAMES)}")
        return value

    @field_validator("role_fallback")
    @classmethod
    def _known_fallback(cls, value: str) -> str:
        allowed = ("pro_rata", *RoleShares.model_fields)
        if value not in allowed:
            raise ValueError(f"unknown role fallback {value!r}; one of: {', '.join(allowed)}")
        return value

    @model_validator(mode="after")
    def _floor_below_cap(self) -> Policy:
        if self.floor > self.cap:
            raise ValueError(f"floor {self.floor} is above cap {self.cap}")
        if not any(w > 0 for w in self.position_based.model_dump().values()):
            raise ValueError("position_based: at least one weight must be positive")
        if not any(w > 0 for w in self.w_shaped.model_dump().values()):
            raise ValueError("w_shaped: at least one weight must be positive")
        if not any(w > 0 for w in self.role_shares.model_dump().values()):
            raise ValueError("role_shares: at least one share must be positive")
        return self

    def hashed(self) -> dict[str, Any]:
        """The policy's values as hashed (``policy_hash``, the settlements' input hash): every
        key, but a key of :data:`LATER_KEYS` only when it is set.

        >>> held = Policy(hold_flagged=("grab",))
        >>> "hold_flagged" in Policy().hashed(), held.hashed()["hold_flagged"]
        (False, ['grab'])
        """
        data = self.model_dump(mode="json")
        for key in LATER_KEYS:
            if not data[key]:
                del data[key]
        return data

    def weight(self, stage: str) -> float:
        """The stage's weight; 0 for a stage the policy does not list."""
        return self.stage_weights.get(stage, 0.0)

    def for_region(self, region: str | None) -> Policy:
        """This policy with the region's stage weight overrides applied (itself if none)."""
        overrides = self.region_stage_weights.get(region) if region is not None else None
        if not overrides:
            return self
        return self.model_copy(update={"stage_weights": {**self.stage_weights, **overrides}})


@dataclass
class InvalidPolicy(ContribnetError):
    """A policy file that cannot be read or has bad keys or values; names each problem."""

    path: str
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"invalid policy {self.path}: " + "; ".join(self.problems)


def _problems(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(part) for part in err["loc"]) or "policy"
        if err["type"] == "extra_forbidden":
            problems.append(f"unknown key {key!r}")
        else:
            problems.append(f"{key}: {err['msg']}")
    return problems


def load_policy(path: str | Path) -> Policy:
    """Read a policy from a TOML file.

    A missing key takes its default; an unknown key, a value of the wrong type or out of range,
    or a file that is not TOML raises :class:`InvalidPolicy` naming the key.

    Examples
    --------
    >>> from contribnet.paths import POLICIES_DIR
    >>> policy = load_policy(POLICIES_DIR / "default.toml")
    >>> policy.model, policy.stage_weights["test_drive"], policy.half_life_days
    ('stage_weighted', 25.0, 7.0)
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidPolicy(str(path), [f"cannot read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise InvalidPolicy(str(path), [f"not UTF-8 text (byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidPolicy(str(path), [f"not TOML: {exc}"]) from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise InvalidPolicy(str(path), _problems(exc)) from None


def default_policy() -> Policy:
    """The policy in ``policies/default.toml`` (the built-in defaults if the file is absent)."""
    from contribnet.paths import POLICIES_DIR

    path = POLICIES_DIR / "default.toml"
    return load_policy(path) if path.exists() else Policy()
