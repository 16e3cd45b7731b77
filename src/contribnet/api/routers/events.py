"""``POST /v1/events``: the append-only, idempotent event stream."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from contribnet.api.auth import current_principal, require_roles
from contribnet.api.deps import SettingsDep, StoreDep
from contribnet.api.limits import StrictJsonRoute
from contribnet.api.routers.credit import requested_by
from contribnet.domain.events import MAX_BATCH, Event, EventBatch
from contribnet.domain.roles import Principal
from contribnet.services.ingest import ingest_body

router = APIRouter(
    prefix="/v1",
    route_class=StrictJsonRoute,
    tags=["events"],
    dependencies=[Depends(require_roles("ingest"))],
)


class IngestResponse(BaseModel):
    accepted: int = Field(description="events newly recorded", examples=[3])
    duplicates: int = Field(
        description="events already recorded with identical content", examples=[0]
    )


class _EventBatchSchema(BaseModel):
    """The body as documented: each event one of the types, told apart by ``type``. (At run
    time the body is validated straight from its JSON by the service, event by event, so that
    each error names the event's index, id and field.)"""

    model_config = ConfigDict(
        title="EventBatch", json_schema_extra=EventBatch.model_config.get("json_schema_extra")
    )

    events: list[Event] = Field(max_length=MAX_BATCH, description="up to 10,000 events")


def _batch_schema() -> dict[str, Any]:
    schema = _EventBatchSchema.model_json_schema(ref_template="#/components/schemas/{model}")
    for event in schema["$defs"].values():  # the discriminator: ``type`` is always sent
        if "type" in event.get("properties", {}):
            event["required"] = ["type", *(r for r in event.get("required", []) if r != "type")]
    return schema


_ERRORS: dict[int | str, dict[str, str]] = {
    409: {"description": "An event id was re-used with different content; nothing was written."},
    422: {"description": "Invalid events, each named by index, id and field; nothing was written."},
}


@router.post(
    "/events",
    response_model=IngestResponse,
    responses=_ERRORS,
    summary="Record a batch of events (all or nothing, idempotent by event id)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    # the $defs (one per event type) become components: see api/contract.py
                    "schema": _batch_schema()
                }
            },
        }
    },
)
async def post_events(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(current_principal)],
) -> IngestResponse:
    """Up to 10,000 events a call. The body is validated straight from its JSON (the fast path)
    rather than through a parsed Python object, which is why it is read raw here. The events
    written are one entry of the audit trail (`GET /v1/audit`), naming the key."""
    body = await request.body()
    result = await run_in_threadpool(
        partial(ingest_body, requested_by=requested_by(principal)),
        store,
        body,
        settings.stages,
        settings.actions,
    )
    return IngestResponse(accepted=result.accepted, duplicates=result.duplicates)
