"""Benchmark (2): time from `bank add` to the first match of that entry.

Two runtimes share one database, as an API node and a curator's CLI do: the curator banks a new
picture, and the node's very next scan of an edited copy must block it. Measured over many
rounds, with a background bank of N random PDQ entries so the index is not trivially small:

- bank->match latency: from the start of the curator's `bank_media` call (commit included) to
  the end of the node's first scan that blocks;
- that latency as a ratio of one plain scan of the same upload (what the change costs on top);
- how many scans were needed (must be 1: the change counts for the very next scan).

HMA, the reference, rebuilds its matcher index on a timer (minutes), so its figure is that
period; rempart's is one scan. Usage: python bench/bank_to_match.py [--rounds 30] [--entries 100000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from rempart.banks import service as banks
from rempart.config import Settings
from rempart.demo.pictures import edited, jpeg, picture
from rempart.matching.codec import hashes_to_hex
from rempart.runtime import Runtime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="rempart-bench-"))
    settings = Settings(home, args.database_url or f"sqlite:///{home / 'bench.db'}")
    node, curator = Runtime(settings), Runtime(settings)
    with curator.db.session() as s:
        banks.create_bank(s, "bench-known")
    rng = np.random.default_rng(1)
    background = hashes_to_hex(rng.integers(0, 256, size=(args.entries, 32), dtype=np.uint8))
    t0 = time.perf_counter()
    curator.add_entries("bench-known", [banks.NewEntry("pdq", h) for h in background])
    load_s = time.perf_counter() - t0
    node.sync()

    latencies, plain, scans_needed = [], [], []
    for r in range(args.rounds):
        seed = 50_000 + r
        upload = edited(picture(seed), "flipped")
        t = time.perf_counter()
        assert node.scan_media(upload).verdict == "allow"
        plain.append(time.perf_counter() - t)
        fp = curator.fingerprint(jpeg(picture(seed)))
        start = time.perf_counter()
        curator.bank_media("bench-known", fp)
        n = 1
        while node.scan_media(upload).verdict != "block":
            n += 1
        latencies.append(time.perf_counter() - start)
        scans_needed.append(n)

    med, base = statistics.median(latencies), statistics.median(plain)
    result = {
        "background_entries": args.entries, "rounds": args.rounds,
        "bulk_add_seconds": round(load_s, 2),
        "bank_to_match_ms_median": round(med * 1000, 1),
        "bank_to_match_ms_max": round(max(latencies) * 1000, 1),
        "plain_scan_ms_median": round(base * 1000, 1),
        "ratio_to_one_scan": round(med / base, 2),
        "scans_needed_max": max(scans_needed),
    }
    print(f"bank add -> first match: median {result['bank_to_match_ms_median']} ms, "
          f"max {result['bank_to_match_ms_max']} ms ({result['ratio_to_one_scan']}x one plain scan "
          f"of {result['plain_scan_ms_median']} ms), scans needed: {result['scans_needed_max']} "
          f"(with {args.entries} other entries banked)")
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / "bank_to_match.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
