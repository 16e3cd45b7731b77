"""Issue #13 finding 7: least privilege, tested as the README documents it.

The role x route table of the README ("Who may do what") is read here and checked against every
route of the app (its OpenAPI paths) and every role (``Role``): a route the table leaves out, a
row for a route that does not exist, or a cell that is wrong, fails. Routes left out of the
OpenAPI document are walked too: each must be one of the open pages the table's last row names
(never an API route hidden from the table), and every open route answers without a key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contribnet.api.app import create_app
from contribnet.api.security_headers import SECURITY_HEADERS
from contribnet.domain.roles import Role
from contribnet.services.ingest import ingest_events
from contribnet.services.keys import create_key
from contribnet.settings import Settings
from contribnet.store import Store, open_store

README = Path(__file__).resolve().parents[2] / "README.md"
ADMIN = "a" * 40
OPEN_ROUTES = {("GET", "/health"), ("GET", "/ready"), ("GET", "/metrics")}
ROLES = [r.value for r in Role]
EVENTS = [
    {"type": "store", "id": "st-1", "name": "S", "brand": "b-1", "city": "SH", "region": "E"},
    {"type": "staff", "id": "sf-1", "name": "Xu", "store": "st-1", "role": "advisor"},
    {"type": "staff", "id": "sf-2", "name": "Yu", "store": "st-1", "role": "advisor"},
    {"type": "customer", "id": "c-1", "name": "Li"},
    {"type": "customer", "id": "c-2", "name": "Wu"},
    {
        "type": "touch",
        "id": "t-1",
        "at": "2025-01-04T10:00:00Z",
        "customer": "c-1",
        "staff": "sf-1",
        "store": "st-1",
        "stage": "test_drive",
    },
    {
        "type": "touch",
        "id": "t-2",
        "at": "2025-01-04T10:00:00Z",
        "customer": "c-2",
        "staff": "sf-2",
        "store": "st-1",
        "stage": "test_drive",
    },
]


def _table() -> dict[tuple[str, str], dict[str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Who may do what", 1)[1].split("\n## ", 1)[0]
    header = next(line for line in section.splitlines() if line.startswith("| Route |"))
    roles = [c.strip() for c in header.strip("|").split("|")][1:]
    table: dict[tuple[str, str], dict[str, str]] = {}
    for line in section.splitlines():
        match = re.match(r"\| `(GET|POST|PUT|PATCH|DELETE) ([^`]+)` \|(.*)\|$", line)
        if match:
            cells = [c.strip() for c in match.group(3).split("|")]
            table[(match.group(1), match.group(2))] = dict(zip(roles, cells, strict=True))
    return table


TABLE = _table()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Store]]:
    path = tmp_path_factory.mktemp("privileges") / "p.db"
    store = open_store(f"sqlite:///{path}")
    ingest_events(store, EVENTS)
    app = create_app(store=store, settings=Settings(store_url=f"sqlite:///{path}", admin_key=ADMIN))
    with TestClient(app) as client:
        yield client, store
    store.close()


@pytest.fixture(scope="module")
def keys(setup: tuple[TestClient, Store]) -> dict[str, str]:
    _, store = setup
    return {r: create_key(store, r, staff="sf-1" if r == "staff" else None) for r in ROLES}


def _routes(client: TestClient) -> set[tuple[str, str]]:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return {(m.upper(), p) for p, ops in paths.items() for m in ops} - OPEN_ROUTES


def test_the_table_lists_every_route_and_every_role(setup) -> None:
    client, _ = setup
    assert set(TABLE) == _routes(client)
    assert all(set(cells) == set(ROLES) for cells in TABLE.values())
    assert all(c in {"✓", "✗", "own"} for cells in TABLE.values() for c in cells.values())


#: Real ids per path parameter (the first the staff key's own, the second someone else's), so
#: that an allowed call reaches the data rather than a 404 for a made-up id.
IDS = {"customer_id": ("c-1", "c-2"), "staff_id": ("sf-1", "sf-2"), "store_id": ("st-1", "st-1")}
#: Likewise for the routes that name a staff member in the query rather than the path.
QUERY_IDS = {"/v1/audit": {"target": ("sf-1", "sf-2")}, "/v1/disputes": {"staff": ("sf-1", "sf-2")}}


def _call(client: TestClient, method: str, path: str, key: str | None, other: bool = False):
    url = re.sub(r"\{([^}]+)\}", lambda m: IDS.get(m.group(1), ("x-1", "x-1"))[int(other)], path)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {} if method != "GET" else None
    queried = QUERY_IDS.get(path, {}) if method == "GET" else {}
    params = {name: ids[int(other)] for name, ids in queried.items()}
    return client.request(method, url, headers=headers, json=body, params=params)


@pytest.mark.parametrize("route", sorted(TABLE), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_role_gets_what_the_table_says(setup, keys, route: tuple[str, str]) -> None:
    client, _ = setup
    method, path = route
    assert _call(client, method, path, None).status_code == 401
    for role, cell in TABLE[route].items():
        status = _call(client, method, path, keys[role]).status_code
        if cell == "✗":
            assert status == 403, (role, status)
        else:  # allowed: whatever the answer, it is not a refusal of the role
            assert status not in (401, 403), (role, status)
        if cell == "own":  # another staff member's id: refused or not found, never served
            assert _call(client, method, path, keys[role], other=True).status_code in (403, 404)


def test_ingest_keys_read_nothing(setup, keys) -> None:
    client, _ = setup
    readable = [r for r, cells in TABLE.items() if r[0] == "GET" and cells["ingest"] != "✗"]
    assert readable == []
    for path in ("/v1/customers", "/v1/deals", "/v1/staff", "/v1/stores", "/v1/models"):
        response = client.get(path, headers={"Authorization": f"Bearer {keys['ingest']}"})
        assert response.status_code == 403 and "c-1" not in response.text


def test_a_staff_key_cannot_tell_which_customers_exist(setup, keys) -> None:
    client, _ = setup
    auth = {"Authorization": f"Bearer {keys['staff']}"}
    own = client.get("/v1/customers/c-1/journey", headers=auth)
    existing = client.get("/v1/customers/c-2/journey", headers=auth)  # sf-2's customer
    unknown = client.get("/v1/customers/c-404/journey", headers=auth)
    assert own.status_code == 200
    assert existing.status_code == unknown.status_code == 404
    assert existing.json()["detail"].replace("c-2", "X") == unknown.json()["detail"].replace(
        "c-404", "X"
    )


@pytest.mark.parametrize("path", ["/", "/dashboard", "/v1/stores", "/health", "/openapi.json"])
def test_security_headers_on_the_page_and_the_api(setup, keys, path: str) -> None:
    client, _ = setup
    response = client.get(path, headers={"Authorization": f"Bearer {keys['leader']}"})
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_the_docs_keep_their_own_policy(setup) -> None:
    client, _ = setup
    response = client.get("/docs")
    assert response.status_code == 200
    assert (
        response.headers["content-security-policy"] != SECURITY_HEADERS["Content-Security-Policy"]
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


#: The routes the table's last row names as open, besides /health, /ready and /metrics: the
#: leaders' page and the API docs, outside the OpenAPI document.
OPEN_PAGES = {("GET", "/"), ("GET", "/dashboard"), ("GET", "/docs"), ("GET", "/redoc")}


def _all_routes(routes: list) -> list[tuple[str, str, bool]]:
    """Every route of the app, those of included routers too: (method, path, documented)."""
    found = []
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI keeps included routers
        if included is not None:
            found += _all_routes(included.routes)
        elif isinstance(getattr(route, "methods", None), set):
            documented = bool(getattr(route, "include_in_schema", True))
            found += [(m, route.path, documented) for m in route.methods if m != "HEAD"]
    return found


def test_no_route_escapes_the_table(setup) -> None:
    """A route left out of the OpenAPI document is not in the table's check above: each such
    route must be an open page of the last row (or the document itself), none under /v1."""
    client, _ = setup
    walked = _all_routes(client.app.routes)  # type: ignore[attr-defined]
    documented = {(m, p) for m, p, shown in walked if shown}
    assert documented == set(TABLE) | OPEN_ROUTES
    hidden = {(m, p) for m, p, shown in walked if not shown}
    assert hidden <= OPEN_PAGES | {("GET", "/openapi.json")}, hidden - OPEN_PAGES
    assert not any(p.startswith("/v1") for _, p in hidden)
    row = next(
        line
        for line in README.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `GET /health`")
    )
    assert all(c.strip() == "open" for c in row.strip("|").split("|")[1:])


@pytest.mark.parametrize("route", sorted(OPEN_ROUTES | OPEN_PAGES), ids=lambda r: f"{r[0]} {r[1]}")
def test_open_routes_answer_without_a_key_and_with_any(setup, keys, route) -> None:
    client, _ = setup
    method, path = route
    assert client.request(method, path).status_code == 200
    for key in keys.values():
        assert _call(client, method, path, key).status_code == 200
