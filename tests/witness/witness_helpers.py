"""Witnesses for the tests: real ``rempart witness serve`` processes on 127.0.0.1, and a small
in-memory log (its own key, tree and signed checkpoints) to submit from."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from rempart.transparency import (
    Checkpoint,
    Ed25519Signer,
    MemoryHashStore,
    consistency_proof,
    sign_checkpoint,
    tree_hash,
)
from rempart.transparency.witness import format_add_checkpoint, init_witness
from tests.served import free_port

ROOT = Path(__file__).resolve().parents[2]


class WitnessProcess:
    """``rempart witness serve DIR --log VKEY...`` in a process of its own; restartable."""

    def __init__(self, directory: Path, name: str, logs: list[str]) -> None:
        self.directory = directory
        if not (directory / "witness.skey").exists():
            init_witness(directory, name)
        self.vkey = (directory / "witness.vkey").read_text().strip()
        self.logs = logs
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "WitnessProcess":
        args = [sys.executable, "-m", "rempart", "witness", "serve", str(self.directory),
                "--port", str(self.port)]
        for vkey in self.logs:
            args += ["--log", vkey]
        self.proc = subprocess.Popen(args, cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the witness did not start: {self.proc.stderr.read().decode()}")
            try:
                if self.request("GET", "/")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the witness did not start in time")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stderr.close()
            self.proc = None

    def __enter__(self) -> "WitnessProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, str, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body)
            r = conn.getresponse()
            return r.status, r.getheader("content-type", ""), r.read()
        finally:
            conn.close()

    def add(self, body: bytes) -> tuple[int, str, bytes]:
        return self.request("POST", "/add-checkpoint", body)


@dataclass
class MemoryLog:
    """A log held in memory: append entries, sign checkpoints, prove consistency."""

    signer: Ed25519Signer
    store: MemoryHashStore = field(default_factory=MemoryHashStore)
    size: int = 0

    @classmethod
    def new(cls, origin: str, seed: bytes = b"\x01" * 32) -> "MemoryLog":
        return cls(Ed25519Signer(origin, seed))

    @property
    def vkey(self) -> str:
        return self.signer.verifier().vkey()

    def append(self, *entries: bytes) -> None:
        for e in entries:
            self.size = self.store.append(e) + 1

    def signed(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        return sign_checkpoint(Checkpoint(self.signer.name, size, tree_hash(size, self.store)), [self.signer])

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = self.size if new is None else new
        return consistency_proof(old, new, self.store) if 0 < old < new else []

    def request(self, old: int, new: int | None = None) -> bytes:
        """An add-checkpoint body from ``old`` to ``new`` (default: the current size)."""
        return format_add_checkpoint(old, self.proof(old, new), self.signed(new))
