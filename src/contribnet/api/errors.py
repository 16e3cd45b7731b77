"""Domain errors mapped to HTTP, in one place."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from contribnet.domain.errors import ConflictError, InvalidEvents, NotFound


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InvalidEvents)
    async def _invalid(_: Request, exc: InvalidEvents) -> JSONResponse:
        errors = [{k: v for k, v in asdict(e).items() if v is not None} for e in exc.errors]
        return JSONResponse(status_code=422, content={"detail": str(exc), "errors": errors})

    @app.exception_handler(ConflictError)
    async def _conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc), "ids": exc.ids})

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        shown = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse(status_code=422, content={"detail": shown, "errors": errors})
