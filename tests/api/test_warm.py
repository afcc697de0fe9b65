"""Readiness implies warm kernels: /readyz says ready only once every kernel an upload reaches
is compiled, and scanning uploads afterwards compiles nothing more."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from rempart.api.app import create_app
from rempart.matching import _kernels as matching_kernels
from rempart.scanning import warm as warm_module
from rempart.signals import _kernels as signal_kernels
from tests.openapi_check import checked_client

IMAGES = Path(__file__).resolve().parents[1] / "data" / "images" / "pdq"
UPLOADS = ["misc/b.jpg", "misc/c.png", "misc/small.jpg", "modes/L.png", "modes/CMYK.jpg",
           "modes/RGBA.png", "modes/F.webp", "modes/YCbCr.jpg", "dih/" + "bridge-1-original.jpg"]


def _compiled() -> dict[str, int]:
    """How many array signatures each numba kernel of the scan path has been compiled for."""
    out = {}
    for module in (signal_kernels, matching_kernels):
        for name, value in vars(module).items():
            if hasattr(value, "signatures") and hasattr(value, "py_func"):
                out[f"{module.__name__}.{name}"] = len(value.signatures)
    return out


def _wait_ready(client, seconds: float = 120.0):
    deadline = time.monotonic() + seconds
    while True:
        r = client.get("/readyz")
        if r.status_code == 200 or time.monotonic() > deadline:
            return r
        time.sleep(0.05)


def test_readyz_waits_for_the_kernels_and_no_upload_compiles_after(runtime, tokens, monkeypatch):
    gate = threading.Event()
    real = warm_module.warm_signals

    def held():
        gate.wait(60)
        return real()

    monkeypatch.setattr(warm_module, "_DONE", threading.Event())  # this process: not warm yet
    monkeypatch.setattr(warm_module, "warm_signals", held)
    with checked_client(create_app(runtime), raise_server_exceptions=False) as client:
        assert client.get("/healthz").status_code == 200  # alive while warming
        r = client.get("/readyz")
        assert r.status_code == 503 and r.json() == {"status": "unavailable", "kernels": "warming"}
        gate.set()
        r = _wait_ready(client)
        assert r.status_code == 200 and r.json()["status"] == "ready"
        assert warm_module.is_warm()
        cur = {"Authorization": f"Bearer {tokens['curator']}"}
        client.post("/v1/banks", json={"name": "warm"}, headers=cur)
        r = client.post("/v1/banks/warm/entries", headers=cur, json={"entries": [
            {"type": "pdq", "value": f"{i:02x}" * 32, "external_id": f"e{i}"} for i in range(1, 40)]})
        assert r.status_code < 300, r.text
        before = _compiled()
        assert before["rempart.signals._kernels.luma64"] > 0
        assert before["rempart.signals._kernels.edge_run"] > 0
        assert before["rempart.matching._kernels.scan_query"] > 0
        plat = {"Authorization": f"Bearer {tokens['platform']}"}
        for name in UPLOADS:
            path = IMAGES / name
            if not path.exists():
                continue
            r = client.post("/v1/scan", files={"file": (path.name, path.read_bytes())}, headers=plat)
            assert r.status_code == 200, r.text
        assert _compiled() == before  # nothing left for a request to compile
