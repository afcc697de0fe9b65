"""What PostgreSQL backends wait on while a bench runs (issue 15: scans during an import's move).

``sample`` polls ``pg_stat_activity`` every few milliseconds (the backends of the databases the
benches create, ``bench_bigbanks_*``, and the server's own processes), with the ungranted locks
whenever a backend waits on one, the WAL's insert, write and flush positions, the kernel's
dirty and writeback memory and the disk's counters; ``pg_stat_bgwriter`` and ``pg_stat_wal``
before and after. It stops when the file named by ``--stop`` exists. ``tally`` reads the
samples back: the wait events of the scans' write statement (``INSERT INTO scanned_items``)
while an import's move (``INSERT INTO bank_entries``) runs and outside it, the move's own,
the WAL not yet flushed, the locks waited for. Usage, beside ``big_banks.py --scans-only``:

  python bench/pg_waits.py sample waits.jsonl --url postgresql://postgres@127.0.0.1/DB \\
      --stop /tmp/stop & python bench/big_banks.py --scans-only --rounds 2 --no-sqlite \\
      --postgres-url postgresql+psycopg://postgres@127.0.0.1/DB; touch /tmp/stop; wait
  python bench/pg_waits.py tally waits.jsonl

Reading only: no setting of the server is changed (Linux: /proc is read for memory and disk).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import time

ACTIVITY = """SELECT pid, backend_type, state, wait_event_type, wait_event,
    left(regexp_replace(query, '\\s+', ' ', 'g'), 90), datname
  FROM pg_stat_activity
  WHERE pid <> pg_backend_pid() AND (datname LIKE 'bench_bigbanks%%' OR datname IS NULL)
    AND state IS DISTINCT FROM 'idle'"""
WAITING = """SELECT l.pid, l.locktype, l.mode, l.relation::regclass::text, pg_blocking_pids(l.pid)
  FROM pg_locks l WHERE NOT l.granted"""
WAL = ("SELECT pg_current_wal_insert_lsn() - '0/0', pg_current_wal_lsn() - '0/0', "
       "pg_current_wal_flush_lsn() - '0/0'")
#: the server's processes' idle waits (not worth a line)
IDLE_WAITS = {"WalWriterMain", "CheckpointerMain", "BgWriterHibernate", "BgWriterMain",
              "LogicalLauncherMain", "AutoVacuumMain", "ArchiverMain"}


def _kernel() -> dict:
    out = {}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                key = line.split(":")[0]
                if key in ("Dirty", "Writeback"):
                    out[key] = int(line.split()[1])  # kB
        with open("/proc/diskstats") as f:  # the busiest disk: writes, sectors, ms, flushes
            disks = [line.split() for line in f]
        d = max((x for x in disks if len(x) >= 20), key=lambda x: int(x[9]), default=None)
        if d:
            out["disk"] = [d[2], int(d[7]), int(d[9]), int(d[10]), int(d[18]), int(d[19])]
    except OSError:
        pass
    return out


def sample(path: str, url: str, stop: str, period: float) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as c, open(path, "w") as out:
        def stats(tag: str) -> None:
            row = {"tag": tag, "t": time.time()}
            for name in ("pg_stat_bgwriter", "pg_stat_wal"):
                cur = c.execute(f"SELECT * FROM {name}")
                row[name] = {d.name: v if isinstance(v, (int, float, str)) or v is None
                             else str(v) for d, v in zip(cur.description, cur.fetchone())}
            out.write(json.dumps(row) + "\n")

        stats("before")
        n = 0
        while not os.path.exists(stop):
            t = time.time()
            rows = [list(r) for r in c.execute(ACTIVITY).fetchall()]
            locks = ([list(map(str, r)) for r in c.execute(WAITING).fetchall()]
                     if any(r[3] == "Lock" for r in rows) else [])
            lsn = [int(x) for x in c.execute(WAL).fetchone()]
            out.write(json.dumps({"t": t, "rows": rows, "locks": locks, "wal": lsn,
                                  **_kernel()}) + "\n")
            n += 1
            time.sleep(max(0.0, period - (time.time() - t)))
        stats("after")
    print(f"{n} samples")


def _kind(query: str | None) -> str:
    if not query:
        return ""
    if "INSERT INTO bank_entries" in query:
        return "move"
    if "scanned_items" in query:
        return "scan write"
    if "bank_changes" in query:
        return "feed read"
    return "other"


def _moves(samples: list[dict]) -> list[list[float]]:
    """The spans of time an import's move statement was running (gaps under a second joined)."""
    spans: list[list[float]] = []
    for s in samples:
        if any(_kind(r[5]) == "move" and r[2] == "active" for r in s["rows"]):
            if spans and s["t"] - spans[-1][1] < 1.0:
                spans[-1][1] = s["t"]
            else:
                spans.append([s["t"], s["t"]])
    return spans


