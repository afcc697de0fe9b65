"""Benchmark: syncing N upstream entries into a live bank, and what it does to scanning.

A local NCMEC hash-sharing server (``rempart.exchanges.testservers``, real HTTP on 127.0.0.1,
the XML ``entries`` feed with its paging) holds N image records with one PDQ each. A runtime
with a live bank of L local entries scans precomputed PDQs without pause in a thread of its own
(a quarter planted from the local bank, the rest random), first idle, then while the runtime
syncs the N records into another bank, in the same process (as ``rempart serve``'s worker
does): fetch, parse, validate, bank, map upstream ids, commit the page with its checkpoint and
the sync's retro-scan job; then the runtime runs that job (one retro-scan of the ledger for
every entry added), the scanner still going.

Reported: the sync's time and entries/s (and the rate along the way, every 10% of the pages,
to show whether it holds as the bank grows); the retro-scan job's time; the scan latency p50 /
p99 / max and scans/s idle, during the sync and during the retro-scan job, and the ratios
(during / idle); and, side by side on the same server and window, fetching
and parsing every page with python-threatexchange's NCMEC client (``NCMECHashAPI``, the
reference client HMA uses) against rempart's transport and parser (no database in either).

Usage: python bench/exchange_sync.py [--entries 20000] [--live 10000] [--page-size 1000]
       python bench/exchange_sync.py --million          (1,000,000 upstream entries)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from rempart.banks import service as banks
from rempart.config import Settings
from rempart.exchanges import service as exchanges
from rempart.exchanges.protocols.ncmec import NcmecWire
from rempart.exchanges.testservers import UpstreamServer
from rempart.exchanges.transport import Transport
from rempart.matching.codec import hashes_to_hex
from rempart.runtime import Runtime


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q)) if values else float("nan")


class Scanner(threading.Thread):
    def __init__(self, rt: Runtime, planted: list[str], rng: np.random.Generator) -> None:
        super().__init__(daemon=True)
        self.rt, self.planted = rt, planted
        randoms = hashes_to_hex(rng.integers(0, 256, size=(4096, 32), dtype=np.uint8))
        self.queries = [planted[i % len(planted)] if i % 4 == 0 else randoms[i] for i in range(4096)]
        self.phase = "idle"
        self.latencies: dict[str, list[float]] = {"idle": [], "sync": [], "retro": []}
        self.stop = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            q = self.queries[i % len(self.queries)]
            t = time.perf_counter()
            self.rt.scan_signals([("pdq", q)])
            self.latencies[self.phase].append(time.perf_counter() - t)
            i += 1


def reference_fetch(server: UpstreamServer, start: int, stop: int) -> tuple[float, int]:
    """python-threatexchange's NCMEC client over every page of the window."""
    from threatexchange.exchanges.clients.ncmec.hash_api import NCMECEnvironment, NCMECHashAPI

    user, _, password = server.credential.partition(":")
    api = NCMECHashAPI(user, password, NCMECEnvironment.test_Industry)
    api._base_url = server.url  # the local server instead of NCMEC's
    t = time.perf_counter()
    n = sum(len(page.updates) for page in api.get_entries_iter(start_timestamp=start, end_timestamp=stop))
    return time.perf_counter() - t, n


