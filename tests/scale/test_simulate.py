"""``contribnet simulate --engine spark``: two policies compared over every exported deal, per
staff member, store, brand and city -- the service's simulation (``POST /v1/simulations``),
computed on a real local[2] Spark session."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from contribnet.cli import main
from contribnet.services.reports import simulate as service_simulate
from contribnet.store import open_store

CANDIDATE = """
name = "candidate"
version = "1"
effective_from = 2024-11-01
model = "stage_weighted"
half_life_days = 14

[stage_weights]
lead = 5
reception = 10
consultation = 10
test_drive = 40
referral = 20
handover = 15
event = 10
quote = 5
order = 10
delivery = 0
follow_up = 0
"""


def _rows(folder: Path) -> list[tuple[Any, int, int, int]]:
    return [
        (r["key"], r["amount_a"], r["amount_b"], r["delta"])
        for r in pq.read_table(folder).to_pylist()
    ]


def test_simulate_equals_the_service_per_staff_and_store(
    spark: Any,
    exported: Path,
    network_db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    candidate = tmp_path / "candidate.toml"
    candidate.write_text(CANDIDATE)
    out = tmp_path / "simulated"
    code = main(
        [
            "simulate",
            "--engine",
            "spark",
            "--input",
            str(exported),
            "--policy",
            "default@1",
            "--policy",
            str(candidate),
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    store = open_store(f"sqlite:///{network_db}")
    try:
        expected = service_simulate(store, "default@1", tomllib.loads(CANDIDATE), None, None)
    finally:
        store.close()
    assert summary["deals"] == expected.deals == 86
    assert (summary["amount_a"], summary["amount_b"]) == (
        expected.totals["amount_a"],
        expected.totals["amount_b"],
    )
    staff = _rows(out / "staff")
    assert staff == [(r.key, r.amount_a, r.amount_b, r.delta) for r in expected.staff]
    assert any(delta != 0 for *_, delta in staff)  # the candidate does move money
    stores = _rows(out / "stores")
    assert stores == [(r.key, r.amount_a, r.amount_b, r.delta) for r in expected.stores]
    for level in ("brands", "cities"):
        rows = _rows(out / level)
        assert sum(r[1] for r in rows) == sum(r[1] for r in stores)
        assert sum(r[2] for r in rows) == sum(r[2] for r in stores)
    assert {r[0] for r in _rows(out / "brands")} == {"nio", "onvo"}
