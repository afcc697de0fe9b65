"""Hand-made PNG files for the on-device decoder tests: every colour type and bit depth, Adam7
interlacing, palettes, tRNS, and EXIF / XMP orientation chunks (Pillow writes few of these)."""

from __future__ import annotations

import struct
import zlib

import numpy as np

# Adam7 passes: (first row, first column, row step, column step)
ADAM7 = [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1)]

CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _pack_rows(samples: np.ndarray, depth: int) -> list[bytes]:
    """Rows of an H x W x C array of sample values, packed big-endian at ``depth`` bits."""
    rows = []
    for row in samples:
        flat = row.reshape(-1).astype(np.uint32)
        if depth == 16:
            rows.append(flat.astype(">u2").tobytes())
        elif depth == 8:
            rows.append(flat.astype(np.uint8).tobytes())
        else:
            bits = np.unpackbits(flat.astype(np.uint8)[:, None], axis=1)[:, 8 - depth:]
            rows.append(np.packbits(bits.reshape(-1)).tobytes())
    return rows


def _filtered(rows: list[bytes], bpp: int, filters: list[int]) -> bytes:
    """Apply PNG filters (cycling through ``filters``) so the decoder's unfiltering is exercised."""
    out, prev = bytearray(), bytes(len(rows[0])) if rows else b""
    for i, row in enumerate(rows):
        ftype = filters[i % len(filters)]
        enc = bytearray(len(row))
        for x, v in enumerate(row):
            a = row[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 0:
                p = 0
            elif ftype == 1:
                p = a
            elif ftype == 2:
                p = b
            elif ftype == 3:
                p = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                p = a if pa <= pb and pa <= pc else b if pb <= pc else c
            enc[x] = (v - p) & 0xFF
        out += bytes([ftype]) + enc
        prev = row
    return bytes(out)


def png(samples: np.ndarray, colour_type: int, depth: int, *, interlace: bool = False,
        palette: bytes | None = None, extra: list[bytes] = (), filters=(0, 1, 2, 3, 4)) -> bytes:
    """A PNG of ``samples`` (H x W x channels sample values) with the given header fields.

    ``extra`` chunks (made with ``chunk``) go before the image data.
    """
    h, w = samples.shape[:2]
    samples = samples.reshape(h, w, -1)
    bpp = max(1, CHANNELS[colour_type] * depth // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    raw = b""
    for r0, c0, dr, dc in passes:
        sub = samples[r0::dr, c0::dc]
        if sub.size:
            raw += _filtered(_pack_rows(sub, depth), bpp, list(filters))
    head = struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 1 if interlace else 0)
    body = chunk(b"IHDR", head)
    if palette is not None:
        body += chunk(b"PLTE", palette)
    for c in extra:
        body += c
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def exif_orientation(value: int, big_endian: bool = True) -> bytes:
    """A minimal TIFF block whose first IFD holds Orientation (tag 274) = ``value``."""
    e = ">" if big_endian else "<"
    order = b"MM" if big_endian else b"II"
    return order + struct.pack(e + "HI", 42, 8) + struct.pack(e + "H", 1) + \
        struct.pack(e + "HHIHH", 0x0112, 3, 1, value, 0) + struct.pack(e + "I", 0)
