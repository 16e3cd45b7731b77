"""``contribnet recompute --engine spark``: every deal's split on a real local[2] Spark session,
equal fen for fen (the whole split: allocations, input hash, explanations) to the service's
preview of that deal, for the default policy's model and for the two learned models, whose
tables are fitted with Spark aggregations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest

from contribnet.cli import main
from contribnet.domain.split import Split
from contribnet.scale.export import MANIFEST
from contribnet.scale.folders import read_export, read_recompute
from contribnet.scale.jobs import recompute
from contribnet.services.credit import credit_context, preview
from contribnet.services.policies import find_policy
from contribnet.store import open_store


def _table(folder: Path) -> list[dict[str, Any]]:
    return ds.dataset(folder, format="parquet", partitioning="hive").to_table().to_pylist()


@pytest.mark.parametrize("model", [None, "markov", "shapley_conversion"])
def test_recompute_equals_the_service_fen_for_fen(
    spark: Any,
    exported: Path,
    recomputed: Path,
    network_db: Path,
    tmp_path: Path,
    model: str | None,
) -> None:
    if model is None:  # the policy in force's model: the session's recompute
        out = recomputed
        manifest = json.loads((out / MANIFEST).read_text())
    else:
        out = tmp_path / "recomputed"
        report = recompute(spark, read_export(exported), out, model=model)
        assert report.deals == 86 and report.failures == 0
        manifest = report.manifest

    splits = {r["deal"]: r for r in _table(out / "splits")}
    allocations = _table(out / "allocations")
    store = open_store(f"sqlite:///{network_db}")
    try:
        for deal_id, row in splits.items():
            expected = preview(store, deal_id, model=model).split
            split = Split.model_validate_json(row["split"])
            assert split == expected, deal_id
            assert row["input_hash"] == expected.input_hash
            assert sum(a["amount"] for a in row["allocations"]) == row["pool"]
            assert [
                (a["kind"], a["id"], a["store"], a["amount"], a["share"], a["points"])
                for a in allocations
                if a["deal"] == deal_id
            ] == [
                (a.kind, a.id, a.store, a.amount, a.share, a.points) for a in expected.allocations
            ]
        if model is not None:  # the distributed fit gives the service's very tables
            record = find_policy(store.ledger.policies(), "default@1")
            context = credit_context(store, record.policy, model)
            assert context is not None
            assert manifest["fingerprints"] == {f"default@1 {model}": context.fingerprint}
    finally:
        store.close()
    assert len(allocations) == sum(len(r["allocations"]) for r in splits.values())
    totals = _table(out / "store_totals")
    cash = sum(a["amount"] for a in allocations if a["kind"] == "staff")
    assert sum(t["amount"] for t in totals) == cash > 0
    assert read_recompute(out).deals == 86


def test_recompute_cli_writes_the_tables_and_a_manifest(
    spark: Any, exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "jan"
    code = main(
        [
            "recompute",
            "--engine",
            "spark",
            "--master",
            "local[2]",
            "--input",
            str(exported),
            "--policy",
            "default@1",
            "--from",
            "2025-01-01",
            "--to",
            "2025-01-31",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest == json.loads((out / MANIFEST).read_text())
    assert manifest["policy"] == "default@1" and 0 < manifest["deals"] < 86
    assert {p.name for p in out.iterdir()} == {
        "splits",
        "allocations",
        "store_totals",
        MANIFEST,
    }
    months = {p.name for p in (out / "allocations").iterdir() if p.is_dir()}
    assert months == {"close_month=2025-01"}
    assert set(manifest["seconds"]) == {"fit", "split", "write"}