def rempart_fetch(server: UpstreamServer, stop: int) -> tuple[float, int]:
    wire = NcmecWire({})
    t = time.perf_counter()
    n, checkpoint = 0, {}
    with Transport(server.url, "ncmec", server.credential) as http:
        while True:
            page = http.fetch_page(wire, checkpoint, stop)
            n += len(page.records)
            checkpoint = page.checkpoint
            if page.done:
                break
    return time.perf_counter() - t, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=20_000)
    ap.add_argument("--million", action="store_true", help="1,000,000 upstream entries")
    ap.add_argument("--live", type=int, default=10_000, help="local entries in the live bank")
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--idle-seconds", type=float, default=5.0)
    ap.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    ap.add_argument("--rest", type=float, default=1.0, help="the sync rests this fraction of each "
                    "page's time (rempart serve's worker: 1.0; `rempart exchange sync`: 0)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    n = 1_000_000 if args.million else args.entries
    rng = np.random.default_rng(7)

    server = UpstreamServer("ncmec", page_size=args.page_size).start()
    upstream = hashes_to_hex(rng.integers(0, 256, size=(n, 32), dtype=np.uint8))
    server.put_many((f"img-{i}", (("pdq", h),), ("classification:A1",)) for i, h in enumerate(upstream))
    del upstream
    server.settle()
    window_end = int(time.time())

    home = Path(tempfile.mkdtemp(prefix="rempart-bench-"))
    settings = Settings(home, args.database_url or f"sqlite:///{home / 'bench.db'}")
    rt = Runtime(settings)
    with rt.db.session() as s:
        banks.create_bank(s, "live")
    local = hashes_to_hex(rng.integers(0, 256, size=(args.live, 32), dtype=np.uint8))
    rt.add_entries("live", [banks.NewEntry("pdq", h) for h in local])
    rt.sync()
    cred = home / "ncmec.credential"
    cred.write_text(server.credential)
    with rt.db.session() as s:
        exchanges.add_exchange(s, home, "ncmec-bench", kind="ncmec", bank="ncmec-shared", url=server.url,
                               credential_ref=f"file:{cred}")

    scanner = Scanner(rt, list(local[:1000]), rng)
    rt.scan_signals([("pdq", local[0])])  # the replica is loaded before the idle window opens
    scanner.start()
    time.sleep(args.idle_seconds)
    scanner.phase = "sync"
    t0 = time.perf_counter()
    pages = -(-n // args.page_size)
    curve: list[dict] = []
    mark = [t0, 0]

    def on_page(r: exchanges.SyncResult) -> None:  # the rate over each tenth of the pages
        if r.pages % max(1, pages // 10) == 0 or r.pages == pages:
            now = time.perf_counter()
            curve.append({"entries": r.added, "per_second": round((r.added - mark[1]) / (now - mark[0]))})
            mark[:] = [now, r.added]
            if not args.json:
                print(f"  {r.added:>9,} entries after {now - t0:7.1f} s: {curve[-1]['per_second']:,}/s",
                      flush=True)

    result = rt.sync_exchange("ncmec-bench", exchanges.SyncOptions(rest=args.rest, on_page=on_page),
                              retro=False)
    sync_s = time.perf_counter() - t0
    scanner.phase = "retro"
    t1 = time.perf_counter()
    jobs = rt.run_retro_jobs(result.retro_job)
    retro_s = time.perf_counter() - t1
    scanner.stop.set()
    scanner.join()
    assert result.status == "ok" and result.added == n, result.to_json()
    assert result.retro_job is not None and jobs == 1
    with rt.db.session() as s:
        active = dict((b.name, c) for b, c in banks.list_banks(s))["ncmec-shared"]
    assert active == n

    ref_s, ref_n = reference_fetch(server, 0, window_end)
    ours_s, ours_n = rempart_fetch(server, window_end)
    assert ref_n == ours_n == n, (ref_n, ours_n)
    server.stop()

    idle, during, retro = (scanner.latencies[k] for k in ("idle", "sync", "retro"))

    def summary(values: list[float], seconds: float) -> dict:
        return {"scans": len(values), "scans_per_second": round(len(values) / seconds),
                "p50": round(pct(values, 50), 2), "p99": round(pct(values, 99), 2),
                "max": round(max(values) * 1000, 1) if values else None}

    out = {
        "entries": n, "live_bank": args.live, "page_size": args.page_size, "pages": result.pages,
        "database": settings.database_url.split(":")[0], "rest": args.rest,
        "sync_seconds": round(sync_s, 2), "entries_per_second": round(n / sync_s),
        "rate_along_the_sync": curve,
        "retro_job_seconds": round(retro_s, 2),
        "scan_ms_idle": summary(idle, args.idle_seconds),
        "scan_ms_during_sync": summary(during, sync_s),
        "scan_ms_during_retro_job": summary(retro, retro_s),
        "ratio_during_over_idle": {"p50": round(pct(during, 50) / pct(idle, 50), 2),
                                   "p99": round(pct(during, 99) / pct(idle, 99), 2)},
        "fetch_parse_seconds": {"rempart": round(ours_s, 2), "threatexchange": round(ref_s, 2),
                                "ratio_threatexchange_over_rempart": round(ref_s / ours_s, 2)},
    }
    if args.json:
        print(json.dumps(out))
        return
    print(f"synced {n:,} upstream entries ({result.pages} pages of {args.page_size}) into a live bank "
          f"({args.live:,} local entries, {out['database']}, rest {args.rest}) in {sync_s:.1f} s: "
          f"{out['entries_per_second']:,}/s; then the retro-scan job took {retro_s:.1f} s")
    for label, key in (("idle", "scan_ms_idle"), ("sync", "scan_ms_during_sync"),
                       ("retro job", "scan_ms_during_retro_job")):
        m = out[key]
        print(f"scan latency {label:10} p50 {m['p50']} ms  p99 {m['p99']} ms  max {m['max']} ms  "
              f"({m['scans']} scans, {m['scans_per_second']}/s)")
    print(f"ratio during/idle   p50 {out['ratio_during_over_idle']['p50']}x  p99 {out['ratio_during_over_idle']['p99']}x")
    print(f"fetch+parse of every page: rempart {ours_s:.2f} s, python-threatexchange {ref_s:.2f} s "
          f"(ratio {out['fetch_parse_seconds']['ratio_threatexchange_over_rempart']}x)")

if __name__ == "__main__":
    main()
