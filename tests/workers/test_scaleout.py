"""Scale-out mode for real: a nats-server with JetStream, an API node and two scan workers as
processes (scripts/topology), over the test database (SQLite, or PostgreSQL with
REMPART_TEST_DATABASE_URL)."""

from __future__ import annotations

import importlib.machinery
import signal
import time
import types
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from rempart.config import ScaleOutConfig, Settings
from rempart.runtime import Runtime
from rempart.scanning.models import ScannedItem
from rempart.workers.models import ScanRequest
from tests.webhook_receiver import WebhookReceiver
from tests.workers.helpers import PICTURES, add_webhook, bank_pictures, effects, pictures

ROOT = Path(__file__).resolve().parents[2]
_loader = importlib.machinery.SourceFileLoader("topology", str(ROOT / "scripts" / "topology"))
topology = types.ModuleType("topology")
topology.__file__ = _loader.path
_loader.exec_module(topology)

#: an event a killed worker held is delivered again after this many seconds
ACK_WAIT = 3


@pytest.fixture
def topo(tmp_path, database_url):
    home = tmp_path / "home"
    home.mkdir()
    (home / "rempart.toml").write_text(f"[scaleout]\nack_wait_seconds = {ACK_WAIT}\n")
    with topology.Topology(home, database_url) as t:
        t.start_nats()
        t.api()
        yield t


@pytest.fixture
def node(topo):
    """This test's own node (a runtime in scale-out mode), to bank pictures and read the ledger."""
    settings = Settings(home=topo.home, database_url=topo.database_url, nats_url=topo.nats_url,
                        scaleout=ScaleOutConfig(ack_wait=ACK_WAIT))
    rt = Runtime(settings, migrate=False, node_name="test")
    yield rt
    rt.close()


def _client(topo) -> httpx.Client:
    token = topo.rempart("token", "create", "platform", "--scope", "platform").stdout.strip()
    api = next(n for n in topo.nodes if n.kind == "api")
    return httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {token}"},
                        timeout=60)


