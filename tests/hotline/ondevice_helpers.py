"""Helpers for the on-device hashing tests: the shipped JavaScript run under Node, rempart's own
decoding of the same files, and benign synthetic media (pictures, PNGs, short videos)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from rempart.signals.decode import decode_frames
from rempart.signals.limits import DEFAULT_LIMITS, Deadline
from rempart.signals.sniff import sniff
from tests.signals.signals_media import scene

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


def mp4(rate: Fraction | int, frames: int, size=(160, 120), scene_frames: int = 15) -> bytes:
    """A benign H.264 clip at ``rate`` fps: a new synthetic scene every ``scene_frames`` frames."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("h264", rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(scene(i // scene_frames, size), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def rotated(data: bytes, degrees: int = 90) -> bytes:
    """The same MP4 with its video track's display matrix set to a clockwise rotation (as phones
    write it); the stored frames are unchanged."""
    out = bytearray(data)
    at = out.index(b"tkhd") + 4 + 40  # version 0: the matrix follows 40 bytes of fields
    cos, sin = {90: (0, 1), 180: (-1, 0), 270: (0, -1)}[degrees]
    out[at:at + 20] = struct.pack(">iiiii", cos << 16, sin << 16, 0, -sin << 16, cos << 16)
    return bytes(out)
