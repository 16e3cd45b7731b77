"""``contribnet credit`` as a user runs it: table, JSON, and errors that name event and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contribnet.cli import main
from contribnet.demo.scenarios import scenario

pytest.importorskip("contribnet.services.ingest", reason="the ingest service is not built yet")


def _write(tmp_path: Path, events: list[dict], name: str = "events.jsonl") -> Path:  # type: ignore[type-arg]
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps({"events": events}))
    else:
        path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def test_credit_prints_a_table_with_explanations(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, list(scenario("order_grabbing").events))
    assert main(["credit", "--events", str(path), "--deal", "d-s5-1"]) == 0
    out = capsys.readouterr().out
    assert "sf-nio-hz-x" in out and "sf-nio-hz-y" in out
    assert "¥3,181.82" in out and "stage_weighted" in out
    assert "input hash" in out


@pytest.mark.parametrize("model", ["shapley", "markov", "shapley_conversion", "role_based"])
def test_credit_json_from_a_json_document(tmp_path: Path, capsys, model: str) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, list(scenario("owner_referral").events), "events.json")
    assert (
        main(["credit", "--events", str(path), "--deal", "d-s6-1", "--model", model, "--json"]) == 0
    )
    split = json.loads(capsys.readouterr().out)
    assert split["model"] == model and split["deal"] == "d-s6-1"
    assert sum(a["amount"] for a in split["allocations"]) == split["pool"] == 500_000
    owner = next(a for a in split["allocations"] if a["kind"] == "owner")
    assert owner["points"] == 2000


def test_credit_with_a_policy_file(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, list(scenario("order_grabbing").events))
    policy = tmp_path / "p.toml"
    policy.write_text('name = "linear-pay"\nversion = "7"\nmodel = "linear"\n')
    assert (
        main(
            ["credit", "--events", str(path), "--deal", "d-s5-1", "--policy", str(policy), "--json"]
        )
        == 0
    )
    split = json.loads(capsys.readouterr().out)
    assert split["model"] == "linear"
    assert split["policy"] == {"name": "linear-pay", "version": "7"}


def test_bad_event_names_line_and_field(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    events = list(scenario("order_grabbing").events)
    events[6] = dict(events[6], at="yesterday")
    path = _write(tmp_path, events)
    assert main(["credit", "--events", str(path), "--deal", "d-s5-1"]) == 2
    err = capsys.readouterr().err
    assert "line 7" in err and events[6]["id"] in err and "at" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--deal", "nope"], "deal 'nope' not found"),
        (["--deal", "d-s5-1", "--policy", "POLICY"], "unknown key 'modle'"),
    ],
)
def test_errors_exit_2_with_a_message(
    tmp_path: Path, capsys, args: list[str], message: str
) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, list(scenario("order_grabbing").events))
    policy = tmp_path / "bad.toml"
    policy.write_text('modle = "linear"\n')
    args = [str(policy) if a == "POLICY" else a for a in args]
    assert main(["credit", "--events", str(path), *args]) == 2
    assert message in capsys.readouterr().err


def test_missing_file_and_unknown_model(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["credit", "--events", str(tmp_path / "none.jsonl"), "--deal", "d"]) == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["credit", "--events", "x", "--deal", "d", "--model", "nope"])
    assert exit_info.value.code == 2
