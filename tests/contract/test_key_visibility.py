"""Issue #13 finding 7, on both stores: an analyst's free Cypher never returns API key material,
and free Cypher caps the bytes it returns as well as the rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.contract.conftest import neo4j_url

from contribnet.api.app import create_app
from contribnet.services.ingest import ingest_events
from contribnet.services.keys import create_key, hash_key
from contribnet.services.queries import QueryService
from contribnet.settings import Settings
from contribnet.store import Store

ADMIN = "a" * 40
PROBES = [
    "MATCH (n) RETURN n",
    "MATCH (n) RETURN properties(n) AS p",
    "MATCH (n) RETURN [k IN keys(n) | n[k]] AS values",
    "MATCH (n) WHERE n.hash IS NOT NULL RETURN n.hash AS h, n.role AS role",
    "MATCH p = (n)-[*0..1]-() RETURN p",
]


@pytest.fixture
def client(
    store: Store, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[TestClient, Store, str]]:
    if request.node.callspec.params["store"] == "neo4j":
        server = request.getfixturevalue("neo4j_server")
        url = neo4j_url(server.uri, server.user, server.password)
    else:
        url = f"sqlite:///{tmp_path / 'contract.db'}"
    ingest_events(
        store,
        [
            {"type": "store", "id": "st-1", "name": "S", "brand": "b", "city": "SH", "region": "E"},
            {"type": "staff", "id": "sf-1", "name": "Xu", "store": "st-1", "role": "advisor"},
            {"type": "customer", "id": "c-1", "name": "Li"},
        ],
    )
    create_key(store, "staff", staff="sf-1")
    create_key(store, "leader")
    analyst = create_key(store, "analyst")
    app = create_app(store=store, settings=Settings(store_url=url, admin_key=ADMIN))
    with TestClient(app) as test_client:
        yield test_client, store, analyst


@pytest.mark.parametrize("query", PROBES)
def test_free_cypher_never_returns_key_material(client, query: str) -> None:
    test_client, store, analyst = client
    hashes = [k["hash"] for k in store.api_keys()]
    assert len(hashes) == 3 and hash_key(analyst) in hashes
    response = test_client.post(
        "/v1/cypher", json={"query": query}, headers={"Authorization": f"Bearer {analyst}"}
    )
    # SQLite has no free Cypher at all (409); on Neo4j the graph answers, without the keys
    assert response.status_code in (200, 409), response.text
    assert not any(h in response.text for h in hashes)
    assert "ApiKey" not in response.text and analyst not in response.text
    if response.status_code == 200:
        assert response.json()["rows"], "the rest of the graph is still there"


def test_a_query_naming_the_key_label_is_refused(client) -> None:
    test_client, _, analyst = client
    response = test_client.post(
        "/v1/cypher",
        json={"query": "MATCH (k:ApiKey) RETURN k.role"},
        headers={"Authorization": f"Bearer {analyst}"},
    )
    # SQLite: no free Cypher (409); Neo4j: refused by the read-only check (400)
    assert response.status_code in (400, 409) and "rows" not in response.json()


def test_free_cypher_caps_the_bytes_it_returns(neo4j_store: Store, neo4j_driver) -> None:
    service = QueryService(neo4j_driver, max_bytes=100_000)
    small = service.run_cypher("UNWIND range(1, 10) AS i RETURN i")
    assert small.row_count == 10 and not small.truncated
    # one row of ~1 MB: over the byte cap though well under the row cap
    huge = service.run_cypher(
        "RETURN reduce(s = '', i IN range(1, $n) | s + $chunk) AS s",
        {"n": 20_000, "chunk": "x" * 50},
    )
    assert huge.truncated and huge.rows == []
    many = service.run_cypher(
        "UNWIND range(1, 5000) AS i RETURN i, 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy' AS pad"
    )
    assert many.truncated and 0 < many.row_count < 5000
    assert len(json.dumps(many.rows).encode()) <= 100_000