def _all_done(rt, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with rt.db.session() as s:
            if s.scalar(select(func.count()).select_from(ScanRequest)
                        .where(ScanRequest.status != "queued")) >= n:
                return
        time.sleep(0.2)
    raise AssertionError("the events were not all done")


def test_a_worker_killed_mid_stream_loses_nothing_and_doubles_nothing(topo, node):
    banked = pictures(2)
    bank_pictures(node, "known", banked)
    with WebhookReceiver("s" * 32) as receiver:
        add_webhook(node, receiver.url)
        client = _client(topo)
        first, second = topo.worker(concurrency=2), topo.worker(concurrency=2)
        uploads = [p.read_bytes() for p in PICTURES[:8]] * 5  # 40 events, 10 of them blocked
        before = effects(node.db)
        ids = []
        for i, data in enumerate(uploads):
            r = client.post("/v1/scan?mode=async", files={"file": data},
                            data={"account": f"acct-{i % 3}", "message": f"m{i}"})
            assert r.status_code == 202, r.text
            ids.append(r.json()["scan_id"])
            if i == 12:
                while sum(v for k, v in first.metrics().items()
                          if k.startswith("rempart_scans_total")) < 1:
                    time.sleep(0.05)
                first.kill(signal.SIGKILL)  # mid-stream, events in hand
        _all_done(node, len(ids), 120)
        after = effects(node.db)
        with node.db.session() as s:
            requests = list(s.scalars(select(ScanRequest).where(ScanRequest.id.in_(ids))))
            items = s.scalar(select(func.count(func.distinct(ScanRequest.item_id)))
                             .where(ScanRequest.id.in_(ids)))
            blocked = s.scalar(select(func.count()).select_from(ScannedItem)
                               .where(ScannedItem.verdict == "block"))
        assert {r.status for r in requests} == {"done"}
        assert items == len(ids) == after["items"] - before["items"]
        assert blocked == uploads.count(banked[0]) + uploads.count(banked[1]) == 10
        assert after["leaves"] - before["leaves"] == 10  # one log leaf per block, no more
        assert after["webhooks"] == len(ids)  # one scan.completed per event
        deadline = time.monotonic() + 60
        while len(receiver.applied) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sorted(receiver.applied) == sorted(f"scan:{i}" for i in ids)
        assert len(receiver.requests) == len(ids)  # each webhook sent once


def test_a_bank_change_reaches_every_worker_within_a_second(topo, node):
    workers = [topo.worker(), topo.worker()]
    bank_pictures(node, "known", pictures(1))
    seq = node.replica.seq
    for w in workers:
        deadline = time.monotonic() + 10
        while w.metrics()["rempart_index_seq"] < seq and time.monotonic() < deadline:
            time.sleep(0.05)
    start = time.monotonic()
    node.bank_media("known", node.fingerprint(PICTURES[5].read_bytes()))
    seq = node.replica.seq
    reached = {}
    while len(reached) < 2 and time.monotonic() - start < 5:
        for i, w in enumerate(workers):
            if i not in reached and w.metrics()["rempart_index_seq"] >= seq:
                reached[i] = time.monotonic() - start
        time.sleep(0.02)
    assert sorted(reached) == [0, 1]
    assert max(reached.values()) < 1.0, reached
    for w in workers:  # applied from the feed: the index grew by the one entry
        assert w.metrics()["rempart_index_entries"] == len(node.matcher)


def test_async_and_sync_agree_and_a_full_backlog_is_refused(topo, node):
    banked, other = pictures(2)
    bank_pictures(node, "known", [banked])
    client = _client(topo)
    topo.worker(concurrency=2)
    for data in (banked, other):
        sync = client.post("/v1/scan", files={"file": data}, data={"account": "a"})
        assert sync.status_code == 200, sync.text
        scan_id = client.post("/v1/scan?mode=async", files={"file": data},
                              data={"account": "a"}).json()["scan_id"]
        for _ in range(200):
            status = client.get(f"/v1/scans/{scan_id}").json()
            if status["status"] == "done":
                break
            time.sleep(0.05)
        a, b = sync.json(), status["result"]
        assert (a["verdict"], a["matches"], a["media"]) == (b["verdict"], b["matches"], b["media"])
    bad = client.post("/v1/scan", files={"file": b"not media"})
    assert bad.status_code == 415 and bad.json()["type"] == "unsupported-media"
    metrics = client.get("/metrics").text
    assert "rempart_stream_lag" in metrics and "rempart_scan_requests" in metrics


def test_when_workers_fall_behind_scans_are_refused_with_retry_after(tmp_path, database_url):
    home = tmp_path / "home"
    home.mkdir()
    (home / "rempart.toml").write_text("[scaleout]\nmax_pending = 3\nsync_timeout_seconds = 1\n")
    with topology.Topology(home, database_url) as topo:
        topo.start_nats()
        topo.api()
        client = _client(topo)
        signals = {"signals": [{"type": "sha256", "value": "ab" * 32}]}
        codes = [client.post("/v1/scan?mode=async", json=signals).status_code for _ in range(3)]
        assert codes == [202, 202, 202]  # no worker runs: they wait on the stream
        for path in ("/v1/scan?mode=async", "/v1/scan"):
            r = client.post(path, json=signals)
            assert r.status_code == 503 and r.headers["retry-after"] == "2"
            assert r.json()["type"] == "overloaded"
        lag = [line for line in client.get("/metrics").text.splitlines()
               if line.startswith("rempart_stream_lag ")]
        assert lag == ["rempart_stream_lag 3.0"]
        topo.worker()  # a worker catches up: the backlog drains, scans are taken again
        deadline = time.monotonic() + 30
        while client.post("/v1/scan", json=signals).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.2)
