"""A node's warm-up: every compiled kernel an upload reaches, compiled (or loaded from numba's
cache) before the node takes traffic, so no request pays seconds of JIT compile.

``rempart serve`` starts ``warm`` in a thread when the app starts and ``/readyz`` answers 503
(``"kernels": "warming"``) until it is done; ``rempart worker`` warms before it takes its first
event from the stream. Once per process: later calls return at once, concurrent ones wait for
the first.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from rempart.matching import PDQIndex
from rempart.matching.feature_index import FeatureIndex, verify
from rempart.signals.features import Features
from rempart.signals.warm import warm_signals

log = logging.getLogger("rempart.warm")

_DONE = threading.Event()
_LOCK = threading.Lock()


def is_warm() -> bool:
    """Whether this process has warmed its kernels (``warm`` returned)."""
    return _DONE.is_set()


def warm() -> None:
    """Compile the upload path's kernels: fingerprinting (``rempart.signals.warm``), the PDQ
    index's table build and queries (a throwaway index of random hashes, probed and scanned) and
    stage 2's votes and verification (a throwaway feature index of random points).
    A failure is logged, never raised: the kernels then compile on first use, as without it."""
    if _DONE.is_set():
        return
    with _LOCK:
        if _DONE.is_set():
            return
        start = time.perf_counter()
        try:
            fast = warm_signals()
            _warm_index()
            _warm_features()
            log.info("kernels warm in %.1f s (PDQ fast path: %s)", time.perf_counter() - start,
                     "yes" if fast else "no")
        except Exception:  # never stops a node from serving: first use compiles instead
            log.exception("warming the kernels failed")
        _DONE.set()


def _warm_index() -> None:
    rng = np.random.default_rng(3)
    hashes = rng.integers(0, 256, (300, 32), dtype=np.uint8)
    index = PDQIndex(buffer_capacity=64)
    index.add(np.arange(200), hashes[:200])  # a batch as large as the buffer: a segment
    index.add(np.arange(200, 240), hashes[200:240])  # into the buffer
    for threshold in (31, 0, 200):  # probed, exact, scanned
        index.query(hashes[::7], threshold)
    index.remove(np.arange(0, 10))
    index.query(hashes[:3])


def _warm_features() -> None:
    rng = np.random.default_rng(4)
    points = Features(512, 512, rng.uniform(0, 512, (60, 2)).astype(np.float32),
                      rng.integers(0, 256, (60, 32), dtype=np.uint8))
    index = FeatureIndex()
    index.add_many([(1, points), (2, points.head(30))])
    index.shortlist(points)
    verify(points, points)