def _share(counter: collections.Counter) -> str:
    total = sum(counter.values()) or 1
    return ", ".join(f"{k} {v} ({100 * v / total:.0f}%)" for k, v in counter.most_common(8))


def tally(path: str) -> None:
    with open(path) as f:
        lines = [json.loads(x) for x in f]
    stats = [x for x in lines if "tag" in x]
    samples = [x for x in lines if "tag" not in x]
    spans = _moves(samples)
    scans = [s["t"] for s in samples if any(_kind(r[5]) == "scan write" for r in s["rows"])]
    first_scan = scans[0] if scans else float("inf")
    print(f"{len(samples)} samples over {samples[-1]['t'] - samples[0]['t']:.0f} s; moves: "
          + ", ".join(f"+{a - samples[0]['t']:.1f}s for {b - a:.1f}s" for a, b in spans))
    scan = {"move": collections.Counter(), "no move": collections.Counter()}
    server = {"move": collections.Counter(), "no move": collections.Counter()}
    move, locks = collections.Counter(), collections.Counter()
    unflushed = {"move": [], "no move": []}
    dirty = {"move": 0, "no move": 0}
    for s in samples:
        if s["t"] < first_scan - 0.5:  # before the scans began: the home's first import
            continue
        phase = "move" if any(a <= s["t"] <= b for a, b in spans) else "no move"
        unflushed[phase].append(s["wal"][0] - s["wal"][2])
        dirty[phase] = max(dirty[phase], s.get("Dirty", 0))
        for pid, btype, state, wtype, wevent, query, _db in s["rows"]:
            wait = f"{wtype}:{wevent}" if wtype else "CPU (no wait)"
            if btype != "client backend":
                if wevent not in IDLE_WAITS:
                    server[phase][f"{btype} {wait}"] += 1
            elif state == "active" and _kind(query) == "scan write":
                scan[phase][wait] += 1
            elif state == "active" and _kind(query) == "move" and phase == "move":
                move[wait] += 1
        for lock in s["locks"]:
            locks[" ".join(lock[1:4])] += 1
    for phase in ("move", "no move"):
        lag = sorted(unflushed[phase]) or [0]
        print(f"\n[{phase}] scans' write statement, samples by wait: {_share(scan[phase])}")
        print(f"  WAL inserted but not flushed: median {lag[len(lag) // 2] / 2**20:.1f} MB, "
              f"max {lag[-1] / 2**20:.1f} MB; kernel dirty memory max {dirty[phase] / 1024:.0f} MB")
        print(f"  server processes (not idle): {_share(server[phase])}")
    print(f"\nthe move's own statement: {_share(move)}")
    print(f"ungranted locks seen: {_share(locks) or 'none'}")
    if len(stats) == 2:
        for name in ("pg_stat_bgwriter", "pg_stat_wal"):
            before, after = stats[0][name], stats[1][name]
            print(f"{name} deltas: " + ", ".join(
                f"{k} {float(after[k]) - float(before[k]):,.0f}" for k in after
                if k != "stats_reset" and after[k] is not None
                and str(after[k]).replace(".", "").isdigit()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("path")
    s.add_argument("--url", required=True, help="a database of the server (psycopg URL)")
    s.add_argument("--stop", required=True, help="sampling stops once this file exists")
    s.add_argument("--period", type=float, default=0.005)
    t = sub.add_parser("tally")
    t.add_argument("path")
    args = ap.parse_args()
    if args.cmd == "sample":
        sample(args.path, args.url, args.stop, args.period)
    else:
        tally(args.path)


if __name__ == "__main__":
    main()
