"""Benchmark: banks of millions of entries (issue 15), new paths against main's, in one run.

For N PDQ entries (default 1,000,000; --entries 10000000 for the big run) on SQLite, and on
PostgreSQL with --postgres-url:

1. import: `bank import` of a te file of N entries (streamed, staging table, COPY on
   PostgreSQL) against main's path (whole file parsed in memory, then ``add_entries`` with one
   ORM object per entry) at --old-entries (default 100,000: main's path takes minutes and GBs
   at 1M); entries/s and peak RSS of the importing process, and their ratios;
2. replica: time to a ready matcher and the process's RSS, from the database and from a
   snapshot; the matcher's own array bytes per entry;
3. `rempart bank list` (a real CLI process) on the home with N entries against an empty home;
4. scans (each records its item: a write) while another process imports --during entries more,
   until the replica has applied the import's changes and AFTER_IMPORT_SECONDS more,
   against the same scans idle: p50/p99 and their ratios, and where the scans fell in the
   import's phases (staging, sort, the bank taken, the inserts, the commit, after it).

5. (--feed-only) the partner feed (``GET /v1/exchange/feed``, pages of 1,000) right after an
   import of N into a shared bank and one of N into a bank the partner does not share: time a
   page at the start, middle and end of the shared range, today's feed against main's (loaded
   from git at ``FEED_OLD_COMMIT``) alternately, and on PostgreSQL each page's statements
   explained (ANALYZE, BUFFERS: blocks, temporary blocks), before and after ANALYZE of the
   table; then today's feed pulled whole, each entry checked to come once.

Each measurement runs in a fresh child process (peak RSS is per process).
Scans arrive at SCANS_PER_SECOND (a steady upload stream), each timed from its start (with
--scans-only also from its upload's arrival: a scan held up delays the ones behind it). Usage:
  python bench/big_banks.py [--entries N] [--old-entries N] [--during N] [--postgres-url URL]
  python bench/big_banks.py --import-only --entries 10000000 [--postgres-url URL]
  python bench/big_banks.py --scans-only [--rounds 3] [--no-sqlite] [--postgres-url URL]
  python bench/big_banks.py --feed-only [--entries N] [--no-sqlite] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
#: the upload stream scanned during the import (each scan records its item: a write)
SCANS_PER_SECOND = 25
#: the import's phases, told by the first statement of each (COPY goes around SQLAlchemy)
PHASE_STATEMENTS = (("CREATE TEMPORARY TABLE", "staging"), ("ANALYZE", "sort"),
                    ("CREATE INDEX", "sort"), ("UPDATE banks SET updated_at", "bank taken"),
                    ("INSERT INTO bank_entries", "insert entries"),
                    ("SELECT id FROM bank_entries", "read ids"),
                    ("INSERT INTO bank_changes", "insert changes"))
#: scans run (untimed) before the timed ones, in the idle and the busy run alike
WARM_UP_SCANS = 10
#: after the import's process ends and the replica has applied its changes, scans go on this
#: long
AFTER_IMPORT_SECONDS = 5.0


def rss_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_now_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def write_list(path: Path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "wb") as f:
        for start in range(0, n, 200_000):
            k = min(200_000, n - start)
            raw = rng.integers(0, 256, size=(k, 32), dtype=np.uint8).tobytes().hex()
            f.write("".join(f"pdq {raw[64 * i:64 * (i + 1)]}\n" for i in range(k)).encode())


# ---------------------------------------------------------------- children (one measure each)


def _runtime(home: str, url: str, migrate: bool = False):
    from rempart.config import Settings
    from rempart.runtime import Runtime

    return Runtime(Settings(Path(home), url), migrate=migrate)


def child_import(home: str, url: str, bank: str, path: str, old: bool) -> dict:
    from rempart.banks import service

    rt = _runtime(home, url, migrate=not (Path(home) / "migrated").exists())
    (Path(home) / "migrated").touch()
    with rt.db.session() as s:
        service.ensure_bank(s, bank)
    from sqlalchemy import event

    locked: list[float] = []  # when the bank's row was taken (SQLite: the write lock)
    #: (wall-clock time, phase) as the import goes: the scanning process places its scans
    phases: list[tuple[float, str]] = [(time.time(), "start")]

    def taken(conn, cursor, statement, *rest) -> None:
        if statement.startswith("UPDATE banks SET updated_at") and not locked:
            locked.append(time.perf_counter())
        for prefix, phase in PHASE_STATEMENTS:
            if statement.lstrip().startswith(prefix) and phase not in (p for _, p in phases):
                phases.append((time.time(), phase))

    event.listen(rt.db.engine, "before_cursor_execute", taken)
    event.listen(rt.db.engine, "commit", lambda conn: phases.append((time.time(), "commit")))
    base = rss_now_mib()
    t = time.perf_counter()
    if old:  # main's path: parse the whole file, then one ORM object per entry
        from rempart.banks.formats import parse_hash_list

        data = Path(path).read_bytes()
        with rt.db.session() as s:
            r = service.add_entries(s, service.get_bank(s, bank), (
                service.NewEntry(p.signal_type, p.value, p.external_id, dict(p.metadata))
                for p in parse_hash_list(data, "te")))
            added = len(r.added)
    else:
        with open(path, "rb") as f:
            added = rt.import_list(bank, f, "te").result.n_added
    end = time.perf_counter()
    phases.append((time.time(), "done"))
    secs = end - t
    return {"phases": phases, "added": added, "seconds": secs, "rate": added / secs, "peak_rss_mib": rss_peak_mib(),
            "rss_before_mib": base, "bank_locked_seconds": end - locked[0] if locked else None}


def child_replica(home: str, url: str, snapshot: bool) -> dict:
    rt = _runtime(home, url)
    base = rss_now_mib()
    t = time.perf_counter()
    n = len(rt.matcher)
    secs = time.perf_counter() - t
    stats = rt.matcher.stats()
    out = {"entries": n, "seconds": secs, "source": rt.replica_source.split(" ")[0],
           "rss_mib": rss_now_mib(), "rss_before_mib": base, "peak_rss_mib": rss_peak_mib(),
           "table_bytes_per_entry": stats["table_nbytes"] / max(n, 1),
           "index_bytes_per_entry": stats["pdq_nbytes"] / max(n, 1)}
    if not snapshot:
        t = time.perf_counter()
        written = rt.write_snapshot()
        out["snapshot_write_seconds"] = time.perf_counter() - t
        out["snapshot_bytes"] = written.bytes
    return out


def child_scans(home: str, url: str, seconds: float, import_cmd: list[str] | None) -> dict:
    """Scans at ``SCANS_PER_SECOND`` for ``seconds``, or while ``import_cmd`` runs and
    ``AFTER_IMPORT_SECONDS`` more (the replica applies the import's changes then). Each scan is
    recorded: its wall-clock start, its latency, and the time its replica sync took."""
    from sqlalchemy import func, select

    from rempart.banks.models import BankChange
    from rempart.demo.pictures import jpeg, picture

    rt = _runtime(home, url)
    len(rt.matcher)  # ready (from the snapshot)
    fps = [rt.fingerprint(jpeg(picture(70_000 + i))) for i in range(20)]
    replica = rt.replica
    sync, synced = replica.sync, [0.0, 0]

    def timed_sync(session, **kw) -> int:  # how much of a scan its sync took, what it applied
        t0 = time.perf_counter()
        n = sync(session, **kw)
        synced[0], synced[1] = time.perf_counter() - t0, n
        return n

    replica.sync = timed_sync
    for i in range(WARM_UP_SCANS):  # compiled kernels, connections: not part of a scan's cost
        rt.scan_fingerprint(fps[i % len(fps)])
    proc = None
    if import_cmd:
        from rempart.banks import service

        with rt.db.session() as s:  # the bank first: the import child then only reads it
            service.ensure_bank(s, import_cmd[-3])
        proc = subprocess.Popen(import_cmd, stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)
    lat: list[float] = []
    waited: list[float] = []  # the same scans timed from their upload's arrival
    #: (wall-clock start, latency, sync seconds, changes applied, match and write seconds)
    rows: list[tuple[float, float, float, int, float, float]] = []
    errors = 0
    end = time.perf_counter() + seconds
    i = 0
    period = 1 / SCANS_PER_SECOND
    next_at = time.perf_counter()
    stop_at = None  # the import's end and the replica's catch-up, + AFTER_IMPORT_SECONDS
    target = None
    while time.perf_counter() < end and (stop_at is None or time.perf_counter() < stop_at):
        if proc is not None and stop_at is None and proc.poll() is not None:
            if target is None:  # imported: the replica is to apply the feed up to here
                with rt.db.session() as s:
                    target = s.scalar(select(func.max(BankChange.seq)))
            if replica.seq >= target and not replica.catching_up:
                stop_at = time.perf_counter() + AFTER_IMPORT_SECONDS
        next_at += period  # a steady stream of uploads, not a tight loop
        time.sleep(max(0.0, next_at - time.perf_counter()))
        t = time.perf_counter()
        wall = time.time()
        synced[0], synced[1] = 0.0, 0
        timings: dict[str, float] = {}
        try:
            rt.scan_fingerprint(fps[i % len(fps)], timings=timings)
        except Exception:
            errors += 1
        lat.append(time.perf_counter() - t)
        # as the upload stream sees it: from when the upload arrived (a scan that runs late
        # behind a slow one waits too, as it would for a server's busy worker)
        waited.append(time.perf_counter() - next_at)
        rows.append((wall, lat[-1], synced[0], synced[1], timings.get("match", 0.0),
                     timings.get("write", 0.0)))
        i += 1
    imported = None
    if proc is not None:
        out, _ = proc.communicate()
        imported = json.loads(out.strip().splitlines()[-1])
    lat.sort()
    waited.sort()
    return {"scans": len(lat), "errors": errors,
            "p50_ms": 1000 * lat[len(lat) // 2], "p99_ms": 1000 * lat[int(len(lat) * 0.99)],
            "p99_from_arrival_ms": 1000 * waited[int(len(waited) * 0.99)],
            "max_ms": 1000 * lat[-1], "import": imported, "rows": rows}


#: main's partner feed before it read ranges by windows of ids (``--feed-only`` times it
#: beside today's, loaded from git: the old shape is not kept in the code)
FEED_OLD_COMMIT = "c32ec84f97c04408ff101058bc40a4c1db17e23c"
#: partner feed pages timed per position (start, middle and end of the shared import's range)
FEED_SAMPLE_PAGES = 5


def _main_feed():
    """rempart.exchanges.feed as of ``FEED_OLD_COMMIT`` (the range read as ``id BETWEEN
    cursor AND end ... LIMIT n`` with the shared banks in the query), as a module."""
    import types

    src = subprocess.run(["git", "-C", str(HERE.parent), "show",
                          f"{FEED_OLD_COMMIT}:rempart/exchanges/feed.py"],
                         capture_output=True, text=True, check=True).stdout
    mod = types.ModuleType("main_feed")
    sys.modules[mod.__name__] = mod
    exec(compile(src, f"{FEED_OLD_COMMIT[:7]}:rempart/exchanges/feed.py", "exec"), mod.__dict__)
    return mod


def _explained(rt, statements: list) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of a page's statements on ``bank_entries`` (PostgreSQL):
    their count, summed time, blocks read or hit, temporary blocks written, and the plan of
    the slowest."""
    totals = {"queries": 0, "ms": 0.0, "blocks": 0, "temp_blocks": 0, "slowest_plan": []}
    slowest = -1.0
    with rt.db.engine.connect() as c:
        raw = c.connection.driver_connection
        for statement, params in statements:
            with raw.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params)
                doc = cur.fetchone()[0][0]
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                text_plan = [r[0] for r in cur.fetchall()]
            top = doc["Plan"]
            totals["queries"] += 1
            totals["ms"] += doc["Execution Time"]
            totals["blocks"] += top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
            totals["temp_blocks"] += top.get("Temp Written Blocks", 0)
            if doc["Execution Time"] > slowest:
                slowest = doc["Execution Time"]
                totals["slowest_plan"] = [ln for ln in text_plan if "= ANY ('{" not in ln]
    return totals


