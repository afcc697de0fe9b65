"""Multi-index hashing plans: how to cut 256 bits into substrings, and how far to probe.

Pure (standard library and numpy). The rule that makes the index exact is the pigeonhole
bound of Norouzi, Punjani and Fleet, "Fast Exact Search in Hamming Space with Multi-Index
Hashing" (2014): cut the hash into m disjoint substrings and write the threshold as
t = m * r + a with 0 <= a < m. If two hashes are within t, then one of the first a + 1
substrings is within r of the query's, or one of the other m - a - 1 is within r - 1
(otherwise the distance would be at least (a+1)(r+1) + (m-a-1) r = t + 1). So probing
substring j with radius ``radii(m, t)[j]`` (-1: not at all) finds every match.

Cost model (unit: one random memory access, ~10-20 ns): a probe reads a bucket's offsets,
and each candidate in it reads one stored hash; a brute-force scan reads rows in order,
``SCAN_ROW_COST`` each. Constants measured on the development machine (see bench/).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np

from rempart.errors import InvariantViolation
from rempart.signals import DEFAULT_THRESHOLD

PROBE_COST = 1.0
CANDIDATE_COST = 1.0
SCAN_ROW_COST = 0.08
#: the threshold segments are laid out for (PDQ's customary match threshold)
DESIGN_THRESHOLD = DEFAULT_THRESHOLD
MIN_WIDTH, MAX_WIDTH = 8, 28
#: a ball with more masks than this is never probed; a scan is cheaper anyway
MAX_BALL = 1 << 21


@dataclass(frozen=True)
class Layout:
    """m substrings: substring j is bits [starts[j], starts[j] + widths[j]) of the 256."""

    starts: tuple[int, ...]
    widths: tuple[int, ...]

    @property
    def m(self) -> int:
        return len(self.widths)

    def table_slots(self) -> int:
        """Total offsets entries of the m CSR tables (2**w + 1 each)."""
        return sum((1 << w) + 1 for w in self.widths)


def even_layout(m: int) -> Layout:
    """Cut 256 bits into m contiguous substrings whose widths differ by at most one."""
    if not 256 // MAX_WIDTH <= m <= 256 // MIN_WIDTH:
        raise InvariantViolation(f"substring count {m} out of range")
    base, extra = divmod(256, m)
    widths = tuple(base + 1 if j < extra else base for j in range(m))
    starts = tuple(itertools.accumulate((0,) + widths[:-1]))
    return Layout(starts, widths)


def radii(m: int, threshold: int) -> tuple[int, ...]:
    """Probing radius of each of m substrings for an exact search within ``threshold``."""
    r, a = divmod(threshold, m)
    return tuple(r if j <= a else r - 1 for j in range(m))


def ball_size(width: int, radius: int) -> int:
    """Number of width-bit keys within Hamming ``radius`` of a key (0 for radius < 0)."""
    return sum(math.comb(width, k) for k in range(min(radius, width) + 1))


@functools.lru_cache(maxsize=64)
def ball_masks(width: int, radius: int) -> np.ndarray:
    """All width-bit XOR masks of popcount <= radius, by popcount; read-only uint64."""
    masks = [0]
    for k in range(1, min(radius, width) + 1):
        for bits in itertools.combinations(range(width), k):
            masks.append(sum(1 << b for b in bits))
    out = np.array(masks, dtype=np.uint64)
    out.flags.writeable = False
    return out


def probe_cost(layout: Layout, n: int, threshold: int) -> float:
    """Expected cost of one multi-index query on n uniformly random rows."""
    cost = 0.0
    for w, r in zip(layout.widths, radii(layout.m, threshold)):
        balls = ball_size(w, r)
        if balls > MAX_BALL:
            return math.inf
        cost += balls * (PROBE_COST + CANDIDATE_COST * n / (1 << w))
    return cost


def scan_cost(n: int) -> float:
    """Expected cost of one brute-force query on n rows."""
    return SCAN_ROW_COST * n


def choose_layout(n: int, threshold: int = DESIGN_THRESHOLD) -> Layout:
    """The cheapest layout for n rows at ``threshold`` whose tables take at most about as
    many offsets as there are row entries (so tables never dwarf the data)."""
    best, best_cost = None, math.inf
    for m in range(256 // MAX_WIDTH, 256 // MIN_WIDTH + 1):
        layout = even_layout(m)
        if layout.table_slots() > max(2 * m * n, 1 << 14):
            continue
        cost = probe_cost(layout, n, threshold)
        if cost < best_cost:
            best, best_cost = layout, cost
    if best is None:
        best = even_layout(256 // MIN_WIDTH)
    return best
