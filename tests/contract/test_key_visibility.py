"""Issue #13 finding 7, on both stores: key material is unreachable through free Cypher and the
query library. Keys are peppered with a server secret (``CONTRIBNET_KEY_PEPPER``): a record is
kept as an HMAC digest and a sealed record, so an analyst who reads the whole graph learns no key's
hash, role or staff member; records from before the pepper are re-sealed at start-up, and every
key feature (create, list, revoke, expire, staff keys) keeps working. Free Cypher also caps the
bytes it returns as well as the rows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.contract.conftest import neo4j_url

from contribnet.api.app import create_app
from contribnet.services.ingest import ingest_events
from contribnet.services.keys import (
    DEFAULT_PEPPER,
    create_key,
    hash_key,
    key_id,
    list_keys,
    resolve_key,
    seal_keys,
)
from contribnet.services.queries import QueryService
from contribnet.settings import Settings
from contribnet.store import Store

ADMIN = "a" * 40
PEPPER = "p" * 32
#: Each probe reads the whole graph some way an analyst might; none may reveal a key.
PROBES = [
    "MATCH (n) RETURN n",
    "MATCH (n) RETURN properties(n) AS p",
    "MATCH (n) RETURN [k IN keys(n) | n[k]] AS values",
    "MATCH (n) RETURN n.hash AS h, n.role AS role, n.staff AS staff, n.digest AS d, n.sealed AS s",
    "MATCH (n) WHERE size(keys(n)) = 2 RETURN labels(n) AS l, properties(n) AS p",
    "MATCH p = (n)-[*0..1]-() RETURN p",
    "MATCH (n) RETURN collect(n) AS everything",
    "CALL db.labels()",
    "CALL db.propertyKeys()",
    "CALL db.schema.nodeTypeProperties()",
    "CALL db.schema.visualization()",
]
EVENTS = [
    {"type": "store", "id": "st-1", "name": "S", "brand": "b", "city": "SH", "region": "E"},
    {"type": "staff", "id": "sf-1", "name": "Xu", "store": "st-1", "role": "advisor"},
    {"type": "staff", "id": "sf-keyholder", "name": "Yu", "store": "st-1", "role": "advisor"},
    {"type": "customer", "id": "c-1", "name": "Li"},
]


def _url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.node.callspec.params["store"] == "neo4j":
        server = request.getfixturevalue("neo4j_server")
        return neo4j_url(server.uri, server.user, server.password)
    return f"sqlite:///{tmp_path / 'contract.db'}"


@dataclass
class Setup:
    client: TestClient
    store: Store
    neo4j: bool


@pytest.fixture
def setup(store: Store, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    ingest_events(store, EVENTS)
    settings = Settings(store_url=_url(request, tmp_path), admin_key=ADMIN, key_pepper=PEPPER)
    with TestClient(create_app(store=store, settings=settings)) as client:
        client.headers["Authorization"] = f"Bearer {ADMIN}"
        yield Setup(client, store, request.node.callspec.params["store"] == "neo4j")


def _probe(client: TestClient, query: str) -> str:
    response = client.post("/v1/cypher", json={"query": query})
    assert response.status_code in (200, 409), response.text  # SQLite has no free Cypher (409)
    return response.text


def _strings(value: object) -> list[str]:
    """Every string value in a JSON document (not the keys of its objects)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_free_cypher_never_reveals_a_key_s_hash_role_or_staff(setup: Setup) -> None:
    """Every probe answers the same with keys as without them, but for nulls where a key node
    was: the staff member a staff key is for, and the roles, appear exactly as often; no secret,
    SHA-256, digest or sealed record appears, nor the key label."""
    before = {q: _probe(setup.client, q) for q in PROBES}
    created = {
        role: setup.client.post("/v1/keys", json=body).json()["secret"]
        for role, body in {
            "staff": {"role": "staff", "staff": "sf-keyholder"},
            "leader": {"role": "leader"},
            "analyst": {"role": "analyst"},
            "ingest": {"role": "ingest", "expires": "2099-01-01"},
        }.items()
    }
    setup.client.delete(f"/v1/keys/{key_id(hash_key(created['ingest']))}")  # revoked_at too
    stored = setup.store.api_keys()
    assert len(stored) == 4 and all(set(r) == {"digest", "sealed"} for r in stored)
    secret_texts = [*created.values(), *(hash_key(s) for s in created.values())]
    secret_texts += [r["digest"] for r in stored] + [r["sealed"] for r in stored]
    analyst = {"Authorization": f"Bearer {created['analyst']}"}
    for query in PROBES:
        response = setup.client.post("/v1/cypher", json={"query": query}, headers=analyst)
        assert response.status_code in (200, 409), response.text
        text = response.text
        assert not any(s in text for s in secret_texts), query
        assert "ApiKey" not in text, query
        leaves, earlier = _strings(json.loads(text)), _strings(json.loads(before[query]))
        for token in ("sf-keyholder", "staff", "leader", "analyst", "ingest"):
            assert leaves.count(token) == earlier.count(token), (query, token)
        # the ingest key's expiry date (not any "2099": a random hex id may hold it)
        assert not [v for v in leaves if "2099-01-01" in v], query
        if setup.neo4j and query.startswith("MATCH (n) RETURN n"):
            assert response.json()["rows"], "the rest of the graph is still there"


