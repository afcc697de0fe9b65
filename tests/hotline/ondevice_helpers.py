"""Helpers for the on-device hashing tests: the shipped JavaScript run under Node, rempart's own
decoding of the same files, and benign synthetic media (pictures, PNGs, short videos)."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

from rempart.signals.decode import decode_frames
from rempart.signals.limits import DEFAULT_LIMITS, Deadline
from rempart.signals.sniff import sniff
from tests.signals.signals_media import make_video

NTSC = Fraction(30000, 1001)

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "rempart" / "hotline" / "static"
NODE = shutil.which("node")
RUNNER = Path(__file__).with_name("node_runner.mjs")


def run_node(tmp_path: Path, job: dict) -> dict:
    """Run ``node_runner.mjs`` on ``job`` (see that file) and return its answer."""
    path = tmp_path / f"job-{len(list(tmp_path.glob('job-*')))}.json"
    path.write_text(json.dumps(job))
    done = subprocess.run([NODE, str(RUNNER), str(STATIC), str(path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def reference_rows(pdq_dir: Path) -> list[dict]:
    with open(pdq_dir / "pdq-reference.csv", newline="") as f:
        return list(csv.DictReader(f))


def python_rgb(data: bytes, fmt: str | None = None) -> np.ndarray:
    """The first frame of a picture as rempart's Python decodes it (upright canonical RGB)."""
    fmt = fmt or sniff(data[:64]).format
    return next(decode_frames(data, fmt, DEFAULT_LIMITS, Deadline(60))).rgb


def rgb_md5(rgb: np.ndarray) -> str:
    return hashlib.md5(np.ascontiguousarray(rgb).tobytes()).hexdigest()


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def ntsc_clip(frames: int) -> bytes:
    """A benign MP4 at 29.97 fps: vPDQ samples every 29th frame, not whole seconds, and the scene
    changes at frame 30, so sampling the wrong frame shows."""
    return make_video("mp4", seconds=frames / NTSC, fps=NTSC)


def rotated(data: bytes, degrees: int = 90) -> bytes:
    """The same MP4 with its video track's display matrix set to a clockwise rotation (as phones
    write it); the stored frames are unchanged."""
    out = bytearray(data)
    at = out.index(b"tkhd") + 4 + 40  # version 0: the matrix follows 40 bytes of fields
    cos, sin = {90: (0, 1), 180: (-1, 0), 270: (0, -1)}[degrees]
    out[at:at + 20] = struct.pack(">iiiii", cos << 16, sin << 16, 0, -sin << 16, cos << 16)
    return bytes(out)
