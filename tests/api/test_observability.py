"""Access log, request ids, /metrics, JSON logs and the serve banner: what operations see."""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from contribnet.api.app import create_app
from contribnet.api.observability import ACCESS_LOGGER, configure_logging, flush_logs
from contribnet.cli import serve
from contribnet.services.keys import create_key
from contribnet.settings import Settings
from contribnet.store import Store, open_store

ADMIN = "observability-admin-key-0123456789"
SECRET_NAME = "Customer-Secret-Name"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'obs.db'}")
    yield opened
    opened.close()


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    app = create_app(store=store, settings=Settings(admin_key=ADMIN))
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN}"}) as opened:
        yield opened


def _sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def test_one_access_line_per_request_names_the_key_id_never_the_key(
    client: TestClient, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    ingest_key = create_key(store, "ingest")
    body = {"events": [{"type": "customer", "id": "c-1", "name": SECRET_NAME}]}
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        client.post("/v1/events", json=body, headers={"Authorization": f"Bearer {ingest_key}"})
        client.get("/health?token=hidden")
    lines = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert len(lines) == 2
    post, health = (r.__dict__["fields"] for r in lines)
    assert post["method"] == "POST" and post["path"] == "/v1/events" and post["status"] == 200
    assert post["key_id"].startswith("key-") and isinstance(post["duration_ms"], float)
    assert health["key_id"] == "bootstrap" and health["path"] == "/health"
    logged = caplog.text
    for secret in (ingest_key, ADMIN, SECRET_NAME, "hidden"):
        assert secret not in logged


def test_request_id_is_echoed_in_the_header_and_every_error_body(client: TestClient) -> None:
    given = client.get("/health", headers={"X-Request-ID": "lb-7f3a.1"})
    assert given.headers["X-Request-ID"] == "lb-7f3a.1"
    insane = client.get("/health", headers={"X-Request-ID": "no spaces\tor tabs"})
    assert insane.headers["X-Request-ID"] != "no spaces\tor tabs"
    assert len(insane.headers["X-Request-ID"]) == 32
    invalid = client.post("/v1/events", json={"events": [{"type": "customer"}]})
    unknown = client.get("/v1/deals/nope")
    unauthorized = client.get("/v1/stores", headers={"Authorization": "Bearer wrong"})
    for response, status in ((invalid, 422), (unknown, 404), (unauthorized, 401)):
        assert response.status_code == status
        assert response.json()["request_id"] == response.headers["X-Request-ID"]
        assert int(response.headers["content-length"]) == len(response.content)
    assert invalid.json()["errors"][0]["field"] == "id"  # the body is otherwise unchanged


def test_metrics_count_requests_by_route_and_events_by_type(client: TestClient) -> None:
    before = client.get("/metrics", headers={"Authorization": ""})
    assert before.status_code == 200  # operations scrape it without a key
    events = {"events": [{"type": "customer", "id": "c-m1"}, {"type": "customer", "id": "c-m2"}]}
    assert client.post("/v1/events", json=events).json()["accepted"] == 2
    assert client.post("/v1/events", json=events).json()["duplicates"] == 2
    client.post("/v1/events", json={"events": [{"type": "customer"}]})
    client.get("/v1/deals/d-nope")
    after = client.get("/metrics").text

    def grew(name: str, **labels: str) -> float:
        return _sample(after, name, **labels) - _sample(before.text, name, **labels)

    route = {"method": "POST", "route": "/v1/events"}
    assert grew("contribnet_http_requests_total", **route, status="200") == 2
    assert grew("contribnet_http_requests_total", **route, status="422") == 1
    assert grew("contribnet_http_request_duration_seconds_count", **route, status="200") == 2
    deal = {"method": "GET", "route": "/v1/deals/{deal_id}", "status": "404"}
    assert grew("contribnet_http_requests_total", **deal) == 1  # the template, not the id
    assert grew("contribnet_events_total", type="customer", outcome="accepted") == 2
    assert grew("contribnet_events_total", type="customer", outcome="duplicate") == 2
    assert grew("contribnet_events_total", type="customer", outcome="rejected") == 1
    assert "c-m1" not in after and "d-nope" not in after


def test_observability_off_drops_the_access_log_and_metrics_but_keeps_request_ids(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``CONTRIBNET_OBSERVABILITY=off`` (the soak benchmark's other half): no access line, no
    request or event counted, no ``/metrics``; the request id is still echoed."""
    on = create_app(store=store, settings=Settings(admin_key=ADMIN))
    with TestClient(on, headers={"Authorization": f"Bearer {ADMIN}"}) as client:
        before = client.get("/metrics").text
    monkeypatch.setenv("CONTRIBNET_OBSERVABILITY", "off")
    monkeypatch.setenv("CONTRIBNET_ADMIN_KEY", ADMIN)
    settings = Settings.from_env()
    assert settings.observability is False
    off = create_app(store=store, settings=settings)
    body = {"events": [{"type": "customer", "id": "c-off-1"}]}
    try:
        with (
            TestClient(off, headers={"Authorization": f"Bearer {ADMIN}"}) as client,
            caplog.at_level(logging.INFO, logger=ACCESS_LOGGER),
        ):
            assert client.post("/v1/events", json=body).json() == {"accepted": 1, "duplicates": 0}
            assert client.get("/v1/customers/c-off-1/journey").status_code == 200
            assert client.get("/metrics").status_code == 404
            health = client.get("/health", headers={"X-Request-ID": "req-off-1"})
            assert health.headers["x-request-id"] == "req-off-1"
        assert [r for r in caplog.records if r.name == ACCESS_LOGGER] == []
    finally:
        create_app(store=store, settings=Settings(admin_key=ADMIN))  # counters on again
    with TestClient(on, headers={"Authorization": f"Bearer {ADMIN}"}) as client:
        after = client.get("/metrics").text
    for labels in (
        {"method": "POST", "route": "/v1/events", "status": "200"},
        {"method": "GET", "route": "/v1/customers/{customer_id}/journey", "status": "200"},
    ):
        assert _sample(after, "contribnet_http_requests_total", **labels) == _sample(
            before, "contribnet_http_requests_total", **labels
        )
    assert _sample(after, "contribnet_events_total", type="customer", outcome="accepted") == (
        _sample(before, "contribnet_events_total", type="customer", outcome="accepted")
    )


def test_json_logs_are_one_object_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    try:
        logging.getLogger(ACCESS_LOGGER).info("GET / 200", extra={"fields": {"status": 200}})
    finally:
        flush_logs()  # the records are written by a thread (a blocked write stalls no request)
        root = logging.getLogger()
        for handler in [h for h in root.handlers if h.get_name() == "contribnet"]:
            root.removeHandler(handler)
    (line,) = capsys.readouterr().err.splitlines()
    entry = json.loads(line)
    assert entry["message"] == "GET / 200" and entry["status"] == 200
    assert entry["level"] == "info" and entry["logger"] == ACCESS_LOGGER


def test_serve_banner_hides_the_password_and_sets_up_multiprocess_metrics(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    seen: dict[str, Any] = {}

    def fake_run(*args: Any, **kwargs: Any) -> None:
        seen["dir"] = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        seen["exists"] = seen["dir"] is not None and Path(seen["dir"]).is_dir()
        seen["access_log"] = kwargs.get("access_log")

    # serve hands its settings to the server processes in the environment: restored afterwards
    for name in (
        "PROMETHEUS_MULTIPROC_DIR",
        "CONTRIBNET_STORE",
        "CONTRIBNET_STAGES",
        "CONTRIBNET_ACTIONS",
        "CONTRIBNET_ADMIN_KEY",
        "CONTRIBNET_LOG_FORMAT",
    ):
        monkeypatch.setenv(name, "")  # recorded, so that teardown restores the original
        monkeypatch.delenv(name)
    monkeypatch.setattr(uvicorn, "run", fake_run)
    args = argparse.Namespace(
        host="127.0.0.1",
        port=8000,
        workers=2,
        log_format="json",
        store="neo4j://neo4j:Hunter2-Secret@db.example:7687",
    )
    try:
        serve._serve(args)
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if h.get_name() == "contribnet"]:
            root.removeHandler(handler)
    printed = capsys.readouterr()
    assert "Hunter2-Secret" not in printed.out + printed.err
    assert "neo4j://neo4j:***@db.example:7687" in printed.out
    assert seen["exists"] and seen["access_log"] is False
    assert not Path(seen["dir"]).exists()  # removed when the server stops


def test_log_lines_are_written_by_a_thread_not_by_the_request() -> None:
    """The access line is logged on the event loop; a write that blocks (a busy disk) must not
    stall it: the caller only queues the record, a writer thread writes it."""

    class Stream(io.StringIO):
        writers: ClassVar[set[str]] = set()

        def write(self, text: str) -> int:
            self.writers.add(threading.current_thread().name)
            return super().write(text)

    stream = Stream()
    configure_logging("text", stream=stream)
    try:
        logging.getLogger(ACCESS_LOGGER).info("GET / 200")
    finally:
        flush_logs()
        root = logging.getLogger()
        for handler in [h for h in root.handlers if h.get_name() == "contribnet"]:
            root.removeHandler(handler)
    assert "GET / 200" in stream.getvalue()
    assert Stream.writers and threading.current_thread().name not in Stream.writers
