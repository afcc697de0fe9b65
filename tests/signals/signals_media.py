"""Benign synthetic media for the rempart.signals tests (imported by the test modules)."""

from __future__ import annotations

import io

import av
import numpy as np
from PIL import Image


def scene(seed: int, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    """A benign synthetic picture with plenty of structure (PDQ quality 100): smooth colour blobs."""
    rng = np.random.default_rng(seed)
    w, h = size
    small = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.BICUBIC))


def encode(rgb: np.ndarray, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **params)
    return buf.getvalue()


def make_video(fmt: str, seconds: float = 3.0, fps: int = 10, size=(160, 120)) -> bytes:
    """Encode a small benign clip (a new synthetic scene every second) with PyAV."""
    container_fmt, codec = {"mp4": ("mp4", "h264"), "mov": ("mov", "mpeg4"),
                            "webm": ("webm", "libvpx")}[fmt]
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container_fmt) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(scene(i // fps, size), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()
