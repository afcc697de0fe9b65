"""Numba kernels of rempart.signals: PDQ's downsampling (RGB -> float luma -> Jarosz filter ->
64 x 64 samples) and the border scan of ``trim``.

Imported lazily (importing numba costs about half a second) by ``rempart.signals.pdq`` and
``rempart.signals.trim``. The
kernels are ``@njit(cache=True, nogil=True)``: compiled once per machine into numba's cache,
and free of the GIL.

They compute, value for value, what Meta's reference does before its DCT (``pdqhash``:
``fillFloatLuma`` in numpy float64, then ``jaroszFilterFloat`` and ``decimateFloat`` in C++),
with the very same float operations in the same order (no fast-math, no reassociation):

- luma: ``float32((R*0.299 + G*0.587) + B*0.114)`` computed in float64, as ``pdqhash`` does
  (the three products looked up in tables of the same float64 values);
- box filter (``box1DFloat``): a float32 running sum, ``sum / float32(window so far)``;
  two passes along rows then columns (``PDQ_NUM_JAROSZ_XY_PASSES``);
- decimation: sample ``int(((i + 0.5) * n) / 64)`` in float64.

What changes is only the order in which independent values are computed: the column filter
runs along rows over a vector of running sums (one per column, each updated exactly as the
reference's per-column loop does), so memory is read in order; the luma is computed one row at
a time and filtered at once (no float luma buffer); and the second pass is computed only where
the 64 x 64 samples need it (the running sums of the second row pass still cover each row from
its start, so every kept value is bit for bit the reference's). Buffers: two float32 pictures
(8 bytes per pixel), as the reference.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _window(old: int, new: int) -> int:
    # computeJaroszFilterWindowSize
    return (old + 2 * new - 1) // (2 * new)


@njit(cache=True, nogil=True, inline="always")
def _box_1d(src, dst, n, window):
    """box1DFloat along a contiguous vector ``src`` into ``dst`` (both length ``n``)."""
    half = (window + 2) // 2
    phase_1 = half - 1
    phase_2 = window - half + 1
    phase_3 = n - window
    phase_4 = half - 1
    li = 0
    ri = 0
    oi = 0
    total = np.float32(0.0)
    size = 0
    for _ in range(phase_1):
        total += src[ri]
        size += 1
        ri += 1
    for _ in range(phase_2):
        total += src[ri]
        size += 1
        dst[oi] = total / np.float32(size)
        ri += 1
        oi += 1
    for _ in range(phase_3):
        total += src[ri]
        total -= src[li]
        dst[oi] = total / np.float32(size)
        li += 1
        ri += 1
        oi += 1
    for _ in range(phase_4):
        total -= src[li]
        size -= 1
        dst[oi] = total / np.float32(size)
        li += 1
        oi += 1


@njit(cache=True, nogil=True)
def _box_columns(src, dst, window):
    """box1DFloat down every column of ``src`` (rows x cols) into ``dst``, row by row."""
    n, cols = src.shape
    half = (window + 2) // 2
    phase_1 = half - 1
    phase_2 = window - half + 1
    phase_3 = n - window
    phase_4 = half - 1
    total = np.zeros(cols, np.float32)
    li = 0
    ri = 0
    oi = 0
    size = 0
    for _ in range(phase_1):
        for j in range(cols):
            total[j] += src[ri, j]
        size += 1
        ri += 1
    for _ in range(phase_2):
        size += 1
        d = np.float32(size)
        for j in range(cols):
            total[j] += src[ri, j]
            dst[oi, j] = total[j] / d
        ri += 1
        oi += 1
    for _ in range(phase_3):
        d = np.float32(size)
        for j in range(cols):
            t = total[j] + src[ri, j]
            t -= src[li, j]
            total[j] = t
            dst[oi, j] = t / d
        li += 1
        ri += 1
        oi += 1
    for _ in range(phase_4):
        size -= 1
        d = np.float32(size)
        for j in range(cols):
            total[j] -= src[li, j]
            dst[oi, j] = total[j] / d
        li += 1
        oi += 1


@njit(cache=True, nogil=True)
def _samples(n: int) -> np.ndarray:
    out = np.empty(64, np.int64)
    for i in range(64):
        out[i] = int(((i + 0.5) * n) / 64)
    return out


#: v * 0.299, v * 0.587, v * 0.114 in float64 for every byte v: the very products the luma
#: sums (looked up rather than multiplied: the same values, half the time)
_R = np.arange(256) * 0.299
_G = np.arange(256) * 0.587
_B = np.arange(256) * 0.114

#: rows filtered together: their running sums are independent, so the CPU overlaps them
_BLOCK = 32


@njit(cache=True, nogil=True)
def _box_rows(src, dst, r0, r1, window):
    """box1DFloat along rows ``r0:r1`` of ``src`` into the same rows of ``dst``, the rows
    side by side (each row's running sum updated exactly as the reference's loop does)."""
    n = src.shape[1]
    half = (window + 2) // 2
    phase_1 = half - 1
    phase_2 = window - half + 1
    phase_3 = n - window
    phase_4 = half - 1
    total = np.zeros(r1 - r0, np.float32)
    li = 0
    ri = 0
    oi = 0
    size = 0
    for _ in range(phase_1):
        for r in range(r0, r1):
            total[r - r0] += src[r, ri]
        size += 1
        ri += 1
    for _ in range(phase_2):
        size += 1
        d = np.float32(size)
        for r in range(r0, r1):
            total[r - r0] += src[r, ri]
            dst[r, oi] = total[r - r0] / d
        ri += 1
        oi += 1
    for _ in range(phase_3):
        d = np.float32(size)
        for r in range(r0, r1):
            t = total[r - r0] + src[r, ri]
            t -= src[r, li]
            total[r - r0] = t
            dst[r, oi] = t / d
        li += 1
        ri += 1
        oi += 1
    for _ in range(phase_4):
        size -= 1
        d = np.float32(size)
        for r in range(r0, r1):
            total[r - r0] -= src[r, li]
            dst[r, oi] = total[r - r0] / d
        li += 1
        oi += 1


@njit(cache=True, nogil=True)
def _produce(rgb, ring, top, window):
    """Luma of rows ``top:top + _BLOCK`` of ``rgb``, filtered along the rows (pass 1), into
    ``ring`` (row r at r % len(ring)); returns the first row not produced. The block is held
    transposed, so that the rows' running sums are updated side by side in one vector."""
    rows, cols = rgb.shape[0], rgb.shape[1]
    bottom = min(rows, top + _BLOCK)
    count = bottom - top
    luma = np.empty((cols, count), np.float32)
    for i in range(top, bottom):
        for j in range(cols):
            luma[j, i - top] = np.float32(_R[rgb[i, j, 0]] + _G[rgb[i, j, 1]] + _B[rgb[i, j, 2]])
    filtered = np.empty((cols, count), np.float32)
    _box_columns(luma, filtered, window)
    size = ring.shape[0]
    for i in range(top, bottom):
        row = ring[i % size]
        for j in range(cols):
            row[j] = filtered[j, i - top]
    return bottom


