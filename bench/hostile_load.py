"""Benchmark (6): the real server under hostile uploads, against its own ordinary load.

Starts ``rempart serve`` (uvicorn) in a subprocess over a fresh home, then runs two phases of
the same length while sampling the server's resident memory (``/proc/PID/status``) and timing
``GET /healthz`` every 100 ms:

1. ordinary load (the baseline): ``--scanners`` clients scanning benign 480 x 360 JPEGs;
2. hostile load: the same ordinary clients, plus ``--concurrency`` clients sending the hostile
   shapes below, over and over.

Hostile shapes (benign synthetic content, generated on the fly by ``rempart.demo.hostile``):
a 47 KB 7000 x 7000 grey PNG, a 190 KB 7000 x 7000 float TIFF, a 146 KB 7000 x 7000 H.264
video, a 23 KB GIF of 999 frames on a 4000 x 4000 canvas, a 300 MB JSON body sent without a
token, and a 300 MB multipart body to the console's login form (no cookie).

Printed: peak server memory and /healthz and ordinary-scan latencies in each phase, and the
hostile phase as ratios of the baseline; every hostile answer (status, seconds). Run it against
another checkout (``--repo /work/main``: its ``.venv`` runs the server) to compare before/after.
Usage: python bench/hostile_load.py [--concurrency 8] [--scanners 2] [--seconds 40] [--repo DIR]
       [--decode-memory 1G] [--database-url URL] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rempart.config import Settings  # noqa: E402
from rempart.demo.hostile import black_video, float_tiff, grey_png, many_frames_gif  # noqa: E402
from rempart.demo.pictures import jpeg, picture  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402

BOUNDARY = "rempartbench"
BIG_BODY = 300 << 20
MIB = 1 << 20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--concurrency", type=int, default=8, help="hostile clients at once")
    ap.add_argument("--scanners", type=int, default=2, help="ordinary clients, both phases")
    ap.add_argument("--seconds", type=float, default=40.0, help="length of each phase")
    ap.add_argument("--repo", type=Path, default=ROOT, help="checkout whose server to run")
    ap.add_argument("--decode-memory", default=None, help="REMPART_DECODE_MEMORY for the server")
    ap.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    print("generating hostile uploads...", file=sys.stderr)
    shapes = hostile_shapes()
    ordinary = [jpeg(picture(seed)) for seed in range(40)]
    server = server_of(args)
    try:
        server.rempart("migrate")
    except subprocess.CalledProcessError:
        pass  # a rempart from before `rempart migrate` creates its schema when it starts
    with server:
        server.token = next(w for w in server.rempart("token", "create", "bench", "--scope",
                                                       "platform").split() if w.startswith("rp_"))
        base = run_phase(server, args.seconds, ordinary, args.scanners, [], 0)
        hostile = run_phase(server, args.seconds, ordinary, args.scanners, shapes,
                            args.concurrency)
    report = {"concurrency": args.concurrency, "scanners": args.scanners, "repo": str(args.repo),
              "baseline": base.summary(), "hostile": hostile.summary()}
    report["ratios"] = {
        key: _ratio(report["hostile"][key], report["baseline"][key])
        for key in ("peak_rss_mib", "healthz_p50_ms", "healthz_p99_ms", "healthz_max_ms",
                    "scan_p50_ms", "scan_p95_ms")}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)


def hostile_shapes() -> list[tuple[str, dict]]:
    """(name, request) pairs; a request is what ``send`` takes."""
    def upload(name: str, data: bytes) -> dict:
        return {"path": "/v1/scan", "auth": True, "body": _multipart(name, data),
                "type": f"multipart/form-data; boundary={BOUNDARY}"}

    return [
        ("grey-png-7000", upload("a.png", grey_png(7000, 7000))),
        ("float-tiff-7000", upload("a.tif", float_tiff(7000, 7000))),
        ("video-7000", upload("a.mp4", black_video(7000, 7000))),
        ("gif-999x4000", upload("a.gif", many_frames_gif(999, 4000))),
        ("json-300MB-no-token", {"path": "/v1/banks", "auth": False, "stream": BIG_BODY,
                                 "type": "application/json"}),
        ("login-300MB-no-cookie", {"path": "/console/login", "auth": False, "stream": BIG_BODY,
                                   "type": f"multipart/form-data; boundary={BOUNDARY}"}),
    ]


def server_of(args) -> ServerProcess:
    """The server of ``--repo`` (its own .venv when it has one) over a fresh home."""
    home = Path(tempfile.mkdtemp(prefix="rempart-hostile-"))
    settings = Settings(home, args.database_url or f"sqlite:///{home / 'rempart.db'}")
    python = args.repo / ".venv" / "bin" / "python"
    env = {"REMPART_DECODE_MEMORY": args.decode_memory} if args.decode_memory else {}
    return ServerProcess(settings, python=str(python if python.exists() else sys.executable),
                         checkout=args.repo, **env)


class Phase:
    def __init__(self) -> None:
        self.rss: list[float] = []
        self.healthz: list[float] = []
        self.healthz_failures = 0
        self.scans: list[float] = []
        self.hostile: list[tuple[str, int, float]] = []
        self.lock = threading.Lock()

    def summary(self) -> dict:
        def pct(values: list[float], q: float) -> float:
            return round(sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000, 1) \
                if values else 0.0

        answers: dict[str, dict] = {}
        for name, status, seconds in self.hostile:
            a = answers.setdefault(name, {"statuses": {}, "max_s": 0.0, "count": 0})
            a["statuses"][str(status)] = a["statuses"].get(str(status), 0) + 1
            a["max_s"] = round(max(a["max_s"], seconds), 2)
            a["count"] += 1
        return {
            "peak_rss_mib": round(max(self.rss, default=0.0)),
            "healthz_count": len(self.healthz), "healthz_failures": self.healthz_failures,
            "healthz_p50_ms": pct(self.healthz, 0.5), "healthz_p99_ms": pct(self.healthz, 0.99),
            "healthz_max_ms": pct(self.healthz, 1.0),
            "scans": len(self.scans), "scan_p50_ms": pct(self.scans, 0.5),
            "scan_p95_ms": pct(self.scans, 0.95),
            "hostile": answers,
            "slowest_answer_s": round(max((s for _, _, s in self.hostile), default=0.0), 2),
        }


def run_phase(server: ServerProcess, seconds: float, ordinary: list[bytes], scanners: int,
              shapes: list[tuple[str, dict]], concurrency: int) -> Phase:
    phase, stop = Phase(), threading.Event()
    end = time.monotonic() + seconds

    def sample() -> None:
        while not stop.is_set():
            phase.rss.append(server.rss() / MIB)
            time.sleep(0.02)

    def health() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            try:
                ok = server.request("GET", "/healthz", timeout=30)[0] == 200
            except OSError:
                ok = False
            with phase.lock:
                if ok:
                    phase.healthz.append(time.perf_counter() - t)
                else:
                    phase.healthz_failures += 1
            time.sleep(0.1)

    def scanner(seed: int) -> None:
        i = seed
        while time.monotonic() < end:
            body = _multipart("o.jpg", ordinary[i % len(ordinary)])
            t = time.perf_counter()
            status = send(server, {"path": "/v1/scan", "auth": True, "body": body,
                                   "type": f"multipart/form-data; boundary={BOUNDARY}"})
            if status == 200:
                with phase.lock:
                    phase.scans.append(time.perf_counter() - t)
            i += scanners

    def attacker(index: int) -> None:
        i = index
        while time.monotonic() < end:
            name, req = shapes[i % len(shapes)]
            t = time.perf_counter()
            status = send(server, req)
            with phase.lock:
                phase.hostile.append((name, status, time.perf_counter() - t))
            i += 1

    workers = [threading.Thread(target=sample), threading.Thread(target=health)]
    workers += [threading.Thread(target=attacker, args=(n,)) for n in range(concurrency)]
    workers += [threading.Thread(target=scanner, args=(n,)) for n in range(scanners)]
    for w in workers:
        w.start()
    for w in workers[2:]:
        w.join()
    stop.set()
    for w in workers[:2]:
        w.join()
    return phase


def send(server: ServerProcess, req: dict) -> int:
    """POST one request; a streamed body stops when the server answers. Returns the status
    (0 when the connection failed without an answer)."""
    headers = {"Content-Type": req["type"]}
    if req["auth"]:
        headers["Authorization"] = f"Bearer {server.token}"
    try:
        if "stream" in req:
            return server.stream(req["path"], headers, req["stream"])[0]
        return server.request("POST", req["path"], req["body"], headers)[0]
    except OSError:
        return 0


def _multipart(filename: str, data: bytes) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode() \
        + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def _print(report: dict) -> None:
    base, hostile, ratios = report["baseline"], report["hostile"], report["ratios"]
    print(f"server: {report['repo']}   hostile clients: {report['concurrency']}   "
          f"ordinary clients: {report['scanners']}")
    print(f"{'':24}{'ordinary load':>16}{'hostile load':>16}{'ratio':>8}")
    for key, label in (("peak_rss_mib", "peak RSS (MiB)"), ("healthz_p50_ms", "/healthz p50 (ms)"),
                       ("healthz_p99_ms", "/healthz p99 (ms)"), ("healthz_max_ms", "/healthz max (ms)"),
                       ("scan_p50_ms", "ordinary scan p50 (ms)"),
                       ("scan_p95_ms", "ordinary scan p95 (ms)")):
        print(f"{label:24}{base[key]:>16}{hostile[key]:>16}{str(ratios[key]):>8}")
    print(f"{'/healthz failures':24}{base['healthz_failures']:>16}{hostile['healthz_failures']:>16}")
    print(f"{'ordinary scans done':24}{base['scans']:>16}{hostile['scans']:>16}")
    print(f"hostile answers (slowest {hostile['slowest_answer_s']} s):")
    for name, a in hostile["hostile"].items():
        print(f"  {name:24} x{a['count']:<4} statuses {a['statuses']}  slowest {a['max_s']} s")


if __name__ == "__main__":
    main()
