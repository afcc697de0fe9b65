"""Scale-out mode, measured in one run (scripts/topology: nats-server, API node, workers as
processes on 127.0.0.1), reported as ratios:

1. throughput: the same burst of asynchronous scans (benign pictures of tests/data) drained by
   1 worker, then by 2 workers (scans/s, ratio 2:1);
2. latency through the HTTP API under a load generator (``--clients`` threads sending
   synchronous scans back to back): p50/p99 in scale-out mode (through the stream and 2
   workers) against the embedded default (the API node scans in the request), same load;
3. bank-change propagation: from the commit of a bank change on one node to both workers'
   indexes applying it (read on their /metrics), against the 1 s target.

    .venv/bin/python bench/scaleout.py [--scans 60] [--clients 4] [--seconds 15]
                                       [--database postgresql+psycopg://postgres@127.0.0.1/bench]

Use PostgreSQL for figures (SQLite serialises the writers of every process on one file lock).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import types
from importlib.machinery import SourceFileLoader
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from rempart.banks import service as banks
from rempart.banks.entries import ConfirmedItem
from rempart.config import Settings
from rempart.runtime import Runtime
from rempart.signals import fingerprint
from rempart.workers.models import ScanRequest

ROOT = Path(__file__).resolve().parent.parent
_loader = SourceFileLoader("topology", str(ROOT / "scripts" / "topology"))
topology = types.ModuleType("topology")
topology.__file__ = _loader.path
_loader.exec_module(topology)
PICTURES = sorted((ROOT / "tests" / "data" / "images" / "pdq" / "labelme-subset").glob("*"))


CREATED: list[tuple[object, str]] = []


def fresh_database(server: str | None, home: Path) -> str:
    if not server:
        return f"sqlite:///{home / 'rempart.db'}"
    url = make_url(server)
    name = f"rempart_bench_{int(time.time())}_{home.name[-6:]}".lower().replace("-", "_")
    with create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT").connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    CREATED.append((url, name))
    return url.set(database=name).render_as_string(hide_password=False)


def drop_databases() -> None:
    for url, name in CREATED:
        with create_engine(url.set(database="postgres"),
                           isolation_level="AUTOCOMMIT").connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def client_for(topo) -> httpx.Client:
    token = topo.rempart("token", "create", f"bench-{time.monotonic_ns()}", "--scope",
                         "platform").stdout.strip()
    api = next(n for n in topo.nodes if n.kind == "api")
    return httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {token}"},
                        timeout=120)


def drain(topo, node: Runtime, uploads: list[bytes]) -> float:
    """Submit every upload asynchronously, return scans/s until the last is done."""
    client = client_for(topo)
    with node.db.session() as s:
        before = s.scalar(select(func.count()).select_from(ScanRequest)
                          .where(ScanRequest.status != "queued"))
    start = time.perf_counter()
    for data in uploads:
        r = client.post("/v1/scan?mode=async", files={"file": data}, data={"account": "bench"})
        r.raise_for_status()
    while True:
        with node.db.session() as s:
            done = s.scalar(select(func.count()).select_from(ScanRequest)
                            .where(ScanRequest.status != "queued")) - before
        if done >= len(uploads):
            return len(uploads) / (time.perf_counter() - start)
        time.sleep(0.05)


def load(client: httpx.Client, uploads: list[bytes], clients: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    def run(i: int) -> None:
        n = i
        while time.monotonic() < stop:
            t = time.perf_counter()
            r = client.post("/v1/scan", files={"file": uploads[n % len(uploads)]},
                            data={"account": f"load-{i}"})
            if r.status_code == 200:
                latencies.append(time.perf_counter() - t)
            n += clients
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scans", type=int, default=60, help="scans in each throughput burst")
    ap.add_argument("--clients", type=int, default=4, help="load generator threads")
    ap.add_argument("--seconds", type=float, default=15.0, help="duration of each load phase")
    ap.add_argument("--changes", type=int, default=10, help="bank changes timed")
    ap.add_argument("--database", help="a PostgreSQL server URL (a fresh database is made)")
    args = ap.parse_args()
    uploads = [p.read_bytes() for p in PICTURES]
    burst = [uploads[i % len(uploads)] for i in range(args.scans)]
    results: dict[str, float] = {}

    # -- embedded default: the API node scans in the request
    home = Path(tempfile.mkdtemp(prefix="rempart-bench-embedded-"))
    with topology.Topology(home, fresh_database(args.database, home)) as topo:
        topo.nats_url = ""
        topo.api()
        lat_embedded = load(client_for(topo), uploads, args.clients, args.seconds)

    home = Path(tempfile.mkdtemp(prefix="rempart-bench-scaleout-"))
    with topology.Topology(home, fresh_database(args.database, home)) as topo:
        topo.start_nats()
        topo.api()
        settings = Settings(home=home, database_url=topo.database_url, nats_url=topo.nats_url)
        node = Runtime(settings, migrate=False, node_name="bench")
        with node.db.session() as s:
            banks.create_bank(s, "bench")
        node.bank_media("bench", fingerprint(uploads[0]))
        one = topo.worker()
        results["1 worker scans/s"] = drain(topo, node, burst)
        two = topo.worker()
        results["2 workers scans/s"] = drain(topo, node, burst)
        lat_scaleout = load(client_for(topo), uploads, args.clients, args.seconds)

        delays = []
        for i in range(args.changes):
            fp = fingerprint(uploads[(i + 1) % len(uploads)])
            start = time.perf_counter()
            with node.db.session() as s:
                banks.add_items(s, banks.get_bank(s, "bench"),
                                [ConfirmedItem.from_fingerprint(fp, f"bench-{i}", None)], "")
            with node.db.session() as s:
                seq = s.scalar(text("SELECT max(seq) FROM bank_changes"))
            pending = {id(one): one, id(two): two}
            while pending and time.perf_counter() - start < 10:
                for key, w in list(pending.items()):
                    if w.metrics()["rempart_index_seq"] >= seq:
                        del pending[key]
                time.sleep(0.005)
            delays.append(time.perf_counter() - start)
        node.close()

    ratio = results["2 workers scans/s"] / results["1 worker scans/s"]
    print(f"throughput: 1 worker {results['1 worker scans/s']:.1f} scans/s, 2 workers "
          f"{results['2 workers scans/s']:.1f} scans/s: {ratio:.2f}x")
    for name, lat in (("embedded", lat_embedded), ("scale-out (2 workers)", lat_scaleout)):
        print(f"sync latency {name}: {len(lat)} scans, p50 {pct(lat, 50) * 1000:.1f} ms, "
              f"p99 {pct(lat, 99) * 1000:.1f} ms")
    print(f"latency ratio scale-out / embedded: p50 {pct(lat_scaleout, 50) / pct(lat_embedded, 50):.2f}x, "
          f"p99 {pct(lat_scaleout, 99) / pct(lat_embedded, 99):.2f}x; throughput under load "
          f"{len(lat_scaleout) / max(1, len(lat_embedded)):.2f}x")
    print(f"bank change to both workers: median {statistics.median(delays) * 1000:.0f} ms, max "
          f"{max(delays) * 1000:.0f} ms ({max(delays):.2f}x the 1 s target)")


if __name__ == "__main__":
    try:
        main()
    finally:
        drop_databases()