@njit(cache=True, nogil=True)
def _consume(block, count, first, window, keep_cols, narrow):
    """Pass 2 along the first ``count`` rows of ``block`` (output rows ``first``...), keeping
    the sampled columns in ``narrow``."""
    cols = block.shape[1]
    lines = np.empty((cols, count), np.float32)
    for r in range(count):
        for j in range(cols):
            lines[j, r] = block[r, j]
    filtered = np.empty((cols, count), np.float32)
    _box_columns(lines, filtered, window)
    for r in range(count):
        for k in range(64):
            narrow[first + r, k] = filtered[keep_cols[k], r]


@njit(cache=True, nogil=True)
def luma64(rgb, out):
    """PDQ's 64 x 64 float32 samples of ``rgb`` (rows x cols x 3 uint8, any strides) into ``out``.

    Streamed: rows are made (luma, pass 1 along the rows) a block at a time into a ring just
    deep enough for the column filter's window, and the column filter's output goes a block at
    a time through pass 2 along the rows; only the 64 sampled columns are kept (``narrow``) for
    pass 2 down the columns. No buffer the size of the picture. The picture must have at least
    5 rows and columns (PDQ's ``MIN_HASHABLE_DIM``).
    """
    rows, cols = rgb.shape[0], rgb.shape[1]
    along_rows = _window(cols, 64)
    window = _window(rows, 64)
    keep_cols = _samples(cols)
    keep_rows = _samples(rows)
    ring = np.empty((window + _BLOCK + 1, cols), np.float32)
    size = ring.shape[0]
    block = np.empty((_BLOCK, cols), np.float32)
    narrow = np.empty((rows, 64), np.float32)
    # pass 1 down the columns (box1DFloat, one running sum per column), streamed
    half = (window + 2) // 2
    phase_1 = half - 1
    phase_2 = window - half + 1
    phase_3 = rows - window
    phase_4 = half - 1
    total = np.zeros(cols, np.float32)
    produced = 0
    li = 0
    ri = 0
    oi = 0
    count = 0
    for step in range(phase_1 + phase_2 + phase_3 + phase_4):
        adding = step < phase_1 + phase_2 + phase_3
        removing = step >= phase_1 + phase_2
        if adding and ri >= produced:
            produced = _produce(rgb, ring, produced, along_rows)
        if adding:
            src = ring[ri % size]
            if removing:
                old = ring[li % size]
                for j in range(cols):
                    t = total[j] + src[j]
                    t -= old[j]
                    total[j] = t
            else:
                for j in range(cols):
                    total[j] += src[j]
                count += 1
            ri += 1
        else:
            old = ring[li % size]
            for j in range(cols):
                total[j] -= old[j]
            count -= 1
        if removing:
            li += 1
        if step >= phase_1:
            d = np.float32(count)
            row = block[oi % _BLOCK]
            for j in range(cols):
                row[j] = total[j] / d
            oi += 1
            if oi % _BLOCK == 0 or oi == rows:
                filled = (oi - 1) % _BLOCK + 1
                _consume(block, filled, oi - filled, along_rows, keep_cols, narrow)
    filtered = np.empty((rows, 64), np.float32)
    _box_columns(narrow, filtered, window)  # pass 2 down the sampled columns
    for k in range(64):
        out[k, :] = filtered[keep_rows[k], :]


