"""Benchmark (6): the real server under hostile uploads, against its own ordinary load.

Starts ``rempart serve`` (uvicorn) in a subprocess over a fresh home, then runs two phases of
the same length while sampling the server's resident memory (``/proc/PID/status``) and timing
``GET /healthz`` every 100 ms:

1. ordinary load (the baseline): ``--concurrency`` clients scanning benign 480 x 360 JPEGs;
2. hostile load: ``--concurrency`` clients sending the hostile shapes below, over and over,
   while two clients keep scanning ordinary uploads.

Hostile shapes (benign synthetic content, generated on the fly by ``rempart.demo.hostile``):
a 47 KB 7000 x 7000 grey PNG, a 190 KB 7000 x 7000 float TIFF, a 146 KB 7000 x 7000 H.264
video, a 23 KB GIF of 999 frames on a 4000 x 4000 canvas, a 300 MB JSON body sent without a
token, and a 300 MB multipart body to the console's login form (no cookie).

Printed: peak server memory and /healthz and ordinary-scan latencies in each phase, and the
hostile phase as ratios of the baseline; every hostile answer (status, seconds). Run it against
another checkout (``--repo /work/main``: its ``.venv`` runs the server) to compare before/after.
Usage: python bench/hostile_load.py [--concurrency 8] [--seconds 40] [--repo DIR]
       [--decode-memory 1G] [--database-url URL] [--json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from rempart.demo.hostile import black_video, float_tiff, grey_png, many_frames_gif
from rempart.demo.pictures import jpeg, picture

ROOT = Path(__file__).resolve().parent.parent
BOUNDARY = "rempartbench"
BIG_BODY = 300 << 20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=40.0, help="length of each phase")
    ap.add_argument("--repo", type=Path, default=ROOT, help="checkout whose server to run")
    ap.add_argument("--decode-memory", default=None, help="REMPART_DECODE_MEMORY for the server")
    ap.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    print("generating hostile uploads...", file=sys.stderr)
    shapes = hostile_shapes()
    ordinary = [jpeg(picture(seed)) for seed in range(40)]
    with Server(args.repo, args.database_url, args.decode_memory) as server:
        base = run_phase(server, args.seconds, ordinary, [], args.concurrency)
        hostile = run_phase(server, args.seconds, ordinary, shapes, args.concurrency)
    report = {"concurrency": args.concurrency, "repo": str(args.repo),
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


class Server:
    """``rempart serve`` of ``repo`` in a subprocess over a fresh home, with a platform token."""

    def __init__(self, repo: Path, database_url: str | None, decode_memory: str | None) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="rempart-hostile-"))
        self.env = {**os.environ, "REMPART_HOME": str(self.home)}
        if database_url:
            self.env["REMPART_DATABASE_URL"] = database_url
        if decode_memory:
            self.env["REMPART_DECODE_MEMORY"] = decode_memory
        python = repo / ".venv" / "bin" / "python"
        self.python = str(python if python.exists() else sys.executable)
        self.repo = repo
        self.port = _free_port()

    def __enter__(self) -> "Server":
        made = subprocess.run(
            [self.python, "-m", "rempart", "token", "create", "bench", "--scope", "platform"],
            cwd=self.repo, env=self.env, capture_output=True, text=True, check=True)
        self.token = next(w for w in made.stdout.split() if w.startswith("rp_"))
        self.proc = subprocess.Popen(
            [self.python, "-m", "rempart", "serve", "--port", str(self.port)],
            cwd=self.repo, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request(self.port, "GET", "/healthz", timeout=2)[0] == 200:
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise SystemExit("the server did not start")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def rss_mib(self) -> float:
        """The server's resident memory now (VmRSS), in MiB."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0


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


def run_phase(server: Server, seconds: float, ordinary: list[bytes],
              shapes: list[tuple[str, dict]], concurrency: int) -> Phase:
    phase, stop = Phase(), threading.Event()
    end = time.monotonic() + seconds

    def sample() -> None:
        while not stop.is_set():
            phase.rss.append(server.rss_mib())
            time.sleep(0.02)

    def health() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            try:
                ok = request(server.port, "GET", "/healthz", timeout=30)[0] == 200
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
            i += concurrency

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
    if shapes:
        workers += [threading.Thread(target=attacker, args=(n,)) for n in range(concurrency)]
        workers += [threading.Thread(target=scanner, args=(n,)) for n in range(2)]
    else:
        workers += [threading.Thread(target=scanner, args=(n,)) for n in range(concurrency)]
    for w in workers:
        w.start()
    for w in workers[2:]:
        w.join()
    stop.set()
    for w in workers[:2]:
        w.join()
    return phase


def send(server: Server, req: dict) -> int:
    """POST one request; a streamed body stops when the server answers. Returns the status
    (0 when the connection failed without an answer)."""
    headers = {"Content-Type": req["type"]}
    if req["auth"]:
        headers["Authorization"] = f"Bearer {server.token}"
    try:
        if "stream" in req:
            return _stream(server.port, req["path"], headers, req["stream"])
        return request(server.port, "POST", req["path"], req["body"], headers, timeout=120)[0]
    except OSError:
        return 0


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _stream(port: int, path: str, headers: dict, total: int) -> int:
    """Send ``total`` bytes with a declared length, a MiB at a time, reading the answer as soon
    as the server gives one (it may refuse after the headers)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        head = "".join(f"{k}: {v}\r\n" for k, v in {**headers, "Content-Length": total}.items())
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: bench\r\n{head}\r\n".encode())
        chunk = b" " * (1 << 20)
        sock.setblocking(False)
        sent = 0
        while sent < total:
            try:
                answer = sock.recv(65536)
                if answer:
                    return int(answer.split(b" ", 2)[1])
            except BlockingIOError:
                pass
            try:
                sent += sock.send(chunk[: min(len(chunk), total - sent)])
            except BlockingIOError:
                time.sleep(0.001)
        sock.setblocking(True)
        return int(sock.recv(65536).split(b" ", 2)[1])
    except (OSError, IndexError, ValueError):
        return 0
    finally:
        sock.close()


def _multipart(filename: str, data: bytes) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode() \
        + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def _print(report: dict) -> None:
    base, hostile, ratios = report["baseline"], report["hostile"], report["ratios"]
    print(f"server: {report['repo']}   concurrency: {report['concurrency']}")
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
