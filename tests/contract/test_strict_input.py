"""Issue #13 finding 6: strict input, on both stores -- an id grammar on every id and reference,
voids only of voidable types (checked against the batch and the store), ISO 8601 text only for
timestamps, and no precision beyond the microsecond."""

from __future__ import annotations

from typing import Any

import pytest

from contribnet.domain.errors import InvalidEvents
from contribnet.services.ingest import ingest_events
from contribnet.store import Store

TOUCH: dict[str, Any] = {
    "type": "touch",
    "id": "t-1",
    "at": "2025-01-04T10:00:00Z",
    "customer": "c-1",
    "staff": "sf-1",
    "store": "st-1",
    "stage": "test_drive",
}
ENTITIES: list[dict[str, Any]] = [
    {"type": "brand", "id": "b-1", "name": "NIO"},
    {"type": "store", "id": "st-1", "name": "S", "brand": "b-1", "city": "SH", "region": "E"},
    {"type": "staff", "id": "sf-1", "name": "Xu", "store": "st-1", "role": "advisor"},
    {"type": "customer", "id": "c-1", "name": "Li"},
]


def _refused(store: Store, events: list[dict[str, Any]]) -> list[tuple[str | None, str, str]]:
    with pytest.raises(InvalidEvents) as caught:
        ingest_events(store, events)
    return [(e.id, e.field, e.message) for e in caught.value.errors]


@pytest.mark.parametrize(
    "bad",
    ["a\x00b", "a\x7fb", "a\u202eb", "a\u200bb", "a\ufeffb", "a/b", "a b", "a\u2028b", "x" * 201],
    ids=["NUL", "DEL", "RTL-override", "zero-width", "BOM", "slash", "space", "line-sep", "long"],
)
@pytest.mark.parametrize("field", ["id", "customer", "staff", "store"])
def test_ids_and_references_follow_the_grammar(store: Store, field: str, bad: str) -> None:
    errors = _refused(store, [{**TOUCH, field: bad}])
    assert [e[1] for e in errors] == [field]
    assert store.count_events() == {}


def test_printable_unicode_ids_are_kept(store: Store) -> None:
    assert ingest_events(store, [{**TOUCH, "id": "触点-1", "customer": "客户-ü"}]).accepted == 1


def test_a_list_of_references_is_checked_item_by_item(store: Store) -> None:
    handover = {
        "type": "handover",
        "id": "h-1",
        "at": "2025-01-04T10:00:00Z",
        "from_staff": "sf-1",
        "to_staff": "sf-2",
        "customers": ["c-1", "c-\u200d2"],
    }
    assert [e[1] for e in _refused(store, [handover])] == ["customers.1"]


def test_a_void_of_itself_is_refused(store: Store) -> None:
    errors = _refused(store, [{"type": "void", "id": "v-1", "target": "v-1", "reason": "x"}])
    assert [(e[0], e[1]) for e in errors] == [("v-1", "target")]


@pytest.mark.parametrize(
    ("target", "kind"),
    [("b-1", "brand"), ("st-1", "store"), ("sf-1", "staff"), ("c-1", "customer"), ("v-0", "void")],
)
@pytest.mark.parametrize("stored", [True, False], ids=["stored", "same-batch"])
def test_voids_only_of_voidable_types(store: Store, target: str, kind: str, stored: bool) -> None:
    earlier = [*ENTITIES, TOUCH, {"type": "void", "id": "v-0", "target": "t-1", "reason": "x"}]
    void = {"type": "void", "id": "v-9", "target": target, "reason": "mistake"}
    if stored:
        ingest_events(store, earlier)
        before = store.count_events()
        errors = _refused(store, [void])
        assert store.count_events() == before
    else:
        errors = _refused(store, [*earlier, void])
        assert store.count_events() == {}
    assert [(e[0], e[1]) for e in errors] == [("v-9", "target")]
    assert kind in errors[0][2]


def test_voids_of_voidable_types_are_accepted(store: Store) -> None:
    ingest_events(store, [*ENTITIES, TOUCH])
    assert ingest_events(store, [{"type": "void", "id": "v-1", "target": "t-1", "reason": "x"}])
    assert store.journey("c-1").touches[0]["voided"] is True


def test_a_void_whose_target_arrives_later_as_an_entity_stays_inert(store: Store) -> None:
    """Decided: the late entity is recorded (it is refused for nothing it said itself) and the
    void, which only ever hides activity events, changes nothing about it."""
    ingest_events(store, [{"type": "void", "id": "v-1", "target": "c-1", "reason": "early"}])
    assert ingest_events(store, [*ENTITIES, TOUCH]).accepted == len(ENTITIES) + 1
    journey = store.journey("c-1")
    assert journey.customer is not None and journey.customer["name"] == "Li"
    assert [t["voided"] for t in journey.touches] == [False]
    # and a later void of it is now refused, its type being known
    assert _refused(store, [{"type": "void", "id": "v-2", "target": "c-1", "reason": "x"}])


@pytest.mark.parametrize("when", [1736000000, 1736000000000, 1736000000.5, True])
def test_numeric_timestamps_are_refused_naming_the_field(store: Store, when: object) -> None:
    errors = _refused(store, [{**TOUCH, "at": when}])
    assert [e[1] for e in errors] == ["at"]
    assert "ISO 8601" in errors[0][2]


def test_numeric_staff_dates_are_refused(store: Store) -> None:
    errors = _refused(store, [{**ENTITIES[2], "from": 0}])
    assert [e[1] for e in errors] == ["from"]


def test_sub_microsecond_timestamps_are_refused(store: Store) -> None:
    """Truncating nanoseconds would make two instants hash as the same content."""
    errors = _refused(store, [{**TOUCH, "at": "2025-01-04T10:00:00.123456789Z"}])
    assert [e[1] for e in errors] == ["at"]
    assert "6 fractional digits" in errors[0][2]


def test_microsecond_timestamps_are_kept_exactly(store: Store) -> None:
    ingest_events(store, [*ENTITIES, {**TOUCH, "at": "2025-01-04T10:00:00.123456+08:00"}])
    assert store.journey("c-1").touches[0]["at"].startswith("2025-01-04T02:00:00.123456")


@pytest.mark.parametrize("count", [True, 1.0, "5", 1e3])
def test_counts_are_integers_only(store: Store, count: object) -> None:
    deal = {
        "type": "deal",
        "id": "d-1",
        "customer": "c-1",
        "store": "st-1",
        "staff": "sf-1",
        "closed_at": "2025-01-10T00:00:00Z",
        "amount": 100,
        "reward_pool": 10,
        "points_pool": count,
    }
    assert [e[1] for e in _refused(store, [deal])] == ["points_pool"]