def child_feed(home: str, url: str, shared_path: str, private_path: str) -> dict:
    """A partner sharing one bank pulls the feed (pages of ``DEFAULT_LIMIT``) right after an
    import into that bank and one into a bank it does not share: pages timed at the start,
    the middle and the end of the shared import's range (the last crosses the other import),
    today's feed and main's, alternately, the database as the imports left it (PostgreSQL: no
    statistics for their rows unless autovacuum came by), then after ANALYZE; then today's
    feed pulled whole, each entry checked to come once."""
    from sqlalchemy import event, select, text

    from rempart.banks import service
    from rempart.banks.entries import NewEntry
    from rempart.banks.models import BankChange
    from rempart.exchanges import feed
    from rempart.exchanges.protocols.feed import DEFAULT_LIMIT

    pg = url.startswith("postgresql")
    rt = _runtime(home, url, migrate=True)
    singles = [NewEntry("pdq", f"{i:064x}") for i in range(1, 7)]
    with rt.db.session() as s:
        service.ensure_bank(s, "shared")
        service.ensure_bank(s, "private")
        service.add_entries(s, service.get_bank(s, "shared"), singles[:3])
        _, key = feed.add_partner(s, rt.settings.home, "peer", ["shared"])
    out: dict = {}
    for bank, path in (("shared", shared_path), ("private", private_path)):
        t = time.perf_counter()
        with open(path, "rb") as f:
            out[f"import_{bank}"] = rt.import_list(bank, f, "te").result.n_added
        out[f"import_{bank}_s"] = time.perf_counter() - t
    with rt.db.session() as s:
        service.add_entries(s, service.get_bank(s, "shared"), singles[3:])
        partner = feed.authenticate_partner(s, rt.settings.home, key)
        (seq, lo, hi), = s.execute(select(BankChange.seq, BankChange.ref_id, BankChange.ref_to)
                                   .where(BankChange.ref_to.is_not(None)).order_by(BankChange.seq)
                                   .limit(1)).all()
    shapes = {"new": feed, "main": _main_feed()}
    captured: list | None = None

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        if captured is not None and statement.lstrip().startswith("SELECT") and "bank_entries" in statement:
            captured.append((statement, parameters))

    event.listen(rt.db.engine, "before_cursor_execute", capture)

    def page(module, after: int, after_entry: int) -> tuple[float, dict]:
        with rt.db.session() as s:
            t = time.perf_counter()
            body, _ = module.feed_page(s, partner, after, DEFAULT_LIMIT, after_entry)
            return time.perf_counter() - t, json.loads(body)

    def sample(state: str) -> dict:
        nonlocal captured
        res: dict = {}
        half = lo + (hi - lo) // 2
        for where, start in (("start", (seq - 1, 0)), ("middle", (seq - 1, half)),
                             ("end", (seq - 1, hi - (FEED_SAMPLE_PAGES - 1) * DEFAULT_LIMIT - 10))):
            for name, module in shapes.items():
                times, cursor = [], start
                for _ in range(FEED_SAMPLE_PAGES):
                    secs, body = page(module, *cursor)
                    times.append(secs)
                    cursor = (body["next"], body.get("next_entry", 0))
                res[f"{where}_{name}_ms"] = 1000 * statistics.median(times)
                res[f"{where}_{name}_max_ms"] = 1000 * max(times)
                if pg:  # the statements of the position's first page, explained
                    captured = []
                    page(module, *start)
                    stmts, captured = captured, None
                    res[f"{where}_{name}_explain"] = _explained(rt, stmts)
        return res

    if pg:
        with rt.db.session() as s:
            out["statistics"] = [str(v) for v in s.execute(text(
                "SELECT c.reltuples, t.last_autoanalyze FROM pg_class c JOIN pg_stat_user_tables t "
                "ON t.relid = c.oid WHERE c.relname = 'bank_entries'")).one()]
    out["fresh"] = sample("fresh")
    if pg:
        with rt.db.engine.connect() as c:
            c.execute(text("ANALYZE bank_entries"))
            c.commit()
        out["analyzed"] = sample("analyzed")
    # today's feed pulled whole from the start: every entry once
    t = time.perf_counter()
    ids: list[str] = []
    pages, cursor, took = 0, (0, 0), []
    while True:
        secs, body = page(feed, *cursor)
        took.append(secs)
        ids += [i["id"] for i in body["items"]]
        pages += 1
        cursor = (body["next"], body.get("next_entry", 0))
        if not body["more"]:
            break
    out["pull"] = {"seconds": time.perf_counter() - t, "pages": pages, "items": len(ids),
                   "unique": len(set(ids)), "slowest_ms": 1000 * max(took),
                   "median_ms": 1000 * statistics.median(took),
                   "expected": out["import_shared"] + len(singles)}
    return out


