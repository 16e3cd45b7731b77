"""``contribnet generate --plant-fraud`` and ``contribnet flags`` as a user runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from contribnet.cli import main
from contribnet.domain.flags import FLAG_KINDS
from contribnet.store import open_store


def test_planted_fraud_is_written_listed_and_found_by_the_flags_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean, planted = tmp_path / "clean.jsonl", tmp_path / "planted.jsonl"
    assert main(["generate", "--size", "tiny", "--out", str(clean)]) == 0
    assert main(["generate", "--size", "tiny", "--plant-fraud", "--out", str(planted)]) == 0
    cases = json.loads(Path(f"{planted}.planted.json").read_text(encoding="utf-8"))
    assert {c["kind"] for c in cases} == set(FLAG_KINDS)
    assert "planted fraud" in capsys.readouterr().err
    # the network unchanged, the planted events after it
    network, extra = clean.read_text(), planted.read_text()
    assert extra.startswith(network)
    tail = tmp_path / "tail.jsonl"
    tail.write_text(extra[len(network) :])
    store = f"sqlite:///{tmp_path / 'flags.db'}"
    assert main(["import", str(clean), "--store", store]) == 0
    assert main(["import", str(tail), "--store", store]) == 0  # received later
    capsys.readouterr()

    assert main(["flags", "--format", "json", "--store", store]) == 0
    found = json.loads(capsys.readouterr().out)["flags"]
    for case in cases:
        assert any(
            f["kind"] == case["kind"] and set(case["records"]) <= set(f["records"]) for f in found
        ), case

    assert main(["flags", "--kind", "grab", "--format", "csv", "--store", store]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["kind"] for r in rows] == ["grab"] and "t-fraud-grab-1" in rows[0]["records"]

    assert main(["flags", "--kind", "grab", "--from", "2025-01-01", "--store", store]) == 0
    out = capsys.readouterr().out
    assert "grab" in out and "1 flags" in out


def test_flags_command_refuses_a_bad_period_and_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:///{tmp_path / 'empty.db'}"
    open_store(store).close()  # an empty store
    assert main(["flags", "--from", "2025-02-01", "--to", "2025-01-01", "--store", store]) == 2
    assert "is before from" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["flags", "--kind", "teleport", "--store", store])


def test_demo_with_planted_fraud_loads_a_case_of_every_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:///{tmp_path / 'demo.db'}"
    args = ["demo", "--size", "tiny", "--plant-fraud", "--no-settle", "--store", store]
    assert main(args) == 0
    assert "planted fraud" in capsys.readouterr().out
    assert main(["flags", "--format", "json", "--store", store]) == 0
    found = json.loads(capsys.readouterr().out)["flags"]
    assert {f["kind"] for f in found} == set(FLAG_KINDS)
