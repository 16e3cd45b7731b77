"""Issue #13: ``contribnet import FILE`` refuses a repeated key or nesting past
``MAX_JSON_DEPTH`` in a JSON Lines file (any depth: no ``RecursionError``), naming the line, and
writes nothing -- on both stores; so does a JSON document or a CSV ``evidence`` cell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.contract.conftest import neo4j_url

from contribnet.cli import main
from contribnet.domain.errors import InvalidEvents
from contribnet.domain.limits import MAX_JSON_DEPTH
from contribnet.services.ingest import ingest_file
from contribnet.store import Store

STORE = {"type": "store", "id": "st-1", "name": "S", "brand": "b", "city": "SH", "region": "E"}
CUSTOMER = {"type": "customer", "id": "c-1", "name": "Li"}


def _url(store: Store, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.node.callspec.params["store"] == "neo4j":
        server = request.getfixturevalue("neo4j_server")
        return neo4j_url(server.uri, server.user, server.password)
    return f"sqlite:///{tmp_path / 'contract.db'}"


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ('{"type": "customer", "id": "c-2", "id": "c-3"}', "id", "duplicate key 'id'"),
        (
            '{"type": "customer", "id": "c-2", "name": ' + "[" * 40 + "]" * 40 + "}",
            "line",
            f"limit of {MAX_JSON_DEPTH} levels",
        ),
        (
            '{"type": "customer", "id": "c-2", "name": ' + "[" * 50_000 + "]" * 50_000 + "}",
            "line",
            f"limit of {MAX_JSON_DEPTH} levels",
        ),
    ],
    ids=["repeated key", "too deep", "50,000 deep"],
)
def test_import_refuses_a_line_naming_it(
    store: Store,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    line: str,
    field: str,
    message: str,
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(STORE) + "\n" + json.dumps(CUSTOMER) + "\n" + line + "\n")
    assert main(["import", str(path), "--store", _url(store, request, tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and field in err and message in err
    assert store.count_events() == {}  # nothing of the file was written


def test_import_refuses_a_repeated_key_in_a_json_document_or_csv(
    store: Store, request: pytest.FixtureRequest, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(store, request, tmp_path)
    document = tmp_path / "events.json"
    document.write_text('{"events": [{"type": "customer", "id": "c-1", "id": "c-2"}]}')
    assert main(["import", str(document), "--store", url]) == 2
    assert "duplicate key 'id'" in capsys.readouterr().err
    table = tmp_path / "events.csv"
    table.write_text(
        "type,id,at,customer,staff,store,stage,evidence\n"
        'touch,t-1,2025-01-05T10:00:00Z,c-1,sf-1,st-1,test_drive,"{""k"": 1, ""k"": 2}"\n'
    )
    assert main(["import", str(table), "--store", url]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "duplicate key 'k'" in err
    assert store.count_events() == {}


def test_a_void_of_an_entity_sent_in_an_earlier_batch_writes_nothing(
    store: Store, tmp_path: Path
) -> None:
    """Customers in the first batch, a void of one of them in the second: refused, naming the
    void's line, before anything is written -- on Neo4j too, where each batch commits alone (the
    check read the void's target as not recorded yet; appending refused it after the first
    batch was in)."""
    events = [{"type": "customer", "id": f"c-{i}"} for i in range(10)]
    events.append({"type": "void", "id": "v-1", "target": "c-3", "reason": "typo"})
    path = tmp_path / "voids.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    with pytest.raises(InvalidEvents) as raised:
        ingest_file(store, path, batch_size=10)
    assert [(e.line, e.id, e.field) for e in raised.value.errors] == [(11, "v-1", "target")]
    assert "customer event, which cannot be voided" in raised.value.errors[0].message
    assert store.count_events() == {}


def test_a_void_before_its_target_in_a_later_batch_is_accepted(
    store: Store, tmp_path: Path
) -> None:
    """The void comes first and its customer later: the void is recorded and stays inert, as
    when they arrive through the API in that order."""
    events = [{"type": "void", "id": "v-1", "target": "c-3", "reason": "typo"}]
    events += [{"type": "touch", "id": f"t-{i}", "at": "2025-01-05T10:00:00Z", "customer": "c-1",
                "staff": "sf-1", "store": "st-1", "stage": "lead"} for i in range(9)]  # fmt: skip
    events.append({"type": "customer", "id": "c-3"})
    path = tmp_path / "late.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    assert ingest_file(store, path, batch_size=10).accepted == 11
