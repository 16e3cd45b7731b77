"""``POST /v1/events``: the append-only, idempotent event stream."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from contribnet.api.auth import require_roles
from contribnet.api.deps import SettingsDep, StoreDep
from contribnet.domain.events import EventBatch
from contribnet.services.ingest import ingest_body

router = APIRouter(prefix="/v1", tags=["events"], dependencies=[Depends(require_roles("ingest"))])


class IngestResponse(BaseModel):
    accepted: int = Field(description="events newly recorded", examples=[3])
    duplicates: int = Field(
        description="events already recorded with identical content", examples=[0]
    )


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
            "content": {"application/json": {"schema": EventBatch.model_json_schema()}},
        }
    },
)
async def post_events(request: Request, store: StoreDep, settings: SettingsDep) -> IngestResponse:
    """Up to 10,000 events a call. The body is validated straight from its JSON (the fast path)
    rather than through a parsed Python object, which is why it is read raw here."""
    body = await request.body()
    result = await run_in_threadpool(ingest_body, store, body, settings.stages)
    return IngestResponse(accepted=result.accepted, duplicates=result.duplicates)
