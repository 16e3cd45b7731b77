"""``contribnet export``: the store's journeys as Parquet, equal to what the store hands the
credit engine, from SQLite here and from Neo4j in ``test_neo4j.py``."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from contribnet.cli import main
from contribnet.credit import input_hash
from contribnet.domain.journey import DealJourney
from contribnet.domain.policy import Policy
from contribnet.domain.settlement import business_date
from contribnet.scale import ScaleError
from contribnet.scale.export import MANIFEST, export
from contribnet.scale.folders import read_export
from contribnet.scale.journeys import JourneyReader
from contribnet.store import open_store


def exported_journeys(folder: Path) -> dict[str, tuple[str, DealJourney]]:
    """Each exported deal's close-month partition and journey."""
    table = ds.dataset(folder / "journeys", format="parquet", partitioning="hive").to_table()
    rows = table.to_pylist()
    return {
        r["deal"]: (r["close_month"], DealJourney.model_validate_json(r["journey"])) for r in rows
    }


def test_export_holds_every_live_deal_as_the_store_gives_it(
    exported: Path, network_db: Path
) -> None:
    store = open_store(f"sqlite:///{network_db}")
    try:
        ids = [r.id for r in store.ledger.closed_deals(None, None, limit=100_000)]
        expected = store.deal_journeys(ids)
        paths = sum(1 for _ in store.contribution_paths())
        staff_total = store.list("staff", 0, 1).total
    finally:
        store.close()
    found = exported_journeys(exported)
    assert set(found) == set(expected) and len(found) == 86
    for deal_id, (month, journey) in found.items():
        assert journey == expected[deal_id]
        assert month == business_date(journey.deal.closed_at).strftime("%Y-%m")
    manifest = json.loads((exported / MANIFEST).read_text())
    assert manifest["deals"] == 86
    assert (
        manifest["paths"]
        == paths
        == pq.read_metadata(exported / "paths" / "part-00000.parquet").num_rows
    )
    assert [p["id"] for p in manifest["policies"]] == ["default@1"]
    spells = pq.read_table(exported / "staff").to_pylist()
    assert len({s["id"] for s in spells}) == staff_total
    items = ds.dataset(exported / "items", format="parquet", partitioning="hive").to_table()
    assert (
        items.num_rows
        == manifest["items"]
        == sum(len(j.touches) + len(j.referrals) + len(j.handovers) for _, j in found.values())
    )


def test_export_of_a_period_keeps_only_its_deals_and_every_path(
    network_db: Path, tmp_path: Path
) -> None:
    from datetime import date

    store = open_store(f"sqlite:///{network_db}")
    try:
        manifest = export(store, tmp_path / "jan", date(2025, 1, 1), date(2025, 1, 31))
        paths = sum(1 for _ in store.contribution_paths())
    finally:
        store.close()
    found = exported_journeys(tmp_path / "jan")
    assert found and {month for month, _ in found.values()} == {"2025-01"}
    assert manifest["deals"] == len(found) < 86
    assert manifest["paths"] == paths  # the learned models learn from every journey
    assert manifest["period"] == {"from": "2025-01-01", "to": "2025-01-31"}


def test_export_in_processes_writes_the_same_tables(
    exported: Path, network_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 3 workers x 4 ranges of about 7 deals: several ranges share a month, each its own file
    out = tmp_path / "parallel"
    url = f"sqlite:///{network_db}"
    assert main(["export", "--store", url, "--out", str(out), "--workers", "3"]) == 0
    capsys.readouterr()
    assert exported_journeys(out) == exported_journeys(exported)
    months = [p for p in (out / "journeys").iterdir() if len(list(p.glob("*.parquet"))) > 1]
    assert months, "no month was written by two ranges"
    for table in ("items", "paths", "staff", "stores"):
        mine = ds.dataset(out / table, format="parquet", partitioning="hive").to_table()
        theirs = ds.dataset(exported / table, format="parquet", partitioning="hive").to_table()
        key = "id" if table in ("items", "staff", "stores") else None
        if key is None:
            assert mine.to_pylist() == theirs.to_pylist()
        else:
            order = sorted(theirs.column_names)
            assert sorted(map(str, mine.select(order).to_pylist())) == sorted(
                map(str, theirs.select(order).to_pylist())
            )
    counts = ("deals", "items", "paths", "staff_spells", "stores")
    mine_m = json.loads((out / MANIFEST).read_text())
    theirs_m = json.loads((exported / MANIFEST).read_text())
    assert [mine_m[k] for k in counts] == [theirs_m[k] for k in counts]


def test_journey_reader_gives_the_journey_the_store_gives(exported: Path, network_db: Path) -> None:
    table = ds.dataset(exported / "journeys", format="parquet", partitioning="hive").to_table()
    reader = JourneyReader()
    read = {r["deal"]: reader.read(r["journey"]) for r in table.to_pylist()}
    store = open_store(f"sqlite:///{network_db}")
    try:
        expected = store.deal_journeys(list(read))
    finally:
        store.close()
    assert read == expected
    policy = Policy()
    for deal_id, journey in read.items():  # the hash reads the same fields the store's did
        assert input_hash(journey, policy, "stage_weighted", None) == input_hash(
            expected[deal_id], policy, "stage_weighted", None
        )


def test_export_refuses_a_folder_in_use_and_leaves_it_alone(
    network_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code = main(["export", "--store", f"sqlite:///{network_db}", "--out", str(out)])
    assert code == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".taken")]


def test_read_export_names_what_is_wrong(exported: Path, tmp_path: Path) -> None:
    with pytest.raises(ScaleError, match="no folder"):
        read_export(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScaleError, match="not an export"):
        read_export(tmp_path / "empty")
    broken = tmp_path / "broken"
    import shutil

    shutil.copytree(exported, broken)
    part = next((broken / "journeys").rglob("*.parquet"))
    part.write_bytes(part.read_bytes()[:100])  # truncated: no footer
    with pytest.raises(ScaleError, match="not a readable Parquet table"):
        read_export(broken)
