"""Numba kernels behind ``PDQIndex``: table build, multi-index probing, brute-force scan.

Imported lazily (importing numba costs about half a second) by ``rempart.matching.segment``.
Every kernel is ``@njit(cache=True, nogil=True)``: compiled once per machine into numba's
cache, and free of the GIL so queries in several threads run in parallel.

Conventions shared by all kernels:
  hashes   (n, 4) uint64: the 256 bits of each PDQ hash as four machine words. Hamming
           distance does not depend on how bits are numbered, so any fixed view works.
  alive    (n,) uint8: 1 for a live row, 0 for a tombstone.
  table j  substring bits [starts[j], starts[j] + widths[j]) of the 256-bit word string; a
           CSR bucket table: offsets[off_base[j] + key] .. offsets[off_base[j] + key + 1]
           index rows[j * n + p], the row numbers whose substring j equals ``key``.
  results  written to (out_q, out_row, out_dist) from position ``count``. When the output
           is full the kernel stops before the current query and returns (that query,
           count at its start); the caller grows the arrays and resumes there. On success
           it returns (number of queries, final count).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def _ctpop(typingctx, x):
    """Population count of a uint64 as one ``popcnt`` instruction (LLVM's ctpop)."""
    if x != types.uint64:
        return None
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(fn, args)

    return sig, codegen


@intrinsic
def _prefetch(typingctx, arr, idx):
    """Hint the CPU to load the cache line of ``arr[idx]`` (row ``idx`` of a 2-D array).
    A prefetch never faults, so ``idx`` may point one past the end."""
    if not isinstance(arr, types.Array) or not isinstance(idx, types.Integer):
        return None
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        index = context.cast(builder, args[1], signature.args[1], types.intp)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary,
                                       [index] + [zero] * (aryty.ndim - 1), wraparound=False)
        p = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        # LLVM names the intrinsic after its pointer type: p0 (opaque) or p0i8 (typed)
        name = "llvm.prefetch.p0" if str(p.type) == "ptr" else "llvm.prefetch.p0i8"
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [p.type, i32, i32, i32]), name)
        builder.call(fn, [p, i32(0), i32(3), i32(1)])  # read, keep in all levels, data
        return context.get_dummy_value()

    return sig, codegen


#: how many candidates ahead verification prefetches (enough to cover DRAM latency)
_AHEAD = 16


@njit(inline="always")
def _distance(a, b):
    """Hamming distance between two rows of four uint64 words."""
    # int64 so that comparisons with signed thresholds stay integer (uint64 vs int64 -> float)
    return np.int64(_ctpop(a[0] ^ b[0]) + _ctpop(a[1] ^ b[1])
                    + _ctpop(a[2] ^ b[2]) + _ctpop(a[3] ^ b[3]))


@njit(inline="always")
def _substring(h, start, width):
    """Bits [start, start + width) of the 256-bit row ``h`` (width <= 32), as a uint64."""
    word = start >> 6
    off = start & 63
    v = h[word] >> np.uint64(off)
    if off + width > 64:
        v |= h[word + 1] << np.uint64(64 - off)
    return v & ((np.uint64(1) << np.uint64(width)) - np.uint64(1))


@njit(cache=True, nogil=True)
def build_tables(hashes, starts, widths, off_base, offsets, rows):
    """Fill ``offsets`` (zeroed, uint32) and ``rows`` (uint32, m * n) by counting sort.

    Rows inside a bucket keep ascending row order, so verification walks memory forwards.
    """
    n = hashes.shape[0]
    keys = np.empty(n, np.uint32)
    for j in range(starts.shape[0]):
        ob = off_base[j]
        size = 1 << widths[j]
        for i in range(n):
            k = np.int64(_substring(hashes[i], starts[j], widths[j]))
            keys[i] = k
            offsets[ob + k + 1] += 1
        for k in range(size):
            offsets[ob + k + 1] += offsets[ob + k]
        cursor = offsets[ob:ob + size].copy()
        rb = j * n
        for i in range(n):
            k = keys[i]
            rows[rb + cursor[k]] = i
            cursor[k] += 1


