"""The site factory: one signed-in site (the console, the portal) as a FastAPI app of its own.

A site is a ``render.Site`` (who may sign into it, its title and navigation) with its routers
(each from ``security.console_router``, so CSRF is checked on every route), its static files,
security headers and HTML error pages. Logging in, out and changing one's password
(``routes.auth``) are included in every site; the session gate (``security``) refuses a session
whose role belongs to another site's audience, and the login refuses it too.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from rempart.errors import AuthError, Overloaded, PermissionDenied, RempartError
from rempart.httpgate import BodyLimit
from rempart.moderation import ExposureLimitReached
from rempart.runtime import Runtime
from rempart.web.render import Site, page, redirect
from rempart.web.routes import auth
from rempart.web.security import PasswordChangeRequired

log = logging.getLogger("rempart.web")

#: scripts and styles only from the site itself; no framing; forms post only here
CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self'; script-src 'self'; "
       "style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")


def create_site(runtime: Runtime, site: Site, routers: Sequence[APIRouter], static: Path, *,
                csp: str = CSP, sign_in: bool = True, max_body: int) -> FastAPI:
    """A site over ``runtime``: its routers (with ``sign_in``, ``routes.auth`` first), ``/static``
    from ``static``, bodies of at most ``max_body`` bytes, headers and error pages. No
    development routes exist, in any mode."""
    app = FastAPI(title=site.title, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = runtime
    app.state.site = site
    for router in ((auth.router,) if sign_in else ()) + tuple(r for r in routers
                                                               if r is not auth.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=static), name="static")
    app.add_middleware(BodyLimit, default=max_body, render=render_error)
    install_headers(app, csp)
    _install_errors(app)
    return app


def install_headers(app: FastAPI, csp: str) -> None:
    @app.middleware("http")
    async def _security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", csp)
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
        log.error("site request failed: %r", exc, exc_info=exc)
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
        log.error("site request failed", exc_info=exc)
        return _error_page(request, 500, "Something went wrong", "internal error")
