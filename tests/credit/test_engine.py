"""The engine: output shape, input hash, data-driven context, errors, explanations."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from contribnet.credit import (
    MODELS,
    CreditError,
    build_context,
    compute_split,
    compute_splits,
    needs_context,
)
from contribnet.demo.scenarios import deal_journey, scenario
from contribnet.domain.errors import ContribnetError
from contribnet.domain.events import Deal, Touch
from contribnet.domain.journey import DealJourney
from contribnet.domain.policy import MODEL_NAMES, Policy

CLOSE = datetime(2025, 3, 1, tzinfo=UTC)


def _journey() -> DealJourney:
    return deal_journey(scenario("order_grabbing").events, "d-s5-1")


def test_the_registry_is_the_list_of_model_names() -> None:
    assert tuple(MODELS) == MODEL_NAMES
    assert [m for m in MODEL_NAMES if needs_context(m)] == ["shapley_conversion", "markov"]
    for spec in MODELS.values():
        assert spec.summary and spec.family in {"rules", "shapley", "markov"}


def test_split_json_has_exactly_the_documented_fields() -> None:
    data = json.loads(compute_split(_journey(), Policy()).model_dump_json())
    assert set(data) == {
        "deal", "model", "policy", "pool", "input_hash", "allocations", "not_counted"
    }  # fmt: skip
    assert set(data["policy"]) == {"name", "version"}
    for a in data["allocations"]:
        assert set(a) == {
            "kind",
            "id",
            "name",
            "store",
            "brand",
            "share",
            "amount",
            "points",
            "explanation",
        }
        assert isinstance(a["amount"], int)
        assert set(a["explanation"]) >= {"text", "touches", "model_share", "adjustments", "stores"}
        for t in a["explanation"]["touches"]:
            assert set(t) >= {"id", "stage", "at", "credit", "factors"}


def test_input_hash_identifies_the_inputs() -> None:
    journey = _journey()
    base = compute_split(journey, Policy())
    assert base.input_hash == compute_split(journey, Policy()).input_hash
    reordered = journey.model_copy(update={"touches": tuple(reversed(journey.touches))})
    assert compute_split(reordered, Policy()).input_hash == base.input_hash
    assert compute_split(journey, Policy(saturation=0.7)).input_hash != base.input_hash
    assert compute_split(journey, Policy(), "linear").input_hash != base.input_hash
    assert len(base.input_hash) == 32


def test_data_driven_models_need_a_context_and_hash_it() -> None:
    journey = _journey()
    for model in ("markov", "shapley_conversion"):
        with pytest.raises(CreditError, match=model):
            compute_split(journey, Policy(), model)
    a = build_context(
        [(("reception", "test_drive", "order"), True), (("reception",), False)], Policy()
    )
    b = build_context([(("reception", "test_drive", "order"), True), (("quote",), False)], Policy())
    assert a.fingerprint != b.fingerprint
    assert (
        compute_split(journey, Policy(), "markov", a).input_hash
        != compute_split(journey, Policy(), "markov", b).input_hash
    )
    # a context does not change the hash of a model that does not use it
    assert (
        compute_split(journey, Policy(), "linear", a).input_hash
        == compute_split(journey, Policy(), "linear").input_hash
    )


def test_unknown_model_is_a_contribnet_error() -> None:
    with pytest.raises(ContribnetError, match="unknown model 'nope'"):
        compute_split(_journey(), Policy(), "nope")


def test_a_game_that_values_no_one_falls_back_to_the_stage_weights() -> None:
    # nothing converted in the training data: the learned part has no information, so the
    # whole pool goes by the policy's stage weights, and every touch's factors say so
    never = build_context([(("reception", "test_drive"), False)] * 5, Policy())
    split = compute_split(_journey(), Policy(), "shapley_conversion", never)
    by_weights = compute_split(_journey(), Policy(), "stage_weighted")
    assert [(a.id, a.amount) for a in split.allocations] == [
        (a.id, a.amount) for a in by_weights.allocations
    ]
    for a in split.allocations:
        assert all(t.factors["outcome_part"] == 1.0 for t in a.explanation.touches)


def test_markov_scales_the_learned_stages_by_their_removal_effects() -> None:
    paths = [(("reception", "test_drive", "order"), True)] * 3 + [(("reception",), False)] * 3
    context = build_context(paths, Policy())
    split = compute_split(_journey(), Policy(), "markov", context)
    x = next(a for a in split.allocations if a.id == "sf-nio-hz-x")
    assert all(
        "removal_weight" in t.factors and "learned_part" in t.factors for t in x.explanation.touches
    )
    # quote and order are outcome stages: paid by the policy's weights, not learned
    y = next(a for a in split.allocations if a.id == "sf-nio-hz-y")
    quote = next(t for t in y.explanation.touches if t.stage == "quote")
    assert quote.factors["stage_weight"] == 5.0 and "outcome_part" in quote.factors
    drive = next(t for t in x.explanation.touches if t.stage == "test_drive")
    assert drive.factors["removal_effect"] == pytest.approx(1.0)
    assert drive.factors["removal_weight"] == pytest.approx(25.0)


def test_region_overrides_change_the_weights() -> None:
    journey = _journey()  # closed in Hangzhou: region East
    east = Policy(region_stage_weights={"East": {"test_drive": 100.0}})
    west = Policy(region_stage_weights={"West": {"test_drive": 100.0}})
    share = {
        name: next(a.share for a in compute_split(journey, p).allocations if a.id == "sf-nio-hz-x")
        for name, p in (("east", east), ("west", west), ("default", Policy()))
    }
    assert share["east"] > share["west"] == share["default"]


def test_explanations_name_every_counted_touch_and_their_credits_add_up() -> None:
    for model in MODEL_NAMES:
        context = build_context([(("reception", "test_drive", "quote", "order"), True)], Policy())
        split = compute_split(_journey(), Policy(), model, context)
        for a in split.allocations:
            assert sum(t.credit for t in a.explanation.touches) == pytest.approx(a.share)
            assert a.explanation.text.startswith(f"{a.name} ({a.id}")
            assert model in a.explanation.text


def test_compute_splits_and_an_empty_pool() -> None:
    touch = Touch(
        id="t", at=CLOSE - timedelta(days=1), customer="c", staff="s", store="a", stage="lead"
    )
    deal = Deal(
        id="d", customer="c", store="a", staff="k", closed_at=CLOSE, amount=0, reward_pool=0
    )
    (split,) = compute_splits([DealJourney(deal=deal, touches=(touch,))], Policy())
    assert [a.amount for a in split.allocations] == [0, 0]
    assert sum(a.share for a in split.allocations) == pytest.approx(1.0)
