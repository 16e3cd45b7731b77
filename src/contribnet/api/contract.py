"""The API contract: one error model on every operation, readable operation ids, and unknown
query parameters refused.

:func:`install_contract` is applied once, before the routers are included: it adds
:func:`reject_unknown_query` to every route and post-processes the OpenAPI document so that
clients can generate from it:

- every operation declares the statuses it can return with :class:`ErrorBody` (FastAPI's
  ``HTTPValidationError``, which is not what a 422 carries, is gone);
- every operation id is the camelCase of its route's name (``getDealCredit``), unique;
- ``$defs`` of an inline request schema (the events' discriminated union) become components.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from contribnet.api.deps import get_store
from contribnet.domain.policy import MODEL_NAMES
from contribnet.domain.roles import Role

__all__ = [
    "ErrorBody",
    "ModelName",
    "FieldError",
    "camel",
    "declared_query",
    "install_contract",
    "reject_unknown_query",
]

_SCHEMAS = "#/components/schemas/"

#: A credit model's name, an enum in the schema. Checked by the credit engine at run time, so
#: that an unknown name is refused as before: a 422 naming ``model`` with the names allowed.
ModelName = Annotated[
    str, WithJsonSchema({"type": "string", "enum": list(MODEL_NAMES), "title": "ModelName"})
]


class FieldError(BaseModel):
    """One problem with the request, named by its field (``query.limit``, ``events.3.amount``,
    ``model``); for events also the event's ``index`` in the batch and its ``id``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"field": "amount", "message": "Input should be a valid integer", "index": 3}
            ]
        }
    )

    field: str = Field(examples=["query.limit"])
    message: str = Field(examples=["Input should be less than or equal to 1000"])
    index: int | None = Field(default=None, description="the event's index in the batch")
    id: str | None = Field(default=None, description="the event's id")


class ErrorBody(BaseModel):
    """Every error answer: ``detail`` in words; ``errors`` naming each bad field (422); the
    other keys as the status has them: ``ids`` (409, events re-used with other content), ``id``
    (409, a record's id), ``field`` and ``current`` (409, a settlement changed meanwhile),
    ``code`` (400/503, the store's status code), ``request_id`` (the request's id)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": "query.store: unknown query parameter",
                    "errors": [{"field": "query.store", "message": "unknown query parameter"}],
                },
                {"detail": "deal 'd-404' not found"},
            ]
        }
    )

    detail: str = Field(description="what went wrong, in words")
    errors: list[FieldError] | None = Field(default=None, description="422: each bad field")
    error_count: int | None = Field(
        default=None, description="422: how many errors in all (at most 100 are listed)"
    )
    ids: list[str] | None = Field(default=None, description="409: the conflicting event keys")
    id: str | None = Field(default=None, description="409: the conflicting record's id")
    field: str | None = Field(default=None, description="409: the field that changed")
    current: Any = Field(default=None, description="409: its current value")
    code: str | None = Field(default=None, description="the store's status code")
    request_id: str | None = Field(default=None, description="the request's id (X-Request-ID)")


_DESCRIPTIONS = {
    400: "The store refused the request; `code` carries its status code.",
    401: "No API key, or an unknown one (`Authorization: Bearer KEY`).",
    403: "The key's role may not do this.",
    404: "Nothing with that id is recorded.",
    409: "A conflict with what is recorded.",
    413: "The body is larger than the limit (`errors` names it); it was not read.",
    422: "A bad parameter or body; `errors` names each field.",
    503: "The store did not answer; retry after `Retry-After` seconds.",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}},
    503: {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
}


def camel(name: str) -> str:
    """``get_deal_credit`` -> ``getDealCredit``."""
    first, *rest = name.split("_")
    return first + "".join(p[:1].upper() + p[1:] for p in rest)


def declared_query(route: APIRoute) -> frozenset[str]:
    """The query parameters a route declares (by the name a client sends, its alias)."""
    cached: frozenset[str] | None = getattr(route, "_declared_query", None)
    if cached is None:
        cached = frozenset(p.alias for d in _dependants(route.dependant) for p in d.query_params)
        route._declared_query = cached  # type: ignore[attr-defined]
    return cached


def reject_unknown_query(request: Request) -> None:
    """A 422 naming every query parameter the route does not declare (rather than ignoring a
    mistyped filter and answering with unfiltered data)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    known = declared_query(route)
    unknown = sorted({k for k in request.query_params if k not in known})
    if unknown:
        raise RequestValidationError(
            [
                {"loc": ("query", k), "msg": "unknown query parameter", "type": "extra_forbidden"}
                for k in unknown
            ]
        )


