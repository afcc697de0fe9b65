"""``POST /v1/scan?mode=async`` and ``GET /v1/scans/{scan_id}`` on the embedded default (no
NATS: this process's threads scan), and ``GET /metrics``."""

from __future__ import annotations

import re
import time

from tests.api.conftest import auth
from tests.workers.helpers import bank_pictures, pictures


def _wait(client, token, scan_id) -> dict:
    for _ in range(200):
        body = client.get(f"/v1/scans/{scan_id}", headers=auth(token)).json()
        if body["status"] != "queued":
            return body
        time.sleep(0.05)
    raise AssertionError("the asynchronous scan did not finish")


def test_async_and_sync_scans_agree(runtime, client, tokens):
    banked, other = pictures(2)
    bank_pictures(runtime, "known", [banked])
    token = tokens["platform"]
    for data in (banked, other):
        sync = client.post("/v1/scan", files={"file": data}, data={"account": "a"},
                           headers=auth(token))
        assert sync.status_code == 200
        queued = client.post("/v1/scan?mode=async", files={"file": data}, data={"account": "a"},
                             headers=auth(token))
        assert queued.status_code == 202
        scan_id = queued.json()["scan_id"]
        assert queued.headers["location"] == f"/v1/scans/{scan_id}"
        done = _wait(client, token, scan_id)
        assert done["status"] == "done" and done["mode"] == "async"
        a, b = sync.json(), done["result"]
        assert a["item"] != b["item"]
        assert (a["verdict"], a["matches"], a["media"]) == (b["verdict"], b["matches"], b["media"])
    signals = {"signals": [{"type": "sha256", "value": "ab" * 32}]}
    queued = client.post("/v1/scan?mode=async", json=signals, headers=auth(token))
    assert _wait(client, token, queued.json()["scan_id"])["result"]["verdict"] == "allow"


def test_bad_input_is_refused_or_reported(client, tokens):
    token = tokens["platform"]
    bad = client.post("/v1/scan?mode=async", json={"signals": [{"type": "pdq", "value": "zz"}]},
                      headers=auth(token))
    assert bad.status_code == 400  # malformed signals: refused at once, nothing queued
    queued = client.post("/v1/scan?mode=async", files={"file": b"not media"}, headers=auth(token))
    failed = _wait(client, token, queued.json()["scan_id"])
    assert failed["status"] == "failed" and failed["problem"]["status"] == 415
    assert client.post("/v1/scan?mode=later", files={"file": b"x"},
                       headers=auth(token)).status_code == 422
    for unknown in ("0" * 32, "nope"):
        assert client.get(f"/v1/scans/{unknown}", headers=auth(token)).status_code == 404
    assert client.get(f"/v1/scans/{'0' * 32}").status_code == 401
    assert client.get(f"/v1/scans/{'0' * 32}", headers=auth(tokens["curator"])).status_code == 403


def test_metrics_count_scans_without_naming_anyone(runtime, client, tokens):
    banked, = pictures(1)
    bank_pictures(runtime, "known", [banked])
    r = client.post("/v1/scan", files={"file": banked}, data={"account": "acct-secret"},
                    headers=auth(tokens["platform"]))
    assert r.status_code == 200
    text = client.get("/metrics").text
    for name in ("rempart_scans_total", "rempart_verdicts_total", "rempart_stage_seconds_bucket",
                 "rempart_index_entries", "rempart_index_change_age_seconds",
                 "rempart_outbox_backlog", "rempart_queue_backlog", "rempart_sla_breaches",
                 "rempart_scan_requests", "rempart_witness_cosignatures_missing"):
        assert name in text, name
    for stage in ("decode", "hash", "match", "write"):
        assert f'rempart_stage_seconds_count{{stage="{stage}"}}' in text
    assert re.search(r'rempart_verdicts_total\{verdict="block"\} [1-9]', text)
    sha = r.json()["media"]["sha256"]
    assert "acct-secret" not in text and sha not in text and not re.search(r"[0-9a-f]{32}", text)
