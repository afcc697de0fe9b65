"""The console application: its routers, static files, security headers and error pages.

A FastAPI app of its own, mounted by ``rempart.api.app.create_app`` under ``MOUNT_PATH``, so its
errors are HTML pages (not the API's JSON problems), its routes stay out of the API's OpenAPI
document, and the CSRF check (``security.csrf_protect``) is a dependency of every route (every
router comes from ``security.console_router``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from rempart.errors import AuthError, Overloaded, PermissionDenied, RempartError
from rempart.httpgate import BodyLimit
from rempart.moderation import ExposureLimitReached
from rempart.runtime import Runtime
from rempart.web.render import page, redirect
from rempart.web.routes import account, audit, auth, cases, investigate, leads, review
from rempart.web.security import PasswordChangeRequired

MOUNT_PATH = "/console"
#: the body of a console form (the largest are decisions with their facts)
MAX_BODY = 256 * 1024
STATIC = Path(__file__).parent / "static"
ROUTERS = (auth.router, cases.router, review.router, leads.router, audit.router,
           investigate.router, account.router)
log = logging.getLogger("rempart.web")

#: scripts and styles only from the console itself; no framing; forms post only here
CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self'; script-src 'self'; "
       "style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")


def create_console(runtime: Runtime) -> FastAPI:
    """The console over ``runtime`` (no development routes exist, in any mode)."""
    app = FastAPI(title="rempart console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = runtime
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, default=MAX_BODY, render=render_error)
    _install_headers(app)
    _install_errors(app)
    return app


def _install_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def _security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response


def _error_page(request: Request, status: int, title: str, message: str, template="error.html"):
    return page(request, template, None, status=status, title=title, message=message)


async def render_error(request: Request, exc: RempartError):
    """The page for a rempart error: log in again, a break, or what went wrong."""
    if isinstance(exc, PasswordChangeRequired):
        return redirect(request, "/password")
    if isinstance(exc, AuthError) and not isinstance(exc, PermissionDenied):
        if request.method == "GET":
            return redirect(request, "/login")
        return _error_page(request, 401, "Signed out", str(exc))
    if isinstance(exc, ExposureLimitReached):
        return _error_page(request, 429, "Time for a break", str(exc), "break.html")
    if not exc.safe_to_show:
        log.error("console request failed: %r", exc, exc_info=exc)
        return _error_page(request, 500, "Something went wrong", "internal error")
    titles = {403: "Not allowed", 404: "Not found", 409: "Not possible now", 413: "Too large",
              503: "Busy, try again shortly"}
    response = _error_page(request, exc.status, titles.get(exc.status, "Cannot do that"),
                           str(exc))
    if isinstance(exc, Overloaded):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _install_errors(app: FastAPI) -> None:
    app.add_exception_handler(RempartError, render_error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in exc.errors())
        return _error_page(request, 422, "Cannot do that", f"check these fields: {fields}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        return _error_page(request, exc.status_code, "Not available", str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.error("console request failed", exc_info=exc)
        return _error_page(request, 500, "Something went wrong", "internal error")