def install_contract(app: FastAPI) -> None:
    """Refuse unknown query parameters on every route included from now on, and post-process
    the OpenAPI document (see the module's docstring)."""
    app.router.dependencies.append(Depends(reject_unknown_query))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            _post_process(schema, _api_routes(app))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# --- the OpenAPI post-processing -------------------------------------------------------------


def _api_routes(app: FastAPI) -> list[Any]:
    """The app's API routes as served: FastAPI >= 0.13x includes routers lazily, and a route's
    effective context (prefix, router dependencies) is what the schema describes."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # an older FastAPI: included routes are copied into app.routes
        return [r for r in app.routes if isinstance(r, APIRoute)]
    return [c for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]


def _post_process(schema: dict[str, Any], routes: Iterable[Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in _error_schemas().items():
        components[name] = definition
    by_operation = {(r.path_format, m.lower()): r for r in routes for m in r.methods or ()}
    seen: dict[str, str] = {}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            route = by_operation.get((path, method))
            if route is None:
                continue
            op_id = route.operation_id or camel(route.name)
            if op_id in seen:
                raise ValueError(f"operationId {op_id!r} of {method} {path} is {seen[op_id]}'s")
            seen[op_id] = f"{method} {path}"
            operation["operationId"] = op_id
            _declare_errors(operation, route)
            if operation.get("security"):
                operation["x-roles"] = _roles(route)
            _hoist_defs(operation, components)
    components["Role"] = {
        "type": "string",
        "enum": [r.value for r in Role],
        "title": "Role",
        "description": "An API key's role; each operation's `x-roles` lists those it admits.",
    }
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)


def _error_schemas() -> dict[str, Any]:
    body = ErrorBody.model_json_schema(ref_template=_SCHEMAS + "{model}")
    defs = body.pop("$defs", {})
    return {**defs, "ErrorBody": body}


def _dependants(dependant: Dependant) -> Iterable[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _calls(route: Any) -> list[Callable[..., Any]]:
    return [d.call for d in _dependants(route.dependant) if d.call is not None]


def _roles(route: Any) -> list[str]:
    """The roles a route admits: those its ``require_roles(...)`` names (with admin), or all."""
    for call in _calls(route):
        code, cells = getattr(call, "__code__", None), getattr(call, "__closure__", None)
        if code is None or not cells or "allowed" not in code.co_freevars:
            continue
        if getattr(call, "__qualname__", "").startswith("require_roles."):
            allowed = cells[code.co_freevars.index("allowed")].cell_contents
            return sorted(Role(r).value for r in allowed)
    return sorted(r.value for r in Role)


def _statuses(operation: dict[str, Any], route: Any) -> set[int]:
    calls = {getattr(c, "__qualname__", "") for c in _calls(route)}
    statuses = {int(s) for s in operation.get("responses", {}) if s.isdigit() and int(s) >= 400}
    statuses.add(422)  # a bad parameter, body or an unknown query parameter
    if "requestBody" in operation:
        statuses.add(413)  # a body over the limit (api/limits.py)
    if operation.get("security"):
        statuses |= {401, 503}  # the key is looked up in the store
    if any(c.startswith("require_roles.") for c in calls):
        statuses.add(403)
    if "{" in route.path_format:
        statuses.add(404)
    if any(c is get_store for c in _calls(route)):
        statuses.add(503)
    return statuses


def _declare_errors(operation: dict[str, Any], route: Any) -> None:
    responses = operation.setdefault("responses", {})
    for status in sorted(_statuses(operation, route)):
        declared = responses.get(str(status), {})
        content = declared.get("content", {}).get("application/json", {})
        response: dict[str, Any] = {
            "description": declared.get("description") or _DESCRIPTIONS.get(status, "An error."),
            "content": {
                "application/json": {
                    **{k: v for k, v in content.items() if k != "schema"},
                    "schema": {"$ref": _SCHEMAS + "ErrorBody"},
                }
            },
        }
        if status in _HEADERS:
            response["headers"] = _HEADERS[status]
        responses[str(status)] = response
    operation["responses"] = dict(sorted(responses.items()))


def _hoist_defs(operation: dict[str, Any], components: dict[str, Any]) -> None:
    """Inline request schemas (``openapi_extra``) carry their ``$defs``: move them to the
    components, and their references with them."""
    for media in operation.get("requestBody", {}).get("content", {}).values():
        if "schema" not in media:
            continue
        media["schema"] = _local_refs_to_components(media["schema"])
        defs = media["schema"].pop("$defs", None) or {}
        for name, definition in defs.items():
            if name in components and components[name] != definition:
                raise ValueError(f"two schemas are named {name!r}")
            components[name] = definition


def _local_refs_to_components(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (
                _SCHEMAS + v.removeprefix("#/$defs/")
                if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/")
                else _local_refs_to_components(v)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_local_refs_to_components(v) for v in node]
    return node
