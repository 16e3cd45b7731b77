"""``contribnet import`` and ``contribnet journey`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from contribnet.cli import main
from contribnet.store import open_store

# fmt: off
EVENTS = [
    {"type": "store", "id": "st-1", "name": "NIO House", "brand": "nio", "city": "Hefei", "region": "East"},
    {"type": "touch", "id": "t-1", "at": "2025-01-05T10:00:00Z", "customer": "c-1", "staff": "sf-1", "store": "st-1", "stage": "test_drive"},
    {"type": "deal", "id": "d-1", "customer": "c-1", "store": "st-1", "staff": "sf-1", "closed_at": "2025-01-06T00:00:00Z", "amount": 25000000, "reward_pool": 300000},
]
# fmt: on


def test_import_then_journey(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    assert main(["import", str(path), "--store", url]) == 0
    assert "accepted 3, duplicates 0" in capsys.readouterr().out
    assert main(["import", str(path), "--store", url]) == 0
    assert "accepted 0, duplicates 3" in capsys.readouterr().out
    assert main(["journey", "c-1", "--store", url]) == 0
    timeline = capsys.readouterr().out
    assert "test_drive" in timeline and "DEAL" in timeline and "3,000.00" in timeline
    assert main(["journey", "c-1", "--json", "--store", url]) == 0
    assert json.loads(capsys.readouterr().out)["deals"][0]["id"] == "d-1"


def test_import_error_names_the_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "events.jsonl"
    bad = dict(EVENTS[1], at="soon")
    path.write_text(json.dumps(EVENTS[0]) + "\n" + json.dumps(bad) + "\n")
    assert main(["import", str(path), "--store", f"sqlite:///{tmp_path / 'x.db'}"]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "t-1" in err and "at" in err


def test_unknown_customer(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    open_store(url).close()  # an empty database (a missing one is "no database at", exit 2)
    assert main(["journey", "nobody", "--store", url]) == 2
    assert "customer 'nobody' not found" in capsys.readouterr().err


def test_keys_create_prints_a_key_once(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    path = tmp_path / "staff.jsonl"  # a staff key names a staff member the store knows
    staff = {"type": "staff", "id": "sf-1", "name": "Li", "store": "st-1", "role": "advisor"}
    path.write_text(json.dumps(staff) + "\n")
    assert main(["import", str(path), "--store", url]) == 0
    capsys.readouterr()
    assert main(["keys", "create", "--role", "staff", "--staff", "sf-1", "--store", url]) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("cn_") and len(key) > 30
    assert main(["keys", "create", "--role", "analyst", "--staff", "sf-1", "--store", url]) == 2
    assert "staff" in capsys.readouterr().err


def test_journey_at_80_columns_keeps_ids_instants_and_amounts_whole(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    url = f"sqlite:///{tmp_path / 'narrow.db'}"
    long_staff = "sf-nio-shanghai-jingan-advisor-0042"
    events = [{**e, "staff": long_staff} if e["type"] in ("touch", "deal") else e for e in EVENTS]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    assert main(["import", str(path), "--store", url]) == 0
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["journey", "c-1", "--store", url]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80, out
    for whole in (long_staff, "2025-01-05T10:00:00Z", "¥250,000.00", "¥3,000.00"):
        assert whole in out, (whole, out)
