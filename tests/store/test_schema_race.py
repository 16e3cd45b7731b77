"""Start-up is safe to race (issue #13, finding 5): several stores opening at once on a Neo4j
without the schema all start, and the schema ends up whole (applied idempotently)."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote, urlsplit

import neo4j

from contribnet.store.neo4j import Neo4jStore

OPENERS = 6
ROUNDS = 3


def _drop_schema(driver: neo4j.Driver) -> None:
    records, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name", database_="neo4j")
    for r in records:
        driver.execute_query("DROP CONSTRAINT $name IF EXISTS", name=r["name"], database_="neo4j")
    records, _, _ = driver.execute_query(
        "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP'", database_="neo4j"
    )
    for r in records:
        driver.execute_query("DROP INDEX $name IF EXISTS", name=r["name"], database_="neo4j")


def _open_at_once(url: str) -> list[Any]:
    """Open ``OPENERS`` stores in threads released together: each store or what it raised."""
    barrier = threading.Barrier(OPENERS)
    results: list[Any] = [None] * OPENERS

    def open_(i: int) -> None:
        barrier.wait()
        try:
            results[i] = Neo4jStore(url)
        except Exception as exc:  # asserted on by the caller
            results[i] = exc

    threads = [threading.Thread(target=open_, args=(i,)) for i in range(OPENERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_stores_opening_at_once_on_an_empty_schema_all_start(
    neo4j_server: Any, neo4j_driver: neo4j.Driver
) -> None:
    parts = urlsplit(neo4j_server.uri)
    auth = f"{quote(neo4j_server.user)}:{quote(neo4j_server.password, safe='')}"
    url = f"{parts.scheme}://{auth}@{parts.hostname}:{parts.port}"
    try:
        for _ in range(ROUNDS):
            _drop_schema(neo4j_driver)
            probe = neo4j_driver.execute_query("SHOW CONSTRAINTS YIELD name", database_="neo4j")
            assert probe.records == []
            results = _open_at_once(url)
            errors = [r for r in results if not isinstance(r, Neo4jStore)]
            for r in results:
                if isinstance(r, Neo4jStore):
                    r.close()
            assert errors == []
            store = Neo4jStore(url)
            try:
                assert store.missing_schema() == []
            finally:
                store.close()
    finally:
        store = Neo4jStore(url)  # the schema whole again for the tests after this one
        store.close()
