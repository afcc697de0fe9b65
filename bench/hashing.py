"""Benchmark: hashing throughput of rempart.signals.fingerprint against python-threatexchange.

Reference: ``threatexchange.signal_type.pdq.pdq_hasher.pdq_from_bytes`` (what ``PdqSignal``
hashes uploads with: Pillow decode + Meta's ``pdqhash``), run on the same bytes in the same
process, one thread. Throughput per core: each pass is timed in CPU seconds of the process
(``time.process_time``; every contender hashes images in the calling thread), the best of
``--rounds`` passes, so the ratios hold on a machine shared with other work; wall-clock figures
are reported beside them. Contenders, interleaved round by round so drift hits
all alike:

- threatexchange   PDQ + quality only (no EXIF orientation; some colour modes fail)
- rempart          the upload path as deployed: SHA-256 + MD5 + SHA-1, magic sniffing, limits,
                   EXIF orientation, canonical colour, PDQ + 8 dihedral variants + border trim;
                   large JPEGs decoded at a reduced DCT scale (``DEFAULT_JPEG_DRAFT``)
- rempart-exact    the same with ``jpeg_draft=None``: full-resolution decoding, bit-exact PDQ

Image sets: the reference images of tests/data (with their reference CSV), and size classes of
typical uploads: 1, 3, 6 and 12 megapixel JPEGs (quality 90) made at start-up by resizing the
benign tests/data pictures (``--sources``). For each set: files/s, the ratio of each contender's
throughput to threatexchange's, and the PDQ bits off the reference (the CSV, or for the
generated files the full-resolution path, bit-exact with it). Videos: the sample clips of
tests/data, fingerprinted (one frame per second, 9 hashes per frame) as many times faster than
real time. Writes everything to bench/results/hashing.json.

Usage: python bench/hashing.py [--rounds 3] [--classes 1,3,6,12] [--no-video]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from rempart.signals import fingerprint, hamming  # noqa: E402

DEFAULT_SOURCES = ("bridge-mods/aaa-orig.jpg", "pen-and-coaster.png", "misc/c.png",
                   "labelme-subset/q2821.jpg")


def _testdata() -> Path:
    return ROOT / "tests" / "data"


def _reference_hasher():
    try:
        from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes
    except ImportError:
        raise SystemExit("python-threatexchange is not installed: pip install -e '.[bench]'")
    return pdq_from_bytes


def size_class(data: bytes, megapixels: float, quality: int = 90) -> bytes:
    """A JPEG of about ``megapixels`` made from the picture in ``data`` (aspect kept)."""
    im = Image.open(io.BytesIO(data)).convert("RGB")
    scale = (megapixels * 1e6 / (im.size[0] * im.size[1])) ** 0.5
    out = io.BytesIO()
    im.resize((round(im.size[0] * scale), round(im.size[1] * scale)),
              Image.Resampling.BICUBIC).save(out, "JPEG", quality=quality)
    return out.getvalue()


def _contenders(pdq_from_bytes) -> dict:
    def run_te(data: bytes) -> str | None:
        try:
            return pdq_from_bytes(data)[0]
        except Exception:  # the reference fails on some colour modes; counted, not fatal
            return None

    return {
        "threatexchange": run_te,
        "rempart": lambda data: fingerprint(data).pdq().pdq,
        "rempart-exact": lambda data: fingerprint(data, jpeg_draft=None).pdq().pdq,
    }


def measure(files: dict[str, bytes], expected: dict[str, str], contenders: dict,
            rounds: int) -> dict:
    """Best-of-``rounds`` passes over ``files`` per contender, interleaved; ratios and drift."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    walls: dict[str, list[float]] = {name: [] for name in contenders}
    hashes: dict[str, dict[str, str | None]] = {name: {} for name in contenders}
    for fn in contenders.values():  # warm-up: imports, numba, file cache
        for data in files.values():
            fn(data)
    for _ in range(rounds):
        for name, fn in contenders.items():
            t0, c0 = time.perf_counter(), time.process_time()
            for file, data in files.items():
                hashes[name][file] = fn(data)
            times[name].append(time.process_time() - c0)
            walls[name].append(time.perf_counter() - t0)
    megabytes = sum(len(b) for b in files.values()) / 1e6
    results = {}
    for name in contenders:
        best, got = min(times[name]), hashes[name]
        bits = [hamming(got[f], expected[f]) for f in files if got[f]]
        results[name] = {
            "cpu_seconds_per_pass_best": round(best, 4),
            "cpu_seconds_per_pass_median": round(statistics.median(times[name]), 4),
            "wall_seconds_per_pass_best": round(min(walls[name]), 4),
            "files_per_cpu_second": round(len(files) / best, 2),
            "mb_per_cpu_second": round(megabytes / best, 2),
            "exact": sum(got[f] == expected[f] for f in files),
            "failures": sum(got[f] is None for f in files),
            "max_bits_off": max(bits, default=None),
            "median_bits_off": statistics.median(bits) if bits else None,
        }
    ref = results["threatexchange"]
    for r in results.values():
        r["throughput_ratio_vs_threatexchange"] = round(
            ref["cpu_seconds_per_pass_best"] / r["cpu_seconds_per_pass_best"], 2)
        r["wall_ratio_vs_threatexchange"] = round(
            ref["wall_seconds_per_pass_best"] / r["wall_seconds_per_pass_best"], 2)
    return {"files": len(files), "megabytes": round(megabytes, 2), "contenders": results}


