"""Fixtures for the exchange tests: the local NCMEC / ThreatExchange / StopNCII servers, and a
helper that configures one as a source of a runtime."""

from __future__ import annotations

import pytest

from rempart.config import secret_from_environment
from rempart.exchanges import service
from rempart.exchanges.testservers import UpstreamServer
from rempart.exchanges.transport import RetryPolicy

FAST = service.SyncOptions(policy=RetryPolicy(attempts=6, backoff=0.01, max_wait=2.0))


def pdq(i: int) -> str:
    """A distinct, valid PDQ hash per ``i`` (far apart: each bit pattern is a hash of ``i``)."""
    import hashlib

    return hashlib.sha256(f"pdq-{i}".encode()).hexdigest()


@pytest.fixture
def upstream():
    servers = []

    def make(kind: str, **kw) -> UpstreamServer:
        server = UpstreamServer(kind, **kw).start()
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()


def add_source(rt, server: UpstreamServer, name: str, bank: str, **options):
    cred = rt.settings.home / f"{name}.credential"
    rt.settings.ensure_home()
    cred.write_text(server.credential + "\n")
    if server.kind == "threatexchange":
        options.setdefault("privacy_group", server.privacy_group)
    if server.kind != "ncmec":  # NCMEC's server chooses its page size
        options.setdefault("page_size", server.page_size)
    with rt.db.session() as s:
        service.add_exchange(s, rt.settings.home, name, kind=server.kind, bank=bank, url=server.url,
                             credential_ref=f"file:{cred}", options=options)


def sync(rt, name: str, options: service.SyncOptions = FAST) -> service.SyncResult:
    return rt.sync_exchange(name, options)


def direct_sync(rt, name: str, options: service.SyncOptions = FAST) -> service.SyncResult:
    return service.sync_exchange(rt.db, rt.settings.home, name, secret_from_environment, options)
