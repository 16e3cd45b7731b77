"""The Neo4j the suite runs against is real, reachable, 5.26, writable and password-protected."""

from __future__ import annotations

import os
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


@pytest.mark.skipif(bool(os.environ.get("NEO4J_URI")), reason="an external Neo4j has its own")
def test_the_local_server_tells_drivers_to_drop_a_connection_silent_for_10_s(
    neo4j_server: Any,
) -> None:
    """The launcher's Bolt keep-alive (``neo4j_local.KEEP_ALIVE``) reaches the driver as its
    read timeout, which bounds the stall of a connection whose reply the driver lost."""
    with neo4j.GraphDatabase.driver(
        neo4j_server.uri, auth=(neo4j_server.user, neo4j_server.password)
    ) as driver:
        records, _, _ = driver.execute_query(
            "SHOW SETTINGS YIELD name, value "
            "WHERE name STARTS WITH 'server.bolt.connection_keep_alive' RETURN name, value",
            database_="neo4j",
        )
        settings = {r["name"]: r["value"] for r in records}
        assert settings["server.bolt.connection_keep_alive"] == "5s", settings
        assert settings["server.bolt.connection_keep_alive_streaming_scheduling_interval"] == "1s"
        with driver.session(database="neo4j") as session:
            session.run("RETURN 1").consume()
        (connection,) = [c for conns in driver._pool.connections.values() for c in conns]
        assert connection.connection_hints["connection.recv_timeout_seconds"] == 10
