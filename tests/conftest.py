"""Shared fixtures. Neo4j: a real 5.26 server, external (NEO4J_URI) or started for the session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NamedTuple
from urllib.parse import quote, urlsplit

import neo4j
import pytest

from contribnet import neo4j_local


class Neo4jServer(NamedTuple):
    uri: str
    user: str
    password: str

    @property
    def store_url(self) -> str:
        """The ``--store`` URL of this server: ``neo4j://user:password@host:port``."""
        parts = urlsplit(self.uri)
        user, password = quote(self.user), quote(self.password, safe="")
        return f"{parts.scheme}://{user}:{password}@{parts.hostname}:{parts.port}"


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jServer]:
    """One Neo4j for the whole session.

    ``NEO4J_URI`` (with ``NEO4J_USER``/``NEO4J_PASSWORD``) points the suite at an existing server;
    otherwise a local one is built/started in a temp dir and stopped at the end, pass or fail. If it
    cannot start, the tests error: a silently skipped Neo4j suite would prove nothing.
    """
    uri = os.environ.get("NEO4J_URI")
    if uri:
        yield Neo4jServer(
            uri=uri,
            user=os.environ.get("NEO4J_USER", "neo4j"),
            password=os.environ.get("NEO4J_PASSWORD", ""),
        )
        return
    data_dir = tmp_path_factory.mktemp("neo4j")
    try:
        local = neo4j_local.start(data_dir, exit_with_caller=True)
        yield Neo4jServer(uri=local.uri, user=local.user, password=local.password)
    finally:
        neo4j_local.stop(data_dir)


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_server: Neo4jServer) -> Iterator[neo4j.Driver]:
    """A session-wide driver; tests pass ``database_="neo4j"`` and clean up what they write."""
    with neo4j.GraphDatabase.driver(
        neo4j_server.uri, auth=(neo4j_server.user, neo4j_server.password)
    ) as driver:
        driver.verify_connectivity()
        yield driver
