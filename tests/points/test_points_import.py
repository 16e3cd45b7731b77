"""Activities from files (``contribnet import``), on both stores: JSON Lines and CSV (evidence as
JSON), checked whole first -- an unknown action names its line and nothing is written -- and
imported once; the CLI takes the deployment's actions from ``CONTRIBNET_ACTIONS``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.points.conftest import NETWORK, Points, activity

from contribnet.cli import main
from contribnet.domain.errors import InvalidEvents
from contribnet.services.ingest import ingest_events, ingest_file
from contribnet.services.points import ensure_default_points_policy, points_statement


def _jsonl(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def test_activities_import_from_json_lines_and_csv(points: Points, tmp_path: Path) -> None:
    store = points.store
    ingest_events(store, NETWORK)
    ensure_default_points_policy(store)
    lines = _jsonl(
        tmp_path / "a.jsonl",
        [activity(f"a-{n}", f"2025-01-0{n + 1}T10:00:00Z", "store_invite") for n in range(3)],
    )
    table = tmp_path / "a.csv"
    table.write_text(
        "type,id,at,staff,customer,action,evidence\n"
        "activity,a-9,2025-01-05T10:00:00Z,sf-x,c-1,deposit_taken,"
        '"{""kind"": ""crm_record"", ""ref"": ""r-1""}"\n'
        "activity,a-10,2025-01-05T11:00:00Z,sf-x,,material_sent,\n",
        encoding="utf-8",
    )
    assert ingest_file(store, lines).accepted == 3
    assert ingest_file(store, table).accepted == 2
    again = ingest_file(store, table)
    assert (again.accepted, again.duplicates) == (0, 2)
    entries = {e.id: e for e in points_statement(store, "staff", "sf-x", None, None).entries}
    assert {k: e.points for k, e in entries.items()} == {
        "a-0": 5, "a-1": 5, "a-2": 5, "a-9": 20, "a-10": 1
    }  # fmt: skip
    assert entries["a-10"].customer is None and entries["a-9"].customer == "c-1"


def test_an_unknown_action_names_its_line_and_nothing_is_written(
    points: Points, tmp_path: Path
) -> None:
    store = points.store
    events = [activity(f"a-{n}", "2025-01-05T10:00:00Z", "wechat_add") for n in range(12)]
    events[9]["action"] = "teleport"
    path = _jsonl(tmp_path / "bad.jsonl", events)
    with pytest.raises(InvalidEvents) as raised:
        ingest_file(store, path, batch_size=5)
    assert [(e.line, e.id, e.field) for e in raised.value.errors] == [(10, "a-9", "action")]
    assert store.count_events() == {}


def test_the_cli_imports_with_the_configured_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    path = _jsonl(tmp_path / "a.jsonl", [activity("a-1", "2025-01-05T10:00:00Z", "coffee")])
    assert main(["import", str(path), "--store", url]) == 2
    assert "action: unknown action 'coffee'" in capsys.readouterr().err
    monkeypatch.setenv("CONTRIBNET_ACTIONS", "coffee, wechat_add")
    assert main(["import", str(path), "--store", url]) == 0
    assert "accepted 1, duplicates 0" in capsys.readouterr().out
