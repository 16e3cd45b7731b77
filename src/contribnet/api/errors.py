"""Domain errors mapped to HTTP, in one place."""

from __future__ import annotations

import logging
from dataclasses import asdict

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from neo4j.exceptions import ClientError, DriverError, Neo4jError, TransientError

from contribnet import metrics
from contribnet.api.limits import BodyRefused
from contribnet.credit import CreditError
from contribnet.domain.disputes import DisputeRefused
from contribnet.domain.errors import ConflictError, InvalidEvents, NotFound
from contribnet.domain.limits import MAX_ERRORS_LISTED
from contribnet.domain.policy import InvalidPolicy
from contribnet.domain.settlement import InvalidRequest, RecordConflict, SettlementConflict
from contribnet.store.errors import MemoryLimit, memory_limit

_log = logging.getLogger(__name__)

#: Seconds a client is asked to wait before retrying when the store is unavailable.
RETRY_AFTER = "5"

_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _outcome(request: Request) -> str:
    """What a failed store call means for the request: a write (a batch is one transaction)
    wrote nothing, so the client may send it again; a read has nothing to add."""
    return "" if request.method in _READS else "; nothing was written"


def _over_memory(request: Request, exc: Neo4jError, limit: MemoryLimit) -> JSONResponse:
    """A request the store ran out of memory for: it would fail again, so no retry hint."""
    metrics.STORE_ERRORS.labels("refused").inc()
    _log.warning(
        "store out of memory for %s %s: %s %s", request.method, request.url.path, exc.code, exc
    )
    message = str(limit)
    return JSONResponse(
        status_code=422,
        content={
            "detail": f"{message}{_outcome(request)}",
            "errors": [{"field": "request", "message": message}],
        },
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TransientError)
    async def _store_transient(request: Request, exc: TransientError) -> JSONResponse:
        # Neo4j calls running out of memory transient, yet the same request fails again
        limit = memory_limit(exc.code, exc.message)
        if limit is not None:
            return _over_memory(request, exc, limit)
        return await _store_unavailable(request, exc)

    @app.exception_handler(DriverError)
    async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
        metrics.STORE_ERRORS.labels("unavailable").inc()
        _log.warning("store unavailable for %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            status_code=503,
            # the driver's own words (addresses, codes) go to the log, not to the caller
            content={"detail": f"the store did not answer in time{_outcome(request)}; retry"},
            headers={"Retry-After": RETRY_AFTER},
        )

    @app.exception_handler(ClientError)
    async def _store_refused(request: Request, exc: Neo4jError) -> JSONResponse:
        limit = memory_limit(exc.code, exc.message)
        if limit is not None:
            return _over_memory(request, exc, limit)
        timed_out = "TransactionTimedOut" in (exc.code or "")
        metrics.STORE_ERRORS.labels("timed out" if timed_out else "refused").inc()
        _log.warning("store refused %s %s: %s %s", request.method, request.url.path, exc.code, exc)
        return JSONResponse(
            status_code=503 if timed_out else 400,
            # no driver internals (Neo4j codes and messages): those are logged; the request
            # id the body carries (api/observability.py) finds them in the log
            content={"detail": f"the store refused the request{_outcome(request)}"},
            headers={"Retry-After": RETRY_AFTER} if timed_out else None,
        )

    @app.exception_handler(BodyRefused)
    async def _body_refused(_: Request, exc: BodyRefused) -> JSONResponse:
        errors = [{"field": exc.field, "message": exc.message}]
        return JSONResponse(status_code=422, content={"detail": exc.detail, "errors": errors})

    @app.exception_handler(InvalidEvents)
    async def _invalid(_: Request, exc: InvalidEvents) -> JSONResponse:
        # the first MAX_ERRORS_LISTED, each once, and how many there are in all
        shown = exc.errors[:MAX_ERRORS_LISTED]
        errors = [{k: v for k, v in asdict(e).items() if v is not None} for e in shown]
        content = {"detail": str(exc), "errors": errors, "error_count": len(exc.errors)}
        return JSONResponse(status_code=422, content=content)

    @app.exception_handler(ConflictError)
    async def _conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc), "ids": exc.ids})

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(DisputeRefused)
    async def _dispute_refused(_: Request, exc: DisputeRefused) -> JSONResponse:
        return JSONResponse(status_code=403, content={"detail": str(exc)})

    @app.exception_handler(InvalidRequest)
    async def _invalid_request(_: Request, exc: InvalidRequest) -> JSONResponse:
        errors = [{"field": f, "message": m} for f, m in exc.problems]
        return JSONResponse(status_code=422, content={"detail": str(exc), "errors": errors})

    @app.exception_handler(CreditError)
    async def _credit(_: Request, exc: CreditError) -> JSONResponse:
        errors = [{"field": "model", "message": str(exc)}]
        return JSONResponse(status_code=422, content={"detail": str(exc), "errors": errors})

    @app.exception_handler(InvalidPolicy)
    async def _policy(_: Request, exc: InvalidPolicy) -> JSONResponse:
        errors = [{"field": "policy", "message": p} for p in exc.problems]
        return JSONResponse(status_code=422, content={"detail": str(exc), "errors": errors})

    @app.exception_handler(RecordConflict)
    async def _record_conflict(_: Request, exc: RecordConflict) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc), "id": exc.id})

    @app.exception_handler(SettlementConflict)
    async def _settlement_conflict(_: Request, exc: SettlementConflict) -> JSONResponse:
        content = {"detail": str(exc), "field": exc.field, "current": exc.current}
        return JSONResponse(status_code=409, content=content)

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        shown = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse(status_code=422, content={"detail": shown, "errors": errors})