def report_feed(kind: str, r: dict) -> None:
    print(f"\n== {kind}: partner feed after an import of {r['import_shared']:,} into a shared bank "
          f"({r['import_shared_s']:.0f} s) and {r['import_private']:,} into one not shared "
          f"({r['import_private_s']:.0f} s) ==")
    if "statistics" in r:
        print(f"bank_entries statistics (rows estimated, -1: never analyzed; last autoanalyze): "
              f"{', '.join(r['statistics'])}")
    for state in ("fresh", "analyzed"):
        if state not in r:
            continue
        x = r[state]
        label = {"fresh": "as the imports left it", "analyzed": "after ANALYZE"}[state]
        for where in ("start", "middle", "end"):
            new, old = x[f"{where}_new_ms"], x[f"{where}_main_ms"]
            line = (f"{label}, {where} of the range: a page {new:.1f} ms (max {x[f'{where}_new_max_ms']:.1f})"
                    f" vs main's {old:.1f} ms (max {x[f'{where}_main_max_ms']:.1f}) -> {old / new:.1f}x")
            if f"{where}_new_explain" in x:
                e, o = x[f"{where}_new_explain"], x[f"{where}_main_explain"]
                line += (f"; explained: {e['queries']} queries {e['ms']:.1f} ms {e['blocks']:,} blocks "
                         f"{e['temp_blocks']:,} temp vs {o['queries']} queries {o['ms']:.1f} ms "
                         f"{o['blocks']:,} blocks {o['temp_blocks']:,} temp")
            print(line)
        if "middle_main_explain" in x:
            print("  main's slowest statement of a page in the middle:\n    "
                  + "\n    ".join(x["middle_main_explain"]["slowest_plan"]))
            print("  today's slowest statement of that page:\n    "
                  + "\n    ".join(x["middle_new_explain"]["slowest_plan"]))
    p = r["pull"]
    print(f"today's feed pulled whole: {p['items']:,} items ({p['unique']:,} distinct, "
          f"{p['expected']:,} expected) in {p['pages']:,} pages, {p['seconds']:.1f} s "
          f"({1000 * p['seconds'] / p['pages']:.1f} ms a page, median {p['median_ms']:.1f} ms, "
          f"slowest {p['slowest_ms']:.0f} ms)")


