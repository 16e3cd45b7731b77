"""The ``store`` fixture: every contract test runs once on SQLite and once on a real Neo4j."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Neo4jServer

from contribnet.store import Store, open_store

# A small hand-built network: two brands, three stores, a move between stores, a bulk handover,
# a joint event, an owner referral, a void.
# fmt: off
NETWORK: list[dict[str, Any]] = [
    {"type": "brand", "id": "nio", "name": "NIO"},
    {"type": "brand", "id": "onvo", "name": "ONVO"},
    {"type": "store", "id": "st-a", "name": "NIO Shanghai", "brand": "nio", "city": "Shanghai", "region": "East", "mall": "m-1"},
    {"type": "store", "id": "st-b", "name": "ONVO Shanghai", "brand": "onvo", "city": "Shanghai", "region": "East", "mall": "m-1"},
    {"type": "store", "id": "st-c", "name": "NIO Sanya", "brand": "nio", "city": "Sanya", "region": "South"},
    {"type": "staff", "id": "sf-x", "name": "Xu", "store": "st-a", "role": "advisor", "from": "2024-01-01"},
    {"type": "staff", "id": "sf-x", "name": "Xu", "store": "st-c", "role": "advisor", "from": "2025-03-01"},
    {"type": "staff", "id": "sf-y", "name": "Yang", "store": "st-b", "role": "advisor"},
    {"type": "customer", "id": "c-1", "name": "Li", "city": "Harbin"},
    {"type": "customer", "id": "c-owner", "city": "Shanghai"},
    {"type": "joint_event", "id": "je-1", "at": "2025-01-03T02:00:00Z", "name": "Mall roadshow", "organisers": ["st-a", "st-b"]},
    {"type": "touch", "id": "t-2", "at": "2025-01-04T10:00:00+08:00", "customer": "c-1", "staff": "sf-x", "store": "st-a", "stage": "test_drive", "evidence": {"kind": "test_drive_log", "ref": "trip-9"}},
    {"type": "touch", "id": "t-1", "at": "2025-01-03T03:00:00Z", "customer": "c-1", "staff": "sf-x", "store": "st-a", "stage": "event", "joint_event": "je-1"},
    {"type": "touch", "id": "t-3", "at": "2025-01-04T01:00:00Z", "customer": "c-1", "staff": "sf-y", "store": "st-b", "stage": "reception"},
    {"type": "touch", "id": "t-bad", "at": "2025-01-05T02:00:00Z", "customer": "c-1", "staff": "sf-y", "store": "st-b", "stage": "quote"},
    {"type": "void", "id": "v-1", "target": "t-bad", "reason": "logged twice"},
    {"type": "referral", "id": "r-1", "at": "2025-01-02T00:00:00Z", "customer": "c-1", "to_store": "st-a", "referrer_customer": "c-owner"},
    {"type": "handover", "id": "h-1", "at": "2025-01-06T00:00:00Z", "from_staff": "sf-y", "to_staff": "sf-x", "customers": ["c-1", "c-2", "c-3"]},
    {"type": "deal", "id": "d-1", "customer": "c-1", "store": "st-a", "staff": "sf-x", "closed_at": "2025-01-10T00:00:00Z", "amount": 30000000, "reward_pool": 500000},
]
# fmt: on


@pytest.fixture
def network() -> list[dict[str, Any]]:
    return [dict(e) for e in NETWORK]


def neo4j_url(uri: str, user: str, password: str) -> str:
    return Neo4jServer(uri, user, password).store_url


@pytest.fixture(params=["sqlite", "neo4j"])
def store(request: pytest.FixtureRequest) -> Store:
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'contract.db'}")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def neo4j_store(neo4j_server, neo4j_driver) -> Iterator[Store]:
    """The Neo4j store on an empty graph (the schema stays)."""
    _wipe(neo4j_driver)
    opened = open_store(neo4j_url(neo4j_server.uri, neo4j_server.user, neo4j_server.password))
    try:
        yield opened
    finally:
        opened.close()


def _wipe(driver) -> None:
    """An empty graph for each test (the schema stays)."""
    with driver.session(database="neo4j") as session:  # IN TRANSACTIONS needs an auto-commit query
        session.run(
            "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()


@dataclass
class StoreUnderTest:
    """A store under test, and how to open more connections to it (as other processes would)."""

    kind: str
    url: str
    store: Store

    def open(self) -> Store:
        return open_store(self.url)


@contextmanager
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreUnderTest]:
    """An empty store of the kind ``request.param`` names, open for the block: a new SQLite file
    under ``tmp_path``, or the test session's Neo4j server wiped (its schema stays)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        server: Neo4jServer = request.getfixturevalue("neo4j_server")
        _wipe(request.getfixturevalue("neo4j_driver"))
        url = server.store_url
    store = open_store(url)
    try:
        yield StoreUnderTest(request.param, url, store)
    finally:
        store.close()
