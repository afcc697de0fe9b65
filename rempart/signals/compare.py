"""Comparison of two videos' frame-hash lists, with vPDQ's brute-force semantics (pure numpy).

The matcher calls ``compare_videos`` after its PDQ index has found candidate videos.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rempart.errors import InvalidInput
from rempart.signals.model import FrameHash, VideoComparison
from rempart.signals.pdq import DEFAULT_THRESHOLD, LOW_QUALITY, hex_to_words
from rempart.signals.types import PDQ

# Rows of the query compared at once: bounds the N x M x 4 work array to a few MiB.
_CHUNK_CELLS = 1 << 20


def compare_videos(
    query: Sequence[FrameHash],
    target: Sequence[FrameHash],
    *,
    distance: int = DEFAULT_THRESHOLD,
    quality_min: int = LOW_QUALITY,
    query_threshold: float = 80.0,
    target_threshold: float = 80.0,
) -> VideoComparison:
    """Compare two frame-hash lists and decide whether the videos match.

    As vPDQ's ``matchTwoHashBrute``: frames with ``quality < quality_min`` are dropped from both
    lists; ``query_pct`` is the share (0-100) of the remaining query frames that have some remaining
    target frame within ``distance`` bits, and ``target_pct`` the same the other way round. Both
    are 0 when either list has no usable frame. One difference: a pair matches at distance
    ``<= distance`` (rempart's PDQ convention everywhere, "within 31 bits"), where vPDQ uses ``<``.

    Rule: ``matched`` when ``query_pct >= query_threshold`` OR ``target_pct >= target_threshold``.
    Either direction is a re-upload of known content: a high ``query_pct`` means the upload is
    (an excerpt of) the known video; a high ``target_pct`` means the known video is contained in a
    longer upload (a compilation). Requiring both would let anyone evade by trimming or padding a
    video. 80% leaves room for re-encoding, overlays and a few dropped or re-timed frames; frame
    order and timing are deliberately ignored, as in vPDQ.

    Raises ``InvalidSignal`` for a malformed hash and ``InvalidInput`` for out-of-range parameters.
    """
    if not 0 <= distance <= 256:
        raise InvalidInput(f"distance must be within 0..256, got {distance}")
    for name, value in (("query_threshold", query_threshold), ("target_threshold", target_threshold)):
        if not 0.0 <= value <= 100.0:
            raise InvalidInput(f"{name} must be a percentage within 0..100, got {value}")
    q = _usable(query, quality_min)
    t = _usable(target, quality_min)
    if not q or not t:
        return VideoComparison(0.0, 0.0, False, len(q), len(t))
    nearest, t_hit = _cross_distances(hex_to_words(q), hex_to_words(t), distance)
    q_hit = nearest <= distance
    query_pct = 100.0 * int(q_hit.sum()) / len(q)
    target_pct = 100.0 * int(t_hit.sum()) / len(t)
    matched = query_pct >= query_threshold or target_pct >= target_threshold
    typical = nearest[q_hit] if q_hit.any() else nearest
    return VideoComparison(
        query_pct, target_pct, matched, len(q), len(t), int(np.median(typical))
    )


def _usable(frames: Sequence[FrameHash], quality_min: int) -> list[str]:
    return [PDQ.validate(f.pdq) for f in frames if f.quality >= quality_min]


def _cross_distances(q: np.ndarray, t: np.ndarray, distance: int) -> tuple[np.ndarray, np.ndarray]:
    """For ``N x 4`` and ``M x 4`` uint64 hashes: each query row's nearest distance to ``t``, and
    which rows of ``t`` have a query row within ``distance``."""
    nearest = np.zeros(len(q), dtype=np.int64)
    t_hit = np.zeros(len(t), dtype=bool)
    rows = max(1, _CHUNK_CELLS // max(1, len(t)))
    for start in range(0, len(q), rows):
        block = q[start:start + rows]
        dist = np.bitwise_count(block[:, None, :] ^ t[None, :, :]).sum(axis=2)
        nearest[start:start + rows] = dist.min(axis=1)
        t_hit |= (dist <= distance).any(axis=0)
    return nearest, t_hit
