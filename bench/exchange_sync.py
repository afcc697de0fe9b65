"""Benchmark: syncing N upstream entries into a live bank, and what it does to scanning.

A local NCMEC hash-sharing server (``rempart.exchanges.testservers``, real HTTP on 127.0.0.1,
the XML ``entries`` feed with its paging) holds N image records with one PDQ each. A runtime
with a live bank of L local entries scans precomputed PDQs without pause in a thread of its own
(a quarter planted from the local bank, the rest random), first idle, then while the runtime
syncs the N records into another bank, in the same process (as ``rempart serve``'s worker
does): fetch, parse, validate, bank, map upstream ids, retro-scan each page, commit the page
with its checkpoint.

Reported: the sync's time and entries/s; the scan latency p50 / p99 / max idle and during the
sync, and their ratio (during / idle); and, side by side on the same server and window, fetching
and parsing every page with python-threatexchange's NCMEC client (``NCMECHashAPI``, the
reference client HMA uses) against rempart's transport and parser (no database in either).

Usage: python bench/exchange_sync.py [--entries 20000] [--live 10000] [--page-size 1000]
       python bench/exchange_sync.py --million          (1,000,000 upstream entries)
"""

from __future__ import annotations

import argparse
import json
import statistics
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
        self.latencies: dict[str, list[float]] = {"idle": [], "sync": []}
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
    scanner.start()
    time.sleep(args.idle_seconds)
    scanner.phase = "sync"
    t0 = time.perf_counter()
    result = rt.sync_exchange("ncmec-bench", exchanges.SyncOptions(rest=args.rest))
    sync_s = time.perf_counter() - t0
    scanner.stop.set()
    scanner.join()
    assert result.status == "ok" and result.added == n, result.to_json()
    with rt.db.session() as s:
        active = dict((b.name, c) for b, c in banks.list_banks(s))["ncmec-shared"]
    assert active == n

    ref_s, ref_n = reference_fetch(server, 0, window_end)
    ours_s, ours_n = rempart_fetch(server, window_end)
    assert ref_n == ours_n == n, (ref_n, ours_n)
    server.stop()

    idle, during = scanner.latencies["idle"], scanner.latencies["sync"]
    out = {
        "entries": n, "live_bank": args.live, "page_size": args.page_size, "pages": result.pages,
        "database": settings.database_url.split(":")[0],
        "sync_seconds": round(sync_s, 2), "entries_per_second": round(n / sync_s),
        "scans_idle": len(idle), "scans_during_sync": len(during),
        "scan_ms_idle": {"p50": round(pct(idle, 50), 2), "p99": round(pct(idle, 99), 2),
                         "max": round(max(idle) * 1000, 1)},
        "scan_ms_during_sync": {"p50": round(pct(during, 50), 2), "p99": round(pct(during, 99), 2),
                                "max": round(max(during) * 1000, 1) if during else None},
        "ratio_during_over_idle": {"p50": round(pct(during, 50) / pct(idle, 50), 2),
                                   "p99": round(pct(during, 99) / pct(idle, 99), 2)},
        "fetch_parse_seconds": {"rempart": round(ours_s, 2), "threatexchange": round(ref_s, 2),
                                "ratio_threatexchange_over_rempart": round(ref_s / ours_s, 2)},
    }
    if args.json:
        print(json.dumps(out))
        return
    print(f"synced {n:,} upstream entries ({result.pages} pages of {args.page_size}) into a live bank "
          f"({args.live:,} local entries, {out['database']}) in {sync_s:.1f} s: {out['entries_per_second']:,}/s")
    print(f"scan latency idle   p50 {out['scan_ms_idle']['p50']} ms  p99 {out['scan_ms_idle']['p99']} ms  "
          f"({len(idle)} scans)")
    print(f"scan latency sync   p50 {out['scan_ms_during_sync']['p50']} ms  p99 "
          f"{out['scan_ms_during_sync']['p99']} ms  max {out['scan_ms_during_sync']['max']} ms ({len(during)} scans)")
    print(f"ratio during/idle   p50 {out['ratio_during_over_idle']['p50']}x  p99 {out['ratio_during_over_idle']['p99']}x")
    print(f"fetch+parse of every page: rempart {ours_s:.2f} s, python-threatexchange {ref_s:.2f} s "
          f"(ratio {out['fetch_parse_seconds']['ratio_threatexchange_over_rempart']}x)")
    print(f"median scans/s idle {len(idle) / args.idle_seconds:.0f}, during sync {len(during) / sync_s:.0f}; "
          f"statistics: {statistics.median(idle) * 1000:.2f} ms median idle")


if __name__ == "__main__":
    main()
