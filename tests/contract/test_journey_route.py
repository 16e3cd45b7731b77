"""``GET /v1/customers/{id}/journey`` on both stores: the service's journey, byte for byte as the
response model would serialise it (the route serialises the journey once, not validated again),
with a staff key's view of it unchanged."""

from __future__ import annotations

import json
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.testclient import TestClient

from contribnet.api.app import create_app
from contribnet.domain.journey import Journey
from contribnet.services.ingest import ingest_events
from contribnet.services.journeys import customer_journey
from contribnet.services.keys import create_key
from contribnet.settings import Settings
from contribnet.store import Store


def _as_the_response_model(journey: Journey) -> bytes:
    """What FastAPI's ``response_model=Journey`` makes of a returned journey."""
    validated = Journey.model_validate(journey.model_dump(by_alias=True))
    return json.dumps(
        jsonable_encoder(validated), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode()


def test_journeys_answer_the_service_s_journey_byte_for_byte(
    store: Store, network: list[dict[str, Any]]
) -> None:
    ingest_events(store, network)
    app = create_app(store=store, settings=Settings(admin_key="test-admin-key"))
    with TestClient(app, headers={"Authorization": "Bearer test-admin-key"}) as client:
        for customer in ("c-1", "c-2", "c-owner"):
            response = client.get(f"/v1/customers/{customer}/journey")
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/json"
            assert response.content == _as_the_response_model(customer_journey(store, customer))
        journey = client.get("/v1/customers/c-1/journey").json()
        assert [t["id"] for t in journey["touches"]] == ["t-1", "t-3", "t-2", "t-bad"]
        assert journey["touches"][-1]["voided"] is True
        assert journey["touches"][0]["counted_for"] == "d-1"
        assert journey["handovers"][0]["customers"] == ["c-1", "c-2", "c-3"]
        missing = client.get("/v1/customers/nobody/journey")
        assert missing.status_code == 404 and "nobody" in missing.text


def test_a_staff_key_reads_only_journeys_its_staff_member_took_part_in(
    store: Store, network: list[dict[str, Any]]
) -> None:
    ingest_events(store, network + [{"type": "customer", "id": "c-9", "name": "Zhou"}])
    secret = create_key(store, "staff", staff="sf-y")
    app = create_app(store=store, settings=Settings(admin_key="test-admin-key"))
    with TestClient(app, headers={"Authorization": f"Bearer {secret}"}) as client:
        own = client.get("/v1/customers/c-1/journey")
        assert own.status_code == 200 and own.json()["customer"]["id"] == "c-1"
        for other in ("c-9", "nobody"):  # recorded or not, alike
            response = client.get(f"/v1/customers/{other}/journey")
            assert response.status_code == 404, response.text
