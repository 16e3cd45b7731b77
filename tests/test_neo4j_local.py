"""The Neo4j the suite runs against is real, reachable, 5.26, writable and password-protected."""

from __future__ import annotations

import uuid
from typing import Any

import neo4j
import neo4j.exceptions
import pytest

pytestmark = pytest.mark.neo4j


def test_return_one(neo4j_driver: neo4j.Driver) -> None:
    records, _, _ = neo4j_driver.execute_query("RETURN 1 AS one", database_="neo4j")
    assert records[0]["one"] == 1


def test_version_is_5_26(neo4j_driver: neo4j.Driver) -> None:
    records, _, _ = neo4j_driver.execute_query(
        "CALL dbms.components() YIELD name, versions RETURN name, versions", database_="neo4j"
    )
    kernel = {r["name"]: r["versions"] for r in records}["Neo4j Kernel"]
    assert kernel[0].startswith("5.26."), kernel


def test_write_and_read_back_a_node(neo4j_driver: neo4j.Driver) -> None:
    key = f"probe-{uuid.uuid4()}"
    try:
        neo4j_driver.execute_query(
            "CREATE (:ContribnetProbe {key: $key, n: 42})", key=key, database_="neo4j"
        )
        records, _, _ = neo4j_driver.execute_query(
            "MATCH (p:ContribnetProbe {key: $key}) RETURN p.n AS n",
            key=key,
            database_="neo4j",
            routing_=neo4j.RoutingControl.READ,
        )
        assert [r["n"] for r in records] == [42]
    finally:
        neo4j_driver.execute_query(
            "MATCH (p:ContribnetProbe {key: $key}) DELETE p", key=key, database_="neo4j"
        )


def test_wrong_password_is_refused(neo4j_server: Any, neo4j_driver: neo4j.Driver) -> None:
    records, _, _ = neo4j_driver.execute_query(
        "CALL dbms.listConfig('dbms.security.auth_enabled') YIELD value RETURN value",
        database_="neo4j",
    )
    if records and records[0]["value"] == "false":
        pytest.skip("the external Neo4j (NEO4J_URI) has auth disabled")
    with (
        neo4j.GraphDatabase.driver(
            neo4j_server.uri, auth=(neo4j_server.user, neo4j_server.password + "-wrong")
        ) as bad,
        pytest.raises(neo4j.exceptions.AuthError),
    ):
        bad.verify_connectivity()
    # One failed login must not lock the real user out (Neo4j locks after 3 in a row).
    neo4j_driver.verify_connectivity()
