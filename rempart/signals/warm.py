"""Warm-up of the upload path's compiled kernels, before a node takes traffic.

The numba kernels (PDQ's downsampling, the border scan) compile on first use, or load from
numba's on-disk cache: seconds on a machine with an empty cache, paid by whichever upload comes
first. ``warm_signals`` pays it up front: it loads the PDQ fast path (which hashes its probe
pictures, one per array layout numba compiles for, and keeps the path only if they hash as
``pdqhash`` does) and fingerprints small synthetic pictures, colour and grey, through the very
path uploads take (``fingerprint``: decode, JPEG draft, PDQ and its variants, trim, stages 1
and 2), so every array type the scan path hands a kernel has been compiled. Pure: no database,
no I/O but numba's cache.
"""

from __future__ import annotations

import numpy as np

from rempart.signals.decode import encode_jpeg
from rempart.signals.fingerprint import fingerprint, load_kernels


def probe_pictures() -> list[bytes]:
    """Benign synthetic pictures (gradients and noise) encoded as JPEG: colour and grey, one
    large enough to be decoded at a reduced DCT scale, one with a flat border (trim)."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:600, 0:800]
    colour = np.stack([(x * 255 // 800), (y * 255 // 600), ((x + y) * 255 // 1400)],
                      axis=-1).astype(np.uint8)
    colour[100:500, 150:650] = rng.integers(0, 256, (400, 500, 3), dtype=np.uint8)
    framed = np.full((160, 200, 3), 255, np.uint8)
    framed[20:140, 30:170] = colour[:120, :140]
    grey = colour[..., 1].copy()
    return [encode_jpeg(colour), encode_jpeg(framed), encode_jpeg(grey), encode_jpeg(grey[:90, :70])]


def warm_signals() -> bool:
    """Compile (or load from numba's cache) every kernel of the upload path; returns whether
    the numba fast path of PDQ is in use (False: the slower fallback, nothing to compile)."""
    fast = load_kernels()
    for data in probe_pictures():
        fingerprint(data)
    return fast
