"""A Neo4j outage under a running server: 503 with Retry-After and a fitting message, then
recovery without a restart. Runs its own local Neo4j (stopped and started again on the same data
folder and port), not the session's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from contribnet import neo4j_local
from contribnet.api.app import create_app
from contribnet.settings import Settings

pytestmark = pytest.mark.neo4j

ADMIN = "outage-test-admin-key-0123456789"
EVENT = {"type": "customer", "id": "c-outage-1", "name": "Outage"}


@pytest.fixture
def local_neo4j(tmp_path: Path) -> Iterator[neo4j_local.LocalNeo4j]:
    data_dir = tmp_path / "neo4j"
    try:
        yield neo4j_local.start(data_dir, heap="512m", pagecache="64m", exit_with_caller=True)
    finally:
        neo4j_local.stop(data_dir)


def _ready_within(client: TestClient, attempts: int = 60) -> httpx.Response:
    """``/ready`` polled until it answers 200 (a generous bound, not a timing assertion)."""
    response = client.get("/ready")
    for _ in range(attempts):
        if response.status_code == 200:
            break
        time.sleep(1)
        response = client.get("/ready")
    return response


def test_store_outage_is_503_and_the_same_server_recovers(
    local_neo4j: neo4j_local.LocalNeo4j,
) -> None:
    url = f"neo4j://{local_neo4j.user}:{local_neo4j.password}@127.0.0.1:{local_neo4j.port}"
    app = create_app(settings=Settings(store_url=url, admin_key=ADMIN))
    auth = {"Authorization": f"Bearer {ADMIN}"}
    with TestClient(app, headers=auth, raise_server_exceptions=False) as client:
        assert client.get("/ready").json() == {"status": "ready"}
        assert client.post("/v1/events", json={"events": [EVENT]}).json()["accepted"] == 1

        neo4j_local.stop(local_neo4j.data_dir)

        assert client.get("/health").status_code == 200  # the process is alive
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.headers["Retry-After"] == "5"
        assert "does not answer" in ready.json()["detail"]

        read = client.get("/v1/stores")
        assert read.status_code == 503
        assert read.headers["Retry-After"] == "5"
        assert read.headers["X-Request-ID"] == read.json()["request_id"]
        assert "did not answer" in read.json()["detail"]
        assert "written" not in read.json()["detail"]  # a read says nothing of writes

        write = client.post("/v1/events", json={"events": [EVENT | {"id": "c-outage-2"}]})
        assert write.status_code == 503
        assert write.headers["Retry-After"] == "5"
        assert "nothing was written" in write.json()["detail"]

        neo4j_local.start(
            local_neo4j.data_dir,
            port=local_neo4j.port,
            password=local_neo4j.password,
            heap="512m",
            pagecache="64m",
            exit_with_caller=True,
        )

        assert _ready_within(client).json() == {"status": "ready"}
        customers = client.get("/v1/customers")
        assert customers.status_code == 200
        assert [c["id"] for c in customers.json()["items"]] == ["c-outage-1"]
        metrics = client.get("/metrics").text
        assert 'contribnet_store_errors_total{kind="unavailable"}' in metrics
