"""Segments of a ``PDQIndex``: a static multi-index segment and the small mutable buffer.

Pure (standard library, numpy, numba). Both kinds hold rows (int64 id, 256-bit hash as
four uint64 words) and a tombstone mask; neither knows about locks or merging
(``rempart.matching.pdq_index`` does). A ``Results`` collects matches from every segment
of one query batch.
"""

from __future__ import annotations

import numpy as np

from rempart.errors import InvariantViolation
from rempart.matching import plan


def _kernels():
    # numba is imported on first use, so importing rempart.matching stays fast
    from rempart.matching import _kernels as k
    return k


class Results:
    """Growable (query index, id, distance) triples for one batch of queries."""

    def __init__(self, n_queries: int) -> None:
        cap = max(1024, 4 * n_queries)
        self.q = np.empty(cap, np.int32)
        self.ids = np.empty(cap, np.int64)
        self.dist = np.empty(cap, np.int32)
        self.count = 0

    def _grow(self) -> None:
        for name in ("q", "ids", "dist"):
            old = getattr(self, name)
            new = np.empty(2 * old.shape[0], old.dtype)
            new[: self.count] = old[: self.count]
            setattr(self, name, new)

    def run(self, kernel, args: tuple, n_queries: int, row_ids: np.ndarray) -> None:
        """Call ``kernel(*args, q_begin, out_q, out_row, out_dist, count)`` until every query
        is answered, growing the output when full; then turn the rows it wrote into ids."""
        start, q = self.count, 0
        while True:
            q, self.count = kernel(*args, q, self.q, self.ids, self.dist, self.count)
            if q == n_queries:
                break
            self._grow()
        self.ids[start:self.count] = row_ids[self.ids[start:self.count]]


class Segment:
    """Immutable rows sorted by id, with tombstones and CSR tables for multi-index probing."""

    def __init__(self, ids: np.ndarray, words: np.ndarray) -> None:
        """``ids``: sorted unique int64; ``words``: (n, 4) uint64 hashes in the same order."""
        n = ids.shape[0]
        if words.shape != (n, 4) or (n > 1 and not np.all(ids[1:] > ids[:-1])):
            raise InvariantViolation("segment rows must be unique, sorted by id, (n, 4) words")
        self.ids = ids
        self.words = words
        self.alive = np.ones(n, np.uint8)
        self.live = n
        self.layout = plan.choose_layout(n)
        widths = np.array(self.layout.widths, np.int64)
        self._starts = np.array(self.layout.starts, np.int64)
        self._widths = widths
        self._off_base = np.concatenate(([0], np.cumsum((1 << widths) + 1)[:-1])).astype(np.int64)
        self.offsets = np.zeros(self.layout.table_slots(), np.uint32)
        self.rows = np.empty(self.layout.m * n, np.uint32)
        _kernels().build_tables(words, self._starts, widths, self._off_base, self.offsets, self.rows)
        self._probes: dict[int, tuple | None] = {}

    def __len__(self) -> int:
        return self.ids.shape[0]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.ids, self.words, self.alive, self.offsets, self.rows))

    def kill(self, ids: np.ndarray) -> int:
        """Tombstone the live rows whose id is in ``ids``; return how many."""
        if len(self) == 0 or ids.shape[0] == 0:
            return 0
        if ids.max() < self.ids[0] or ids.min() > self.ids[-1]:  # new ids (an import's)
            return 0
        pos = np.minimum(np.searchsorted(self.ids, ids), len(self) - 1)
        pos = pos[(self.ids[pos] == ids) & (self.alive[pos] == 1)]
        pos = np.unique(pos)
        self.alive[pos] = 0
        self.live -= pos.shape[0]
        return int(pos.shape[0])

    def contains(self, id_: int) -> bool:
        pos = int(np.searchsorted(self.ids, id_))
        return pos < len(self) and self.ids[pos] == id_ and self.alive[pos] == 1

    def live_rows(self) -> tuple[np.ndarray, np.ndarray]:
        keep = self.alive == 1
        return self.ids[keep], self.words[keep]

    def _probe_plan(self, threshold: int) -> tuple | None:
        """(radii, mask_base, mask_len, masks) for ``threshold``, or None when a scan is
        expected to be cheaper. Cached per threshold."""
        if threshold in self._probes:
            return self._probes[threshold]
        n, layout = len(self), self.layout
        result = None
        if plan.probe_cost(layout, n, threshold) < plan.scan_cost(n):
            rs = plan.radii(layout.m, threshold)
            balls = [plan.ball_masks(w, r) if r >= 0 else np.empty(0, np.uint64)
                     for w, r in zip(layout.widths, rs)]
            lens = np.array([b.shape[0] for b in balls], np.int64)
            base = np.concatenate(([0], np.cumsum(lens)[:-1])).astype(np.int64)
            result = (np.array(rs, np.int64), base, lens, np.concatenate(balls))
        self._probes[threshold] = result
        return result

    def query(self, queries: np.ndarray, threshold: int, out: Results) -> None:
        """Append every live row within ``threshold`` of each query row to ``out``."""
        if self.live == 0:
            return
        probe = self._probe_plan(threshold)
        k = _kernels()
        if probe is None:
            out.run(k.scan_query, (self.words, self.alive, queries, threshold),
                    queries.shape[0], self.ids)
            return
        radii, mask_base, mask_len, masks = probe
        args = (self.words, self.alive, self._starts, self._widths, radii, self._off_base,
                self.offsets, self.rows, mask_base, mask_len, masks, queries, threshold)
        out.run(k.mih_query, args, queries.shape[0], self.ids)