@njit(cache=True, nogil=True)
def luma_plain(rgb, out):
    """The float32 luma of ``rgb`` into ``out`` (PDQ's 64 x 64 case: no filter)."""
    for i in range(rgb.shape[0]):
        for j in range(rgb.shape[1]):
            out[i, j] = np.float32(rgb[i, j, 0] * 0.299 + rgb[i, j, 1] * 0.587
                                   + rgb[i, j, 2] * 0.114)


@njit(cache=True, nogil=True)
def edge_run(lines, tolerance, min_fraction, blur_lines, blur_fraction, step):
    """``trim._edge_run``: how many leading lines of ``lines`` (N x L x 3 uint8, any strides) are
    border lines of the first one's colour (see ``rempart.signals.trim``), line by line."""
    n, length = lines.shape[0], lines.shape[1]
    if n == 0:
        return 0
    low = np.empty(3, np.int64)
    high = np.empty(3, np.int64)
    edges = np.empty(3, np.int64)
    for c in range(3):
        edge = int(_median(lines, 0, c))  # as astype(int16): truncated
        edges[c] = edge
        low[c] = min(255, max(0, edge - tolerance))
        high[c] = min(255, max(0, edge + tolerance))
    run = 0
    while (run < n and _fraction(lines, run, low, high, length) >= min_fraction
           and not _stepped(lines, run, edges, step)):
        run += 1
    if run == 0:
        return 0
    for _ in range(blur_lines):  # then the blurred transition lines
        if run >= n or _fraction(lines, run, low, high, length) < blur_fraction:
            break
        run += 1
    return run


@njit(cache=True, nogil=True)
def _stepped(lines, index, edges, step):
    """The line's median colour steps more than ``step`` from the border's: another flat colour
    (the page inside the padding), not more border (``trim._strict_run``)."""
    for c in range(3):
        if abs(_median(lines, index, c) - edges[c]) > step:
            return True
    return False


@njit(cache=True, nogil=True)
def _median(lines, index, c):
    """``np.median`` of channel ``c`` of line ``index`` (uint8 values), by counting: the same
    float64 (the middle value, or the mean of the two middle ones), without sorting a copy."""
    length = lines.shape[1]
    counts = np.zeros(256, np.int64)
    for k in range(length):
        counts[lines[index, k, c]] += 1
    low_rank = (length - 1) // 2  # the two middle ranks (equal for an odd length)
    high_rank = length // 2
    seen = 0
    low = -1
    for v in range(256):
        seen += counts[v]
        if low < 0 and seen > low_rank:
            low = v
        if seen > high_rank:
            return (low + v) / 2.0
    return np.nan  # an empty line: unreachable (lines have at least 3 pixels)


