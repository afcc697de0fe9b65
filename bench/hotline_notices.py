"""Benchmark: sustained notices per second through the real API (uvicorn on 127.0.0.1), with
none lost.

An organisation sends batches of notices (each location resolved against a ledger of uploads,
each notice with its case, log leaf and tlog-proof receipt in one transaction) from several
client threads for a fixed time, each batch with its own Idempotency-Key. Every acknowledged
notice id is counted and compared with the database afterwards: acknowledged == stored, and
nothing stored that was not acknowledged. A share of the batches is sent twice (a retry with
the same key) to show retries add nothing.

No reference tool takes DSA notices, so the figure is reported with ratios: notices per second
against authenticated GET /v1/notices/{id} round trips per second on the same server (what one
request costs there), and single notices against batches of 20.

Usage: python bench/hotline_notices.py [--seconds 20] [--threads 4] [--batch 20]
       [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from rempart.config import Settings  # noqa: E402
from rempart.hotline.models import Notice  # noqa: E402
from rempart.hotline.orgs import create_org  # noqa: E402
from rempart.runtime import Runtime  # noqa: E402
from rempart.scanning.service import ScanContext  # noqa: E402
from tests.served import Served  # noqa: E402  (the test suite's uvicorn helper)

ACCOUNTS = 200
ERRORS: list[str] = []


def notice(i: int) -> dict:
    a = i % ACCOUNTS
    return {"reference": f"B-{i}", "category": "csam", "explanation": "bench", "good_faith": True,
            "locations": [{"account": f"acct-{a}", "space": "group-1", "message": f"m-{a}"}]}


def in_threads(n: int, worker) -> float:
    """Run ``worker`` in ``n`` threads; the seconds until all are done."""
    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(n)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - t0


def run(root: str, key: str, seconds: float, threads: int, batch: int, retry_every: int):
    counter = itertools.count()
    acked: set[int] = set()
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    errors: list[str] = []

    def worker() -> None:
        with httpx.Client(base_url=root, timeout=60,
                          headers={"Authorization": f"Bearer {key}"}) as c:
            while time.monotonic() < stop:
                n = next(counter)
                body = {"notices": [notice(n * batch + j) for j in range(batch)]}
                idem = f"bench-{batch}-{n}"
                for attempt in range(2 if n % retry_every == 0 else 1):
                    r = c.post("/v1/notices", json=body, headers={"Idempotency-Key": idem})
                    if r.status_code != 201:
                        errors.append(f"{r.status_code} {r.text[:200]}")
                        ERRORS.append(errors[-1])
                        continue
                    with lock:
                        acked.update(x["id"] for x in r.json()["notices"])

    return acked, in_threads(threads, worker), errors


def reads(root: str, key: str, ids: list[int], seconds: float, threads: int) -> float:
    stop, done, lock = time.monotonic() + seconds, [0], threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=root, headers={"Authorization": f"Bearer {key}"}) as c:
            k = 0
            while time.monotonic() < stop:
                c.get(f"/v1/notices/{ids[k % len(ids)]}").raise_for_status()
                k += 1
            with lock:
                done[0] += k

    seconds_taken = in_threads(threads, worker)
    return done[0] / seconds_taken


def stored_ids(rt: Runtime) -> set[int]:
    with rt.db.session() as s:
        return set(s.scalars(select(Notice.id)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--retry-every", type=int, default=10)
    ap.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="rempart-bench-"))
    url = args.database_url or f"sqlite:///{home / 'rempart.db'}"
    rt = Runtime(Settings(home=home, database_url=url))
    rt.hotline = dataclasses.replace(rt.hotline, config=dataclasses.replace(
        rt.hotline.config, org_notices_per_hour=10**9))
    for a in range(ACCOUNTS):  # the ledger the notices point at (hashes only: no decoding)
        rt.scan_signals([("md5", f"{a:032x}")], ScanContext(account=f"acct-{a}", space="group-1",
                                                              message=f"m-{a}"))
    with rt.db.session() as s:
        key = create_org(s, "Bench hotline", "hotline").key
    out = {"database": url.split(":")[0], "threads": args.threads}
    with Served(rt, outbox_worker=False) as served:
        first_ids: list[int] = []
        for label, batch in (("batch", args.batch), ("single", 1)):
            before = stored_ids(rt)
            acked, secs, errors = run(served.root, key, args.seconds, args.threads, batch,
                                      args.retry_every)
            new = stored_ids(rt) - before
            out[label] = {"batch_size": batch, "acknowledged": len(acked),
                          "notices_per_second": round(len(acked) / secs, 1),
                          "lost": len(acked - new - before),
                          "stored_not_acknowledged": len(new - acked), "errors": len(errors)}
            first_ids = first_ids or sorted(acked)[:100]
        out["reads_per_second"] = round(reads(served.root, key, first_ids, args.seconds / 2,
                                              args.threads), 1)
    with rt.db.session() as s:
        out["stored_total"] = s.scalar(select(func.count()).select_from(Notice))
    out["ratio_batch_notices_to_reads"] = round(out["batch"]["notices_per_second"]
                                                / out["reads_per_second"], 2)
    out["ratio_batch_to_single"] = round(out["batch"]["notices_per_second"]
                                         / out["single"]["notices_per_second"], 2)
    print(json.dumps(out, indent=1))
    if ERRORS:
        print("errors, first:", ERRORS[0], file=sys.stderr)
    rt.close()


if __name__ == "__main__":
    main()
