"""``contribnet query`` and ``contribnet neo4j`` as a user runs them (a real Neo4j for queries)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import neo4j
import pytest

from contribnet import cli, neo4j_local
from contribnet.cli.neo4j import describe, store_url
from contribnet.demo.scenarios import scenario
from contribnet.services.ingest import ingest_stream
from contribnet.store import open_store


@pytest.fixture(scope="module")
def url(neo4j_server: Any, neo4j_driver: neo4j.Driver) -> Iterator[str]:
    with neo4j_driver.session(database="neo4j") as session:
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    parts = urlsplit(neo4j_server.uri)
    auth = f"{quote(neo4j_server.user)}:{quote(neo4j_server.password, safe='')}"
    address = f"{parts.scheme}://{auth}@{parts.hostname}:{parts.port}"
    store = open_store(address)
    ingest_stream(store, scenario("bulk_handover").events + scenario("cross_city_assist").events)
    store.close()
    yield address


def test_query_prints_a_table_and_json(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: cells are not folded
    assert cli.main(["query", "handover_conversion", "--store", url]) == 0
    table = capsys.readouterr().out
    assert "h-s3-1" in table and "sf-onvo-sh-he" in table and "1 row" in table
    args = ["query", "cross_city_assists", "--json", "--store", url]
    assert cli.main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rows"][0]["assisting_store"] == "st-nio-sanya-1"
    assert result["truncated"] is False
    args = ["query", "touches_before_deal", "-p", "deal=d-s2-1", "--param", "days=30", "--json"]
    assert cli.main([*args, "--store", url]) == 0
    stages = [r["stage"] for r in json.loads(capsys.readouterr().out)["rows"]]
    assert stages == ["consultation", "test_drive", "quote", "order"]
    assert cli.main(["query", "customer_journey", "-p", "customer=c-s2-liu", "--max-rows", "2",
                     "--store", url]) == 0  # fmt: skip
    assert "stopped at --max-rows 2" in capsys.readouterr().out


def test_query_csv_and_80_columns(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CSV for spreadsheets; at 80 columns no id, timestamp or amount is cut or wrapped."""
    args = ["query", "touches_before_deal", "-p", "deal=d-s2-1", "-p", "days=30", "--format", "csv"]
    args += ["--store", url]
    assert cli.main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "at,days_before,stage,staff,store,store_brand,store_city"
    assert len(lines) == 5 and lines[1].split(",")[2] == "consultation"
    monkeypatch.setenv("COLUMNS", "80")
    assert cli.main(["query", "touches_before_deal", "-p", "deal=d-s2-1", "--store", url]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    for whole in ("sf-nio-hrb-sun", "st-nio-sanya-1", "2024-12-02T02:00:00"):
        assert whole in out  # never folded across lines
    assert cli.main(["query", "handover_conversion", "--store", url]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "h-s3-1" in out and "sf-onvo-sh-he" in out


def test_query_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["query", "--list", "--json"]) == 0
    listed = {q["name"]: q for q in json.loads(capsys.readouterr().out)}
    assert listed["farmers"]["parameters"][0]["default"][0] == "lead"
    assert cli.main(["query", "--list"]) == 0
    assert "owner_referral_chains" in capsys.readouterr().out
    assert cli.main(["query", "farmers", "--show"]) == 0
    assert "// Question:" in capsys.readouterr().out


def test_query_errors_name_the_problem(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["query", "touches_before_deal", "-p", "dayz=3", "--store", url]) == 2
    assert "$dayz" in capsys.readouterr().err
    assert cli.main(["query", "touches_before_deal", "--store", url]) == 2
    assert "$deal" in capsys.readouterr().err
    assert cli.main(["query", "nothing_like_it", "--store", url]) == 2
    assert "query 'nothing_like_it' not found" in capsys.readouterr().err
    sqlite = f"sqlite:///{tmp_path / 'x.db'}"
    assert cli.main(["query", "farmers", "--store", sqlite]) == 2
    assert "needs the Neo4j store" in capsys.readouterr().err
    assert cli.main(["query"]) == 2


def test_neo4j_status_and_stop_without_a_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "no-neo4j"
    assert cli.main(["neo4j", "status", "--data-dir", str(empty)]) == 1
    assert "no Neo4j running" in capsys.readouterr().out
    assert cli.main(["neo4j", "stop", "--data-dir", str(empty)]) == 0
    assert "no Neo4j running" in capsys.readouterr().out


def test_neo4j_status_of_the_session_server(
    neo4j_server: Any, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """The session's own server, found by its data folder, reports the URL to use."""
    running = [
        server
        for folder in tmp_path_factory.getbasetemp().glob("neo4j*")
        if (server := neo4j_local.status(folder)) is not None
    ]
    if not running:  # the suite runs against an external server (NEO4J_URI)
        assert neo4j_server.uri
        return
    server = next(s for s in running if s.uri == neo4j_server.uri)
    assert cli.main(["neo4j", "status", "--data-dir", str(server.data_dir)]) == 0
    out = capsys.readouterr().out
    assert f"contribnet demo --store {store_url(server)}" in out
    assert server.uri in out and server.password in out


def test_describe_gives_the_store_url() -> None:
    server = neo4j_local.LocalNeo4j(
        uri="bolt://127.0.0.1:7687",
        user="neo4j",
        password="p@ss/word",
        pid=4242,
        data_dir=Path("/data/neo4j"),
        port=7687,
    )
    assert store_url(server) == "neo4j://neo4j:p%40ss%2Fword@127.0.0.1:7687"
    text = describe(server)
    assert "contribnet demo --store neo4j://neo4j:p%40ss%2Fword@127.0.0.1:7687" in text
    assert "Bolt URL:  bolt://127.0.0.1:7687" in text and "password:  p@ss/word" in text