def test_no_store_record_holds_a_key_in_the_clear(setup: Setup) -> None:
    """What a stolen database (or any reader of the store) sees of a key: two opaque strings,
    which without the pepper neither open nor can be checked against a guessed key."""
    secret = create_key(setup.store, "staff", "sf-keyholder", pepper=PEPPER)
    (record,) = setup.store.api_keys()
    assert set(record) == {"digest", "sealed"}
    for clear in (secret, hash_key(secret), "sf-keyholder", "staff", key_id(hash_key(secret))):
        assert clear not in json.dumps(record)
    assert resolve_key(setup.store, secret, None, pepper="another pepper of 24+ chars") is None
    assert resolve_key(setup.store, secret, None) is None  # the built-in pepper: not this one
    principal = resolve_key(setup.store, secret, None, pepper=PEPPER)
    assert principal is not None and principal.staff == "sf-keyholder"


def test_a_query_naming_the_key_label_is_refused(setup: Setup) -> None:
    response = setup.client.post("/v1/cypher", json={"query": "MATCH (k:ApiKey) RETURN k"})
    # SQLite: no free Cypher (409); Neo4j: refused by the read-only check (400)
    assert response.status_code in (400, 409) and "rows" not in response.json()


# --- records from before the pepper --------------------------------------------------------------

#: Keys as an existing database holds them: SHA-256 of the secret, role, staff and times in clear.
LEGACY = [
    ("cn_legacy_leader_key_000000000000000", "leader", None, None, None),
    (
        "cn_legacy_staff_key_0000000000000000",
        "staff",
        "sf-keyholder",
        "2099-01-01T00:00:00+00:00",
        None,
    ),  # noqa: E501
    ("cn_legacy_revoked_key_00000000000000", "analyst", None, None, "2025-02-01T00:00:00+00:00"),
]


def _write_legacy(on_neo4j: bool, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    rows = [
        (hash_key(secret), role, staff, "2025-01-01T00:00:00+00:00", expires, revoked)
        for secret, role, staff, expires, revoked in LEGACY
    ]
    if on_neo4j:
        request.getfixturevalue("neo4j_driver").execute_query(
            "UNWIND $rows AS r CREATE (:ApiKey {hash: r[0], role: r[1], staff: r[2], "
            "created_at: r[3], expires_at: r[4], revoked_at: r[5]})",
            rows=[list(r) for r in rows],
            database_="neo4j",
        )
        return
    with sqlite3.connect(tmp_path / "contract.db") as db:
        db.executemany("INSERT INTO api_keys VALUES (?, ?, ?, ?)", [r[:4] for r in rows])
        db.executemany(
            "INSERT INTO api_key_terms VALUES (?, ?, ?)", [(r[0], r[4], r[5]) for r in rows]
        )


def test_keys_from_before_the_pepper_are_resealed_and_keep_working(
    store: Store, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    ingest_events(store, EVENTS)
    on_neo4j = request.node.callspec.params["store"] == "neo4j"
    _write_legacy(on_neo4j, request, tmp_path)
    assert sum("hash" in r for r in store.api_keys()) == 3
    if on_neo4j:  # until they are re-sealed, no analyst query runs
        refused = QueryService(request.getfixturevalue("neo4j_driver"))
        with pytest.raises(Exception, match="re-seal"):
            refused.run_cypher("RETURN 1")
    settings = Settings(store_url=_url(request, tmp_path), admin_key=ADMIN, key_pepper=PEPPER)
    with TestClient(create_app(store=store, settings=settings)) as client:  # start-up re-seals
        assert all(set(r) == {"digest", "sealed"} for r in store.api_keys())
        leader, staff, revoked = (s for s, *_ in LEGACY)
        assert client.get("/v1/stores", headers={"Authorization": f"Bearer {leader}"}).is_success
        own = client.get("/v1/staff/sf-keyholder", headers={"Authorization": f"Bearer {staff}"})
        assert own.status_code == 200
        gone = client.get("/v1/stores", headers={"Authorization": f"Bearer {revoked}"})
        assert gone.status_code == 401 and "revoked" in gone.json()["detail"]
        listed = client.get("/v1/keys", headers={"Authorization": f"Bearer {ADMIN}"}).json()
        assert {k["id"]: k["status"] for k in listed} == {
            key_id(hash_key(leader)): "active",  # the same public ids as before
            key_id(hash_key(staff)): "active",
            key_id(hash_key(revoked)): "revoked",
        }
        staff_key = next(k for k in listed if k["id"] == key_id(hash_key(staff)))
        assert staff_key["staff"] == "sf-keyholder" and staff_key["expires_at"].startswith("2099")
    assert seal_keys(store, PEPPER) == 0  # a second start has nothing to do


def test_keys_made_without_the_pepper_move_under_it(setup: Setup) -> None:
    """A key made while no pepper was set (or by a command not given it) keeps working once the
    server has one: start-up, or its first use, re-seals it under the pepper."""
    earlier = create_key(setup.store, "leader", now=datetime(2025, 1, 1, tzinfo=UTC))
    assert resolve_key(setup.store, earlier, None, pepper=DEFAULT_PEPPER) is not None
    principal = resolve_key(setup.store, earlier, None, pepper=PEPPER)
    assert principal is not None and principal.role.value == "leader"
    assert resolve_key(setup.store, earlier, None) is None  # now only under the pepper
    assert [k.role.value for k in list_keys(setup.store, pepper=PEPPER)] == ["leader"]
    assert seal_keys(setup.store, PEPPER) == 0


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
