"""``EntryTable``: the state of every bank entry a matcher holds, in numpy arrays.

Pure (standard library and numpy). One row per entry id, sorted by id: the entry's bank (int32),
its kind (an index into ``KINDS``, uint8) and flags (uint8: ``DISABLED``; ``DEAD`` marks a slot
freed by ``drop`` until the next compaction). That is 14 bytes per entry (8 id + 4 bank + 1 + 1)
instead of a Python object per entry (~500 bytes): 140 MB for 10M entries, beside the index.
The rare per-entry extras live in dicts: ``until`` (when a disabled entry matches again).

Ids arrive mostly in increasing order (database ids), so ``put`` appends; an id below the last
one is inserted in one O(n) pass. ``drop`` only flags; the table compacts itself when more than
half of it is dead. Not thread-safe: the owner (``Matcher``) holds its lock.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

#: append only: a kind's code is stored in snapshots
KINDS = ("pdq", "vpdq", "sha256", "md5", "sha1", "pdq-peeled", "orb")
KIND_CODE = {k: i for i, k in enumerate(KINDS)}
DISABLED = 1
DEAD = 2


class EntryTable:
    def __init__(self) -> None:
        self.ids = np.empty(0, np.int64)
        self.bank = np.empty(0, np.int32)
        self.kind = np.empty(0, np.uint8)
        self.flags = np.empty(0, np.uint8)
        self.n = 0  # rows used (live and dead)
        self.dead = 0
        #: entry id -> when a disabled entry matches again (absent: indefinitely)
        self.until: dict[int, dt.datetime] = {}

    def __len__(self) -> int:
        return self.n - self.dead

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.ids, self.bank, self.kind, self.flags))

    def find(self, ids: np.ndarray) -> np.ndarray:
        """Row of each id (live rows only), or -1."""
        ids = np.asarray(ids, np.int64)
        if self.n == 0 or ids.shape[0] == 0:
            return np.full(ids.shape[0], -1, np.int64)
        pos = np.minimum(np.searchsorted(self.ids[: self.n], ids), self.n - 1)
        ok = (self.ids[pos] == ids) & ((self.flags[pos] & DEAD) == 0)
        return np.where(ok, pos, -1)

    def row(self, entry_id: int) -> int:
        return int(self.find(np.array([entry_id], np.int64))[0])

    def kinds_of(self, ids: np.ndarray) -> np.ndarray:
        """Kind code of each id, 255 where absent."""
        pos = self.find(ids)
        out = np.full(pos.shape[0], 255, np.uint8)
        out[pos >= 0] = self.kind[pos[pos >= 0]]
        return out

    def put(self, ids: np.ndarray, bank: np.ndarray, kind: np.ndarray, flags: np.ndarray,
            until: dict[int, dt.datetime] | None = None) -> None:
        """Insert or replace rows (ids unique within the call)."""
        ids = np.asarray(ids, np.int64)
        if ids.shape[0] == 0:
            return
        order = np.argsort(ids, kind="stable")
        ids, bank, kind, flags = ids[order], np.asarray(bank, np.int32)[order], \
            np.asarray(kind, np.uint8)[order], np.asarray(flags, np.uint8)[order] & DISABLED
        if self.until:
            for i in ids.tolist():
                self.until.pop(i, None)
        self.until.update(until or {})
        n = self.n
        if n:
            pos = np.minimum(np.searchsorted(self.ids[:n], ids), n - 1)
            hit = self.ids[pos] == ids
        else:
            pos, hit = np.zeros(ids.shape[0], np.int64), np.zeros(ids.shape[0], bool)
        if hit.any():
            p = pos[hit]
            self.dead -= int(np.count_nonzero(self.flags[p] & DEAD))
            self.bank[p], self.kind[p], self.flags[p] = bank[hit], kind[hit], flags[hit]
        new = ~hit
        if not new.any():
            return
        ids, bank, kind, flags = ids[new], bank[new], kind[new], flags[new]
        k = ids.shape[0]
        if n == 0 or ids[0] > self.ids[n - 1]:
            self._reserve(n + k)
            s = slice(n, n + k)
            self.ids[s], self.bank[s], self.kind[s], self.flags[s] = ids, bank, kind, flags
            self.n = n + k
            return
        at = np.searchsorted(self.ids[:n], ids)
        cols = [np.insert(a[:n], at, v) for a, v in
                ((self.ids, ids), (self.bank, bank), (self.kind, kind), (self.flags, flags))]
        self.ids, self.bank, self.kind, self.flags = cols
        self.n = n + k

    def drop(self, ids: np.ndarray) -> np.ndarray:
        """Free the rows of these ids; returns the kind codes of those that were live."""
        pos = self.find(ids)
        pos = np.unique(pos[pos >= 0])
        kinds = self.kind[pos].copy()
        self.flags[pos] |= DEAD
        self.dead += pos.shape[0]
        if self.until:
            for i in self.ids[pos].tolist():
                self.until.pop(i, None)
        if self.dead > 1024 and 2 * self.dead > self.n:
            self._compact()
        return kinds

    def active(self, ids: np.ndarray, now: dt.datetime) -> np.ndarray:
        """For each id: held, and not disabled (or its ``until`` has passed)."""
        pos = self.find(ids)
        out = pos >= 0
        idx = np.nonzero(out)[0]
        off = (self.flags[pos[idx]] & DISABLED) != 0
        for j in idx[off].tolist():
            until = self.until.get(int(ids[j]))
            out[j] = until is not None and until <= now
        return out

    def ids_of_kind(self, code: int) -> np.ndarray:
        """Ids of the live rows of one kind code."""
        live = ((self.flags[: self.n] & DEAD) == 0) & (self.kind[: self.n] == code)
        return self.ids[: self.n][live].copy()

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Copies of the live rows: (ids, bank, kind, flags)."""
        live = (self.flags[: self.n] & DEAD) == 0
        return (self.ids[: self.n][live].copy(), self.bank[: self.n][live].copy(),
                self.kind[: self.n][live].copy(), self.flags[: self.n][live].copy())

    @classmethod
    def from_columns(cls, ids: np.ndarray, bank: np.ndarray, kind: np.ndarray,
                     flags: np.ndarray, until: dict[int, dt.datetime]) -> "EntryTable":
        """A table over sorted unique ``ids`` and their columns (taken as they are)."""
        t = cls()
        t.ids, t.bank, t.kind, t.flags = (np.ascontiguousarray(ids, np.int64),
                                          np.ascontiguousarray(bank, np.int32),
                                          np.ascontiguousarray(kind, np.uint8),
                                          np.ascontiguousarray(flags, np.uint8) & DISABLED)
        t.n = int(t.ids.shape[0])
        t.until = dict(until)
        return t

    def _reserve(self, size: int) -> None:
        if size <= self.ids.shape[0]:
            return
        cap = max(size, 1024, self.ids.shape[0] + self.ids.shape[0] // 2)
        for name in ("ids", "bank", "kind", "flags"):
            old = getattr(self, name)
            new = np.empty(cap, old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def _compact(self) -> None:
        ids, bank, kind, flags = self.columns()
        self.ids, self.bank, self.kind, self.flags = ids, bank, kind, flags
        self.n, self.dead = int(ids.shape[0]), 0
