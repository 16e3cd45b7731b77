"""Payroll's listing, ``GET /v1/settlements``, on SQLite and on Neo4j: pages walked by their
``next`` link list each current settlement once; filters by store and staff; the CSV (names beside
ids, RFC 3339 instants, an optional BOM for Excel); who may read it; bad input named."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contribnet.api.app import create_app
from contribnet.domain.settlement import Settlement, period_bounds
from contribnet.services.keys import create_key
from contribnet.services.payroll import CSV_COLUMNS
from contribnet.services.settlement import settle_period
from contribnet.settings import Settings

Ledger = Any  # tests/ledger/conftest.py: kind, url, store, open()
ADMIN = "payroll-admin-key-0123456789"
START, END = date(2024, 11, 1), date(2025, 1, 31)


@pytest.fixture
def payroll(ledger: Ledger) -> Iterator[tuple[TestClient, list[Settlement]]]:
    """A leader's client over the network, settled; the settlements of the period."""
    store = ledger.store
    *_, last = settle_period(store, None, None, requested_by="test")
    assert last.created > 10
    settled = list(store.ledger.current_settlements(*period_bounds(START, END)))
    assert len(settled) > 10
    with TestClient(create_app(store=store, settings=Settings(admin_key=ADMIN))) as client:
        client.headers["Authorization"] = f"Bearer {create_key(store, 'leader')}"
        yield client, settled


def _walk(client: TestClient, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    pages = 0
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["next"] is None) == (body["cursor"] is None)
        items += body["items"]
        next_url = body["next"]
        pages += 1
        assert pages < 1000
    return items


def _period(extra: str = "") -> str:
    return f"/v1/settlements?from={START}&to={END}{extra}"


def test_pages_list_each_settlement_once_in_order(payroll) -> None:
    client, settled = payroll
    walked = _walk(client, _period("&limit=7"))
    assert [s["id"] for s in walked] == [s.id for s in settled]
    first = client.get(_period("&limit=7")).json()
    assert len(first["items"]) == 7 and "limit=7" in first["next"]
    assert first["next"].startswith("/v1/settlements?")
    assert first["items"][0]["closed_at"].endswith("Z")
    # names beside ids: every staff member credited on the page is named
    staff = {c["contributor"] for s in first["items"] for c in s["credits"] if c["kind"] == "staff"}
    assert staff and all(first["names"].get(p) for p in staff)
    everything = client.get(_period("&limit=500")).json()
    assert everything["next"] is None and len(everything["items"]) == len(settled)


def test_filters_by_store_and_staff(payroll) -> None:
    client, settled = payroll
    store_id = settled[0].deal_store
    at_store = [
        s.id
        for s in settled
        if s.deal_store == store_id or any(c.store == store_id for c in s.credits)
    ]
    assert 0 < len(at_store) < len(settled)
    walked = _walk(client, _period(f"&store={store_id}&limit=3"))
    assert [s["id"] for s in walked] == at_store
    staff_id = next(c.contributor for c in settled[0].credits if c.kind == "staff")
    theirs = [s.id for s in settled if any(c.contributor == staff_id for c in s.credits)]
    walked = _walk(client, _period(f"&staff={staff_id}&limit=2"))
    assert [s["id"] for s in walked] == theirs
    assert client.get(_period("&store=st-nowhere")).json()["items"] == []


def test_csv_has_a_row_per_deal_and_person_with_names(payroll) -> None:
    client, settled = payroll
    response = client.get(_period("&format=csv"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert not text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == sum(len(s.credits) for s in settled)
    assert [r["deal"] for r in rows] == [s.deal for s in settled for _ in s.credits]
    assert sum(int(r["amount_fen"]) for r in rows) == sum(
        c.amount for s in settled for c in s.credits
    )
    assert all(r["closed_at"].endswith("Z") and "+00:00" not in r["closed_at"] for r in rows)
    for r in rows:
        fen = int(r["amount_fen"])
        assert r["amount"] == f"{fen // 100}.{fen % 100:02d}"
    assert all(r["name"] for r in rows if r["kind"] == "staff")
    with_bom = client.get(_period("&format=csv&bom=true")).content
    assert with_bom.startswith("\ufeff".encode()) and with_bom[3:] == response.content


def test_payroll_readers_only(payroll, ledger: Ledger) -> None:
    client, settled = payroll
    store = ledger.store
    staff_id = next(c.contributor for c in settled[0].credits if c.kind == "staff")
    expected = {"leader": 200, "analyst": 200, "ingest": 403}
    keys = {role: create_key(store, role) for role in expected}
    keys["staff"] = create_key(store, "staff", staff_id)
    expected.update(staff=403, admin=200)
    keys["admin"] = ADMIN
    for role, code in expected.items():
        headers = {"Authorization": f"Bearer {keys[role]}"}
        assert client.get(_period(), headers=headers).status_code == code, role
        url = _period(f"&staff={staff_id}&format=csv")
        assert client.get(url, headers=headers).status_code == code, role
    assert client.get(_period(), headers={"Authorization": ""}).status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?cursor=not-a-cursor", "cursor"),
        ("?cursor=WyJ4Il0", "cursor"),
        ("?limit=0", "limit"),
        ("?limit=501", "limit"),
        ("?from=2025-02-01&to=2025-01-01", "to"),
        ("?staff=sf-nobody", "staff"),
        ("?staff=sf-nobody&format=csv", "staff"),
        ("?from=yesterday", "from"),
        ("?format=xls", "format"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(payroll, query: str, field: str) -> None:
    client, _ = payroll
    response = client.get("/v1/settlements" + query)
    assert response.status_code == 422, response.text
    assert any(field in e["field"] for e in response.json()["errors"])
