"""Benchmark: rempart PDQIndex against faiss IndexBinaryMultiHash (Meta HMA's PDQ index).

Run:  .venv/bin/python bench/pdq_index.py --sizes 1000000,10000000 --queries 1000

For each size N, on N uniformly random 256-bit hashes, in one process:
  * our index, then faiss ``IndexBinaryMultiHash(256, 16, 16)`` with ``nflip = 31 // 16``
    (HMA's setting), each built after the other was freed, RSS measured before and after;
  * ``--queries`` planted queries (a stored hash with 0..31 random bits flipped) and as
    many uniformly random queries, answered at threshold 31 (faiss: range search radius
    32, which keeps distances strictly below 32);
  * recall (the planted source found), false matches (a reported pair whose exact distance
    exceeds 31, or a wrong distance), agreement of the two result sets, build seconds,
    memory, and single-threaded queries per second (``faiss.omp_set_num_threads(1)``; our
    kernels are single-threaded), printed as ratios ours / faiss.
Also the crossover between our brute-force buffer and a multi-index segment at small N.
Results go to stdout and, as JSON, to bench/results/pdq_index.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

THRESHOLD = 31


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def make_queries(rng, hashes, count):
    """Planted: (queries, source rows, flips); random: uniformly random hashes."""
    src = rng.integers(0, hashes.shape[0], count)
    flips = rng.integers(0, THRESHOLD + 1, count)
    bits = np.unpackbits(hashes[src], axis=1)
    for i, k in enumerate(flips):
        bits[i, rng.choice(256, size=k, replace=False)] ^= 1
    planted = np.packbits(bits, axis=1)
    rand = rng.integers(0, 256, (count, 32), dtype=np.uint8)
    return planted, src, rand


def exact_distances(hashes, queries, pairs_q, pairs_row):
    x = np.bitwise_xor(hashes[pairs_row], queries[pairs_q])
    return np.unpackbits(x, axis=1).sum(axis=1)


def check(name, hashes, queries, q, rows, dist, src=None):
    """Count false matches and (for planted queries) recall."""
    exact = exact_distances(hashes, queries, q, rows)
    false = int(np.sum((exact > THRESHOLD) | (exact != dist)))
    found = None
    if src is not None:
        hit = np.zeros(queries.shape[0], bool)
        hit[q[rows == src[q]]] = True
        found = float(hit.mean())
    return {"false_matches": false, "recall_planted": found, "results": int(q.shape[0])}


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def bench_ours(hashes, planted, src, rand):
    from rempart.matching import PDQIndex
    gc.collect()
    rss0 = rss_bytes()
    index = PDQIndex()
    ids = np.arange(hashes.shape[0], dtype=np.int64)
    _, build_s = timed(index.add, ids, hashes)
    rss1 = rss_bytes()
    index.query_arrays(planted[:10], THRESHOLD)   # load compiled kernels before timing
    report = {"build_s": build_s, "index_bytes": index.nbytes, "rss_growth": rss1 - rss0,
              "segments": index.stats()["segments"]}
    sets = {}
    for kind, qs in (("planted", planted), ("random", rand)):
        (q, i, d), secs = timed(index.query_arrays, qs, THRESHOLD)
        report[kind] = check("ours", hashes, qs, q, i, d, src if kind == "planted" else None)
        report[kind]["qps"] = qs.shape[0] / secs
        sets[kind] = set(zip(q.tolist(), i.tolist()))
    # one query per call: what an upload path sees, Python overhead included
    one = planted[:200]
    t = time.perf_counter()
    for k in range(one.shape[0]):
        index.query(one[k:k + 1], THRESHOLD)
    report["single_call_qps"] = one.shape[0] / (time.perf_counter() - t)
    report["persist"] = bench_persist(index)
    report["updates"] = bench_updates(index, hashes.shape[0], rand)
    del index
    gc.collect()
    return report, sets


def bench_persist(index):
    """Seconds to save the index and to load it back into a queryable replica."""
    import tempfile
    from rempart.matching import PDQIndex
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.rpdq"
        _, save_s = timed(index.save, path)
        size = path.stat().st_size
        replica, load_s = timed(PDQIndex.load, path)
        same = len(replica) == len(index)
        del replica
    return {"save_s": save_s, "load_s": load_s, "file_bytes": size, "same_length": same}


def bench_updates(index, n, rand, count=20_000):
    """Live updates one row per call (new ids, then removals), then random-query speed."""
    extra = np.random.default_rng(7).integers(0, 256, (count, 32), dtype=np.uint8)
    lat = []
    for k in range(count):
        t = time.perf_counter()
        index.add([n + k], extra[k:k + 1])
        lat.append(time.perf_counter() - t)
    t = time.perf_counter()
    for k in range(count):
        index.remove([k])
    remove_s = time.perf_counter() - t
    index.query_arrays(rand[:10], THRESHOLD)   # first touch of the new segments
    (q, i, d), secs = timed(index.query_arrays, rand, THRESHOLD)
    return {"rows": count, "adds_per_s": count / sum(lat), "max_add_ms": 1000 * max(lat),
            "removes_per_s": count / remove_s, "segments": index.stats()["segments"],
            "random_qps_after": rand.shape[0] / secs}


def bench_faiss(hashes, planted, src, rand):
    import faiss
    faiss.omp_set_num_threads(1)
    gc.collect()
    rss0 = rss_bytes()
    t = time.perf_counter()
    index = faiss.IndexBinaryMultiHash(256, 16, 16)
    index.nflip = THRESHOLD // 16
    index.add(hashes)
    build_s = time.perf_counter() - t
    rss1 = rss_bytes()
    report = {"build_s": build_s, "rss_growth": rss1 - rss0}
    sets = {}
    for kind, qs in (("planted", planted), ("random", rand)):
        (lims, D, I), secs = timed(index.range_search, qs, THRESHOLD + 1)
        q = np.repeat(np.arange(qs.shape[0]), np.diff(lims).astype(np.int64))
        report[kind] = check("faiss", hashes, qs, q, I, D, src if kind == "planted" else None)
        report[kind]["qps"] = qs.shape[0] / secs
        sets[kind] = set(zip(q.tolist(), I.tolist()))
    del index
    gc.collect()
    return report, sets


def crossover(rng):
    """Queries/s of the brute-force buffer vs one multi-index segment at small sizes."""
    from rempart.matching.segment import Buffer, Results, Segment
    out = []
    queries = rng.integers(0, 2**63, (2000, 4), dtype=np.int64).view(np.uint64)
    for n in (512, 1024, 2048, 4096, 8192, 16384, 32768):
        words = rng.integers(0, 2**63, (n, 4), dtype=np.int64).view(np.uint64)
        ids = np.arange(n, dtype=np.int64)
        seg, buf = Segment(ids, words), Buffer(n)
        buf.append(ids, words)
        row = {"n": n}
        for name, part in (("scan", buf), ("mih", seg)):
            part.query(queries[:10], THRESHOLD, Results(10))
            t = time.perf_counter()
            part.query(queries, THRESHOLD, Results(queries.shape[0]))
            row[name + "_qps"] = queries.shape[0] / (time.perf_counter() - t)
        out.append(row)
        print(f"  crossover n={n:6d}  scan {row['scan_qps']:10.0f} q/s   "
              f"mih {row['mih_qps']:10.0f} q/s")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-faiss", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    results = {"machine": platform.processor() or platform.machine(),
               "cpus": os.cpu_count(), "threshold": THRESHOLD, "sizes": []}
    print("crossover (threshold 31, random data):")
    results["crossover"] = crossover(rng)
    for n in (int(s) for s in args.sizes.split(",")):
        hashes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
        planted, src, rand = make_queries(rng, hashes, args.queries)
        ours, ours_sets = bench_ours(hashes, planted, src, rand)
        entry = {"n": n, "ours": ours}
        if not args.no_faiss:
            theirs, faiss_sets = bench_faiss(hashes, planted, src, rand)
            entry["faiss"] = theirs
            entry["agree"] = {k: ours_sets[k] == faiss_sets[k] for k in ours_sets}
            entry["ratio"] = {
                "qps_planted": ours["planted"]["qps"] / theirs["planted"]["qps"],
                "qps_random": ours["random"]["qps"] / theirs["random"]["qps"],
                "memory": ours["index_bytes"] / theirs["rss_growth"],
                "build": ours["build_s"] / theirs["build_s"],
            }
        results["sizes"].append(entry)
        print_entry(entry)
        del hashes
        gc.collect()
    path = Path(__file__).parent / "results" / "pdq_index.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    print(f"written {path}")


def print_entry(e: dict) -> None:
    o = e["ours"]
    print(f"\nN = {e['n']:,}   segments {o['segments']}")
    rows = [("ours", o)] + ([("faiss", e["faiss"])] if "faiss" in e else [])
    for name, r in rows:
        mem = (f"index {r['index_bytes'] / 2**20:8.1f} MiB, RSS +{r['rss_growth'] / 2**20:8.1f} MiB"
               if "index_bytes" in r else f"RSS +{r['rss_growth'] / 2**20:8.1f} MiB")
        print(f"  {name:5s} build {r['build_s']:7.2f} s  {mem}  "
              f"planted {r['planted']['qps']:10.1f} q/s recall {r['planted']['recall_planted']:.4f} "
              f"false {r['planted']['false_matches']}  random {r['random']['qps']:10.1f} q/s "
              f"false {r['random']['false_matches']}")
    p, u = o["persist"], o["updates"]
    print(f"  ours save {p['save_s']:.2f} s, load {p['load_s']:.2f} s, "
          f"file {p['file_bytes'] / 2**20:.1f} MiB")
    print(f"  ours single-call: {o['single_call_qps']:.0f} q/s;  live updates: "
          f"{u['adds_per_s']:.0f} adds/s (max {u['max_add_ms']:.1f} ms), "
          f"{u['removes_per_s']:.0f} removes/s, then {u['random_qps_after']:.0f} q/s random "
          f"over segments {u['segments']}")
    if "ratio" in e:
        r = e["ratio"]
        print(f"  ratio ours/faiss: q/s planted {r['qps_planted']:.1f}x  random {r['qps_random']:.1f}x"
              f"  memory {r['memory']:.2f}x  build time {r['build']:.2f}x  agree {e['agree']}")


if __name__ == "__main__":
    main()
