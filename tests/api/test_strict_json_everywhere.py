"""Issue #13: JSON depth and duplicate-key checks on every JSON body and on file import, not only
on ``POST /v1/events``.

Every operation of the OpenAPI document that takes a JSON body (adjustments, settlements, keys,
policies, simulations, queries, cypher, events, and any added later) gets an object repeating a
key, a body nested past ``MAX_JSON_DEPTH`` and one nested 50,000 deep: each is a 422 naming the
key or ``body``, never a silently kept last value, a 400 or a 500. (``contribnet import``:
``tests/contract/test_strict_import.py``.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contribnet.api.app import create_app
from contribnet.domain.limits import MAX_JSON_DEPTH
from contribnet.settings import Settings
from contribnet.store import open_store

ADMIN = "j" * 40


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("strict-json") / "s.db"
    store = open_store(f"sqlite:///{path}")
    app = create_app(store=store, settings=Settings(store_url=f"sqlite:///{path}", admin_key=ADMIN))
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN}"}) as test_client:
        yield test_client
    store.close()


def _json_operations() -> list[tuple[str, str]]:
    app = create_app(settings=Settings(store_url="sqlite:///:memory:", admin_key=ADMIN))
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content") or {}
            if "application/json" in content:
                found.append((method.upper(), path))
    return sorted(found)


OPERATIONS = _json_operations()


def test_the_walk_finds_every_kind_of_json_body() -> None:
    paths = {path for _, path in OPERATIONS}
    for expected in (
        "/v1/events",
        "/v1/deals/{deal_id}/adjustments",
        "/v1/deals/{deal_id}/settlements",
        "/v1/settlements:batch",
        "/v1/keys",
        "/v1/policies",
        "/v1/simulations",
        "/v1/queries/{name}",
        "/v1/cypher",
    ):
        assert expected in paths


def _send(client: TestClient, method: str, path: str, body: str) -> Any:
    url = re.sub(r"\{[^}]+\}", "x-1", path)
    return client.request(
        method, url, content=body.encode(), headers={"Content-Type": "application/json"}
    )


def _nested(depth: int) -> str:
    return '{"a": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_a_repeated_key_is_refused_naming_it(client: TestClient, method: str, path: str) -> None:
    response = _send(client, method, path, '{"reason": "a", "reason": "b", "reason": "c"}')
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["errors"][0]["field"] == "reason"
    assert "duplicate key 'reason'" in body["errors"][0]["message"]


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 50_000])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_a_body_nested_too_deep_is_refused(
    client: TestClient, method: str, path: str, depth: int
) -> None:
    response = _send(client, method, path, _nested(depth))
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] in ("body", "policy")
    assert f"limit of {MAX_JSON_DEPTH} levels" in error["message"]


def test_a_body_within_the_limits_still_reaches_the_route(client: TestClient) -> None:
    """The strict parse hands the route the parsed body: nesting at the limit is accepted."""
    response = client.post("/v1/keys", json={"role": "leader"})
    assert response.status_code == 201 and response.json()["secret"].startswith("cn_")
    at_limit = _nested(MAX_JSON_DEPTH)
    response = _send(client, "POST", "/v1/cypher", at_limit)
    assert response.status_code == 422  # not a depth refusal: the body lacks `query`
    assert response.json()["errors"][0]["field"] != "body"
