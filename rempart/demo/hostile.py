"""Benign stand-ins for hostile uploads: small files that declare very large pictures.

Each is flat, synthetic content (one grey level, one float value, black video frames) whose only
hostility is its cost: a few KB on the wire, hundreds of megapixels once decoded. Tests and the
hostile-load benchmark (``bench/hostile_load.py``) generate them on the fly; they are written
chunk by chunk, so making a 7000 x 7000 picture never holds its pixels (videos excepted: the
encoder needs one frame, which PyAV encodes here, outside ``rempart.signals``).

    grey_png(7000, 7000)         ~47 KB, 49 Mpx of 8-bit grey
    float_tiff(7000, 7000)       ~300 KB, 49 Mpx of 32-bit float (one deflated strip)
    many_frames_gif(999, 4000)   ~23 KB, 999 frames on a 4000 x 4000 canvas
    black_video(7000, 7000)      ~146 KB of H.264, two seconds at 2 frames/s
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator

import av
import numpy as np


def grey_png(width: int, height: int, level: int = 0) -> bytes:
    """An 8-bit grey PNG of one ``level``, compressed row by row."""
    row = b"\0" + bytes([level]) * width  # filter type 0, then the samples
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = _deflate(row for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def float_tiff(width: int, height: int, value: float = 0.5) -> bytes:
    """A little-endian TIFF of 32-bit float samples, one ``value``, in one deflated strip."""
    row = struct.pack("<f", value) * width
    strip = _deflate(row for _ in range(height))
    tags = [  # (tag, type, value): types 3 SHORT, 4 LONG
        (256, 4, width), (257, 4, height), (258, 3, 32), (259, 3, 8), (262, 3, 1),
        (273, 4, 0), (277, 3, 1), (278, 4, height), (279, 4, len(strip)), (339, 3, 3),
    ]
    ifd_size = 2 + 12 * len(tags) + 4
    data_offset = 8 + ifd_size
    entries = b"".join(
        struct.pack("<HHI", tag, kind, 1)
        + (struct.pack("<I", data_offset if tag == 273 else value) if kind == 4
           else struct.pack("<HH", value, 0))
        for tag, kind, value in tags)
    ifd = struct.pack("<H", len(tags)) + entries + struct.pack("<I", 0)
    return b"II*\0" + struct.pack("<I", 8) + ifd + strip


def many_frames_gif(frames: int, side: int) -> bytes:
    """A GIF whose ``side x side`` canvas holds ``frames`` frames of one pixel each."""
    screen = b"GIF89a" + struct.pack("<HHBBB", side, side, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff"
    loop = b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    frame = (b"!\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 10 ms
             + b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00")
    return screen + loop + frame * frames + b";"


def black_video(width: int, height: int, *, seconds: int = 2, fps: int = 2) -> bytes:
    """An H.264 MP4 of black frames (PyAV's libx264, the fastest preset)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "51"}
        black = av.VideoFrame.from_ndarray(np.zeros((height, width, 3), np.uint8), format="rgb24")
        for _ in range(seconds * fps):
            for packet in stream.encode(black):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def _deflate(pieces: Iterator[bytes]) -> bytes:
    compressor = zlib.compressobj(9)
    out = [compressor.compress(piece) for piece in pieces]
    out.append(compressor.flush())
    return b"".join(out)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
