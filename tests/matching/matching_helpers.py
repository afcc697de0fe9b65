"""Test helpers for rempart.matching: random hashes, planted neighbours, brute-force reference."""

from __future__ import annotations

import numpy as np


def random_hashes(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, (n, 32), dtype=np.uint8)


def flip_bits(rng: np.random.Generator, h: np.ndarray, k: int) -> np.ndarray:
    """A copy of one hash with exactly k distinct bits flipped."""
    bits = np.unpackbits(h).copy()
    pos = rng.choice(256, size=k, replace=False)
    bits[pos] ^= 1
    return np.packbits(bits)


class Reference:
    """Brute force over a dict id -> hash: the answer every query must equal."""

    def __init__(self, contents: dict[int, np.ndarray], queries: np.ndarray) -> None:
        self.ids = np.array(list(contents), dtype=np.int64)
        table = (np.unpackbits(np.stack(list(contents.values())), axis=1)
                 if contents else np.zeros((0, 256), np.uint8))
        bits = np.unpackbits(queries, axis=1)
        # all query x stored distances at once (small test sizes only)
        self.dist = np.stack([(table != b).sum(axis=1) for b in bits]) if len(bits) else None
        self.n_queries = queries.shape[0]

    def answer(self, threshold: int) -> list[list[tuple[int, int]]]:
        out = []
        for qi in range(self.n_queries):
            d = self.dist[qi]
            hit = np.nonzero(d <= threshold)[0]
            pairs = zip(self.ids[hit].tolist(), d[hit].tolist())
            out.append(sorted(pairs, key=lambda x: (x[1], x[0])))
        return out

