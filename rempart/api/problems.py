"""Errors to HTTP: "safe to show" rempart errors become JSON problems; all else a generic 500.

Problem body: {"type": <stable type>, "title": <message>, "status": <code>, "request_id": <id>}
(plus "errors": [[line or field, message], ...] for hash-list imports and orders, "limit" for media limits, "field"
for a notice's offending field). An error with a ``retry_after`` (``Overloaded`` 503, a source
past its rate 429) carries a ``Retry-After`` header. Details of unexpected errors go to the log
only, under the same request id.
"""

from __future__ import annotations

import logging
import time
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rempart.errors import ImportFormatError, MediaLimitExceeded, RempartError
from rempart.observe import logs

log = logging.getLogger("rempart.api")
access = logging.getLogger("rempart.access")


def request_id(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    if rid is None:
        rid = request.state.request_id = uuid.uuid4().hex
    return rid


def problem(request: Request, status: int, type_: str, title: str, *,
            headers: dict[str, str] | None = None, **extra) -> JSONResponse:
    body = {"type": type_, "title": title, "status": status, "request_id": request_id(request)}
    body.update(extra)
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, headers=headers)


async def error_response(request: Request, exc: RempartError) -> JSONResponse:
    """The problem for a rempart error (a generic 500 for errors not safe to show)."""
    if not exc.safe_to_show:
        log.error("request %s failed: %r", request_id(request), exc, exc_info=exc)
        return problem(request, 500, "internal-error", "internal error")
    extra = {}
    if isinstance(exc, ImportFormatError) or isinstance(getattr(exc, "errors", None), list):
        extra["errors"] = [[where, msg] for where, msg in exc.errors[:1000]]
    if isinstance(exc, MediaLimitExceeded):
        extra["limit"] = exc.limit
    if isinstance(getattr(exc, "field", None), str):
        extra["field"] = exc.field
    if isinstance(getattr(exc, "retry_after", None), int):
        extra["headers"] = {"Retry-After": str(exc.retry_after)}
    return problem(request, exc.status, exc.type, str(exc), **extra)


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def _request_id(request: Request, call_next):
        rid = request_id(request)
        token = logs.request_id.set(rid)
        start = time.perf_counter()
        try:
            response = await call_next(request)
            response.headers["X-Request-Id"] = rid
            access.info("%s %s %s", request.method, request.url.path, response.status_code,
                        extra={"method": request.method, "path": request.url.path,
                               "status": response.status_code,
                               "seconds": round(time.perf_counter() - start, 6)})
            return response
        finally:
            logs.request_id.reset(token)

    app.add_exception_handler(RempartError, error_response)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return problem(request, 422, "invalid-request", "the request is malformed", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return problem(request, exc.status_code, "http-error", str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.error("request %s failed", request_id(request), exc_info=exc)
        return problem(request, 500, "internal-error", "internal error")
