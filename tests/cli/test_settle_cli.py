"""``contribnet settle`` killed mid-batch (SIGKILL) and run again settles every deal exactly once;
``contribnet policies`` adds and lists versions."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from contribnet.cli import main
from contribnet.demo.generator import generate
from contribnet.services.ingest import ingest_stream
from contribnet.store import open_store

SRC = Path(__file__).resolve().parents[2] / "src"


def _settled(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM settlements").fetchone()[0])


def test_a_killed_batch_run_again_settles_every_deal_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "network.db"
    store = open_store(f"sqlite:///{path}")
    ingest_stream(store, generate("demo", 3))
    deals = store.count_closed_deals(None, None)
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
        for ref in store.closed_deals(None, None, limit=deals):
            assert [s.seq for s in store.settlement_history(ref.id)] == [1], ref.id
        assert store.count_closed_deals(None, None, unsettled=True) == 0
    finally:
        store.close()


def test_policies_add_list_and_settle_one_deal(tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    store = open_store(url)
    ingest_stream(store, generate("tiny", 3))
    deal = store.closed_deals(None, None, limit=1)[0].id
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