class Buffer:
    """The mutable tail: up to ``capacity`` rows in arrival order, scanned by brute force."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.ids = np.empty(capacity, np.int64)
        self.words = np.empty((capacity, 4), np.uint64)
        self.alive = np.zeros(capacity, np.uint8)
        self.used = 0
        self.slot: dict[int, int] = {}

    @property
    def live(self) -> int:
        return len(self.slot)

    @property
    def free(self) -> int:
        return self.capacity - self.used

    @property
    def nbytes(self) -> int:
        return self.ids.nbytes + self.words.nbytes + self.alive.nbytes

    def append(self, ids: np.ndarray, words: np.ndarray) -> None:
        """Store rows whose ids are not live anywhere; the caller checked there is room."""
        k = ids.shape[0]
        if k > self.free:
            raise InvariantViolation("buffer overflow")
        s = slice(self.used, self.used + k)
        self.ids[s], self.words[s], self.alive[s] = ids, words, 1
        self.slot.update(zip(ids.tolist(), range(self.used, self.used + k)))
        self.used += k

    def kill(self, ids: np.ndarray) -> int:
        """Tombstone the live rows whose id is in ``ids``; return how many."""
        if not self.slot:
            return 0
        if ids.shape[0] > self.capacity:
            hit = np.nonzero(np.isin(self.ids[: self.used], ids) & (self.alive[: self.used] == 1))[0]
        else:
            hit = [s for s in map(self.slot.get, ids.tolist()) if s is not None]
        for s in hit:
            self.alive[s] = 0
            del self.slot[int(self.ids[s])]
        return len(hit)

    def contains(self, id_: int) -> bool:
        return id_ in self.slot

    def take_live(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the live rows and empty the buffer."""
        keep = np.nonzero(self.alive[: self.used])[0]
        ids, words = self.ids[keep].copy(), self.words[keep].copy()
        self.alive[: self.used] = 0
        self.used = 0
        self.slot.clear()
        return ids, words

    def query(self, queries: np.ndarray, threshold: int, out: Results) -> None:
        if not self.slot:
            return
        u = self.used
        out.run(_kernels().scan_query, (self.words[:u], self.alive[:u], queries, threshold),
                queries.shape[0], self.ids[:u])
