"""Numba kernels behind ``FeatureIndex`` (stage 2): the shortlist's votes and verification's
nearest neighbours, the two loops that numpy ran as many whole-array passes.

Imported lazily by ``rempart.matching.feature_index`` (importing numba costs about half a
second); ``@njit(cache=True, nogil=True)`` like ``rempart.matching._kernels``, whose popcount
they share. Descriptors are rows of four uint64 words (ORB's 256 bits).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rempart.matching._kernels import _distance

@njit(cache=True, nogil=True)
def votes(keys, order, starts, shift, words, owners, stale, qchunks, qwords, busy, near, ratio):
    """The shortlist's votes: for each query descriptor and each banked item, the item's nearest
    descriptor among those sharing at least one chunk (``keys[t]`` sorted, ``order[t]`` its
    rows, ``starts[t, b]`` where the keys ``k`` with ``k >> shift == b`` begin) and within
    ``near`` bits; it votes when it is nearer than ``ratio`` x the item's next (none: always).
    Lists longer than ``busy`` are skipped (the tables drop them when built); items in
    ``stale`` (sorted) too. ``owners`` must be non-decreasing (rows grouped by item, items in
    id order: ``feature_index._tables``). Returns (query row, item, the voting point's row in
    the tables) per vote, by query row, then item (the caller maps the few rows it reads to
    their rows in their items: a load per vote here, off the votes' path).

    The lookups run in passes over every (query descriptor, table) pair, one table at a time:
    bucket bounds, then each key's run, then the rows, then their items and distances (a large
    bank's tables do not fit the CPU's caches: loads that do not wait for each other overlap,
    where one descriptor's chain of dependent loads at a time left the core waiting on
    memory). Per query descriptor, the rows within ``near`` bits are then sorted once by row,
    which groups them by item (``owners`` non-decreasing)."""
    m, chunks = qchunks.shape
    cap = max(64, 4 * m)
    out_q = np.empty(cap, np.int64)
    out_o = np.empty(cap, np.int64)
    out_r = np.empty(cap, np.int64)
    count = 0
    hit_o = np.empty(chunks * busy, np.int64)
    hit_d = np.empty(chunks * busy, np.int64)
    hit_r = np.empty(chunks * busy, np.int64)
    shift = np.uint32(shift)
    first = np.empty((chunks, m), np.int64)
    last = np.empty((chunks, m), np.int64)
    for t in range(chunks):  # each key's bucket (one table at a time)
        for q in range(m):
            b = qchunks[q, t] >> shift
            first[t, q] = starts[t, b]
            last[t, q] = starts[t, b + 1]
    for t in range(chunks):  # the run of keys equal to it, empty when longer than ``busy``
        for q in range(m):
            key = qchunks[q, t]
            lo, end = first[t, q], last[t, q]
            if end - lo > 16:
                lo += np.searchsorted(keys[t, lo:end], key)
            else:
                while lo < end and keys[t, lo] < key:
                    lo += 1
            hi = lo
            while hi < end and keys[t, hi] == key and hi - lo <= busy:
                hi += 1
            first[t, q] = lo
            last[t, q] = lo if hi - lo > busy else hi  # a list every picture's flat areas share
    # each candidate row (per query descriptor, table by table), its item and its distance
    seg = np.zeros(m + 1, np.int64)
    for q in range(m):
        n = 0
        for t in range(chunks):
            n += last[t, q] - first[t, q]
        seg[q + 1] = seg[q] + n
    at = np.empty((chunks, m), np.int64)  # where each lookup's rows go: by query, then table
    for q in range(m):
        n = seg[q]
        for t in range(chunks):
            at[t, q] = n
            n += last[t, q] - first[t, q]
    cand_r = np.empty(seg[m], np.int64)
    for t in range(chunks):
        for q in range(m):
            n = at[t, q]
            for p in range(first[t, q], last[t, q]):
                cand_r[n] = order[t, p]
                n += 1
    cand_d = np.empty(seg[m], np.int64)
    cand_o = np.empty(seg[m], np.int64)
    for q in range(m):
        for i in range(seg[q], seg[q + 1]):
            r = cand_r[i]
            cand_d[i] = _distance(qwords[q], words[r])
            cand_o[i] = owners[r]
    for q in range(m):
        # the rows within ``near`` bits (a row's distance is the same in every table that
        # found it, so filtering before removing repeats keeps the same rows)
        k = 0
        for i in range(seg[q], seg[q + 1]):
            d = cand_d[i]
            if d <= near:
                hit_r[k] = cand_r[i]
                hit_d[k] = d
                hit_o[k] = cand_o[i]
                k += 1
        if k == 0:
            continue
        # rows ascending: grouped by item, items ascending, rows ascending within an item
        # (``owners`` is non-decreasing), one sort where sorting rows then items took two
        if k <= 64:
            _insertion_sort_by(hit_r, hit_d, hit_o, k)  # a few rows, typically: no allocation
        else:
            by = np.argsort(hit_r[:k], kind="mergesort")
            hit_r[:k], hit_d[:k], hit_o[:k] = hit_r[:k][by], hit_d[:k][by], hit_o[:k][by]
        i = 0
        while i < k:
            o = hit_o[i]
            j = i
            while j < k and hit_o[j] == o:
                j += 1
            if len(stale):
                s = np.searchsorted(stale, o)
                if s < len(stale) and stale[s] == o:
                    i = j
                    continue
            best, second, best_row = 1 << 30, 1 << 30, -1
            for e in range(i, j):
                if e > i and hit_r[e] == hit_r[e - 1]:
                    continue  # the same row found through another table
                d = hit_d[e]
                if d < best:
                    second, best, best_row = best, d, hit_r[e]
                elif d < second:
                    second = d
            if second == 1 << 30 or best < ratio * second:
                if count == cap:
                    cap *= 2
                    out_q = _grown(out_q, cap)
                    out_o = _grown(out_o, cap)
                    out_r = _grown(out_r, cap)
                out_q[count] = q
                out_o[count] = o
                out_r[count] = best_row
                count += 1
            i = j
    return out_q[:count], out_o[:count], out_r[:count]


@njit(cache=True, nogil=True)
def _insertion_sort_by(key, b, c, n):
    """Sort the first ``n`` of ``key`` (stable), moving ``b`` and ``c`` along."""
    for i in range(1, n):
        k, vb, vc = key[i], b[i], c[i]
        j = i - 1
        while j >= 0 and key[j] > k:
            key[j + 1], b[j + 1], c[j + 1] = key[j], b[j], c[j]
            j -= 1
        key[j + 1], b[j + 1], c[j + 1] = k, vb, vc


@njit(cache=True, nogil=True)
def _grown(a, cap):
    b = np.empty(cap, a.dtype)
    b[:len(a)] = a
    return b


@njit(cache=True, nogil=True)
def nearest_two(qwords, words):
    """For each query descriptor: its nearest banked descriptor's row, that distance, and the
    next distance (brute force: a banked item has a few hundred points)."""
    m, n = len(qwords), len(words)
    best = np.empty(m, np.int64)
    d1 = np.empty(m, np.int64)
    d2 = np.empty(m, np.int64)
    for q in range(m):
        a, b, at = 1 << 30, 1 << 30, -1
        for r in range(n):
            d = _distance(qwords[q], words[r])
            if d < a:
                b, a, at = a, d, r
            elif d < b:
                b = d
        best[q], d1[q], d2[q] = at, a, b
    return best, d1, d2