@njit(cache=True, nogil=True)
def mih_query(hashes, alive, starts, widths, radii, off_base, offsets, rows,
              mask_base, mask_len, masks, queries, threshold, q_begin,
              out_q, out_row, out_dist, count):
    """Multi-index probe: every live row within ``threshold`` of each query, once.

    ``radii[j]`` is the probing radius of substring j (-1: not probed) and the XOR masks
    masks[mask_base[j] : mask_base[j] + mask_len[j]] enumerate that radius's ball. The
    caller guarantees the radii satisfy the pigeonhole bound, so every match is probed.
    A match reached through substring j is kept only if no earlier probed substring k
    was within radii[k] of the query: that is the one substring that reports it, so
    results need no de-duplication pass and no visited set.

    Each query runs in three passes (bucket bounds, candidate rows, verification) so that
    the random memory reads of a pass are independent of each other and overlap, instead
    of one dependent chain offsets -> rows -> hash per probe.
    """
    n = hashes.shape[0]
    cap = out_row.shape[0]
    n_probes = 0
    for j in range(starts.shape[0]):
        if radii[j] >= 0:
            n_probes += mask_len[j]
    pos = np.empty(n_probes, np.int64)
    tab = np.empty(n_probes, np.int64)
    lo = np.empty(n_probes, np.int64)
    cnt = np.empty(n_probes, np.int64)
    cand = np.empty(4 * n_probes + 64, np.int64)
    ctab = np.empty(4 * n_probes + 64, np.int64)
    for qi in range(q_begin, queries.shape[0]):
        q = queries[qi]
        c0 = count
        # pass 1: bucket bounds of every probed key
        k = 0
        for j in range(starts.shape[0]):
            if radii[j] < 0:
                continue
            qs = _substring(q, starts[j], widths[j])
            ob = off_base[j]
            mb = mask_base[j]
            for e in range(mask_len[j]):
                pos[k] = ob + np.int64(qs ^ masks[mb + e])
                _prefetch(offsets, pos[k])
                tab[k] = j
                k += 1
        total = 0
        for k in range(n_probes):
            a = np.int64(offsets[pos[k]])
            lo[k] = tab[k] * n + a
            cnt[k] = np.int64(offsets[pos[k] + 1]) - a
            total += cnt[k]
        for k in range(n_probes):
            _prefetch(rows, lo[k])
        # pass 2: candidate rows (and the substring that found each)
        if total > cand.shape[0]:
            cand = np.empty(2 * total, np.int64)
            ctab = np.empty(2 * total, np.int64)
        c = 0
        for k in range(n_probes):
            for p in range(lo[k], lo[k] + cnt[k]):
                cand[c] = rows[p]
                ctab[c] = tab[k]
                c += 1
        # pass 3: verify, prefetching the hash a few candidates ahead
        for c in range(min(total, _AHEAD)):
            _prefetch(hashes, cand[c])
        for c in range(total):
            if c + _AHEAD < total:
                _prefetch(hashes, cand[c + _AHEAD])
            i = cand[c]
            h = hashes[i]
            d = _distance(h, q)
            if d > threshold or alive[i] == 0:
                continue
            j = ctab[c]
            first = True
            for kk in range(j):
                if radii[kk] >= 0 and np.int64(_ctpop(
                        _substring(h, starts[kk], widths[kk])
                        ^ _substring(q, starts[kk], widths[kk]))) <= radii[kk]:
                    first = False
                    break
            if not first:
                continue
            if count >= cap:
                return qi, c0
            out_q[count] = qi
            out_row[count] = i
            out_dist[count] = d
            count += 1
    return queries.shape[0], count


@njit(cache=True, nogil=True)
def scan_query(hashes, alive, queries, threshold, q_begin, out_q, out_row, out_dist, count):
    """Brute force: compare every live row with every query (small segments, big thresholds)."""
    n = hashes.shape[0]
    cap = out_row.shape[0]
    for qi in range(q_begin, queries.shape[0]):
        q = queries[qi]
        c0 = count
        for i in range(n):
            d = _distance(hashes[i], q)
            if d <= threshold and alive[i] != 0:
                if count >= cap:
                    return qi, c0
                out_q[count] = qi
                out_row[count] = i
                out_dist[count] = d
                count += 1
    return queries.shape[0], count
