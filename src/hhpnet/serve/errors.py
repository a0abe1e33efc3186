"""Errors of ``hhpnet serve`` as HTTP answers: every one is ``{"error": "<one line>"}`` with a 4xx
status (503 + ``Retry-After`` when full); a bug is a 500 with a fixed line and its traceback goes to
the server's log only (docs/serve.md, docs/errors.md).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from hhpnet.errors import HhpnetError, InputError
from hhpnet.serve import schema
from hhpnet.serve.engine import Busy, TooLarge

__all__ = [
    "BadParameter",
    "UnsupportedType",
    "add_error_handlers",
    "error_response",
    "error_responses",
]

log = logging.getLogger("hhpnet.serve")


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these status codes."""
    text = {
        400: "unreadable or empty upload",
        401: "missing or wrong token",
        404: "no such job or file",
        413: "over the size limit (bytes or pixels)",
        415: "unsupported Content-Type",
        422: "bad parameter",
        503: "busy: retry after the seconds in Retry-After",
    }
    return {c: {"model": schema.ErrorBody, "description": text[c]} for c in codes}


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class BadParameter(InputError):
    """A parameter the schema cannot check (e.g. an interaction ``param``): 422."""


class UnsupportedType(InputError):
    """415."""


def add_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error": "<one line>"}`` (see the module docstring)."""

    @app.exception_handler(InputError)
    async def inputerror_response(request: Request, exc: InputError) -> JSONResponse:
        status = (
            413
            if isinstance(exc, TooLarge)
            else 422
            if isinstance(exc, BadParameter)
            else 415
            if isinstance(exc, UnsupportedType)
            else 400
        )
        return error_response(status, str(exc).splitlines()[0] if str(exc) else "bad request")

    @app.exception_handler(HhpnetError)
    async def hhpneterror_response(request: Request, exc: HhpnetError) -> JSONResponse:
        return error_response(400, str(exc).splitlines()[0] if str(exc) else "bad request")

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        retry = "30" if request.url.path.startswith("/v1/videos") else "1"
        return error_response(503, "the server is busy: try again shortly", {"Retry-After": retry})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
        msg = str(first.get("msg", "invalid request")).splitlines()[0]
        return error_response(422, f"{where}: {msg}" if where else msg)

    @app.exception_handler(StarletteHTTPException)
    async def httperror_response(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail).splitlines()[0], exc.headers)

    @app.exception_handler(ClientDisconnect)
    async def gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
        # the client stopped its upload: nobody reads this answer, and it is not a bug
        return error_response(400, "the client closed the connection before the end of its upload")

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal server error (logged on the server)")
