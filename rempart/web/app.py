"""The console application: its routers, static files, security headers and error pages.

A FastAPI app of its own, mounted by ``rempart.api.app.create_app`` under ``MOUNT_PATH``, so its
errors are HTML pages (not the API's JSON problems), its routes stay out of the API's OpenAPI
document, and the CSRF check (``security.csrf_protect``) is a dependency of every route (every
router comes from ``security.console_router``). The app itself is ``web.site.create_site``'s,
which the organisations' portal (``web.portal``) shares.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from rempart.runtime import Runtime
from rempart.web.render import CONSOLE
from rempart.web.routes import account, audit, auth, cases, investigate, leads, legal, orgs, review
from rempart.web.site import create_site

MOUNT_PATH = "/console"
#: the body of a console form (the largest are decisions with their facts)
MAX_BODY = 256 * 1024
STATIC = Path(__file__).parent / "static"
ROUTERS = (auth.router, cases.router, review.router, leads.router, audit.router,
           investigate.router, account.router, orgs.router, legal.router)


def create_console(runtime: Runtime) -> FastAPI:
    """The console over ``runtime`` (no development routes exist, in any mode)."""
    return create_site(runtime, CONSOLE, ROUTERS, STATIC, max_body=MAX_BODY)