def parts_p50(rows: list) -> str:
    """The median of each part of these scans: sync, match, write (a scan recorded without a
    transaction commits in it) and the rest (the commit, the pool)."""
    parts = [sorted(1000 * f(r) for r in rows) for f in (
        lambda r: r[2], lambda r: r[4], lambda r: r[5], lambda r: r[1] - r[2] - r[4] - r[5])]
    return "parts p50 sync/match/write/commit+rest " + "/".join(
        f"{p[len(p) // 2]:.1f}" for p in parts) + " ms"


def by_phase(busy: dict, idle_p99_ms: float) -> list[str]:
    """Lines placing the scans of ``busy`` in the import's phases (what each phase did to
    them): count, p50/p99/max, scans slower than 2x the idle p99, and their syncs."""
    phases = busy["import"]["phases"]
    starts = [t for t, _ in phases]
    groups: dict[str, list] = {}
    for row in busy["rows"]:
        k = int(np.searchsorted(starts, row[0], side="right")) - 1
        name = "before" if k < 0 else phases[k][1] if phases[k][1] != "done" else "after exit"
        groups.setdefault(name, []).append(row)
    out = [" ".join(f"{name} +{t - starts[0]:.1f}s" for t, name in phases)]
    for name, rows in groups.items():
        lat = sorted(1000 * r[1] for r in rows)
        slow = [r for r in rows if 1000 * r[1] > 2 * idle_p99_ms]
        out.append(f"  {name:>15}: {len(rows):5} scans, p50/p99/max {lat[len(lat) // 2]:.1f}/"
                   f"{lat[int(len(lat) * 0.99)]:.1f}/{lat[-1]:.0f} ms; {len(slow)} over 2x idle p99"
                   + (" (in all: {:.0f} ms, of which sync {:.0f}, match {:.0f}, write {:.0f}, "
                      "commit and the rest {:.0f})".format(
                          *(sum(1000 * f(r) for r in slow) for f in (
                              lambda r: r[1], lambda r: r[2], lambda r: r[4], lambda r: r[5],
                              lambda r: r[1] - r[2] - r[4] - r[5]))) if slow else "")
                   + (f"; {sum(r[3] for r in rows):,} changes applied" if any(r[3] for r in rows)
                      else "") + "; " + parts_p50(rows))
    worst = sorted(busy["rows"], key=lambda r: -r[1])[:max(1, len(busy["rows"]) // 100)]
    out.append("  slowest 1%: " + ", ".join(
        f"+{r[0] - starts[0]:.1f}s {1000 * r[1]:.0f} ms" + (f" (sync {1000 * r[2]:.0f} ms, "
                                                             f"{r[3]:,} changes)" if r[3] else "")
        for r in sorted(worst)))
    return out


def child_scale_write(n: int, path: str) -> dict:
    """A matcher of ``n`` PDQ entries built in memory (no database), saved as a snapshot."""
    from rempart.matching import persist
    from rempart.matching.entry_table import KIND_CODE
    from rempart.matching.matcher import Matcher

    rng = np.random.default_rng(5)
    ids = np.arange(1, n + 1, dtype=np.int64)
    m = Matcher()
    m.put_columns(ids, np.ones(n, np.int32), np.full(n, KIND_CODE["pdq"], np.uint8),
                  np.zeros(n, np.uint8),
                  pdq=(ids, rng.integers(0, 256, size=(n, 32), dtype=np.uint8)))
    t = time.perf_counter()
    size = persist.write_snapshot(path, {"kind": "bench", "seq": 0}, m.capture()())
    return {"entries": len(m), "rss_mib": rss_now_mib(), "write_seconds": time.perf_counter() - t,
            "bytes": size, **m.stats()}


def child_scale_read(path: str) -> dict:
    """A cold start from that snapshot: read, check, build the index (the replica's path)."""
    from rempart.matching import persist
    from rempart.matching.matcher import BankPolicy, Matcher, Query
    from rempart.store.db import utcnow

    base = rss_now_mib()
    t = time.perf_counter()
    meta, arrays = persist.read_snapshot(path)
    m = Matcher.from_snapshot(arrays)
    del arrays
    m.put_bank(BankPolicy(1, "big", 31, "block", False, True))
    secs = time.perf_counter() - t
    m.match(Query(pdq=(("original", "00" * 32, 90),)), utcnow())  # it answers
    return {"entries": len(m), "seconds": secs, "rss_mib": rss_now_mib(), "rss_before_mib": base,
            "peak_rss_mib": rss_peak_mib(), **m.stats()}


def child(argv: list[str]) -> None:
    kind, *rest = argv
    if kind == "scale-write":
        out = child_scale_write(int(rest[0]), rest[1])
    elif kind == "scale-read":
        out = child_scale_read(rest[0])
    elif kind == "import":
        home, url, bank, path, old = rest
        out = child_import(home, url, bank, path, old == "old")
    elif kind == "feed":
        out = child_feed(*rest)
    elif kind == "replica":
        home, url, snap = rest
        out = child_replica(home, url, snap == "snapshot")
    else:
        home, url, seconds, *cmd = rest
        out = child_scans(home, url, float(seconds), cmd or None)
    print(json.dumps(out))


# ---------------------------------------------------------------- the parent


def run_child(*args: str, env: dict | None = None) -> dict:
    out = subprocess.run([sys.executable, str(HERE), "--child", *args], capture_output=True,
                         text=True, env=env)
    if out.returncode:
        raise SystemExit(f"child {args[:1]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bank_list_seconds(home: str, url: str, rounds: int = 3) -> float:
    env = {**os.environ, "REMPART_HOME": home, "REMPART_DATABASE_URL": url}
    rempart = Path(sys.executable).with_name("rempart")
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        subprocess.run([str(rempart), "bank", "list"], env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def fresh_db(kind: str, pg_url: str | None, tag: str) -> tuple[str, str]:
    home = tempfile.mkdtemp(prefix=f"rempart-bigbanks-{tag}-")
    if kind == "sqlite":
        return home, f"sqlite:///{home}/bench.db"
    import psycopg

    name = f"bench_bigbanks_{tag}_{os.getpid()}"
    admin = pg_url.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {name}")
        c.execute(f"CREATE DATABASE {name}")
    return home, pg_url.rsplit("/", 1)[0] + "/" + name


def bench_db(kind: str, args, files: dict[str, Path]) -> dict:
    res: dict = {}
    pg = args.postgres_url
    # 1. import, new path at N and main's path at old_entries
    home, url = fresh_db(kind, pg, "new")
    res["import_new"] = run_child("import", home, url, "big", str(files["big"]), "new")
    ohome, ourl = fresh_db(kind, pg, "old")
    res["import_old"] = run_child("import", ohome, ourl, "big", str(files["old"]), "old")
    res["import_small_new"] = run_child("import", ohome, ourl, "small", str(files["old"]), "new")
    # 2. replica from the database (then a snapshot is written), then from the snapshot
    res["replica_db"] = run_child("replica", home, url, "db")
    res["replica_snapshot"] = run_child("replica", home, url, "snapshot")
    # 3. bank list, big home against an empty one
    ehome, eurl = fresh_db(kind, pg, "empty")
    run_child("import", ehome, eurl, "empty", str(files["empty"]), "new")
    res["bank_list_big_s"] = bank_list_seconds(home, url)
    res["bank_list_empty_s"] = bank_list_seconds(ehome, eurl)
    # 4. scans idle, then during an import of `during` entries more (another process)
    res.update(scans_round(home, url, files, args.scan_seconds, "more"))
    return res


def scans_round(home: str, url: str, files: dict[str, Path], idle_seconds: float,
                bank: str) -> dict:
    """Phase 4: scans idle, then during an import of the "during" file into ``bank``."""
    res = {"scans_idle": run_child("scans", home, url, str(idle_seconds))}
    cmd = [sys.executable, str(HERE), "--child", "import", home, url, bank, str(files["during"]),
           "new"]
    res["scans_during_import"] = run_child("scans", home, url, "600", *cmd)
    return res


def scans_only(kind: str, args, files: dict[str, Path]) -> list[dict]:
    """Only phase 4, ``--rounds`` times on one home of N entries (a new bank each round; a
    snapshot is written before each round, as ``serve`` would have)."""
    home, url = fresh_db(kind, args.postgres_url, "scans")
    run_child("import", home, url, "big", str(files["big"]), "new")
    out = []
    for i in range(args.rounds):
        run_child("replica", home, url, "db")  # a snapshot of what is there now
        out.append(scans_round(home, url, files, args.scan_seconds, f"more{i}"))
    shutil.rmtree(home, ignore_errors=True)
    drop_db(kind, args.postgres_url, url)
    return out


def drop_db(kind: str, pg_url: str | None, url: str) -> None:
    """A PostgreSQL database of ``fresh_db``: its millions of rows are not kept."""
    if kind == "postgresql":
        import psycopg

        with psycopg.connect(pg_url.replace("+psycopg", ""), autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


def report_scans(kind: str, rounds: list[dict]) -> None:
    for n, r in enumerate(rounds, 1):
        idle, busy = r["scans_idle"], r["scans_during_import"]
        print(f"{kind} round {n}: scans idle p50/p99 {idle['p50_ms']:.1f}/{idle['p99_ms']:.1f} ms;"
              f" during an import of {busy['import']['added']:,} more "
              f"({busy['import']['rate']:,.0f}/s) {busy['p50_ms']:.1f}/{busy['p99_ms']:.1f} ms "
              f"({busy['errors']} errors, longest {busy['max_ms']:,.0f} ms) -> p99 "
              f"{busy['p99_ms'] / idle['p99_ms']:.2f}x; from the uploads' arrival p99 "
              f"{idle['p99_from_arrival_ms']:.1f} -> {busy['p99_from_arrival_ms']:.1f} ms",
              flush=True)
        print(f"  idle: {parts_p50(idle['rows'])}", flush=True)
        print("\n".join(by_phase(busy, idle["p99_ms"])), flush=True)


def report(kind: str, r: dict, n: int, old_n: int) -> None:
    new, old, small = r["import_new"], r["import_old"], r["import_small_new"]
    print(f"\n== {kind}: {n:,} PDQ entries ==")
    print(f"import (new) {new['added']:,} entries: {new['rate']:,.0f}/s, peak RSS "
          f"{new['peak_rss_mib']:,.0f} MiB; the bank held (SQLite: the write lock) for the last "
          f"{new['bank_locked_seconds']:.1f} s")
    print(f"import at {old_n:,}: new {small['rate']:,.0f}/s, {small['peak_rss_mib']:,.0f} MiB; "
          f"main's {old['rate']:,.0f}/s, {old['peak_rss_mib']:,.0f} MiB -> "
          f"{small['rate'] / old['rate']:.1f}x faster, "
          f"{old['peak_rss_mib'] / small['peak_rss_mib']:.1f}x less memory")
    db, sn = r["replica_db"], r["replica_snapshot"]
    print(f"replica from database: {db['seconds']:.1f} s, RSS {db['rss_mib']:,.0f} MiB; from "
          f"snapshot: {sn['seconds']:.1f} s, RSS {sn['rss_mib']:,.0f} MiB "
          f"({db['seconds'] / sn['seconds']:.1f}x faster); snapshot {db['snapshot_bytes'] / 2**20:,.0f}"
          f" MiB written in {db['snapshot_write_seconds']:.1f} s")
    print(f"matcher arrays per entry: entry table {sn['table_bytes_per_entry']:.1f} B, PDQ index "
          f"{sn['index_bytes_per_entry']:.1f} B")
    print(f"bank list: {r['bank_list_big_s']:.2f} s big home, {r['bank_list_empty_s']:.2f} s empty "
          f"home ({r['bank_list_big_s'] / r['bank_list_empty_s']:.2f}x)")
    idle, busy = r["scans_idle"], r["scans_during_import"]
    print(f"scans idle p50/p99 {idle['p50_ms']:.1f}/{idle['p99_ms']:.1f} ms; during an import of "
          f"{busy['import']['added']:,} more ({busy['import']['rate']:,.0f}/s) "
          f"{busy['p50_ms']:.1f}/{busy['p99_ms']:.1f} ms ({busy['errors']} errors, longest "
          f"{busy['max_ms']:,.0f} ms) -> p99 {busy['p99_ms'] / idle['p99_ms']:.2f}x")
    print("\n".join(by_phase(busy, idle["p99_ms"])))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--old-entries", type=int, default=100_000)
    ap.add_argument("--during", type=int, default=1_000_000, help="entries imported while scanning")
    ap.add_argument("--scan-seconds", type=float, default=10.0)
    ap.add_argument("--postgres-url", default=None,
                    help="also PostgreSQL: a server URL (a database per measure is created)")
    ap.add_argument("--snapshot-scale", type=int, default=0,
                    help="also: a matcher of this many entries built in memory, saved, and started "
                         "from its snapshot in a fresh process (e.g. 10000000; no database)")
    ap.add_argument("--only-scale", action="store_true", help="run only --snapshot-scale")
    ap.add_argument("--import-only", action="store_true",
                    help="run only the streamed import of --entries (e.g. 10000000)")
    ap.add_argument("--scans-only", action="store_true",
                    help="run only the scans idle and during an import (on a home of --entries)")
    ap.add_argument("--feed-only", action="store_true",
                    help="run only the partner feed after an import of --entries into a shared "
                         "bank and one into a bank not shared, today's against main's")
    ap.add_argument("--rounds", type=int, default=1, help="with --scans-only: rounds to run")
    ap.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL (--postgres-url)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.snapshot_scale:
        snap = Path(tempfile.mkdtemp(prefix="rempart-bigbanks-snap-")) / "scale.snap"
        w = run_child("scale-write", str(args.snapshot_scale), str(snap))
        r = run_child("scale-read", str(snap))
        snap.unlink()
        print(f"\n== matcher of {w['entries']:,} PDQ entries (no database) ==")
        print(f"built in memory: RSS {w['rss_mib']:,.0f} MiB; snapshot {w['bytes'] / 2**20:,.0f} MiB "
              f"written in {w['write_seconds']:.1f} s")
        print(f"cold start from the snapshot: ready in {r['seconds']:.1f} s, RSS {r['rss_mib']:,.0f} "
              f"MiB (peak {r['peak_rss_mib']:,.0f} MiB, {r['rss_before_mib']:,.0f} MiB before); "
              f"entry table {r['table_nbytes'] / 2**20:,.0f} MiB "
              f"({r['table_nbytes'] / r['entries']:.0f} B/entry), PDQ index "
              f"{r['pdq_nbytes'] / 2**20:,.0f} MiB ({r['pdq_nbytes'] / r['entries']:.0f} B/entry)")
        if args.json:
            print(json.dumps({"write": w, "read": r}, indent=1))
        if args.only_scale:
            return
    work = Path(tempfile.mkdtemp(prefix="rempart-bigbanks-files-"))
    kinds = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.postgres_url else [])
    if args.import_only:
        write_list(work / "big.te", args.entries, 1)
        for kind in kinds:
            home, url = fresh_db(kind, args.postgres_url, "only")
            r = run_child("import", home, url, "big", str(work / "big.te"), "new")
            print(f"{kind}: import of {r['added']:,} entries in {r['seconds']:.0f} s: "
                  f"{r['rate']:,.0f}/s, peak RSS {r['peak_rss_mib']:,.0f} MiB; the bank held "
                  f"(SQLite: the write lock) for the last {r['bank_locked_seconds'] or 0:.1f} s",
                  flush=True)
            shutil.rmtree(home, ignore_errors=True)
            drop_db(kind, args.postgres_url, url)
        (work / "big.te").unlink()
        return
    if args.feed_only:
        write_list(work / "shared.te", args.entries, 5)
        write_list(work / "private.te", args.entries, 6)
        for kind in kinds:
            home, url = fresh_db(kind, args.postgres_url, "feed")
            r = run_child("feed", home, url, str(work / "shared.te"), str(work / "private.te"))
            report_feed(kind, r)
            if args.json:
                print(json.dumps(r, indent=1))
            shutil.rmtree(home, ignore_errors=True)
            drop_db(kind, args.postgres_url, url)
        shutil.rmtree(work, ignore_errors=True)
        return
    if args.scans_only:
        files = {"big": work / "big.te", "during": work / "during.te"}
        write_list(files["big"], args.entries, 1)
        write_list(files["during"], args.during, 3)
        for kind in kinds:
            report_scans(kind, scans_only(kind, args, files))
        shutil.rmtree(work, ignore_errors=True)
        return
    files = {"big": work / "big.te", "old": work / "old.te", "during": work / "during.te",
             "empty": work / "empty.te"}
    write_list(files["big"], args.entries, 1)
    write_list(files["old"], args.old_entries, 2)
    write_list(files["during"], args.during, 3)
    files["empty"].write_text("")
    results = {kind: bench_db(kind, args, files) for kind in kinds}
    for kind, r in results.items():
        report(kind, r, args.entries, args.old_entries)
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
