"""The scale-out path on a real Neo4j: the export streams from Neo4j, the Spark recompute equals
the Neo4j-backed service fen for fen, and ``settle --from-parquet`` records it there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.scale.test_export import exported_journeys

from contribnet.cli import main
from contribnet.domain.split import Split
from contribnet.scale.export import MANIFEST
from contribnet.scale.folders import read_export, read_recompute
from contribnet.scale.jobs import recompute
from contribnet.services import settlement as settlement_service
from contribnet.services.credit import preview
from contribnet.store import open_store

pytestmark = pytest.mark.neo4j


def test_export_recompute_and_settle_on_neo4j(
    spark: Any, neo4j_network: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = tmp_path / "export"
    assert main(["export", "--store", neo4j_network, "--out", str(exported)]) == 0
    capsys.readouterr()
    out = tmp_path / "recomputed"
    report = recompute(spark, read_export(exported), out, model="markov")
    assert report.deals == 86 and report.failures == 0
    chunks = list(read_recompute(out).rows())
    rows = [row for chunk in chunks for row in chunk]
    store = open_store(neo4j_network)
    try:
        for row in rows:
            assert row.split == preview(store, row.deal, model="markov").split
            assert isinstance(row.split, Split)
    finally:
        store.close()

    code = main(["settle", "--store", neo4j_network, "--from-parquet", str(out), "--json"])
    assert code == 0
    done = json.loads(capsys.readouterr().out)
    assert (done["created"], done["failures"]) == (86, 0)
    store = open_store(neo4j_network)
    try:
        for row in rows[:10]:
            current, created = settlement_service.settle(
                store, row.deal, requested_by="test", model="markov"
            )
            assert not created and current.input_hash == row.input_hash
    finally:
        store.close()


def test_export_in_processes_from_neo4j_equals_one_process(
    neo4j_network: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["export", "--store", neo4j_network, "--out", str(one)]) == 0
    assert main(["export", "--store", neo4j_network, "--out", str(two), "--workers", "2"]) == 0
    capsys.readouterr()
    found = exported_journeys(two)
    assert len(found) == 86 and found == exported_journeys(one)
    counts = ("deals", "items", "paths", "staff_spells", "stores")
    manifests = [json.loads((d / MANIFEST).read_text()) for d in (one, two)]
    assert [manifests[0][k] for k in counts] == [manifests[1][k] for k in counts]
