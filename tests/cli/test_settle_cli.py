"""``contribnet settle`` killed mid-batch (SIGKILL) and run again settles every deal exactly once;
``contribnet policies`` adds and lists versions."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from contribnet.cli import main
from contribnet.cli.common import money
from contribnet.demo.generator import generate
from contribnet.services.ingest import ingest_events, ingest_stream
from contribnet.store import open_store

SRC = Path(__file__).resolve().parents[2] / "src"


def _settled(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM settlements").fetchone()[0])


def test_a_killed_batch_run_again_settles_every_deal_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "network.db"
    store = open_store(f"sqlite:///{path}")
    ingest_stream(store, generate("demo", 3))
    deals = store.ledger.count_closed_deals(None, None)
    store.close()
    url = f"sqlite:///{path}"
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    batch = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contribnet.cli",
            "settle",
            "--store",
            url,
            "--chunk",
            "5",
            "--json",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while _settled(path) < 40 and batch.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        batch.send_signal(signal.SIGKILL)
    finally:
        batch.wait(30)
    assert batch.returncode == -signal.SIGKILL, batch.stderr.read() if batch.stderr else ""
    killed_at = _settled(path)
    assert 40 <= killed_at < deals  # the batch died mid-way

    assert main(["settle", "--store", url, "--json"]) == 0
    store = open_store(url)
    try:
        assert _settled(path) == deals
        for ref in store.ledger.closed_deals(None, None, limit=deals):
            assert [s.seq for s in store.ledger.settlement_history(ref.id)] == [1], ref.id
        assert store.ledger.count_closed_deals(None, None, unsettled=True) == 0
    finally:
        store.close()


def test_policies_add_list_and_settle_one_deal(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = open_store(url)
    ingest_stream(store, generate("tiny", 3))
    deal = store.ledger.closed_deals(None, None, limit=1)[0].id
    store.close()
    policy = tmp_path / "march.toml"
    policy.write_text('effective_from = 2025-03-01\nmodel = "shapley"\n', encoding="utf-8")
    assert main(["policies", "add", str(policy), "--store", url]) == 0
    assert "default@2 recorded" in capsys.readouterr().out
    assert main(["policies", "list", "--store", url]) == 0
    listed = capsys.readouterr().out
    assert "default@1" in listed and "default@2" in listed and "2025-03-01" in listed
    assert main(["settle", "--deal", deal, "--store", url, "--json"]) == 0
    assert f'"deal": "{deal}"' in capsys.readouterr().out
    policy.write_text("effective_from = [", encoding="utf-8")
    assert main(["policies", "add", str(policy), "--store", url]) == 2
    assert "not TOML" in capsys.readouterr().err


def test_resettle_options_are_checked_before_anything_is_read(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    for argv, option in (
        (["settle", "--resettle"], "--reason"),
        (["settle", "--resettle", "--reason", "  "], "--reason"),
        (["settle", "--dry-run"], "--dry-run"),
        (["settle", "--resettle", "--dry-run", "--model", "shapley"], "--model"),
        (["settle", "--resettle", "--dry-run", "--policy", "default@1"], "--policy"),
        (["settle", "--resettle", "--reason", "x", "--deal", "d-1"], "--deal"),
    ):
        assert main([*argv, "--store", url]) == 2, argv
        assert f"error: {option}:" in capsys.readouterr().err, argv
    assert not (tmp_path / "none.db").exists()


def test_resettle_in_processes_as_json_lines(tmp_path: Path, capsys) -> None:
    """Two workers, chunks of five: the changed deals as JSON lines, then the summary; run for
    real it supersedes them, and a second run finds nothing."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    store = open_store(url)
    ingest_stream(store, generate("tiny", 3))
    store.close()
    assert main(["settle", "--store", url, "--json"]) == 0
    store = open_store(url)
    settled = list(store.ledger.current_settlements())
    shared = [s for s in settled if sum(a.kind == "staff" for a in s.allocations) >= 2]
    voided = shared[-1]

    def drove(a: Any) -> bool:
        return any(t.stage == "test_drive" for t in a.explanation.touches)

    # a deal where one staff member did a test drive and another did not: a late test drive by
    # the other shares that stage's weight
    changed, first = next(
        (s, a)
        for s in shared[:-1]
        if any(drove(b) for b in s.allocations)
        for a in s.allocations
        if a.kind == "staff" and not drove(a)
    )
    journey = store.deal_journeys([changed.deal])[changed.deal]
    late = changed.closed_at - timedelta(hours=1)
    ingest_events(
        store,
        [
            {
                "type": "touch",
                "id": "t-resettle-late",
                "at": late.isoformat(),
                "customer": journey.deal.customer,
                "staff": first.id,
                "store": first.store,
                "stage": "test_drive",
            },
            {"type": "void", "id": "v-resettle", "target": voided.deal, "reason": "cancelled"},
        ],
    )
    store.close()
    capsys.readouterr()
    common = ["settle", "--resettle", "--json", "--workers", "2", "--chunk", "5", "--store", url]
    assert main([*common, "--dry-run"]) == 0
    *lines, summary = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(line["deal"] for line in lines) == sorted([changed.deal, voided.deal])
    by_deal = {line["deal"]: line for line in lines}
    assert by_deal[voided.deal]["voided"] and all(
        p["new_fen"] == 0 and p["fen_difference"] == -p["old_fen"]
        for p in by_deal[voided.deal]["people"]
    )
    gained = {p["id"]: p for p in by_deal[changed.deal]["people"]}[first.id]
    assert gained["fen_difference"] > 0 and gained["old_fen"] == first.amount
    assert summary["summary"]["deals_checked"] == len(settled)
    assert (summary["summary"]["deals_changed"], summary["summary"]["superseded"]) == (2, 0)
    assert summary["summary"]["fen_removed"] >= voided.pool
    text = [a for a in common if a != "--json"]
    assert main([*text, "--dry-run"]) == 0
    table = capsys.readouterr().out
    # money in yuan, as everywhere in the CLI: the gainer's old amount and its signed difference
    assert money(first.amount) in table and f"+{money(gained['fen_difference'])}" in table
    assert f"money moved {money(summary['summary']['fen_moved'])}" in " ".join(table.split())

    assert main([*common, "--reason", "a late test drive; a cancelled order"]) == 0
    *lines, summary = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {line["outcome"] for line in lines} == {"superseded"}
    assert summary["summary"]["superseded"] == 2
    store = open_store(url)
    try:
        for line in lines:
            chain = store.ledger.settlement_history(line["deal"])
            assert [s.id for s in chain][-1] == line["superseded_by"] and len(chain) == 2
            assert chain[-1].reason == "a late test drive; a cancelled order"
        assert (
            sum(len(store.ledger.settlement_history(s.deal)) for s in settled) == len(settled) + 2
        )
    finally:
        store.close()
    assert main([*common, "--reason", "again"]) == 0
    (summary,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (summary["summary"]["deals_changed"], summary["summary"]["superseded"]) == (0, 0)


def test_policies_list_at_80_columns_keeps_ids_and_dates_whole(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = open_store(url)
    ingest_stream(store, generate("tiny", 3))
    store.close()
    policy = tmp_path / "march.toml"
    policy.write_text('effective_from = 2025-03-01\nmodel = "shapley"\n', encoding="utf-8")
    assert main(["policies", "add", str(policy), "--store", url]) == 0
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["policies", "list", "--store", url]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80, out
    for whole in ("default@1", "default@2", "2025-03-01", "shapley"):
        assert whole in out, (whole, out)
