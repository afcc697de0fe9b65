"""Stage 2 matching: a descriptor index over banked ORB features and geometric verification.

Pure (numpy + OpenCV + numba kernels in ``_feature_kernels``, no database; a large query's votes
are counted in two halves at once, one on a thread of this module's, ``_Tables.votes``). Two
steps per query (``FeatureIndex.match``):

1. Shortlist. The first 240 bits of every banked descriptor are cut into 10 chunks of 24 bits;
   chunk ``t`` of every descriptor is a key in table ``t`` (a sorted array: an inverted file with
   16.7 million lists, so random collisions stay rare in a large bank; ``starts`` says where each
   run of keys sharing their top 16 bits begins, so a lookup searches a few keys). A query
   descriptor looks
   up its 10 chunks; a banked descriptor sharing at least one chunk exactly and within ``NEAR``
   bits in all is a near neighbour (multi-index hashing: two ORB descriptors of the same point,
   typically 10-40 bits apart, share a chunk with probability ~0.3-0.7; a true match has
   hundreds of such points, so enough of them vote). Each banked item gets one vote per query
   descriptor whose nearest neighbour in it is clearly nearer than the next (Lowe's ratio
   ``RATIO``: a repeated corner is no evidence). Items are ranked by their votes, each weighted
   1 / (how many items that query point voted for: a glyph of a screenshot's text votes for
   every text-heavy banked picture); the ``PRESCREEN`` best (at least ``MIN_VOTES`` votes) are
   screened by a RANSAC fit on the index's own pairs (its inliers counted under the fit refined
   on them, ``_settled``: a bright spot's many pairs bias RANSAC's two-pair samples), and the
   ``SHORTLIST`` best go on. Lists longer than ``BUSY_LIST`` or 4 times the mean length
   (flat-area descriptors every picture has) are skipped: the tables drop them when built.
2. Verification. The query's descriptors are matched to the item's (nearest neighbour, Lowe's
   ratio ``RATIO``; each banked point keeps only its nearest query point, ``_one_to_one``: a
   corner the query finds at several pyramid levels is one correspondence), and a similarity transform (rotation, uniform scale, translation) is fitted
   by RANSAC (OpenCV ``estimateAffinePartial2D``), in a second round on the pairs the first
   left out when the first gathered ``MIN_INLIERS`` but failed the rules below (a cluster of
   repeated corners can outvote the true fit; the prescreen does the same at ``MIN_SCREEN``). The item matches only when
   - at least ``MIN_INLIERS`` correspondences agree with the transform (over 1.2 million
     distinct pairs, bench/pdq_misses.py, none passes the spread rules below at all; at most
     10-21 did before ``_one_to_one``, a corner found many times counted each time),
   - the inliers are spread over the part of the banked picture the query shows: their convex
     hull covers at least ``MIN_SPREAD`` of it and they fall in at least ``MIN_CELLS`` of its
     3 x 3 grid cells (a shared logo, a watermark or a line of text alone never matches: a
     spot's hull is small, and a line of inliers holds at most 3 cells of the grid, or, slanted,
     a thin hull; 4 cells, not 5, so that a picture whose texture fills one quarter of it, a
     blurred photo with one textured part, still matches when its inliers cover 15% of it),
   - the query shows at least ``MIN_AREA`` of the banked picture, and the scale stays within
     ``SCALES`` (a whole picture is not a speck of another).

What a match reports (``FeatureMatch``): inliers, the transform (scale, rotation in degrees,
translation as shares of the query's size), the share of the banked picture that falls inside
the query's frame once mapped by the transform (``area``: a crop shows less; a screenshot's
surrounding canvas is not subtracted), and where it lies in the query (``region``: left, top,
right, bottom as shares of the query's width and height), so a reviewer sees what matched.

Live changes: ``add`` puts items in a small *delta* (its own tables, rebuilt when it changes);
when it outgrows ``DELTA_SHARE`` of the main tables the two are merged (amortised, never a
rebuild per change); ``remove`` drops an item at once (its rows in the main tables are skipped
until the next merge).
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from rempart.signals.features import Features

NEAR = 64
SHORTLIST = 5
PRESCREEN = 6
MIN_SCREEN = 7
MIN_VOTES = 6
BUSY_LIST = 32
RATIO = 0.85
MIN_INLIERS = 24
MIN_SPREAD = 0.15
MIN_AREA = 0.25
MIN_CELLS = 4
SCALES = (0.12, 8.0)
DELTA_SHARE = 0.10
#: a query of at least twice this many points has its votes counted in two halves at once
#: (``_Tables.votes``)
SPLIT_VOTES = 200
_CHUNKS = 10  # of 24 bits: the first 30 bytes of the 32
_LISTS = 1 << 24


def _chunks(desc: np.ndarray) -> np.ndarray:
    """The ``_CHUNKS`` 24-bit keys of each descriptor (n x _CHUNKS uint32)."""
    if not len(desc):
        return np.zeros((0, _CHUNKS), np.uint32)
    b = np.ascontiguousarray(desc[:, :3 * _CHUNKS]).reshape(len(desc), _CHUNKS, 3).astype(np.uint32)
    return (b[:, :, 0] << 16) | (b[:, :, 1] << 8) | b[:, :, 2]



@dataclass(frozen=True)
class FeatureMatch:
    """The verified evidence that a query shows a banked item (see the module docstring)."""

    item: int
    inliers: int
    scale: float
    rotation: float  # degrees, counter-clockwise from the banked picture to the query
    shift: tuple[float, float]  # translation, as shares of the query's width and height
    area: float  # share of the banked picture visible in the query
    region: tuple[float, float, float, float]  # left, top, right, bottom (shares of the query)
    spread: float  # share of the banked picture under the inliers' convex hull

    def evidence(self) -> dict:
        return {"inliers": self.inliers,
                "transform": {"scale": round(float(self.scale), 3),
                              "rotation": round(float(self.rotation), 2),
                              "shift": [round(float(v), 3) for v in self.shift]},
                "area_covered": round(float(self.area), 3),
                "region": [round(float(v), 4) for v in self.region]}


@dataclass(frozen=True)
class Verification:
    """What verifying one candidate found, matched or not (the bench reads the near misses)."""

    inliers: int
    spread: float
    cells: int
    match: FeatureMatch | None
    area: float = 0.0


class _Tables:
    """Descriptors of many items with their ``_CHUNKS`` sorted chunk tables.

    Each table is stored on its own (table-major: ``keys[t]`` and ``order[t]`` contiguous), and
    ``starts[t]`` says where each bucket of keys sharing their top bits begins (about one bucket
    per descriptor, at most 2^16 per table): a lookup searches a few keys, not the table."""

    def __init__(self, owners: np.ndarray, desc: np.ndarray, pos: np.ndarray | None = None) -> None:
        self.owners = owners  # non-decreasing (``_tables``): the votes kernel relies on it
        self.desc = desc
        self.words = _words(desc)
        self.pos = pos if pos is not None else np.zeros(len(desc), np.int64)  # row in its item
        #: lists longer than this are skipped (flat-area descriptors every picture has)
        self.busy = max(BUSY_LIST, int(4 * len(desc) / _LISTS))
        chunks = np.ascontiguousarray(_chunks(desc).T)
        # postings as int32 (4 bytes per descriptor and table, not 8)
        order = np.argsort(chunks, axis=1, kind="stable").astype(np.int32)
        self.keys, self.order = _without_busy(np.take_along_axis(chunks, order, axis=1), order,
                                              self.busy)
        # a small delta table (rebuilt at every change) gets a small bucket table too
        bits = int(np.clip(math.ceil(math.log2(max(2, len(desc)))), 4, 16))
        self.shift = 24 - bits
        edges = np.arange((1 << bits) + 1, dtype=np.int64) << self.shift
        self.starts = np.stack([np.searchsorted(col, edges) for col in self.keys]).astype(np.int32)

    def votes(self, query: Features, stale: set[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The query's votes in these tables (``FeatureIndex.shortlist``): (query row, item,
        the voting point's row in its item); items in ``stale`` are skipped."""
        if not len(self.desc) or not len(query):
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
        skip = np.sort(np.fromiter(stale, np.int64, len(stale)))
        chunks, words = _chunks(query.desc), _words(query.desc)

        def count(start: int, stop: int):
            return _kernels().votes(self.keys, self.order, self.starts, self.shift, self.words,
                                    self.owners, skip, chunks[start:stop], words[start:stop],
                                    self.busy, NEAR, RATIO)

        m = len(query)
        if m >= 2 * SPLIT_VOTES and _VOTER.free.acquire(blocking=False):
            # each query point's votes are its own (the kernel's output is by query row, then
            # item): its first half counted on the voter's thread while this one counts the
            # second (the kernel holds no GIL), then put end to end, the same arrays; when the
            # voter is busy (another scan's half), all here, as before
            half = m // 2
            try:
                first = _VOTER.pool.submit(count, 0, half)
                second = count(half, m)
                first = first.result()
            finally:
                _VOTER.free.release()
            q = np.concatenate([first[0], second[0] + half])
            o, rows = (np.concatenate([a, b]) for a, b in zip(first[1:], second[1:]))
        else:
            q, o, rows = count(0, m)
        return q, o, self.pos[rows].astype(np.int64)


