"""The HTTP application: one router per audience, problems for errors, OpenAPI published."""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI

from rempart import __version__
from rempart.api import problems
from rempart.api.publication import LOG_PATH, REPORTS_PATH, create_log_app, create_reports_app
from rempart.api.routes import (banks, exchange, health, home, legal, metrics, moderation,
                                 notices, scan, tokens)
from rempart.httpgate import BodyLimit
from rempart.moderation import OutboxWorker
from rempart.observe import probes
from rempart.runtime import Runtime
from rempart.scanning.warm import warm
from rempart.store.periodic import Periodic
from rempart.transparency.db.witnesses import WitnessWorker
from rempart.web import MOUNT_PATH, create_console
from rempart.web.officers import OFFICERS_PATH, create_officers_portal
from rempart.web.portal import PORTAL_PATH, create_portal
from rempart.web.public import PUBLIC_PATH, create_public

#: the body of an API request whose route declares no limit of its own (``httpgate.max_body``)
DEFAULT_MAX_BODY = 1 << 20


#: how often ``rempart serve`` looks for exchange sources whose interval has passed
EXCHANGE_ROUND_SECONDS = 30.0


def create_app(runtime: Runtime, *, outbox_worker: bool = True, witness_worker: bool = True,
               exchange_worker: bool = True) -> FastAPI:
    """The app over ``runtime``. While it runs, in-process workers deliver the outbox (signed
    webhooks to the platform and to organisations) and run what follows a commit
    (``Runtime.follow_up``), unless ``outbox_worker`` is False, and ask the log's witnesses for
    missing cosignatures unless ``witness_worker`` is False, and sync the hash-sharing exchanges
    when each one's interval has passed (then deliver reviewers' feedback to them) unless
    ``exchange_worker`` is False."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        workers = []
        if outbox_worker:
            workers.append(OutboxWorker(runtime.db))
            workers.append(Periodic("rempart-follow-up", 2.0, runtime.follow_up,
                                    "rempart.follow-up", "follow-up round failed"))
        if outbox_worker:  # the replica's snapshots, written in the background
            workers.append(Periodic("rempart-snapshots", 30.0, runtime.snapshot_round,
                                    "rempart.snapshots", "snapshot round failed"))
        if witness_worker:
            workers.append(WitnessWorker(runtime.db, runtime.transparency, runtime.settings.witness_retry,
                                         runtime.settings.witness_timeout))
        if exchange_worker:
            workers.append(Periodic("rempart-exchanges", EXCHANGE_ROUND_SECONDS, runtime.exchange_round,
                                    "rempart.exchanges", "exchange sync round failed"))
        for worker in workers:
            worker.start()
        # compile the scan path's kernels before /readyz says ready (rempart.scanning.warm)
        threading.Thread(target=warm, name="rempart-warm", daemon=True).start()
        if runtime.bus is None and outbox_worker:  # asynchronous scans spooled before a restart
            runtime.scans.recover()
        try:
            yield
        finally:
            for worker in workers:
                worker.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="rempart",
        version=__version__,
        description="Hash matching at upload, hash banks and retro-scan. "
                    "Authenticate with 'Authorization: Bearer <token>'.",
    )
    app.state.runtime = runtime
    probes.register(runtime)
    # bodies are counted while they stream, and refused past the route's limit (request ids
    # and problems, installed after, wrap it)
    app.add_middleware(BodyLimit, default=DEFAULT_MAX_BODY, render=problems.error_response)
    problems.install(app)
    for router in (home.router, health.router, metrics.router, scan.router, banks.router, tokens.router,
                   moderation.router, notices.router, legal.router, exchange.router):
        app.include_router(router)
    # the moderation console: its own app (HTML errors, CSRF on every form, not in OpenAPI)
    app.mount(MOUNT_PATH, create_console(runtime))
    # organisations' analysts (their own site: only role analyst signs in) and the public
    app.mount(PORTAL_PATH, create_portal(runtime))
    app.mount(PUBLIC_PATH, create_public(runtime))
    # law-enforcement officers (their own site: only role officer signs in)
    app.mount(OFFICERS_PATH, create_officers_portal(runtime))
    # the transparency log and its reports, live and public (what `transparency publish` writes)
    app.mount(LOG_PATH, create_log_app(runtime))
    app.mount(REPORTS_PATH, create_reports_app(runtime))
    return app
