"""The scale-out tests' fixtures: one real local[2] Spark session for the whole run (never a
mock), the tiny demo network on SQLite and on a real Neo4j, and their exports.

Spark is slow to start and each job costs seconds, so the session, the networks and the
exports are made once; tests that write to a ledger work on a copy of the SQLite file (or, on
Neo4j, clean the ledger afterwards).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Neo4jServer

from contribnet.demo.generator import generate
from contribnet.scale.export import export
from contribnet.scale.spark import SESSION_CONFIG
from contribnet.services.ingest import ingest_stream
from contribnet.services.policies import ensure_default_policy
from contribnet.store import Store, open_store

SEED = 7


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A real Spark session, ``local[2]``, shared by every scale-out test."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("contribnet tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
    )
    for key, value in SESSION_CONFIG.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


def load(store: Store) -> None:
    ingest_stream(store, generate("tiny", SEED))
    ensure_default_policy(store)


@pytest.fixture(scope="session")
def network_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny demo network (seed 7) in a SQLite file, with the default policy; never written
    to after (tests copy it)."""
    path = tmp_path_factory.mktemp("scale") / "network.db"
    store = open_store(f"sqlite:///{path}")
    try:
        load(store)
    finally:
        store.close()
    return path


@pytest.fixture
def ledger_url(network_db: Path, tmp_path: Path) -> str:
    """A copy of the network, for a test that writes settlements or events."""
    copy = tmp_path / "ledger.db"
    shutil.copyfile(network_db, copy)
    return f"sqlite:///{copy}"


@pytest.fixture(scope="session")
def exported(network_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SQLite network exported to Parquet."""
    out = tmp_path_factory.mktemp("exports") / "sqlite"
    store = open_store(f"sqlite:///{network_db}")
    try:
        export(store, out)
    finally:
        store.close()
    return out


def _wipe(driver: Any) -> None:
    with driver.session(database="neo4j") as session:
        session.run(
            "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()


def wipe_ledger(driver: Any) -> None:
    """The Neo4j graph as ingested: no settlements or settled credit (policies kept)."""
    with driver.session(database="neo4j") as session:
        session.run("MATCH (n) WHERE n:Settlement OR n:Adjustment DETACH DELETE n").consume()
        session.run("MATCH ()-[c:CREDITED]->() DELETE c").consume()
        session.run("MATCH (d:Deal) WHERE d.settlement IS NOT NULL REMOVE d.settlement").consume()


@pytest.fixture(scope="module")
def neo4j_network(neo4j_server: Neo4jServer, neo4j_driver: Any) -> Iterator[str]:
    """The same network on the real Neo4j (wiped and loaded for this module, wiped after); its
    URL."""
    _wipe(neo4j_driver)
    url = neo4j_server.store_url
    store = open_store(url)
    try:
        load(store)
    finally:
        store.close()
    yield url
    _wipe(neo4j_driver)  # leave the server as found: other modules load what they need


@pytest.fixture(scope="session")
def recomputed(spark: Any, exported: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export recomputed on Spark under the policy in force (the default's model)."""
    from contribnet.scale.folders import read_export
    from contribnet.scale.jobs import recompute

    out = tmp_path_factory.mktemp("recomputes") / "default"
    report = recompute(spark, read_export(exported), out)
    assert report.deals == 86 and report.failures == 0
    return out