class _Voter:
    """The thread that counts half of a large query's votes (``_Tables.votes``), and whether
    it is free: a scan never queues behind another's half. A forked child gets its own."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rempart-votes")
        self.free = threading.Semaphore(1)


_VOTER = _Voter()
os.register_at_fork(after_in_child=lambda: globals().update(_VOTER=_Voter()))


def _without_busy(keys: np.ndarray, order: np.ndarray, busy: int) -> tuple[np.ndarray, np.ndarray]:
    """The sorted tables ``keys`` and their postings ``order`` without the lists longer than
    ``busy``, which a lookup skips anyway: each table shortened to the longest one left, its
    tail filled with the key ``_LISTS`` (past every bucket: never read). Lookups of a busy key
    then find nothing at once, the buckets stay short, and those postings (a third of them on
    the bench's bank) take no memory."""
    kept = []
    for col in keys:
        first = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
        runs = np.diff(np.r_[first, len(col)])
        kept.append(np.repeat(runs <= busy, runs))
    width = max((int(k.sum()) for k in kept), default=0)
    short_keys = np.full((len(keys), width), _LISTS, np.uint32)
    short_order = np.zeros((len(keys), width), np.int32)
    for t, k in enumerate(kept):
        n = int(k.sum())
        short_keys[t, :n], short_order[t, :n] = keys[t][k], order[t][k]
    return short_keys, short_order


def _words(desc: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(desc).view(np.uint64).reshape(len(desc), 4)


def _kernels():
    # numba is imported on first use, so importing rempart.matching stays fast
    from rempart.matching import _feature_kernels as k
    return k


def _tables(items: list[tuple[int, Features]]) -> _Tables:
    if not items:
        return _Tables(np.zeros(0, np.int64), np.zeros((0, 32), np.uint8))
    # by item id: an item's rows then follow its id's order, and rows sorted are grouped by item
    items = sorted(items, key=lambda pair: pair[0])
    owners = np.concatenate([np.full(len(f), i, np.int64) for i, f in items])
    pos = np.concatenate([np.arange(len(f), dtype=np.int16) for _, f in items])
    return _Tables(owners, np.ascontiguousarray(np.concatenate([f.desc for _, f in items])), pos)


class FeatureIndex:
    """Banked items' ORB features: shortlist by descriptor votes, then verify. Not thread-safe:
    the ``Matcher`` takes the shortlist (``candidates``) under its lock and verifies outside it."""

    def __init__(self) -> None:
        self._items: dict[int, Features] = {}
        self._main = _tables([])
        self._in_main: set[int] = set()
        self._stale: set[int] = set()  # in the main tables, removed or replaced since
        self._delta: dict[int, Features] = {}
        self._delta_tables: _Tables | None = None

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: int, features: Features) -> None:
        self.add_many([(item, features)])

    def add_many(self, pairs) -> None:
        """Add or replace items; the delta is merged (at most once) when it outgrew its share."""
        for item, features in pairs:
            self.remove([item])
            if len(features) == 0:
                continue
            self._items[item] = features
            self._delta[item] = features
            self._delta_tables = None
        pending = sum(len(f) for f in self._delta.values())
        if pending > max(5_000, DELTA_SHARE * len(self._main.desc)):
            self._merge()

    def remove(self, items) -> None:
        for item in items:
            self._items.pop(item, None)
            if self._delta.pop(item, None) is not None:
                self._delta_tables = None
            if item in self._in_main:
                self._stale.add(item)

    def _merge(self) -> None:
        self._main = _tables(list(self._items.items()))
        self._in_main = set(self._items)
        self._stale = set()
        self._delta = {}
        self._delta_tables = None

    def nbytes(self) -> int:
        """Memory held by the index (descriptors, positions, tables), in bytes."""
        held = sum(f.xy.nbytes + f.desc.nbytes for f in self._items.values())
        m = self._main
        return (held + m.owners.nbytes + m.pos.nbytes + m.order.nbytes + m.keys.nbytes
                + m.starts.nbytes)

    def shortlist(self, query: Features, size: int = SHORTLIST) -> list[tuple[int, int]]:
        """The ``(item, score)`` pairs worth verifying, best first.

        The ``PRESCREEN`` items with most votes (at least ``MIN_VOTES``) are screened with the
        index's own pairs: a similarity fitted by RANSAC to (query point, banked point) pairs
        found in the tables; the score is its inlier count (``_settled``: under the fit refined
        on RANSAC's inliers), and only items reaching ``MIN_SCREEN`` inliers in at least 4 cells
        of a 3 x 3 grid are kept (distinct pictures that merely share glyphs or corners stop
        here, before the costlier verification)."""
        if self._delta and self._delta_tables is None:
            self._delta_tables = _tables(list(self._delta.items()))
        votes = [tables.votes(query, stale)
                 for tables, stale in ((self._main, self._stale), (self._delta_tables, set()))
                 if tables is not None]
        if not votes:
            return []
        q, o, r = (np.concatenate(v) for v in zip(*votes))
        if not len(q):
            return []
        # A query point voting for many items (a glyph of a screenshot's text, a corner every
        # graphic has) says little about each: items are ranked by votes weighted 1 / (items
        # the point voted for), so a text-heavy bank cannot crowd a picture out of the screen.
        items, counts, score = _tally(o, 1.0 / np.bincount(q)[q])
        best = np.lexsort((items, -score))[:PRESCREEN]
        scored = []
        for k in best:
            # an item's votes are its pairs: fewer than MIN_SCREEN cannot screen in
            if counts[k] < max(MIN_VOTES, MIN_SCREEN):
                continue
            item = int(items[k])
            mine = o == item
            score = _prescreen(self._items[item].xy[r[mine]], query.xy[q[mine]], query)
            if score >= MIN_SCREEN:
                scored.append((score, item))
        scored.sort(reverse=True)
        return [(i, v) for v, i in scored[:size]]

    def candidates(self, probe: Features) -> list[tuple[int, Features]]:
        """The shortlisted items with their banked features, to be verified (``confirm``) by
        the caller: features are immutable, so verification needs no lock on the index."""
        return [(item, self._items[item]) for item, _ in self.shortlist(probe)]

    def match(self, query: Features, probe: Features | None = None) -> list[FeatureMatch]:
        """Every shortlisted item that passes verification; ``probe`` (a subset of ``query``'s
        points, by default all) is what the shortlist looks up."""
        found = (confirm(item, banked, query)
                 for item, banked in self.candidates(probe if probe is not None else query))
        return [m for m in found if m is not None]


def confirm(item: int, banked: Features, query: Features) -> FeatureMatch | None:
    """``verify``'s match for ``item``, or ``None``: without fitting anything when fewer than
    ``MIN_INLIERS`` pairs pass the ratio test (no fit could gather enough; ``verify`` fits them
    all the same, for the bench's near misses)."""
    found = verify(banked, query, MIN_INLIERS).match
    return None if found is None else FeatureMatch(item, *_fields(found))


#: ``_tally`` counts in place when the largest item id is at most this many times the votes
DENSE_TALLY = 16


def _tally(o: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct items of the votes ``o`` (ascending), their vote counts and the sum of
    their votes' ``weight``: ``np.unique`` then a weighted count, the same numbers (each item's
    weights added in the votes' order either way), counted in place (``np.bincount`` over the
    item ids) when the ids are few enough for it, not by sorting every vote (a distinct picture
    casts some 10,000 votes: the sort was a tenth of the shortlist's time)."""
    if len(o) and int(o.min()) >= 0 and int(o.max()) < DENSE_TALLY * len(o):
        counts = np.bincount(o)
        items = np.flatnonzero(counts)
        return items, counts[items], np.bincount(o, weights=weight)[items]
    items, where, counts = np.unique(o, return_inverse=True, return_counts=True)
    return items, counts, np.bincount(where, weights=weight, minlength=len(items))


def _prescreen(src: np.ndarray, dst: np.ndarray, query: Features) -> int:
    """Inliers of a quick RANSAC fit on the index's own pairs, in two rounds as ``verify``."""
    score, left = _screen(src, dst, query)
    # the second round only when the first fit was a cluster (enough inliers, bunched): when
    # the best fit RANSAC found has fewer than MIN_SCREEN, what it left out has no better one
    if score or left is None or left.sum() < MIN_SCREEN:
        return score
    return _screen(src[left], dst[left], query)[0]


def _screen(src: np.ndarray, dst: np.ndarray, query: Features) -> tuple[int, np.ndarray | None]:
    """The inliers of one fit (``_settled``) when spread over 4 cells (else 0), and the pairs
    it left out (``None`` when the fit had under ``MIN_SCREEN``: no second round would find
    more)."""
    if len(src) < 4:
        return 0, None
    tolerance = _tolerance(query)
    m, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                          ransacReprojThreshold=tolerance, maxIters=300)
    if m is None or mask is None:
        return 0, None
    inl = _settled(m, mask.ravel().astype(bool), src, dst, tolerance)
    if inl.sum() < MIN_SCREEN:
        return 0, None
    # Inliers bunched in fewer than 4 cells of the banked picture's 3 x 3 grid (a logo, a line
    # of text) are not worth a verification.
    lo, hi = src.min(axis=0), src.max(axis=0)
    cells = np.clip(((src[inl] - lo) * 3 // np.maximum(hi - lo, 1e-6)).astype(int), 0, 2)
    return (int(inl.sum()) if len({(a, b) for a, b in cells.tolist()}) >= 4 else 0), ~inl


#: refits ``_settled`` makes at most (it stops as soon as one gathers no more pairs)
SETTLE_ROUNDS = 4


def _settled(m: np.ndarray, inl: np.ndarray, src: np.ndarray, dst: np.ndarray,
             tolerance: float) -> np.ndarray:
    """The inliers of RANSAC's fit once settled: RANSAC's ``inl`` are those of the minimal
    sample's transform (two pairs), ``m`` the transform refined on them; the pairs within
    ``tolerance`` of ``m`` are counted again, the transform refitted on them (least squares),
    and so on while the count grows. When most pairs sit on one spot (a bright spot's corners,
    found many times), RANSAC mostly samples two pairs of that spot: their transform is good
    there and off by more than the tolerance across the picture, and with most pairs already
    agreeing OpenCV stops after a few samples. Its inliers were then the spot alone, bunched in
    3 cells, though the transform refined on them held the picture's far pairs too (the bench's
    tile-8 under a dark caption bar: 63 of its 89 pairs in 3 cells, 68 in 6 once settled; in a
    dark screenshot, 78 of 98 in 3 cells, 80 in 4)."""
    for _ in range(SETTLE_ROUNDS):
        more = _within(m, src, dst, tolerance)
        if more.sum() <= inl.sum():
            break
        inl = more
        m = _similarity(src[inl], dst[inl])
    return inl


def _within(m: np.ndarray, src: np.ndarray, dst: np.ndarray, tolerance: float) -> np.ndarray:
    """The pairs that ``m`` maps within ``tolerance`` pixels of their query point."""
    return np.hypot(*(src @ m[:, :2].T + m[:, 2] - dst).T) <= tolerance


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The similarity (rotation, uniform scale, shift) mapping ``src`` nearest to ``dst`` in
    least squares, as a 2 x 3 matrix [[a, -b, x], [b, a, y]] (closed form: about the points'
    means, a and b are the dot and cross products of the two point sets over ``src``'s norm)."""
    s0, d0 = src.mean(axis=0, dtype=np.float64), dst.mean(axis=0, dtype=np.float64)
    s, d = src - s0, dst - d0
    norm = max(float((s * s).sum()), 1e-12)
    a = float((s * d).sum()) / norm
    b = float((s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum()) / norm
    return np.array([[a, -b, d0[0] - a * s0[0] + b * s0[1]],
                     [b, a, d0[1] - b * s0[0] - a * s0[1]]])


def _fields(m: FeatureMatch) -> tuple:
    return (m.inliers, m.scale, m.rotation, m.shift, m.area, m.region, m.spread)


def verify(banked: Features, query: Features, pairs: int = 4) -> Verification:
    """Fit a similarity from ``banked`` to ``query`` and apply the rules of the module doc;
    nothing is fitted when fewer than ``pairs`` (at least 4) pairs pass the ratio test."""
    if len(banked) < 4 or len(query) < 4:
        return Verification(0, 0.0, 0, None)
    rows, good = pairs_of(banked, query)
    if len(good) < max(4, pairs):
        return Verification(len(good), 0.0, 0, None)
    src = banked.xy[rows]
    dst = query.xy[good]
    # Two rounds: a tight cluster of repeated corners (one corner found at several pyramid
    # levels, a texture) can gather more inliers than the true, spread-out fit; the second
    # round fits what the first left out. Both face the same rules. The second round only when the first fit gathered enough inliers to match but failed the
    # rules (a cluster): when RANSAC's best fit has fewer than MIN_INLIERS, no fit on what it
    # left out has more (it would have been the best), and a distinct picture stops here.
    first, inl = _fit(src, dst, banked, query)
    if (first.match is not None or inl is None or first.inliers < MIN_INLIERS
            or (~inl).sum() < MIN_INLIERS):
        return first
    second, _ = _fit(src[~inl], dst[~inl], banked, query)
    if second.match is not None:
        return second
    return max((first, second), key=lambda v: (_spread_ok(v), v.inliers))


def pairs_of(banked: Features, query: Features) -> tuple[np.ndarray, np.ndarray]:
    """The correspondences verification fits: (banked rows, query rows) of the query points
    whose nearest banked point passes the ratio test (``RATIO``, ``NEAR``), each banked point
    paired with one query point (``_one_to_one``)."""
    nearest, d1, d2 = _kernels().nearest_two(_words(query.desc), _words(banked.desc))
    good = _one_to_one(np.flatnonzero((d1 < RATIO * d2) & (d1 <= NEAR)), nearest, d1)
    return nearest[good], good


def _tolerance(query: Features) -> float:
    """RANSAC's reprojection tolerance, in the query's pixels (the prescreen's and
    verification's)."""
    return max(3.0, 0.012 * max(query.width, query.height))


def _one_to_one(good: np.ndarray, nearest: np.ndarray, d1: np.ndarray) -> np.ndarray:
    """The query points of ``good`` (ascending) that are their banked point's nearest query
    point: each banked point pairs with one query point. A corner found at several pyramid
    levels of the query, or by both of its passes, is one correspondence, not several (ten
    query points at one corner of a distinct graphic all paired with one banked corner and,
    with two other spots, made 21 inliers spread over a triangle)."""
    if not len(good):
        return good
    order = good[np.lexsort((good, d1[good]))]  # nearest first, then the query's order
    _, first = np.unique(nearest[order], return_index=True)
    return np.sort(order[first])


def _spread_ok(v: Verification) -> bool:
    return v.spread >= MIN_SPREAD and v.cells >= MIN_CELLS and v.area >= MIN_AREA


def _fit(src: np.ndarray, dst: np.ndarray, banked: Features,
         query: Features) -> tuple[Verification, np.ndarray | None]:
    """One RANSAC fit of a similarity from ``src`` (banked) to ``dst`` (query) and the rules."""
    tolerance = _tolerance(query)
    m, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                          ransacReprojThreshold=tolerance, maxIters=2000,
                                          confidence=0.995)
    if m is None or mask is None:
        return Verification(0, 0.0, 0, None), None
    inl = mask.ravel().astype(bool)
    n = int(inl.sum())
    scale = math.hypot(m[0, 0], m[1, 0])
    if n < 3 or not SCALES[0] <= scale <= SCALES[1]:
        return Verification(n, 0.0, 0, None), inl
    seen = _seen(m, banked, query)
    area = float(cv2.contourArea(seen)) / (banked.width * banked.height) if len(seen) > 2 else 0.0
    spread, cells = _spread(src[inl], seen)
    if n < MIN_INLIERS or spread < MIN_SPREAD or cells < MIN_CELLS or area < MIN_AREA:
        return Verification(n, spread, cells, None, area), inl
    rotation = -math.degrees(math.atan2(m[1, 0], m[0, 0]))
    found = FeatureMatch(-1, n, scale, rotation, (m[0, 2] / query.width, m[1, 2] / query.height),
                         min(1.0, area), _region(m, banked, query), spread)
    return Verification(n, spread, cells, found, area), inl


def _seen(m: np.ndarray, banked: Features, query: Features) -> np.ndarray:
    """The part of the banked picture the query shows (a convex polygon in banked pixels)."""
    back = cv2.transform(_corners(query.width, query.height)[None],
                         cv2.invertAffineTransform(m))[0]
    _, polygon = cv2.intersectConvexConvex(_corners(banked.width, banked.height), back)
    return np.zeros((0, 2), np.float32) if polygon is None else polygon.reshape(-1, 2)


def _spread(points: np.ndarray, seen: np.ndarray) -> tuple[float, int]:
    """Share of the seen part under the inliers' hull; cells of its 3 x 3 grid holding inliers."""
    if len(points) < 3 or len(seen) < 3:
        return 0.0, 0
    hull = cv2.convexHull(points.astype(np.float32))
    share = float(cv2.contourArea(hull)) / max(1e-6, float(cv2.contourArea(seen)))
    x0, y0 = seen.min(axis=0)
    x1, y1 = seen.max(axis=0)
    gx = np.clip(((points[:, 0] - x0) * 3 // max(1e-6, x1 - x0)).astype(int), 0, 2)
    gy = np.clip(((points[:, 1] - y0) * 3 // max(1e-6, y1 - y0)).astype(int), 0, 2)
    return min(1.0, share), len(set(zip(gx.tolist(), gy.tolist())))


def _corners(w: int, h: int) -> np.ndarray:
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)


def _region(m: np.ndarray, banked: Features, query: Features):
    """Where the banked picture lies in the query: left, top, right, bottom as shares."""
    on_query = cv2.transform(_corners(banked.width, banked.height)[None], m)[0]
    x0, y0 = np.clip(on_query.min(axis=0), 0, None)
    x1, y1 = on_query.max(axis=0)
    return (float(x0) / query.width, float(y0) / query.height,
            min(1.0, float(x1) / query.width), min(1.0, float(y1) / query.height))