@njit(cache=True, nogil=True, inline="always")
def _fraction(lines, index, low, high, length):
    close = 0
    for k in range(length):
        r, g, b = lines[index, k, 0], lines[index, k, 1], lines[index, k, 2]
        if (low[0] <= r <= high[0] and low[1] <= g <= high[1] and low[2] <= b <= high[2]):
            close += 1
    return close / length


@njit(cache=True, nogil=True)
def bar_run(lines, cap, tolerance, uniform, text_floor, stroke_floor, stroke_run,
            flat_tolerance, blur_lines, edge_lines, min_lines):
    """``normalise._bar`` at one tolerance: how many of the first ``cap`` lines of ``lines``
    (N x L x 3 uint8, any strides; line 0 the side's edge) form a bar that may hold text, line
    by line up to the first two non-text lines in a row, -1 when there are none before the cap;
    and whether the picture begins where its flat lines end (``normalise._sharp``: at most
    ``edge_lines`` lines mostly but not wholly bar-coloured between them, or fewer than
    ``min_lines`` flat lines). The caller reads the side again at the flat tolerance when there
    is no end or no sharp one."""
    length = lines.shape[1]
    if cap < 2:
        return 0, True
    low = np.empty(3, np.int64)
    high = np.empty(3, np.int64)
    for c in range(3):
        edge = int(_median(lines, 0, c))  # as astype(int16): truncated
        low[c] = min(255, max(0, edge - tolerance))
        high[c] = min(255, max(0, edge + tolerance))
    share = np.empty(cap, np.float64)
    share[0] = _fraction(lines, 0, low, high, length)
    if share[0] < uniform:
        return 0, True
    end, read, was_text = -1, 1, True
    for k in range(cap):
        if k:
            share[k] = _fraction(lines, k, low, high, length)
            read += 1
        text = share[k] >= text_floor or (share[k] >= stroke_floor and _strokes(
            lines, k, low, high, length, stroke_run))
        if not text and not was_text:
            end = k - 1
            break
        was_text = text
    if end < 0:
        return -1, True
    last = 0
    for k in range(end - 1, -1, -1):
        if share[k] >= uniform and _flat(lines, k, flat_tolerance, length) >= uniform:
            last = k
            break
    partial = 0
    for k in range(last + 1, end):
        if text_floor <= share[k] < uniform:
            partial += 1
    sharp = partial <= edge_lines or last + 1 < min_lines
    run = last + 1
    for _ in range(blur_lines):  # the blurred line where the bar meets the picture
        if run >= cap:
            break
        if run >= read:
            share[run] = _fraction(lines, run, low, high, length)
            read = run + 1
        if share[run] < 0.5:
            break
        run += 1
    return run, sharp


@njit(cache=True, nogil=True)
def _strokes(lines, index, low, high, length, stroke_run):
    """``normalise._text_lines``' stroke test: the pixels off the bar colour come in at least 3
    runs, none longer than ``stroke_run`` of the line."""
    runs, longest, current = 0, 0, 0
    for k in range(length):
        r, g, b = lines[index, k, 0], lines[index, k, 1], lines[index, k, 2]
        if low[0] <= r <= high[0] and low[1] <= g <= high[1] and low[2] <= b <= high[2]:
            current = 0
        else:
            if current == 0:
                runs += 1
            current += 1
            longest = max(longest, current)
    return runs >= 3 and longest <= stroke_run * length


@njit(cache=True, nogil=True)
def _flat(lines, index, tolerance, length):
    """``normalise._flatness``: the share of the line's pixels within ``tolerance`` of its own
    median colour in every channel."""
    low = np.empty(3, np.int64)
    high = np.empty(3, np.int64)
    for c in range(3):
        own = int(_median(lines, index, c))
        low[c] = min(255, max(0, own - tolerance))
        high[c] = min(255, max(0, own + tolerance))
    return _fraction(lines, index, low, high, length)