def measure_video(rounds: int) -> dict:
    """Wall clock (the decoder uses up to ``video.THREADS`` threads) and CPU seconds of the
    process (all its threads: per core) to fingerprint the sample clips, best of ``rounds``."""
    clips = sorted((_testdata() / "video").glob("*.mp4"))
    seconds_of_video, wall, cpu = 0.0, 0.0, 0.0
    for clip in clips:
        data = clip.read_bytes()
        fp = fingerprint(data)  # warm-up
        seconds_of_video += fp.duration or 0.0
        walls, cpus = [], []
        for _ in range(rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            fingerprint(data)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        wall, cpu = wall + min(walls), cpu + min(cpus)
    return {"clips": len(clips), "seconds_of_video": round(seconds_of_video, 2),
            "wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
            "x_real_time": round(seconds_of_video / wall, 1) if wall else None,
            "x_real_time_per_core": round(seconds_of_video / cpu, 1) if cpu else None}


def _print_set(title: str, report: dict) -> None:
    print(f"\n{title}: {report['files']} files, {report['megabytes']:.1f} MB")
    print(f"  {'contender':15} {'files/s':>8} {'MB/s':>7} {'ratio':>6} {'wall':>6} {'exact':>7} "
          f"{'fail':>5} {'max off':>8} {'median':>7}")
    for name, r in report["contenders"].items():
        print(f"  {name:15} {r['files_per_cpu_second']:8.1f} {r['mb_per_cpu_second']:7.1f} "
              f"{r['throughput_ratio_vs_threatexchange']:6.2f} "
              f"{r['wall_ratio_vs_threatexchange']:6.2f} "
              f"{r['exact']:>3}/{report['files']:<3} {r['failures']:5} "
              f"{str(r['max_bits_off']):>8} {str(r['median_bits_off']):>7}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--classes", default="1,3,6,12", help="megapixels of the generated JPEGs")
    ap.add_argument("--sources", default=",".join(DEFAULT_SOURCES),
                    help="tests/data/images/pdq pictures the size classes are made from")
    ap.add_argument("--no-video", action="store_true")
    args = ap.parse_args()
    pdq_dir = _testdata() / "images" / "pdq"
    contenders = _contenders(_reference_hasher())
    report: dict = {"rounds": args.rounds, "sets": {}}

    with open(pdq_dir / "pdq-reference.csv", newline="") as f:
        expected = {row["file"]: row["pdq_hex"] for row in csv.DictReader(f)}
    files = {name: (pdq_dir / name).read_bytes() for name in sorted(expected)}
    report["sets"]["reference images"] = measure(files, expected, contenders, args.rounds)
    _print_set("reference images of tests/data (drift against the reference CSV)",
               report["sets"]["reference images"])

    sources = {name: (pdq_dir / name).read_bytes() for name in args.sources.split(",")}
    for megapixels in (float(c) for c in args.classes.split(",")):
        generated = {f"{name}@{megapixels:g}MP": size_class(data, megapixels)
                     for name, data in sources.items()}
        exact = {name: fingerprint(data, jpeg_draft=None).pdq().pdq
                 for name, data in generated.items()}
        key = f"{megapixels:g} MP JPEG"
        report["sets"][key] = measure(generated, exact, contenders, args.rounds)
        _print_set(f"{key} (drift against the full-resolution path)", report["sets"][key])

    if not args.no_video:
        report["video"] = measure_video(args.rounds)
        v = report["video"]
        print(f"\nvideo: {v['clips']} clips, {v['seconds_of_video']} s of video hashed in "
              f"{v['wall_seconds']} s ({v['cpu_seconds']} CPU s): {v['x_real_time']}x real "
              f"time, {v['x_real_time_per_core']}x per core")

    print("\nthroughput per core vs threatexchange (CPU time; rempart default / full-resolution):")
    for key, r in report["sets"].items():
        c = r["contenders"]
        print(f"  {key:18} {c['rempart']['throughput_ratio_vs_threatexchange']:6.2f}x "
              f"{c['rempart-exact']['throughput_ratio_vs_threatexchange']:6.2f}x")
    out = ROOT / "bench" / "results" / "hashing.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
