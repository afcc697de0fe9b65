"""Benchmark (5): the console under a realistic backlog: page times, and serving order.

Opens N cases (default 1,000) across every queue, from every source, with hash matches of
varied list and distance and creation times spread over two days (so deadlines differ). A lead
logs in through the login form (password + TOTP), then:

- times each page (queue overview, my queue, a case page, audit log, team exposure, the
  statement-of-reasons preview) over several requests: median and max, in milliseconds;
- claims "next case" and dismisses it, K times, timing both, and checks that the served cases
  come in queue order: priority first, then deadline (never a later key before an earlier one).

In process (FastAPI's TestClient), so the times are the server's plus a small client overhead.
Usage: python bench/console_pages.py [--cases 1000] [--serve 50] [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

import pyotp
from fastapi.testclient import TestClient

from rempart.api.app import create_app
from rempart.authz import Role, system_actor
from rempart.config import Settings
from rempart.moderation import CaseSource, FlaggedItem, NewCase, open_case
from rempart.moderation.models import Case
from rempart.moderation.priority import MatchSignal
from rempart.people import bootstrap_user
from rempart.runtime import Runtime
from rempart.store.db import utcnow

SOURCES = (CaseSource.EMERGENCY, CaseSource.TRUSTED_FLAGGER, CaseSource.LAW_ENFORCEMENT,
           CaseSource.HASH_REVIEW, CaseSource.HASH_BLOCK, CaseSource.PUBLIC_REPORT)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _open_cases(rt: Runtime, n: int) -> None:
    rng = random.Random(7)
    actor = system_actor("bench")
    now = utcnow()
    with rt.db.session() as s:
        for i in range(n):
            source = rng.choice(SOURCES)
            hashed = source in (CaseSource.HASH_REVIEW, CaseSource.HASH_BLOCK)
            matches = (MatchSignal(rng.choice(("ngo-a", "ngo-b", "platform")),
                                   rng.randint(0, 31)),) if hashed else ()
            open_case(s, actor, NewCase(
                source=source, subject=f"bench:{i}", title=f"Bench case {i}",
                account=f"acct-{rng.randint(0, 300)}", space=f"space-{rng.randint(0, 40)}",
                items=(FlaggedItem(external_ref=f"ref-{i}", matches=matches),),
                has_media=False, metadata_decidable=True,
                child_safety=source is not CaseSource.PUBLIC_REPORT),
                rt.moderation, now=now - dt.timedelta(minutes=rng.randint(0, 48 * 60)))


def _login(client: TestClient, username: str, password: str, secret: str) -> str:
    page = client.get("/console/login")
    client.post("/console/login", data={"csrf_token": CSRF.search(page.text).group(1),
                                        "username": username, "password": password,
                                        "code": pyotp.TOTP(secret).now()})
    new = "bench passphrase 1234"
    token = CSRF.search(client.get("/console/password").text).group(1)
    client.post("/console/password", data={"csrf_token": token, "old": password, "new": new,
                                           "repeat": new})
    return CSRF.search(client.get("/console/").text).group(1)


def _time(fn, repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        r = fn()
        times.append(time.perf_counter() - start)
        if r.status_code >= 400:
            raise RuntimeError(f"{r.request.url} answered {r.status_code}")
    return {"median_ms": round(statistics.median(times) * 1000, 1),
            "max_ms": round(max(times) * 1000, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--serve", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="rempart-bench-"))
    rt = Runtime(Settings(home, args.database_url or f"sqlite:///{home / 'bench.db'}"))
    t0 = time.perf_counter()
    _open_cases(rt, args.cases)
    open_s = time.perf_counter() - t0
    with rt.db.session() as s:
        lead = bootstrap_user(s, "bench-lead", Role.LEAD)
    client = TestClient(create_app(rt, outbox_worker=False))
    csrf = _login(client, "bench-lead", lead.one_time_password, lead.totp_secret)
    with rt.db.session() as s:
        some_case = s.query(Case.id).order_by(Case.id.desc()).first()[0]
    pages = {
        "queues": lambda: client.get("/console/queues"),
        "my_queue": lambda: client.get("/console/cases"),
        "case": lambda: client.get(f"/console/cases/{some_case}"),
        "audit": lambda: client.get("/console/audit"),
        "exposure": lambda: client.get("/console/exposure"),
        "reasons_preview": lambda: client.post(f"/console/cases/{some_case}/reasons", data={
            "csrf_token": csrf, "policy": "csam", "actions": ["remove_item"], "facts": "x"}),
    }
    timings = {name: _time(fn, args.repeat) for name, fn in pages.items()}

    served, claim_t, decide_t = [], [], []
    for _ in range(args.serve):
        start = time.perf_counter()
        r = client.post("/console/cases/next", data={"csrf_token": csrf}, follow_redirects=False)
        claim_t.append(time.perf_counter() - start)
        case_id = int(r.headers["location"].split("/")[-1].split("?")[0])
        with rt.db.session() as s:
            c = s.get(Case, case_id)
            served.append((c.priority, c.due_at, c.created_at, c.id))
        start = time.perf_counter()
        r = client.post(f"/console/cases/{case_id}/decide",
                        data={"csrf_token": csrf, "actions": ["dismiss"], "facts": "bench"},
                        follow_redirects=False)
        decide_t.append(time.perf_counter() - start)
        if r.status_code != 303:
            raise RuntimeError(f"decide answered {r.status_code}")
    in_order = all(a <= b for a, b in zip(served, served[1:]))
    timings["next_case"] = {"median_ms": round(statistics.median(claim_t) * 1000, 1),
                            "max_ms": round(max(claim_t) * 1000, 1)}
    timings["decide"] = {"median_ms": round(statistics.median(decide_t) * 1000, 1),
                         "max_ms": round(max(decide_t) * 1000, 1)}
    result = {"cases": args.cases, "open_cases_seconds": round(open_s, 2),
              "database": rt.db.engine.dialect.name, "pages": timings,
              "served": args.serve, "served_in_queue_order": in_order}
    for name, t in timings.items():
        print(f"{name:16} median {t['median_ms']:7.1f} ms   max {t['max_ms']:7.1f} ms")
    print(f"{args.serve} cases served by 'next case', in queue order: {in_order}")
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / "console_pages.json").write_text(json.dumps(result, indent=2))
    rt.close()
    if not in_order:
        raise SystemExit("served out of queue order")


if __name__ == "__main__":
    main()
