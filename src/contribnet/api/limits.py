"""Limits on request bodies (``domain/limits.py``): their size, enforced before the body is
read, and strict JSON on every route that takes a JSON body.

A body that declares more than :data:`~contribnet.domain.limits.MAX_BODY_BYTES` in its
``Content-Length`` is refused with 413 without reading a byte of it; a body sent without one
(chunked) is counted while it streams and refused with 413 as soon as it passes the limit; the
application then sees the client as gone and whatever it answers is dropped.

A JSON body is parsed once, strictly (``domain/strict_json.py``): an object repeating a key or
nesting past ``MAX_JSON_DEPTH`` is refused with 422 naming the key or ``body``, whatever the
depth (no ``RecursionError``). Every router is an ``APIRouter(route_class=StrictJsonRoute)``, so
FastAPI's own body parsing is the strict one; the two routes that read their body raw
(``POST /v1/events``, ``POST /v1/policies``) parse it with ``strict_json`` themselves.
``tests/api/test_strict_json_everywhere.py`` sends a repeated key and a deep body to every route
of the OpenAPI document that takes JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contribnet.domain import strict_json
from contribnet.domain.limits import MAX_BODY_BYTES

__all__ = [
    "BodyLimit",
    "BodyRefused",
    "StrictJsonRequest",
    "StrictJsonRoute",
    "too_large_body",
]


class BodyRefused(HTTPException):
    """A JSON body refused by the strict parser: 422 naming the repeated key, or ``body``
    (not JSON, or nested too deep). An ``HTTPException`` so that FastAPI, which turns any other
    error while reading a body into a 400, passes it on to its handler (``api/errors.py``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(422, f"{field}: {message}")
        self.field = field
        self.message = message


class StrictJsonRequest(Request):
    """A request whose ``json()`` is ``strict_json.loads`` (parsed once, then kept)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = strict_json.loads(await self.body())
            except strict_json.JsonRefused as exc:
                raise BodyRefused(exc.field, exc.message) from None
        return self._json


class StrictJsonRoute(APIRoute):
    """A route whose JSON body is read by :class:`StrictJsonRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict


def too_large_body(limit: int) -> bytes:
    """The 413 body: the limit named, as field ``body``."""
    message = f"the request body is larger than the limit of {limit:,} bytes"
    return json.dumps(
        {
            "detail": f"body: {message}; nothing was read or written",
            "errors": [{"field": "body", "message": message}],
        }
    ).encode()


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed Content-Length itself
    return None


class BodyLimit:
    """Pure ASGI middleware: 413 for a body over ``max_bytes`` (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        body = too_large_body(self.max_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return

        received = 0
        refused = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    if not started:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out; the application's answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise
