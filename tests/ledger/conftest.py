"""The credit ledger's fixtures: the tiny demo network on SQLite and on a real Neo4j.

The network (plus a few deals closed right at a policy boundary) is loaded once per module and
store; each test then gets an empty ledger -- a copy of the SQLite file, or on Neo4j the same graph
with every policy, settlement, adjustment and ``CREDITED`` relationship removed -- and the default
policy recorded, as the API does at start-up.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Neo4jServer

from contribnet.demo.generator import generate
from contribnet.services.ingest import ingest_events, ingest_stream
from contribnet.services.policies import ensure_default_policy
from contribnet.store import Store, open_store

#: Deals closed one second either side of midnight, China Standard Time, at the start of
#: 2025-03-01 (a policy boundary in the tests), one before the default policy's first day, and
#: one to cancel.
EDGE: list[dict[str, Any]] = [
    {
        "type": "store",
        "id": "st-edge",
        "name": "NIO Edge",
        "brand": "nio",
        "city": "Shanghai",
        "region": "East",
    },
    {"type": "staff", "id": "sf-edge-1", "name": "Edge One", "store": "st-edge", "role": "advisor"},
    {"type": "staff", "id": "sf-edge-2", "name": "Edge Two", "store": "st-edge", "role": "advisor"},
    *[
        event
        for n, closed_at in (
            ("before", "2025-02-28T15:59:59Z"),  # 23:59:59 on 28 February in Shanghai
            ("at", "2025-02-28T16:00:00Z"),  # 00:00:00 on 1 March in Shanghai
            ("early", "2024-10-31T15:59:59Z"),  # before the default policy's effective_from
            ("cancel", "2025-01-15T06:00:00Z"),  # to be voided after it is settled
        )
        for event in (
            {"type": "customer", "id": f"c-edge-{n}", "city": "Shanghai"},
            {
                "type": "touch",
                "id": f"t-edge-{n}-1",
                "at": "2024-10-20T02:00:00Z",
                "customer": f"c-edge-{n}",
                "staff": "sf-edge-1",
                "store": "st-edge",
                "stage": "test_drive",
            },
            {
                "type": "touch",
                "id": f"t-edge-{n}-2",
                "at": closed_at,
                "customer": f"c-edge-{n}",
                "staff": "sf-edge-2",
                "store": "st-edge",
                "stage": "reception",
            },
            {
                "type": "deal",
                "id": f"d-edge-{n}",
                "customer": f"c-edge-{n}",
                "store": "st-edge",
                "staff": "sf-edge-2",
                "closed_at": closed_at,
                "amount": 25_000_000,
                "reward_pool": 400_000,
            },
        )
    ],
]


@dataclass
class Ledger:
    kind: str
    url: str
    store: Store

    def open(self) -> Store:
        """Another connection to the same store (as another process would have)."""
        return open_store(self.url)

    def counts(self) -> tuple[int, ...]:
        """Everything stored, counted: nodes and relationships, or rows of every table."""
        if self.kind == "neo4j":
            return graph_counts(self.store._driver)  # type: ignore[attr-defined]
        db = self.store._db  # type: ignore[attr-defined]
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return tuple(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in sorted(tables))


def neo4j_url(uri: str, user: str, password: str) -> str:
    return Neo4jServer(uri, user, password).store_url


def _load(store: Store) -> None:
    loaded = ingest_stream(store, generate("tiny", SEED)) + ingest_events(store, EDGE)
    assert loaded.accepted == _events()


SEED = 7


def _events() -> int:
    """Events in the network; tests may add a few (late touches, voids), never remove any."""
    return sum(1 for _ in generate("tiny", SEED)) + len(EDGE)


def _loaded(store: Store) -> bool:
    return store.event_count() >= _events() and bool(store.deal_journeys(["d-edge-at"]))


@pytest.fixture(scope="module", params=["sqlite", "neo4j"])
def network_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """A store URL holding the network, loaded once for the module."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("ledger") / "network.db"
        store = open_store(f"sqlite:///{path}")
        _load(store)
        store.close()
        yield "sqlite", str(path)
    else:
        server = request.getfixturevalue("neo4j_server")
        driver = request.getfixturevalue("neo4j_driver")
        url = neo4j_url(server.uri, server.user, server.password)
        store = open_store(url)
        if not _loaded(store):  # the previous module of this folder may have loaded it
            _wipe_all(driver)
            _load(store)
        store.close()
        yield "neo4j", url


@pytest.fixture
def ledger(
    network_url: tuple[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Ledger]:
    kind, where = network_url
    if kind == "sqlite":
        copy = tmp_path / "ledger.db"
        shutil.copyfile(where, copy)
        url = f"sqlite:///{copy}"
    else:
        _wipe_ledger(request.getfixturevalue("neo4j_driver"))
        url = where
    store = open_store(url)
    ensure_default_policy(store)
    try:
        yield Ledger(kind, url, store)
    finally:
        store.close()


def _wipe_all(driver: Any) -> None:
    with driver.session(database="neo4j") as session:
        session.run(
            "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()


def _wipe_ledger(driver: Any) -> None:
    """The graph as ingested: no policies, settlements, adjustments or settled credit."""
    with driver.session(database="neo4j") as session:
        session.run(
            "MATCH (n) WHERE n:Policy OR n:Settlement OR n:Adjustment DETACH DELETE n"
        ).consume()
        session.run("MATCH ()-[c:CREDITED]->() DELETE c").consume()
        session.run("MATCH (d:Deal) WHERE d.settlement IS NOT NULL REMOVE d.settlement").consume()


def graph_counts(driver: Any) -> tuple[int, int]:
    """Nodes and relationships in the Neo4j database."""
    with driver.session(database="neo4j") as session:
        nodes = session.run("MATCH (n) RETURN count(n) AS n").single()["n"]
        rels = session.run("MATCH ()-[r]->() RETURN count(r) AS n").single()["n"]
    return nodes, rels
