"""Operations: liveness, readiness and Prometheus metrics. Open, without an API key: they hold no
ids, names or amounts (``/metrics`` only counters labelled by route template, status, event type
and outcome)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from contribnet.api.deps import StoreDep
from contribnet.api.errors import RETRY_AFTER
from contribnet.api.observability import metrics_exposition
from contribnet.services.health import not_ready

router = APIRouter(tags=["health"])
#: ``/metrics``, included unless observability is switched off (``CONTRIBNET_OBSERVABILITY``).
metrics_router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    detail: str | None = None


@router.get("/health", operation_id="getHealth", summary="The process is alive")
def health() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    operation_id="getReady",
    summary="The store answers and its schema is applied",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "the store is not ready; why"}},
)
async def ready(store: StoreDep) -> Response:
    reason = await run_in_threadpool(not_ready, store)
    if reason is not None:
        return JSONResponse(
            status_code=503,
            content=Readiness(status="unavailable", detail=reason).model_dump(),
            headers={"Retry-After": RETRY_AFTER},
        )
    return JSONResponse(content=Readiness(status="ready").model_dump(exclude_none=True))


@metrics_router.get(
    "/metrics",
    operation_id="getMetrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def prometheus_metrics() -> Response:
    content, media_type = metrics_exposition()
    return Response(content=content, media_type=media_type)
