"""Benchmark (issue 10): the mechanical part of an answer for an account with 1,000 items.

In one process, on the same benign synthetic data (1,000 media files of --size bytes each and
one JSON record per item), it times:
- validate: parsing and checking the order (``parse_order``);
- package: ``build_package`` (hashing, canonical JSON, MANIFEST, Ed25519 signature, writing),
  as a directory and as a canonical .zip;
- verify: ``verify_package`` offline, both forms;
and, as the reference, what a script would do with the standard library alone: write the same
files into a stored ``zipfile`` with a SHA-256 list, then read the zip back and hash every file.
It prints seconds and rempart / reference ratios (best of --repeat runs each).
Usage: python bench/legal_package.py [--items 1000] [--size 200000] [--repeat 3]
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

from rempart.legal import (
    CustodyAction, CustodyEvent, MediaFile, build_package, parse_order, verify_package,
)
from rempart.transparency import Ed25519Signer

ORDER = {
    "kind": "epoc", "reference": "BENCH-1", "issued_at": "2026-08-20T09:00:00Z",
    "issuing_authority": {"name": "Bench court", "country": "FR", "kind": "judge"},
    "offence": {"legal_classification": "bench", "statutory_provision": "bench", "summary": "bench",
                "max_custodial_years": 5},
    "data_categories": ["subscriber", "content"], "targets": [{"type": "account", "value": "u-1"}],
    "time_range": {"start": "2026-01-01T00:00:00Z", "end": "2026-08-01T00:00:00Z"},
}


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--items", type=int, default=1000)
    p.add_argument("--size", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-legal-"))
    try:
        media_dir = work / "media"
        media_dir.mkdir()
        for i in range(args.items):  # incompressible benign bytes standing in for pictures
            (media_dir / f"item-{i}.jpg").write_bytes(os.urandom(args.size))
        records = {f"item-{i}": {"item": i, "account": "u-1", "uploaded_at": "2026-07-01T10:00:00Z",
                                 "sha256": hashlib.sha256(str(i).encode()).hexdigest()} for i in range(args.items)}
        media = [MediaFile(f"item-{i}.jpg", media_dir / f"item-{i}.jpg") for i in range(args.items)]
        signer = Ed25519Signer("bench.example/evidence", bytes(32))
        vkey = signer.verifier().vkey()
        custody = [CustodyEvent(dt.datetime(2026, 8, 20, 10), "bench", CustodyAction.COLLECTED, "package")]
        raw_order = json.dumps(ORDER).encode()
        order = parse_order(raw_order)
        n = [0]

        def build(suffix: str) -> Path:
            n[0] += 1
            dest = work / f"out-{n[0]}{suffix}"
            build_package(dest, order=order, delivery=1, previous=None, records=records, media=media,
                          custody=custody, receipt=b"bench receipt", signer=signer,
                          created_at=dt.datetime(2026, 8, 20, 11))
            return dest

        def reference_write() -> Path:
            n[0] += 1
            dest = work / f"ref-{n[0]}.zip"
            lines = []
            with zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as z:
                for name, value in records.items():
                    data = json.dumps(value, sort_keys=True).encode()
                    lines.append(f"{hashlib.sha256(data).hexdigest()}  records/{name}.json")
                    z.writestr(f"records/{name}.json", data)
                for m in media:
                    data = m.source.read_bytes()
                    lines.append(f"{hashlib.sha256(data).hexdigest()}  media/{m.name}")
                    z.writestr(f"media/{m.name}", data)
                z.writestr("SHA256SUMS", "\n".join(lines) + "\n")
            return dest

        def reference_verify(path: Path) -> None:
            with zipfile.ZipFile(path) as z:
                sums = dict(line.split("  ")[::-1] for line in z.read("SHA256SUMS").decode().splitlines())
                for name, digest in sums.items():
                    if hashlib.sha256(z.read(name)).hexdigest() != digest:
                        raise SystemExit(f"reference verify failed on {name}")

        validate = best(lambda: parse_order(raw_order), max(args.repeat, 100)) * 1000
        results = {"items": args.items, "media_bytes_each": args.size, "validate_ms": round(validate, 3)}
        ref_zip = reference_write()
        results["reference_write_s"] = ref_write = best(reference_write, args.repeat)
        results["reference_verify_s"] = ref_verify = best(lambda: reference_verify(ref_zip), args.repeat)
        for suffix, label in (("", "dir"), (".zip", "zip")):
            path = build(suffix)
            built = best(lambda s=suffix: build(s), args.repeat)
            verdict = verify_package(path, vkey)
            if not verdict.ok:
                raise SystemExit(f"verify failed: {verdict.reason}")
            checked = best(lambda p=path: verify_package(p, vkey), args.repeat)
            results[f"{label}_package_s"], results[f"{label}_verify_s"] = round(built, 3), round(checked, 3)
            results[f"{label}_package_ratio"] = round(built / ref_write, 2)
            results[f"{label}_verify_ratio"] = round(checked / ref_verify, 2)
            results[f"{label}_answer_s"] = round(validate / 1000 + built + checked, 3)
        results["reference_write_s"], results["reference_verify_s"] = round(ref_write, 3), round(ref_verify, 3)
        print(json.dumps(results, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
