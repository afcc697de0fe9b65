"""The real server in a process of its own (``python -m rempart serve``), for tests that measure it
(its resident memory: ``tests.served`` runs the app in the tests' own process) and send it raw,
streamed HTTP requests."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from rempart.config import Settings
from tests.served import free_port

ROOT = Path(__file__).resolve().parent.parent


class ServerProcess:
    """``rempart serve`` over ``settings`` (home and database), with extra environment; ``python``
    and ``checkout`` choose which rempart serves (``bench/hostile_load.py`` compares two)."""

    def __init__(self, settings: Settings, *, python: str = sys.executable,
                 checkout: Path = ROOT, **env: str) -> None:
        self.port = free_port()
        self.python, self.checkout = python, checkout
        self.env = {**os.environ, "REMPART_HOME": str(settings.home),
                    "REMPART_DATABASE_URL": settings.database_url, **env}

    def rempart(self, *args: str) -> str:
        """Run a ``rempart`` command over the same home and database; returns its output."""
        done = subprocess.run([self.python, "-m", "rempart", *args], cwd=self.checkout,
                              env=self.env, capture_output=True, text=True, check=True)
        return done.stdout

    def __enter__(self) -> "ServerProcess":
        self.proc = subprocess.Popen(
            [self.python, "-m", "rempart", "serve", "--port", str(self.port)],
            cwd=self.checkout, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if self.request("GET", "/healthz", timeout=5)[0] == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("the server did not start")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def rss(self) -> int:
        """The server's resident memory now, in bytes."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None, timeout: float = 120) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def stream(self, path: str, headers: dict, total: int, *, chunked: bool = False,
               prefix: bytes = b"") -> tuple[int, bytes, int]:
        """POST ``total`` bytes, ``prefix`` then spaces, a MiB at a time (declared, or chunked),
        stopping as soon as the server answers. Returns (status, the answer, bytes sent before
        it); status 0 when the server closed without answering."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=120)
        head = {**headers, **({"Transfer-Encoding": "chunked"} if chunked
                              else {"Content-Length": str(total)})}
        sock.sendall((f"POST {path} HTTP/1.1\r\nHost: test\r\n"
                      + "".join(f"{k}: {v}\r\n" for k, v in head.items()) + "\r\n").encode())
        piece = b" " * (1 << 20)
        sent, answer, pending = 0, b"", b""
        sock.setblocking(False)
        try:
            while (sent < total or pending) and not answer:
                try:
                    answer = sock.recv(65536)
                    if not answer:
                        return 0, b"", sent
                    break
                except BlockingIOError:
                    pass
                if not pending:
                    body = prefix + piece[len(prefix):] if sent == 0 else piece
                    if chunked:
                        body = f"{len(body):x}\r\n".encode() + body + b"\r\n"
                    pending = memoryview(body if chunked else body[:total - sent])
                try:
                    n = sock.send(pending)
                    pending, sent = pending[n:], sent + n
                except BlockingIOError:
                    time.sleep(0.001)
            sock.settimeout(120)
            if not answer and chunked:
                sock.sendall(b"0\r\n\r\n")
            while not _complete(answer):
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        except OSError:
            pass
        finally:
            sock.close()
        try:
            return int(answer.split(b" ", 2)[1]), answer, sent
        except (IndexError, ValueError):
            return 0, answer, sent


def _complete(answer: bytes) -> bool:
    """Whether ``answer`` holds a whole response (headers, and the body they announce)."""
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return True


class Sampler:
    """Calls ``probe`` every ``every`` seconds in a thread while the block runs; keeps results."""

    def __init__(self, probe, every: float) -> None:
        self.probe, self.every = probe, every
        self.results: list = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.results.append(self.probe())
            self._stop.wait(self.every)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
