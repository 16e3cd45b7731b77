"""File import: all or nothing, errors name the line, re-import changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contribnet.domain.errors import ConflictError, InvalidEvents
from contribnet.services.ingest import ingest_file
from contribnet.store import open_store

TOUCH = {
    "type": "touch",
    "id": "t-1",
    "at": "2025-01-05T10:00:00Z",
    "customer": "c-1",
    "staff": "sf-1",
    "store": "st-1",
    "stage": "lead",
}


def _jsonl(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


@pytest.fixture
def store():
    opened = open_store("sqlite://:memory:")
    yield opened
    opened.close()


def test_jsonl_imports_once(store, tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "e.jsonl", [dict(TOUCH, id=f"t-{i}") for i in range(25)])
    assert ingest_file(store, path, batch_size=10).accepted == 25
    again = ingest_file(store, path, batch_size=10)
    assert (again.accepted, again.duplicates) == (0, 25)


def test_error_names_the_line_and_nothing_is_written(store, tmp_path: Path) -> None:
    events = [dict(TOUCH, id=f"t-{i}") for i in range(30)]
    events[23]["stage"] = "nap"
    path = _jsonl(tmp_path / "e.jsonl", events)
    with pytest.raises(InvalidEvents) as raised:
        ingest_file(store, path, batch_size=10)
    assert [(e.line, e.field) for e in raised.value.errors] == [(24, "stage")]
    assert "line 24" in str(raised.value)
    assert store.count_events() == {}


def test_broken_json_line(store, tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps(TOUCH) + "\n\n{oops\n")
    with pytest.raises(InvalidEvents) as raised:
        ingest_file(store, path)
    assert [(e.line, e.field) for e in raised.value.errors] == [(3, "line")]
    assert store.count_events() == {}


def test_id_reused_in_another_batch_of_the_file_is_a_conflict(store, tmp_path: Path) -> None:
    events = [dict(TOUCH, id=f"t-{i}") for i in range(30)] + [dict(TOUCH, id="t-3", stage="quote")]
    path = _jsonl(tmp_path / "e.jsonl", events)
    with pytest.raises(ConflictError) as raised:
        ingest_file(store, path, batch_size=10)
    assert raised.value.ids == ["t-3"]
    assert store.count_events() == {}


def test_conflict_with_the_store_writes_nothing(store, tmp_path: Path) -> None:
    ingest_file(store, _jsonl(tmp_path / "a.jsonl", [TOUCH]))
    path = _jsonl(tmp_path / "b.jsonl", [dict(TOUCH, id="t-new"), dict(TOUCH, stage="quote")])
    with pytest.raises(ConflictError):
        ingest_file(store, path)
    assert store.count_events() == {"touch": 1}


def test_json_document_and_csv(store, tmp_path: Path) -> None:
    document = tmp_path / "e.json"
    document.write_text(json.dumps({"events": [TOUCH]}))
    assert ingest_file(store, document).accepted == 1
    csv_path = tmp_path / "e.csv"
    csv_path.write_text(
        "type,id,at,from_staff,to_staff,customers,name,organisers\n"
        "handover,h-1,2025-01-01T00:00:00Z,sf-1,sf-2,c-1;c-2,,\n"
        "joint_event,je-1,2025-01-02T00:00:00Z,,,,Roadshow,st-1;st-2\n"
    )
    assert ingest_file(store, csv_path).accepted == 2
    assert store.journey("c-2").handovers[0]["customers"] == ["c-1", "c-2"]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "type,id,at,customer,staff,store,stage\n"
        "touch,t-9,2025-01-01,c,s,st,lead\n"
        "touch,t-10,never,c,s,st,lead\n"
    )
    with pytest.raises(InvalidEvents) as raised:
        ingest_file(store, bad)
    assert [(e.line, e.field) for e in raised.value.errors] == [(3, "at")]


def test_csv_deals_carry_whole_fen_and_refuse_anything_else(store, tmp_path: Path) -> None:
    header = "type,id,customer,store,staff,closed_at,amount,reward_pool\n"
    good = tmp_path / "deals.csv"
    good.write_text(header + "deal,d-1,c-1,st-1,sf-1,2025-01-01T00:00:00Z,30000000,500000\n")
    assert ingest_file(store, good).accepted == 1
    bad = tmp_path / "bad-deals.csv"
    bad.write_text(header + "deal,d-2,c-1,st-1,sf-1,2025-01-01T00:00:00Z,300.5,1e2\n")
    with pytest.raises(InvalidEvents) as raised:
        ingest_file(store, bad)
    assert sorted((e.line, e.field) for e in raised.value.errors) == [
        (2, "amount"),
        (2, "reward_pool"),
    ]
