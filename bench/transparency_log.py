"""Benchmark (issue 4): append 1,000,000 leaves, publish tiles, and time proofs as the log grows.

For each checkpoint size (10^3 .. 10^6 leaves) it measures, in one process:
- append: leaves per second into the in-memory stored-hash tree (O(log n) hashes per leaf);
- publish: the C2SP tlog-tiles written for the growth since the previous size (files, seconds);
- proofs from the stored hashes (what the server does) and from the published tiles through a
  verifying client (what an auditor does): inclusion and consistency, generation and verification,
  median microseconds over random leaves;
- and, for the database-backed log (SQLite), appends per second over the first --db-leaves.
It prints how each cost grows relative to the smallest size: proofs should grow with log(n),
not n. Usage: python bench/transparency_log.py [--leaves 1000000] [--db-leaves 20000]
"""

from __future__ import annotations

import argparse
import math
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from rempart.transparency.checkpoint import Checkpoint, sign_checkpoint
from rempart.transparency.merkle import (
    MemoryHashStore, consistency_proof, inclusion_proof, leaf_hash, tree_hash,
    verify_consistency, verify_inclusion,
)
from rempart.transparency.note import Ed25519Signer, generate_key
from rempart.transparency.tiledlog import LogClient, directory_fetcher, write_checkpoint, write_tiles

ORIGIN = "bench.rempart.local/log"


def _median_us(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1e6, 1)


def _timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def proofs_at(store: MemoryHashStore, entries: list[bytes], client: LogClient, cp: Checkpoint,
              old: Checkpoint, rng: random.Random, samples: int) -> dict:
    n = cp.size
    gen, ver, tile_gen = [], [], []
    for _ in range(samples):
        i = rng.randrange(n)
        proof, dt = _timed(inclusion_proof, n, i, store)
        gen.append(dt)
        _, dt = _timed(verify_inclusion, leaf_hash(entries[i]), i, n, proof, cp.root)
        ver.append(dt)
        tproof, dt = _timed(client.inclusion_proof, cp, i)
        tile_gen.append(dt)
        if tproof != proof:
            raise SystemExit(f"tile proof differs from stored-hash proof at {i}/{n}")
    cproof, c_gen = _timed(consistency_proof, old.size, n, store)
    _, c_ver = _timed(verify_consistency, old.size, n, cproof, old.root, cp.root)
    _, c_tiles = _timed(client.consistency_proof, old, cp)
    return {"inclusion_gen_us": _median_us(gen), "inclusion_verify_us": _median_us(ver),
            "inclusion_from_tiles_us": _median_us(tile_gen), "proof_hashes": len(proof),
            "consistency_gen_us": round(c_gen * 1e6, 1), "consistency_verify_us": round(c_ver * 1e6, 1),
            "consistency_from_tiles_us": round(c_tiles * 1e6, 1)}


def db_appends(leaves: int) -> float:
    from rempart.store.db import Database
    from rempart.store.migrate import upgrade
    from rempart.transparency.db import log_store

    home = Path(tempfile.mkdtemp(prefix="rempart-tlog-db-"))
    db = Database(f"sqlite:///{home / 'log.db'}")
    upgrade(db)
    start = time.perf_counter()
    for chunk in range(0, leaves, 1000):  # one transaction per 1,000 leaves
        with db.session() as s:
            head = log_store.lock_head(s)
            for i in range(chunk, min(leaves, chunk + 1000)):
                log_store.append(s, head, b"rempart/bench/v1\nleaf %d\n" % i, "decision", "2026-11-29")
    return leaves / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--leaves", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--db-leaves", type=int, default=20_000)
    args = ap.parse_args()
    skey, vkey = generate_key(ORIGIN)
    signer = Ed25519Signer.from_skey(skey)
    out_dir = Path(tempfile.mkdtemp(prefix="rempart-tlog-bench-"))
    client = LogClient(directory_fetcher(out_dir), ORIGIN, [signer.verifier()])
    store, entries = MemoryHashStore(), []
    rng = random.Random(1)
    sizes = [s for s in (1_000, 10_000, 100_000, 1_000_000, 10_000_000) if s <= args.leaves]
    rows, prev, prev_cp = [], 0, None
    for size in sizes:
        t = time.perf_counter()
        for i in range(prev, size):
            data = b"rempart/bench/v1\nleaf %d\n" % i
            entries.append(data)
            store.append(data)
        append_s = time.perf_counter() - t
        cp = Checkpoint(ORIGIN, size, store.root())
        t = time.perf_counter()
        written = write_tiles(out_dir, entries, store, prev, size)
        write_checkpoint(out_dir, sign_checkpoint(cp, [signer]))
        publish_s = time.perf_counter() - t
        # Consistency from the previous size (the first size: from half of it).
        old = prev_cp or Checkpoint(ORIGIN, size // 2, tree_hash(size // 2, store))
        row = {"size": size, "appends_per_s": round((size - prev) / append_s),
               "publish_s": round(publish_s, 3), "files_written": len(written),
               **proofs_at(store, entries, client, cp, old, rng, args.samples)}
        rows.append(row)
        print(json.dumps(row))
        prev, prev_cp = size, cp
    base = rows[0]
    growth = {r["size"]: {k: round(r[k] / base[k], 2) for k in
                          ("inclusion_gen_us", "inclusion_verify_us", "inclusion_from_tiles_us")}
              for r in rows}
    log_ratio = [round(math.log2(r["size"]) / math.log2(base["size"]), 2) for r in rows]
    print(f"growth of proof times vs {base['size']} leaves (log2 of the sizes grows {log_ratio}):")
    for size, g in growth.items():
        print(f"  {size:>9}: {g}")
    db_rate = db_appends(args.db_leaves) if args.db_leaves else None
    if db_rate:
        print(f"database-backed appends (SQLite, 1,000 per transaction): {db_rate:,.0f} leaves/s; "
              f"in-memory: {rows[-1]['appends_per_s']:,} leaves/s "
              f"(ratio {db_rate / rows[-1]['appends_per_s']:.3f})")
    results = Path(__file__).with_name("results")
    results.mkdir(exist_ok=True)
    (results / "transparency_log.json").write_text(json.dumps(
        {"rows": rows, "growth": growth, "db_appends_per_s": db_rate, "vkey": vkey}, indent=2))


if __name__ == "__main__":
    main()
