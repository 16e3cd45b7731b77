"""The command line's failures: a message and exit status 2, never a traceback.

``--version``; an unknown store URL scheme (the URL's password not echoed); a Neo4j that does not
answer; reads of a mistyped SQLite path say "no database at PATH" and create nothing; a staff key
for a staff id the store does not know is refused; Ctrl-C in ``settle`` says what was settled and
how to go on, and running it again settles the rest; Neo4j's syntax errors name the analyst's own
text and positions, not the ``EXPLAIN`` the read-only check runs.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import neo4j
import pytest

from contribnet import __version__
from contribnet.cli import main
from contribnet.demo.generator import generate
from contribnet.services.ingest import ingest_stream
from contribnet.services.queries import QueryError, QueryService
from contribnet.store import open_store

SRC = Path(__file__).resolve().parents[2] / "src"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "tiny.db"
    store = open_store(f"sqlite:///{path}")
    ingest_stream(store, generate("tiny", 1))
    store.close()
    return path


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"contribnet {__version__}"


def test_an_unknown_store_scheme_is_a_message_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["journey", "c-1", "--store", "postgres://u:hunter2pw@db:5432/x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("contribnet: error: unknown store URL scheme 'postgres'"), err
    assert "hunter2pw" not in err and "Traceback" not in err


@pytest.mark.parametrize("command", [["journey", "c-1"], ["query", "farmers"]])
def test_a_neo4j_that_does_not_answer_is_a_message(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"neo4j://neo4j:secret-pw-1@127.0.0.1:{_closed_port()}"
    assert main([*command, "--store", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("contribnet: error:") and "Traceback" not in err, err
    assert "Neo4j" in err and "secret-pw-1" not in err, err


@pytest.mark.parametrize(
    "command",
    [
        ["journey", "c-1"],
        ["settle"],
        ["settle", "--resettle", "--dry-run"],
        ["policies", "list"],
        ["keys", "create", "--role", "staff", "--staff", "s-1"],
    ],
)
def test_reads_of_a_mistyped_sqlite_path_create_nothing(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo" / "contribnet.db"
    assert main([*command, "--store", f"sqlite:///{missing}"]) == 2
    err = capsys.readouterr().err
    assert f"no database at {missing}" in err, err
    assert not missing.parent.exists(), "a read created the folder"


def test_writes_may_create_the_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "new" / "demo.db"
    assert main(["demo", "--size", "tiny", "--store", f"sqlite:///{path}"]) == 0
    assert path.is_file()
    capsys.readouterr()


def test_a_staff_key_names_an_existing_staff_member(
    tiny_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tiny_db}"
    assert main(["keys", "create", "--role", "staff", "--staff", "nobody", "--store", url]) == 2
    err = capsys.readouterr().err
    assert "staff" in err and "'nobody'" in err and "Traceback" not in err, err
    with sqlite3.connect(tiny_db) as db:
        (staff,) = db.execute("SELECT staff FROM staff_spells ORDER BY staff LIMIT 1").fetchone()
    assert main(["keys", "create", "--role", "staff", "--staff", staff, "--store", url]) == 0
    assert capsys.readouterr().out.startswith("cn_")


def test_an_unexpected_error_is_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tiny_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import contribnet.cli.events as events_cli

    def broken(*_: Any) -> Any:
        raise RuntimeError("the disk is on fire")

    monkeypatch.delenv("CONTRIBNET_DEBUG", raising=False)
    monkeypatch.setattr(events_cli, "customer_journey", broken)
    assert main(["journey", "c-1", "--store", f"sqlite:///{tiny_db}"]) == 2
    err = capsys.readouterr().err
    assert "unexpected RuntimeError: the disk is on fire" in err and "Traceback" not in err


def _settled(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM settlements").fetchone()[0])


#: ``contribnet ARGS`` in-process, sending itself SIGINT once 40 settlements are recorded.
_INTERRUPTED_AFTER_40 = """
import os, signal, sys
# as in a terminal, whatever the runner: a background job inherits SIGINT ignored
signal.signal(signal.SIGINT, signal.default_int_handler)
from contribnet.cli import main
from contribnet.services import settlement
record, recorded = settlement._record, []
def interrupting(store, settlements, action):
    outcomes = record(store, settlements, action)
    recorded.extend(outcomes)
    if len(recorded) >= 40:
        os.kill(os.getpid(), signal.SIGINT)
    return outcomes
settlement._record = interrupting
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_in_settle_says_what_was_settled_and_running_again_finishes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "network.db"
    store = open_store(f"sqlite:///{path}")
    ingest_stream(store, generate("demo", 3))
    deals = store.ledger.count_closed_deals(None, None)
    store.close()
    url = f"sqlite:///{path}"
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    cmd = [sys.executable, "-m", "contribnet.cli", "settle", "--store", url, "--chunk", "5"]
    # The Ctrl-C arrives, as a real SIGINT, once 40 deals are recorded: a run of a few hundred
    # milliseconds is too short for a poll from outside on a loaded machine.
    batch = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED_AFTER_40, *cmd[3:]],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = batch.communicate(timeout=120)
    finally:
        if batch.poll() is None:
            batch.kill()
    assert batch.returncode == 130, (out, err)
    assert "Traceback" not in err, err
    assert "interrupted: at least" in err and "deal(s) settled" in err, err
    assert "Run the same command again" in err
    first = _settled(path)
    assert 0 < first < deals

    again = subprocess.run(
        [*cmd, "--json"], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    summary = json.loads(again.stdout)
    assert summary["failures"] == 0
    assert summary["total"] == deals - first  # only what was left
    assert _settled(path) == deals


@pytest.mark.neo4j
def test_a_syntax_error_shows_the_analysts_own_text_and_position(
    neo4j_driver: neo4j.Driver,
) -> None:
    service = QueryService(neo4j_driver)
    with pytest.raises(QueryError) as one_line:
        service.run_cypher("MATCH (n) RETRN n")
    message = one_line.value.message
    assert "EXPLAIN" not in message
    assert "(line 1, column 11 (offset: 10))" in message, message
    assert message.endswith('"MATCH (n) RETRN n"\n           ^'), message

    with pytest.raises(QueryError) as third_line:
        service.run_cypher("MATCH (n)\nWHERE n.x = 1\nRETRN n")
    message = third_line.value.message
    assert "(line 3, column 1 (offset: 24))" in message, message
    assert message.endswith('"RETRN n"\n ^'), message
