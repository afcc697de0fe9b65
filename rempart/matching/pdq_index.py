"""``PDQIndex``: exact Hamming-radius search over PDQ hashes, with live updates.

Design (a small log-structured merge of static segments):

  segments  static multi-index-hashing segments (``rempart.matching.segment.Segment``),
            oldest and largest first. Each keeps its rows sorted by id (so an id is found
            by binary search, with no per-id dictionary) and a tombstone mask.
  buffer    the newest rows, at most ``buffer_capacity``, scanned by brute force.
  invariant every id is live in at most one place; ``len`` counts live rows.

``add`` tombstones the ids wherever they are live, then appends the rows to the buffer (a
batch at least as large as the buffer becomes a segment of its own, built before the lock
is taken). A full buffer is frozen into a segment. ``remove`` only tombstones. Every change
is visible to the very next query.

Merging is amortised: segments merge while the newer of two neighbours has at least
1/``merge_ratio`` of the older's live rows, so there are O(log_ratio(n / buffer)) segments
and each row is rebuilt O(log n) times; a segment with more tombstones than live rows is
compacted. A merge copies its inputs' live rows and tombstone masks under the lock, builds
the new segment WITHOUT the lock (queries and updates go on; at 10M rows a build takes
seconds), then, under the lock, tombstones in the new segment every row that died in the
meantime and swaps it in. One merge runs at a time, in the thread of the update that
triggered it, which returns when no merge is due (or, when that update says so, in the
caller's own ``merge_while_due`` call: a matcher runs merges after releasing its own lock).

Queries run under a shared read lock (the numba kernels release the GIL, so several
threads query in parallel); updates take the exclusive write lock, briefly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from rempart.errors import InvalidInput, shown
from rempart.matching import codec, persist
from rempart.matching.rwlock import RWLock
from rempart.matching.segment import Buffer, Results, Segment
from rempart.signals import DEFAULT_THRESHOLD

#: rows scanned by brute force before they are frozen into a segment; bench/pdq_index.py
#: measures the crossover (scan and probing are even at ~2k rows, probing wins 2x at 8k)
DEFAULT_BUFFER_CAPACITY = 4096
DEFAULT_MERGE_RATIO = 4


class PDQIndex:
    """Exact index of (int64 id -> PDQ hash); ``query`` returns every id within a threshold.

    Exact for every threshold 0..256: all live rows with Hamming distance <= threshold and
    nothing else. Thresholds up to about 40 are probed (the layout is tuned for 31); when
    probing would cost more than a scan (large thresholds, small segments), a segment is
    scanned instead. All methods are safe to call from several threads at once.
    """

    def __init__(self, *, buffer_capacity: int = DEFAULT_BUFFER_CAPACITY,
                 merge_ratio: int = DEFAULT_MERGE_RATIO) -> None:
        if buffer_capacity < 1 or merge_ratio < 2:
            raise InvalidInput("buffer_capacity must be >= 1 and merge_ratio >= 2")
        self._segments: list[Segment] = []
        self._buffer = Buffer(buffer_capacity)
        self._ratio = merge_ratio
        self._lock = RWLock()
        self._merging = threading.Lock()

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock.read():
            return self._live()

    def __contains__(self, id_: object) -> bool:
        if not isinstance(id_, (int, np.integer)) or isinstance(id_, bool):
            return False
        with self._lock.read():
            return self._buffer.contains(int(id_)) or any(
                s.contains(int(id_)) for s in self._segments)

    def query(self, hashes: np.ndarray, threshold: int = DEFAULT_THRESHOLD
              ) -> list[list[tuple[int, int]]]:
        """For each query hash (uint8 (n, 32)), every (id, distance) with distance <=
        ``threshold`` (0..256, inclusive), sorted by (distance, id)."""
        q, ids, dist = self.query_arrays(hashes, threshold)
        bounds = np.searchsorted(q, np.arange(hashes.shape[0] + 1))
        ids_l, dist_l = ids.tolist(), dist.tolist()
        return [list(zip(ids_l[a:b], dist_l[a:b])) for a, b in zip(bounds[:-1], bounds[1:])]

    def query_hex(self, hex_strings: Iterable[str], threshold: int = DEFAULT_THRESHOLD
                  ) -> list[list[tuple[int, int]]]:
        """``query`` for hashes given as PDQ hex strings."""
        return self.query(codec.hex_to_hashes(hex_strings), threshold)

    def query_arrays(self, hashes: np.ndarray, threshold: int = DEFAULT_THRESHOLD
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The matches of ``query`` as flat arrays (query index int32, id int64, distance
        int32), sorted by (query index, distance, id); no Python objects per match."""
        words = codec.to_words(codec.as_hashes(hashes))
        if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)) \
                or not 0 <= threshold <= 256:
            raise InvalidInput(f"threshold must be an integer in 0..256, got {shown(threshold)}")
        out = Results(words.shape[0])
        if words.shape[0]:
            with self._lock.read():
                for seg in self._segments:
                    seg.query(words, int(threshold), out)
                self._buffer.query(words, int(threshold), out)
        n = out.count
        q, ids, dist = out.q[:n], out.ids[:n], out.dist[:n]
        order = np.lexsort((ids, dist, q))
        return q[order], ids[order], dist[order]

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """Every live (id, hash) as (int64 ids sorted, uint8 (n, 32) hashes)."""
        with self._lock.read():
            parts = [s.live_rows() for s in self._segments]
            keep = np.nonzero(self._buffer.alive[: self._buffer.used])[0]
            parts.append((self._buffer.ids[keep], self._buffer.words[keep]))
        ids = np.concatenate([p[0] for p in parts])
        words = np.concatenate([p[1] for p in parts]).reshape(-1, 4)
        order = np.argsort(ids, kind="stable")
        return ids[order], codec.to_bytes(words[order]).copy()

    def get(self, ids: Iterable[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The live rows among ``ids``: (their ids, sorted, and uint8 (k, 32) hashes)."""
        want = np.unique(codec.as_ids(ids))
        found_ids, found_words = [], []
        with self._lock.read():
            for seg in self._segments:
                if len(seg) == 0 or want.shape[0] == 0:
                    continue
                pos = np.minimum(np.searchsorted(seg.ids, want), len(seg) - 1)
                pos = pos[(seg.ids[pos] == want) & (seg.alive[pos] == 1)]
                found_ids.append(seg.ids[pos])
                found_words.append(seg.words[pos])
            slots = [s for s in map(self._buffer.slot.get, want.tolist()) if s is not None]
            found_ids.append(self._buffer.ids[slots])
            found_words.append(self._buffer.words[slots])
        ids_out = np.concatenate(found_ids)
        words = np.concatenate(found_words).reshape(-1, 4)
        order = np.argsort(ids_out, kind="stable")
        return ids_out[order], codec.to_bytes(words[order]).copy()

    def freeze(self) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
        """``snapshot`` in two steps: under the read lock, only references to the immutable
        segments and copies of their tombstone masks (and of the small buffer); the returned
        function builds the sorted (ids, hashes) from them without any lock."""
        with self._lock.read():
            segs = [(s.ids, s.words, s.alive.copy()) for s in self._segments]
            keep = np.nonzero(self._buffer.alive[: self._buffer.used])[0]
            segs.append((self._buffer.ids[keep].copy(), self._buffer.words[keep].copy(),
                         np.ones(keep.shape[0], np.uint8)))

        def build() -> tuple[np.ndarray, np.ndarray]:
            ids = np.concatenate([i[a == 1] for i, _, a in segs])
            words = np.concatenate([w[a == 1] for _, w, a in segs]).reshape(-1, 4)
            order = np.argsort(ids, kind="stable")
            return ids[order], codec.to_bytes(words[order]).copy()
        return build

    def stats(self) -> dict:
        """Sizes for monitoring: live rows, segments, and ``nbytes`` (sum of array bytes)."""
        with self._lock.read():
            return {
                "live": self._live(),
                "segments": [(len(s), s.live, s.layout.m) for s in self._segments],
                "buffer": (self._buffer.used, self._buffer.live),
                "nbytes": sum(s.nbytes for s in self._segments) + self._buffer.nbytes,
            }

    @property
    def nbytes(self) -> int:
        return self.stats()["nbytes"]

    # -- writing ---------------------------------------------------------------------------

    def add(self, ids: Iterable[int] | np.ndarray, hashes: np.ndarray, *,
            merge: bool = True) -> None:
        """Insert or replace: afterwards each id maps to its hash. Within one call a
        repeated id keeps its last hash (as if the rows were added one by one). ``merge``
        False leaves due merges to a later ``merge_while_due`` (a caller holding a lock of
        its own runs them after releasing it)."""
        self.put_prepared(self.prepare(ids, hashes), merge=merge)

    def prepare(self, ids: Iterable[int] | np.ndarray, hashes: np.ndarray) -> "Prepared":
        """The costly half of ``add``, with no lock and no change to the index: the rows
        checked (a repeated id keeps its last hash), and a batch at least as large as the
        buffer built into a segment. ``put_prepared`` then inserts them, briefly."""
        hashes = codec.as_hashes(hashes)
        ids = codec.as_ids(ids, hashes.shape[0])
        if ids.shape[0] == 0:
            return Prepared(ids, np.empty((0, 4), np.uint64), None)
        # last occurrence wins: unique over the reversed batch keeps the last index
        _, last = np.unique(ids[::-1], return_index=True)
        keep = ids.shape[0] - 1 - last
        ids, words = ids[keep], codec.to_words(hashes[keep])
        # a big batch is built into a segment before taking the lock (ids come sorted)
        return Prepared(ids, words,
                        Segment(ids, words) if ids.shape[0] >= self._buffer.capacity else None)

    def put_prepared(self, batch: "Prepared", *, merge: bool = True) -> None:
        """Insert or replace the rows of ``prepare`` (each batch once), under the write lock."""
        if batch.ids.shape[0] == 0:
            return
        with self._lock.write():
            self._kill(batch.ids)
            if batch.segment is not None:
                self._segments.append(batch.segment)
            else:
                if batch.ids.shape[0] > self._buffer.free:
                    self._freeze_buffer()
                self._buffer.append(batch.ids, batch.words)
        if merge:
            self.merge_while_due()

    def add_hex(self, ids: Iterable[int] | np.ndarray, hex_strings: Iterable[str]) -> None:
        """``add`` for hashes given as PDQ hex strings."""
        self.add(ids, codec.hex_to_hashes(hex_strings))

    def remove(self, ids: Iterable[int] | np.ndarray, *, merge: bool = True) -> int:
        """Remove these ids; ids not present are ignored (removal is idempotent, so a
        replica can replay a stream). Returns the number removed. ``merge``: as for ``add``."""
        ids = np.unique(codec.as_ids(ids))
        with self._lock.write():
            removed = self._kill(ids)
        if merge:
            self.merge_while_due()
        return removed

    # -- persistence -----------------------------------------------------------------------

    def save(self, path) -> None:
        """Write the live contents to ``path`` (format: ``rempart.matching.persist``)."""
        ids, hashes = self.snapshot()
        persist.write_pdq(path, ids, hashes)

    @classmethod
    def load(cls, path, **kwargs) -> "PDQIndex":
        """Read a file written by ``save`` and build the index in one segment."""
        ids, hashes = persist.read_pdq(path)
        index = cls(**kwargs)
        if ids.shape[0] >= index._buffer.capacity:
            # the reader checked the ids are sorted and unique: one segment, no re-sorting
            index._segments.append(Segment(ids, codec.to_words(hashes)))
        else:
            index.add(ids, hashes)
        return index

    # -- internals (callers hold the write lock) ----------------------------------------------

    def _live(self) -> int:
        return sum(s.live for s in self._segments) + self._buffer.live

    def _kill(self, ids: np.ndarray) -> int:
        return self._buffer.kill(ids) + sum(s.kill(ids) for s in self._segments)

    def _freeze_buffer(self) -> None:
        ids, words = self._buffer.take_live()
        if ids.shape[0]:
            order = np.argsort(ids)
            self._segments.append(Segment(ids[order], words[order]))

    def _due_merge(self) -> list[Segment] | None:
        """Drop empty segments; return the segments to merge next (one mostly-dead segment,
        or the newest segments from two neighbours of comparable size on: the run grows to the
        left while it holds 1/``merge_ratio`` of its older neighbour's rows, so many small
        segments left by deferred merges become one in a single build), or None. Caller
        holds the write lock."""
        segs = self._segments = [s for s in self._segments if s.live]
        for s in segs:
            if 2 * s.live < len(s):
                return [s]
        for i in range(len(segs) - 1, 0, -1):
            if segs[i].live * self._ratio >= segs[i - 1].live:
                start, rows = i - 1, sum(s.live for s in segs[i - 1:])
                while start > 0 and rows * self._ratio >= segs[start - 1].live:
                    start -= 1
                    rows += segs[start].live
                return segs[start:]
        return None

    def merge_while_due(self) -> None:
        """Run due merges, building each new segment outside the lock (see module doc)."""
        if not self._merging.acquire(blocking=False):
            return  # the thread merging now re-checks when it is done
        try:
            while True:
                with self._lock.write():
                    job = self._due_merge()
                    if job is None:
                        return
                    masks = [s.alive.copy() for s in job]
                merged = _merge(job, masks)
                with self._lock.write():
                    for s, before in zip(job, masks):
                        merged.kill(s.ids[(before == 1) & (s.alive == 0)])
                    at = self._segments.index(job[0])
                    self._segments = [s for s in self._segments if all(s is not j for j in job)]
                    self._segments.insert(at, merged)
        finally:
            self._merging.release()


@dataclass(frozen=True)
class Prepared:
    """Rows ready for ``PDQIndex.put_prepared``: unique sorted ids, their hashes as words, and
    the segment built from them (None for a batch smaller than the buffer)."""

    ids: np.ndarray
    words: np.ndarray
    segment: Segment | None


def _merge(segments: list[Segment], masks: list[np.ndarray]) -> Segment:
    """One segment holding the rows of ``segments`` that ``masks`` mark live (ids are
    disjoint by the index invariant). Reads only immutable arrays: safe without the lock."""
    ids = np.concatenate([s.ids[m == 1] for s, m in zip(segments, masks)])
    words = np.concatenate([s.words[m == 1] for s, m in zip(segments, masks)])
    order = np.argsort(ids, kind="stable")
    return Segment(ids[order], words[order])
