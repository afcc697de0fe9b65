"""The HTTP application: one router per audience, problems for errors, OpenAPI published."""

from __future__ import annotations

from fastapi import FastAPI

from rempart import __version__
from rempart.api import problems
from rempart.api.routes import banks, health, scan, tokens
from rempart.runtime import Runtime


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="rempart",
        version=__version__,
        description="Hash matching at upload, hash banks and retro-scan. "
                    "Authenticate with 'Authorization: Bearer <token>'.",
    )
    app.state.runtime = runtime
    problems.install(app)
    for router in (health.router, scan.router, banks.router, tokens.router):
        app.include_router(router)
    return app
