"""Benchmark (issue 10): the legal desk's mechanical answer for an account with 1,000 items.

On a real runtime (SQLite in a temporary home, or --database-url), with --items benign items of
one account (ledger rows and --size bytes of random stand-in media each in the evidence store),
it times, in one process:
- receive: an officer's production order validated, checked against the platform's data, its
  clock, holds and transparency leaf recorded (``LegalDesk.receive``);
- answer: collect the records and media of the authorised categories, write the canonical zip
  with its MANIFEST, sign it (Ed25519), record the delivery and the clock event
  (``LegalDesk.produce``);
- verify: ``verify_package`` offline;
and, as the reference, the naive per-file approach a script would take: one query per item,
then each file read, hashed and added to a stored ``zipfile`` with a SHA256SUMS list.
It prints seconds per step and the answer / naive ratio (no absolute threshold is asserted).
Usage: python bench/legal_answer.py [--items 1000] [--size 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from sqlalchemy import select

from rempart.config import Settings
from rempart.legal import verify_package
from rempart.legal._common import format_time
from rempart.legal.db.agencies import add_agency, add_officer
from rempart.people import actor_of, bootstrap_user
from rempart.authz import Role
from rempart.runtime import Runtime
from rempart.scanning.models import ItemSignal, ScannedItem
from rempart.store.db import utcnow

ACCOUNT = "bench-account"


def order(ref: str, now: dt.datetime) -> dict:
    return {"kind": "epoc", "reference": ref, "issued_at": format_time(now - dt.timedelta(minutes=5)),
            "issuing_authority": {"name": "Bench court", "country": "FR", "kind": "judge"},
            "offence": {"legal_classification": "bench", "statutory_provision": "bench", "summary": "bench",
                        "max_custodial_years": 5},
            "data_categories": ["subscriber", "traffic", "content"],
            "targets": [{"type": "account", "value": ACCOUNT}],
            "time_range": {"start": format_time(now - dt.timedelta(days=30)), "end": format_time(now + dt.timedelta(days=1))},
            "confidential": False}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--items", type=int, default=1000)
    p.add_argument("--size", type=int, default=50_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--database-url", default=None)
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-legal-answer-"))
    try:
        home = work / "home"
        rt = Runtime(Settings(home=home, database_url=args.database_url or f"sqlite:///{work / 'r.db'}"))
        now = utcnow()
        with rt.db.session() as s:  # the account's items: ledger rows and their media
            for i in range(args.items):
                data = os.urandom(args.size)
                sha = hashlib.sha256(data).hexdigest()
                rt.evidence.put(sha, data)
                item = ScannedItem(account=ACCOUNT, space="bench-group", message=f"m-{i}", kind="image",
                                   media_format="JPEG", size_bytes=args.size, verdict="review",
                                   scanned_at=now - dt.timedelta(minutes=i))
                s.add(item)
                s.flush()
                s.add(ItemSignal(item_id=item.id, signal_type="sha256", value=sha))
            agency = add_agency(s, "Bench court", "FR", "court", phone="+33100000000")
            officer = actor_of(add_officer(s, "bench-officer", agency).person.user)
            legal = actor_of(bootstrap_user(s, "bench-legal", Role.LEGAL).user)
        vkey = rt.legal.vkey()
        times: dict[str, list[float]] = {"receive": [], "answer": [], "verify": [], "naive": []}
        for r in range(args.repeat):
            t = time.perf_counter()
            with rt.db.session() as s:
                row = rt.legal.receive(s, officer, order(f"BENCH-{r}", utcnow()), [])
            times["receive"].append(time.perf_counter() - t)
            dest = work / f"answer-{r}.zip"
            t = time.perf_counter()
            with rt.db.session() as s:
                files = rt.legal.produce(s, legal, s.get(type(row), row.id), dest).files
            times["answer"].append(time.perf_counter() - t)
            t = time.perf_counter()
            verdict = verify_package(dest, vkey)
            times["verify"].append(time.perf_counter() - t)
            if not verdict.ok:
                raise SystemExit(f"verify failed: {verdict.reason}")
            t = time.perf_counter()
            naive(rt, work / f"naive-{r}.zip")
            times["naive"].append(time.perf_counter() - t)
        best = {k: min(v) for k, v in times.items()}
        results = {"items": args.items, "media_bytes_each": args.size, "files_in_package": files,
                   **{f"{k}_s": round(v, 3) for k, v in best.items()},
                   "mechanical_answer_s": round(best["receive"] + best["answer"] + best["verify"], 3),
                   "answer_vs_naive_ratio": round(best["answer"] / best["naive"], 2)}
        print(json.dumps(results, indent=2))
        rt.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def naive(rt: Runtime, dest: Path) -> None:
    """The reference: item by item, one query each, into a stored zip with SHA256SUMS."""
    lines = []
    with rt.db.session() as s, zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as z:
        ids = list(s.scalars(select(ScannedItem.id).where(ScannedItem.account == ACCOUNT)))
        for item_id in ids:
            item = s.get(ScannedItem, item_id)
            sha = s.scalar(select(ItemSignal.value).where(ItemSignal.item_id == item_id, ItemSignal.signal_type == "sha256"))
            record = json.dumps({"item": item.id, "scanned_at": item.scanned_at.isoformat(), "space": item.space},
                                sort_keys=True).encode()
            z.writestr(f"records/item-{item_id}.json", record)
            data = rt.evidence.get(sha)
            z.writestr(f"media/item-{item_id}.jpeg", data)
            lines += [f"{hashlib.sha256(record).hexdigest()}  records/item-{item_id}.json",
                      f"{hashlib.sha256(data).hexdigest()}  media/item-{item_id}.jpeg"]
        z.writestr("SHA256SUMS", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
