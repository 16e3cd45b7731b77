"""The analysts' query library and read-only Cypher: ``/v1/queries`` and ``/v1/cypher``.

Analyst and admin keys only. Queries read Neo4j (the configured ``neo4j://`` store); with another
store these routes answer 409. The Neo4j driver is opened on first use and closed at shutdown.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from contribnet.api.auth import require_roles
from contribnet.api.limits import StrictJsonRoute
from contribnet.services.queries import (
    DEFAULT_MAX_ROWS,
    DEFAULT_TIMEOUT,
    LibraryQuery,
    Neo4jRequired,
    QueryError,
    QueryOverMemory,
    QueryParameterError,
    QueryRefused,
    QueryResult,
    QueryService,
    QueryUnavailable,
    UnknownQuery,
    check_parameters,
    get_query,
    library,
    to_json,
)

#: The most rows and seconds a caller may ask for.
MAX_ROWS_LIMIT = 10_000
MAX_TIMEOUT = 60.0


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    try:
        yield
    finally:
        service: QueryService | None = getattr(app.state, "query_service", None)
        if service is not None:
            service.close()
            app.state.query_service = None


router = APIRouter(
    prefix="/v1",
    route_class=StrictJsonRoute,
    tags=["queries"],
    dependencies=[Depends(require_roles("analyst"))],
    lifespan=_lifespan,
)

_lock = threading.Lock()


def _service(request: Request) -> QueryService:
    """The app's query service, opened on first use from the configured store URL."""
    state = request.app.state
    with _lock:
        service: QueryService | None = getattr(state, "query_service", None)
        if service is None:
            service = QueryService.open(state.settings.store_url)
            state.query_service = service
    return service


# --- models --------------------------------------------------------------------------------------


class ParameterOut(BaseModel):
    name: str = Field(examples=["deal"])
    type: str = Field(description="Cypher type name", examples=["STRING"])
    required: bool = Field(examples=[True])
    default: Any = Field(default=None, description="the value used when the parameter is left out")
    description: str = Field(examples=["the deal's id"])


class LibraryQueryOut(BaseModel):
    name: str = Field(examples=["touches_before_deal"])
    question: str = Field(examples=["Which touches came before a deal, within a window of days?"])
    parameters: list[ParameterOut]
    returns: list[str] = Field(description="the columns, in order", examples=[["at", "stage"]])
    example: str = Field(description="an example result on the demo network, as text")
    example_params: dict[str, Any] = Field(
        default_factory=dict,
        description="the example's parameters (POST them as `params` to run it)",
        examples=[{"deal": "d-0000163", "days": 30}],
    )
    cypher: str = Field(description="the query itself")


class QueryListOut(BaseModel):
    queries: list[LibraryQueryOut]


class RunQueryIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"params": {"deal": "d-s5-1", "days": 30}}]},
    )

    params: dict[str, Any] = Field(
        default_factory=dict,
        description="the query's parameters by name; text is accepted for any type "
        "(e.g. ISO 8601 for DATETIME)",
    )
    max_rows: int = Field(default=DEFAULT_MAX_ROWS, ge=1, le=MAX_ROWS_LIMIT)
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT, gt=0, le=MAX_TIMEOUT)


class CypherIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "query": "MATCH (s:Store {brand: $brand}) RETURN s.id AS store, s.city AS city "
                    "ORDER BY store",
                    "params": {"brand": "onvo"},
                }
            ]
        },
    )

    query: str = Field(min_length=1, max_length=100_000, description="one read-only statement")
    params: dict[str, Any] = Field(default_factory=dict, description="$parameters by name")
    max_rows: int = Field(default=DEFAULT_MAX_ROWS, ge=1, le=MAX_ROWS_LIMIT)
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT, gt=0, le=MAX_TIMEOUT)


class QueryResultOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "columns": ["store", "city"],
                    "rows": [
                        {"store": "st-onvo-bj-1", "city": "Beijing"},
                        {"store": "st-onvo-sh-1", "city": "Shanghai"},
                    ],
                    "row_count": 2,
                    "truncated": False,
                    "notifications": [],
                }
            ]
        }
    )

    columns: list[str]
    rows: list[dict[str, Any]] = Field(description="one object per row, column -> value")
    row_count: int
    truncated: bool = Field(description="true when more rows existed than max_rows")
    notifications: list[str] = Field(
        description="Neo4j's warnings about the query (deprecations, unknown labels ...)"
    )


def _result(result: QueryResult) -> QueryResultOut:
    return QueryResultOut(
        columns=result.columns,
        rows=result.rows,
        row_count=result.row_count,
        truncated=result.truncated,
        notifications=result.notifications,
    )


def _describe(query: LibraryQuery) -> LibraryQueryOut:
    return LibraryQueryOut(
        name=query.name,
        question=query.question,
        parameters=[
            ParameterOut(
                name=p.name,
                type=p.type,
                required=p.required,
                default=to_json(p.default),
                description=p.description,
            )
            for p in query.parameters
        ],
        returns=list(query.returns),
        example=query.example,
        example_params=query.example_params,
        cypher=query.text,
    )


