"""``GET /v1/models``, and the "analysis only" gate over HTTP: a settlement or a stored policy
using such a model is a 422 naming the failed scenario unless the policy allows it; previews
still work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contribnet.api.app import create_app
from contribnet.credit.registry import MODELS
from contribnet.demo.scenarios import all_events
from contribnet.domain.fairness import SCENARIO_NAMES
from contribnet.services.ingest import ingest_events
from contribnet.services.keys import create_key
from contribnet.settings import Settings
from contribnet.store import Store, open_store

ANALYSIS_ONLY = [name for name, spec in MODELS.items() if not spec.for_pay]
FOR_PAY = [name for name, spec in MODELS.items() if spec.for_pay]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, Store, dict[str, str]]]:
    """The hand-built scenarios in a SQLite store, a client, and a key per role."""
    store = open_store(f"sqlite:///{tmp_path / 'models.db'}")
    ingest_events(store, all_events())
    keys = {"admin": "boot"}
    for role in ("ingest", "analyst", "leader"):
        keys[role] = create_key(store, role)
    keys["staff"] = create_key(store, "staff", "sf-nio-hz-x")
    with TestClient(create_app(store=store, settings=Settings(admin_key="boot"))) as client:
        yield client, store, keys
    store.close()


def _as(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_every_reading_role_reads_the_models_and_no_one_else(api) -> None:
    client, _, keys = api
    assert client.get("/v1/models").status_code == 401
    assert client.get("/v1/models", headers=_as("wrong")).status_code == 401
    for role, key in keys.items():
        response = client.get("/v1/models", headers=_as(key))
        # least privilege: an ingest key writes events and reads nothing
        assert response.status_code == (403 if role == "ingest" else 200), role


def test_the_models_are_the_registry_with_their_pay_marks(api) -> None:
    client, _, keys = api
    listed = client.get("/v1/models", headers=_as(keys["staff"])).json()
    assert [m["name"] for m in listed] == list(MODELS)
    for m in listed:
        spec = MODELS[m["name"]]
        assert (m["family"], m["summary"], m["needs_context"]) == (
            spec.family,
            spec.summary,
            spec.needs_context,
        )
        assert m["for_pay"] is spec.for_pay
        if spec.for_pay:
            assert m["fails"] is None and m["fails_because"] is None
        else:
            assert m["fails"] in SCENARIO_NAMES and m["fails_because"]
    assert {m["name"] for m in listed if m["for_pay"]} == set(FOR_PAY)


def test_the_models_route_is_documented_with_an_example(api) -> None:
    client, _, _ = api
    schema = client.get("/openapi.json").json()
    assert "/v1/models" in schema["paths"]
    examples = schema["components"]["schemas"]["CreditModel"]["examples"]
    assert {e["for_pay"] for e in examples} == {True, False}


@pytest.mark.skipif(not ANALYSIS_ONLY, reason="no model is marked analysis only")
def test_an_analysis_only_model_previews_but_does_not_settle(api) -> None:
    client, _, keys = api
    model = ANALYSIS_ONLY[0]
    spec = MODELS[model]
    leader = _as(keys["leader"])
    preview = client.get(f"/v1/deals/d-s5-1/credit?model={model}", headers=leader)
    assert preview.status_code == 200
    refused = client.post("/v1/deals/d-s5-1/settlements", json={"model": model}, headers=leader)
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert f"model {model!r} is analysis only" in detail
    assert SCENARIO_NAMES[spec.fails or ""] in detail
    assert "analysis_models_for_pay = true" in detail
    batch = client.post(
        "/v1/settlements:batch",
        json={"from": "2024-11-01", "to": "2025-12-31", "model": model},
        headers=leader,
    )
    assert batch.status_code == 422
    assert "analysis only" in batch.json()["detail"]
    # nothing was settled
    assert client.get("/v1/deals/d-s5-1/settlements", headers=leader).json()["settlements"] == []


@pytest.mark.skipif(not ANALYSIS_ONLY, reason="no model is marked analysis only")
def test_a_policy_using_an_analysis_only_model_is_stored_only_if_it_allows_it(api) -> None:
    client, _, keys = api
    model = ANALYSIS_ONLY[0]
    admin = {**_as(keys["admin"]), "Content-Type": "application/toml"}
    toml = f'name = "grab"\neffective_from = 2024-11-01\nmodel = "{model}"\n'
    refused = client.post("/v1/policies", content=toml, headers=admin)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "policy.model"
    assert "analysis only" in refused.json()["detail"]
    allowed = client.post(
        "/v1/policies", content=toml + "analysis_models_for_pay = true\n", headers=admin
    )
    assert allowed.status_code == 201, allowed.text
    settled = client.post(
        "/v1/deals/d-s5-1/settlements",
        json={"model": model, "policy": "grab"},
        headers=_as(keys["leader"]),
    )
    assert settled.status_code == 201, settled.text
    assert settled.json()["model"] == model


def test_a_model_for_pay_settles_as_before(api) -> None:
    client, _, keys = api
    response = client.post(
        "/v1/deals/d-s5-1/settlements", json={"model": FOR_PAY[0]}, headers=_as(keys["leader"])
    )
    assert response.status_code == 201, response.text
