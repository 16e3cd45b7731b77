"""The engine's shortcuts give what their definitions give: the input hash, one-touch phrases,
the contributor's home store, the order of qualifying touches."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from contribnet.credit import build_context, compute_split, input_hash
from contribnet.credit.engine import _home
from contribnet.credit.guards import _sort_key, qualifying_touches
from contribnet.credit.touches import Contributor, CreditTouch
from contribnet.demo.scenarios import SCENARIOS, deal_journey
from contribnet.domain.journey import DealJourney
from contribnet.domain.policy import Policy

AT = datetime(2025, 1, 1, tzinfo=UTC)


def _journeys() -> list[DealJourney]:
    return [
        deal_journey(s.events, e["id"]) for s in SCENARIOS for e in s.events if e["type"] == "deal"
    ]


def _defined_journey(journey: DealJourney) -> dict[str, Any]:
    """The journey as the input hash defines it: items in id order, the optional lists only when
    not empty, a staff member's several spells in the order of their JSON text."""
    data = journey.model_dump(mode="json", by_alias=True, exclude_none=True)
    for key in ("touches", "referrals", "handovers", "joint_events"):
        data[key] = sorted(data.get(key, []), key=lambda item: item["id"])
    for key in ("earlier_deals", "voided"):
        if not data.get(key):
            data.pop(key, None)
    data["staff"] = {
        k: sorted(v, key=lambda s: json.dumps(s, sort_keys=True))
        for k, v in data.get("staff", {}).items()
    }
    return data


def _defined_hash(journey: DealJourney, policy: Policy, model: str, fingerprint: str | None) -> str:
    payload = {
        "journey": _defined_journey(journey),
        "policy": policy.hashed(),  # every key, those added later only when set
        "model": model,
        "context": fingerprint,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def test_input_hash_is_the_hash_of_the_whole_payload() -> None:
    policies = [Policy(), Policy(floor=0.1, cap=0.5), Policy(saturation=1.0, version="2")]
    context = build_context([(("lead", "order"), True), (("lead",), False)], Policy())
    for journey, policy in itertools.product(_journeys(), policies):
        assert input_hash(journey, policy, "linear", None) == _defined_hash(
            journey, policy, "linear", None
        )
        assert input_hash(journey, policy, "markov", context) == _defined_hash(
            journey, policy, "markov", context.fingerprint
        )


def test_an_equal_policy_in_another_object_hashes_the_same() -> None:
    journey = _journeys()[0]
    first = input_hash(journey, Policy(), "linear", None)
    assert input_hash(journey, Policy(), "linear", None) == first
    assert input_hash(journey, Policy(cap=0.9), "linear", None) != first


def _touch(id: str, at: datetime, store: str | None) -> CreditTouch:
    return CreditTouch(id, Contributor("staff", "s"), "lead", at, 0.0, store)


def test_home_is_the_store_of_the_latest_touch_with_one() -> None:
    def defined(touches: list[CreditTouch]) -> str | None:
        for t in sorted(touches, key=lambda t: (t.at, t.id), reverse=True):
            if t.store is not None:
                return t.store
        return None

    later = AT + timedelta(hours=1)
    cases = [
        [],
        [_touch("a", AT, None)],
        [_touch("a", AT, "x"), _touch("b", later, None)],
        [_touch("b", AT, "x"), _touch("a", AT, "y")],
        [_touch("a", AT, "x"), _touch("a", AT, "y")],  # a tie keeps the first, as a sort does
    ]
    for touches in cases:
        assert _home(touches) == defined(touches)


def test_qualifying_touches_are_in_time_order_with_their_age() -> None:
    for journey in _journeys():
        prepared = qualifying_touches(journey, Policy())
        touches = list(prepared.touches)
        assert touches == sorted(touches, key=_sort_key)
        for t in touches:
            age = max((prepared.closed_at - t.at).total_seconds() / 86400.0, 0.0)
            assert t.age_days == age


def test_splits_keep_their_shape_under_every_scenario() -> None:
    for journey in _journeys():
        split = compute_split(journey, Policy())
        for a in split.allocations:
            assert isinstance(a.share, float)
            for t in a.explanation.touches:
                assert all(type(v) is float for v in t.factors.values())