# --- errors --------------------------------------------------------------------------------------

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "Refused as not read-only, or Neo4j rejected or stopped the query; "
        "`detail` carries Neo4j's message and `code` its status code.",
        "content": {
            "application/json": {
                "example": {
                    "detail": "query refused: Neo4j classifies the query as write ('w'); "
                    "only reads are run",
                    "code": "contribnet.QueryRefused",
                }
            }
        },
    },
    409: {"description": "The configured store is not Neo4j; the query library needs Neo4j."},
    422: {
        "description": "A parameter is unknown, missing or of the wrong type, or the query "
        "needs more memory than Neo4j allows a transaction; `errors` names it.",
        "content": {
            "application/json": {
                "example": {
                    "detail": "params.dayz: unknown parameter",
                    "errors": [{"field": "params.dayz", "message": "unknown parameter"}],
                }
            }
        },
    },
    503: {"description": "Neo4j could not be reached."},
}


def _error(exc: Exception) -> JSONResponse:
    if isinstance(exc, QueryParameterError):
        field = exc.name if exc.name in ("max_rows", "timeout") else f"params.{exc.name}"
        return JSONResponse(
            status_code=422,
            content={
                "detail": f"{field}: {exc.message}",
                "errors": [{"field": field, "message": exc.message}],
            },
        )
    if isinstance(exc, QueryRefused):
        return JSONResponse(
            status_code=400, content={"detail": str(exc), "code": "contribnet.QueryRefused"}
        )
    if isinstance(exc, QueryOverMemory):  # no Retry-After: the same query fails again
        return JSONResponse(
            status_code=422,
            content={
                "detail": exc.message,
                "errors": [{"field": "query", "message": exc.message}],
                "code": exc.code,
            },
        )
    if isinstance(exc, QueryUnavailable):
        return JSONResponse(status_code=503, content={"detail": exc.message})
    if isinstance(exc, QueryError):
        return JSONResponse(status_code=400, content={"detail": exc.message, "code": exc.code})
    if isinstance(exc, Neo4jRequired):
        return JSONResponse(status_code=409, content={"detail": str(exc)})
    if isinstance(exc, UnknownQuery):
        return JSONResponse(status_code=404, content={"detail": str(exc)})
    raise exc


_HANDLED = (QueryParameterError, QueryRefused, QueryError, Neo4jRequired, UnknownQuery)


# --- routes --------------------------------------------------------------------------------------


@router.get("/queries", response_model=QueryListOut, summary="The query library")
def list_queries() -> QueryListOut:
    """Every named query: its question, parameters (type, default), columns and an example."""
    return QueryListOut(queries=[_describe(q) for q in library()])


@router.post(
    "/queries/{name}",
    response_model=QueryResultOut,
    responses={**_ERRORS, 404: {"description": "No library query has that name."}},
    summary="Run a library query",
)
async def run_query(
    name: Annotated[str, Path(examples=["touches_before_deal"])],
    request: Request,
    body: Annotated[RunQueryIn | None, Body()] = None,
) -> Any:
    """Run the named query with ``params`` (typed by its header: text such as
    ``"2025-01-01T00:00:00Z"`` is accepted for DATETIME). Read-only, capped at ``max_rows`` rows
    (``truncated`` says when more existed) and stopped on the server after ``timeout_seconds``."""
    body = body or RunQueryIn()
    try:
        params = get_query(name).bind(body.params)
        service = _service(request)
        result = await run_in_threadpool(
            service.run_query,
            name,
            params,
            max_rows=body.max_rows,
            timeout=body.timeout_seconds,
        )
    except _HANDLED as exc:
        return _error(exc)
    return _result(result)


@router.post(
    "/cypher",
    response_model=QueryResultOut,
    responses=_ERRORS,
    summary="Run your own read-only Cypher",
)
async def run_cypher(body: CypherIn, request: Request) -> Any:
    """One read-only statement with ``$parameters``. Refused unless Neo4j's ``EXPLAIN`` classifies
    it as a read, without ``LOAD CSV``, ``CALL { } IN TRANSACTIONS``, administration commands or
    procedures other than ``db.labels``, ``db.relationshipTypes``, ``db.propertyKeys``,
    ``db.schema.*``, ``db.info`` and ``db.ping``; then run in a READ transaction with a
    server-side timeout and a row cap."""
    try:
        check_parameters(body.params)  # before the store: a 422 whichever store is configured
        service = _service(request)
        result = await run_in_threadpool(
            service.run_cypher,
            body.query,
            body.params,
            max_rows=body.max_rows,
            timeout=body.timeout_seconds,
        )
    except _HANDLED as exc:
        return _error(exc)
    return _result(result)
