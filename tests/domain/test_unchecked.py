"""Models built without validation (the read path's and the engine's hot loops) equal the
validated ones, and keep what validation would give them: defaults, fresh lists, parsed times."""

from __future__ import annotations

import json

import pytest

from contribnet.demo.scenarios import SCENARIOS, all_events
from contribnet.domain.events import (
    EVENT_TYPES,
    Staff,
    Touch,
    canonical_json,
    event_adapter,
    stored,
)
from contribnet.domain.split import Explanation, StoreShare
from contribnet.domain.unchecked import unchecked


def test_every_stored_event_reads_back_equal_to_the_validated_one() -> None:
    events = [event_adapter.validate_python(e) for e in all_events()]
    assert {e.type for e in events} >= set(EVENT_TYPES) - {"void"}
    for event in events:
        # what a store keeps: the canonical JSON of the event
        back = stored(type(event), json.loads(canonical_json(event)))
        assert back == event
        assert back.model_dump_json(by_alias=True) == event.model_dump_json(by_alias=True)
        assert back.model_fields_set <= event.model_fields_set | {"type"}


def test_stored_times_are_instants_in_utc_and_dates() -> None:
    touch = stored(
        Touch,
        {
            "id": "t-1",
            "at": "2025-01-05T18:00:00+08:00",
            "customer": "c",
            "staff": "s",
            "store": "a",
            "stage": "lead",
            "voided": True,  # a store's flag beside the fields: not a field, ignored
        },
    )
    assert touch.at.isoformat() == "2025-01-05T10:00:00+00:00"
    validated = Touch.model_validate(
        {k: v for k, v in touch.model_dump(mode="json").items() if v is not None}
        | {"at": "2025-01-05T18:00:00+08:00"}
    )
    assert touch == validated
    staff = stored(
        Staff,
        {"id": "s", "name": "S", "store": "a", "role": "advisor", "from": "2024-01-01"},
    )
    assert staff.from_ is not None and staff.from_.isoformat() == "2024-01-01"
    assert staff.to is None and staff.type == "staff"


def test_defaults_are_fresh_per_instance_and_required_fields_are_required() -> None:
    first = unchecked(Explanation, {"text": "t", "model_share": 1.0, "touches": []})
    second = unchecked(Explanation, {"text": "t", "model_share": 1.0, "touches": []})
    assert first.adjustments == {} and first.stores == []
    assert first.adjustments is not second.adjustments
    assert first.stores is not second.stores
    assert first == Explanation(text="t", model_share=1.0, touches=[])
    with pytest.raises(TypeError, match="share"):
        unchecked(StoreShare, {"store": "a"})


def test_scenario_events_cover_a_staff_member_with_two_spells() -> None:
    # the input hash orders several spells by their text: the scenarios must exercise it
    spells: dict[str, int] = {}
    for scenario in SCENARIOS:
        for e in scenario.events:
            if e["type"] == "staff":
                spells[e["id"]] = spells.get(e["id"], 0) + 1
    assert max(spells.values()) >= 2
