"""Stage 2 signals: binary local features (ORB, OpenCV) of a picture, and their stored form.

``extract(work)`` finds up to ``BANK_POINTS`` ORB keypoints on the working copy
(``rempart.signals.normalise.working_copy``: longer side 512) and returns ``Features``: the
working copy's size, each point's position and its 256-bit descriptor (ORB looks at the picture
scaled to ``FEATURE_SIDE``, enlarging small ones). ``extract_region(work, box)``
also finds up to ``REGION_POINTS`` points inside a content box (the picture inside a screenshot),
enlarged to the working size first so a small picture still yields points; their positions are
mapped back to the whole working copy. A box holding at least ``REUSE_SHARE`` of the picture
(``covers_most``) takes the whole picture's points inside it instead (``inside``): one ORB pass.

Stored form (``Features.to_bytes``; explicit, versioned, never pickled), little-endian:

    magic     4 bytes  b"ORB1"
    width     uint16   of the working copy the positions refer to
    height    uint16
    count     uint16   n points, n <= MAX_POINTS
    xy        n x 2 uint16   position x 64 (1/64 pixel)
    desc      n x 32 bytes   ORB descriptors

A fingerprint keeps ``QUERY_POINTS`` (800) points, chosen spread over a 4 x 4 grid in rounds of
``BANK_POINTS`` (``_spread_rows``) and listed by pyramid level, finest first (the order OpenCV
computes descriptors in: a set's first points are the finest levels' chosen points, not the
first round). ``from_bytes`` rejects a
wrong magic, a count over ``MAX_POINTS`` or a length that does not match.

What a bank keeps (``bank_set``): the first ``BANK_WHOLE`` (400) of the picture's points, and up to
``BANK_CENTRE`` (155) points of its centre (``centre``: ``CENTRE_SHARE`` taken off each side, what
a crop of up to 20% per side keeps), found on that centre enlarged to the working size, as a
query finds them on a crop, a screenshot's picture or a caption's picture enlarged to the working
size: ORB's pyramid only looks at the picture and smaller copies of it, so the fine detail an
enlarged crop shows had no banked point. 10 + 36 x 555 = 19,990 bytes at most (the issue's cap
is 20 KB per item). Only banking pays for the centre's ORB pass (``fingerprint(bank=True)``).
The picture's points and its centre are those of its content box (``bank_box``: a frame never
carries a match), unless that box holds under ``BANK_BOX_SHARE`` of it.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass, field
from operator import attrgetter

import cv2
import numpy as np

from rempart.errors import InvalidInput

MAGIC = b"ORB1"
BANK_POINTS = 500
#: a query keeps more: a watermark or a caption's letters may take many of the strongest
QUERY_POINTS = 800
REGION_POINTS = 500
#: what a bank keeps: the picture's first points and its centre's (``bank_set``)
BANK_WHOLE = 400
BANK_CENTRE = 155
#: the centre leaves out this share of the picture's width and height on each side
CENTRE_SHARE = 0.2
#: a bank takes a content box as its picture's frame only when it holds at least this share
BANK_BOX_SHARE = 0.3
#: ORB's pyramid: each level shrinks the last by this factor
SCALE_STEP = 1.2
#: a content box holding at least this share of the picture reuses the whole picture's points
#: (``covers_most``): enlarged to the working size, it would move by half a pyramid step at most
REUSE_SHARE = 1 / SCALE_STEP
MAX_POINTS = 2000
#: a query's ORB pass (``crowd=True``) detects this many candidates and chooses first among
#: the ``CROWD_CAP`` strongest of each cell of a ``CROWD_GRID`` x ``CROWD_GRID`` grid (``_orb_passes``)
QUERY_DETECT = 5000
CROWD_GRID, CROWD_CAP = 16, 4
#: a query's plain pass is crowded (``crowded``) when that cap would drop at least this share of
#: its points: 0.82-0.87 for the bench's watermarks and dark captions over the dim tiles their
#: text took, 0.74 or under for nine distinct uploads in ten (``bench/pdq_misses.py``)
CROWDED_SHARE = 0.8
#: the longer side of the picture ORB looks at (positions are mapped back to the working copy)
FEATURE_SIDE = 512
_HEADER = struct.Struct("<4sHHH")
#: ORB ignores this many pixels at each edge (its patch); a smaller picture yields nothing
_EDGE = 31
#: a box in working-copy pixels: top, bottom, left, right
Box = tuple[int, int, int, int]


@dataclass(frozen=True, eq=False)
class Features:
    width: int
    height: int
    xy: np.ndarray  # n x 2 float32, working-copy pixels
    desc: np.ndarray  # n x 32 uint8
    #: a query pass that made the crowd-proof choice (``crowded``): its plain pass's points,
    #: which the caller takes instead when the picture's other pass stayed plain (``plain_of``)
    plain: Features | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.xy)

    def to_bytes(self) -> bytes:
        n = len(self)
        if n > MAX_POINTS:
            raise InvalidInput(f"at most {MAX_POINTS} feature points, got {n}")
        xy = np.clip(np.round(self.xy * 64), 0, 65535).astype("<u2")
        return (_HEADER.pack(MAGIC, self.width, self.height, n) + xy.tobytes()
                + np.ascontiguousarray(self.desc, dtype=np.uint8).tobytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Features:
        if len(data) < _HEADER.size:
            raise InvalidInput("feature blob too short")
        magic, width, height, n = _HEADER.unpack_from(data)
        if magic != MAGIC or n > MAX_POINTS or len(data) != _HEADER.size + 36 * n:
            raise InvalidInput("not an ORB1 feature blob")
        start = _HEADER.size
        xy = np.frombuffer(data, "<u2", 2 * n, start).reshape(n, 2).astype(np.float32) / 64
        desc = np.frombuffer(data, np.uint8, 32 * n, start + 4 * n).reshape(n, 32)
        return cls(width, height, xy, desc)

    def head(self, n: int) -> Features:
        """The first ``n`` points (``extract`` lists them by pyramid level, finest first)."""
        return Features(self.width, self.height, self.xy[:n], self.desc[:n])

    def joined(self, other: Features | None) -> Features:
        """These points and ``other``'s (same working copy), as one set."""
        if other is None or len(other) == 0:
            return self
        return Features(self.width, self.height, np.concatenate([self.xy, other.xy]),
                        np.concatenate([self.desc, other.desc]))


def extract(work: np.ndarray, points: int = QUERY_POINTS, crowd: bool = False) -> Features:
    """ORB features of the working copy ``work`` (H x W x 3 uint8), found on it scaled so its
    longer side is ``FEATURE_SIDE`` (a small picture is enlarged: ORB's patches need room);
    positions are in ``work``'s pixels. ``crowd``: a query's pass (``_orb_passes``)."""
    grey = _grey(work)
    h, w = grey.shape
    scale = FEATURE_SIDE / max(h, w)
    if abs(scale - 1) > 0.05:
        grey = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))),
                          interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA)
    else:
        scale = 1.0
    (xy, desc), plain = _orb_passes(grey, points, crowd)
    return Features(w, h, (xy / scale).astype(np.float32), desc,
                    None if plain is None else Features(w, h, (plain[0] / scale).astype(
                        np.float32), plain[1]))


def extract_region(work: np.ndarray, box: tuple[int, int, int, int],
                   points: int = REGION_POINTS, crowd: bool = False) -> Features | None:
    """ORB features of the ``(top, bottom, left, right)`` part of ``work``, enlarged to the
    working size, with positions in ``work``'s pixels; ``None`` for a box too small.
    ``crowd``: a query's pass (``_orb_passes``)."""
    top, bottom, left, right = box
    grey = _grey(work)[top:bottom, left:right]
    bh, bw = grey.shape
    if min(bh, bw) < 16:
        return None
    scale = FEATURE_SIDE / max(bh, bw)
    big = cv2.resize(grey, (round(bw * scale), round(bh * scale)), interpolation=cv2.INTER_LINEAR)
    (xy, desc), plain = _orb_passes(big, points, crowd)
    if not len(xy):
        return None
    at = np.array([left, top], np.float32)
    h, w = work.shape[:2]
    return Features(w, h, (xy / scale + at).astype(np.float32), desc,
                    None if plain is None else Features(w, h, (plain[0] / scale + at).astype(
                        np.float32), plain[1]))


def plain_of(whole: Features, region: Features | None) -> tuple[Features, Features | None]:
    """A query's two passes (the whole picture's and its content box's), both crowd-proof or
    both plain: when one made the crowd-proof choice and the other did not, both plain. A
    screenshot's text can crowd the whole picture's points while the picture inside it does
    not: a dark tile whose banked points sit on one bright spot kept its light 70% screenshot
    (bench/pdq_misses.py: 0.92 to 1.00) only with its plain points in both passes."""
    if region is None or (whole.plain is None) == (region.plain is None):
        return whole, region
    return (whole if whole.plain is None else whole.plain,
            region if region.plain is None else region.plain)


def covers_most(box: tuple[int, int, int, int], shape: tuple) -> bool:
    """Whether a content box holds at least ``REUSE_SHARE`` of the working copy: its points are
    then the whole picture's inside it (``inside``), not a second ORB pass (enlarging it to the
    working size would move its scale by at most sqrt(1.2), half of one ORB pyramid step: its
    detail is found on the whole picture's nearest level). A caption bar's picture (85% of the
    canvas, typically) reuses them; a screenshot's (50-80%) gets its own pass: from 70% of the
    canvas the bench's screenshots lost recall (1.00 to 0.85) without it."""
    top, bottom, left, right = box
    return (bottom - top) * (right - left) >= REUSE_SHARE * shape[0] * shape[1]


def inside(features: Features, box: tuple[int, int, int, int]) -> tuple[Features, Features]:
    """``features``' points inside ``box`` (top, bottom, left, right), at least ORB's patch
    margin from its edges (as a second pass on the box would keep them), and the others; each
    in the same order."""
    top, bottom, left, right = box
    margin = _EDGE * max(features.width, features.height) / FEATURE_SIDE
    x, y = features.xy[:, 0], features.xy[:, 1]
    keep = ((x >= left + margin) & (x < right - margin) & (y >= top + margin)
            & (y < bottom - margin))
    return (Features(features.width, features.height, features.xy[keep], features.desc[keep]),
            Features(features.width, features.height, features.xy[~keep], features.desc[~keep]))


def centre(box: Box, share: float = CENTRE_SHARE) -> Box:
    """The centre of ``box`` (top, bottom, left, right): ``share`` of its height and width taken
    off each side (a crop of up to ``share`` per side still shows all of it)."""
    top, bottom, left, right = box
    if not 0 <= share < 0.5 or bottom <= top or right <= left:
        raise InvalidInput(f"no centre of the box {box} at {share}")
    dy, dx = int((bottom - top) * share), int((right - left) * share)
    return top + dy, bottom - dy, left + dx, right - dx


def bank_box(box: Box | None, shape: tuple) -> Box | None:
    """The content box a bank takes as its picture (inside a frame: a screenshot's, a meme
    template's), or ``None`` for the whole picture: a box holding under ``BANK_BOX_SHARE`` of it
    is not taken. A frame taking most of a confirmed picture is less likely than a box that is
    only a part of the picture itself (on a dark or low-contrast picture, whose "ink" is its
    brightest or most textured part: the rest looks like a canvas), and banking that part alone
    left the rest of the picture unprotected. Queries still look inside any box they find."""
    if box is None:
        return None
    top, bottom, left, right = box
    return box if (bottom - top) * (right - left) >= BANK_BOX_SHARE * shape[0] * shape[1] else None


def bank_set(kept: Features, middle: Features | None) -> Features:
    """What a bank keeps of a picture (module doc): the first ``BANK_WHOLE`` of ``kept`` (its
    points, finest pyramid levels first: ``extract``'s order) and the first ``BANK_CENTRE`` of
    ``middle`` (its centre's, found on the centre enlarged:
    ``extract_region(work, centre(box), BANK_CENTRE)``); ``kept``'s
    first ``BANK_WHOLE + BANK_CENTRE`` when there is no centre set."""
    if middle is None or len(middle) == 0:
        return kept.head(BANK_WHOLE + BANK_CENTRE)
    if (middle.width, middle.height) != (kept.width, kept.height):
        raise InvalidInput("a centre's points must refer to the same working copy")
    return kept.head(BANK_WHOLE).joined(middle.head(BANK_CENTRE))


def _grey(work: np.ndarray) -> np.ndarray:
    if not isinstance(work, np.ndarray) or work.ndim != 3 or work.shape[2] != 3 or work.dtype != np.uint8:
        raise InvalidInput("features expect an H x W x 3 uint8 array")
    return cv2.cvtColor(np.ascontiguousarray(work), cv2.COLOR_RGB2GRAY)


def _orb_passes(grey: np.ndarray, points: int, crowd: bool = False):
    """The points chosen (positions, descriptors) and, when the crowd-proof choice made them,
    the plain pass's (else ``None``). Up to ``points`` ORB points spread over the picture (``_spread_rows``), in pyramid level
    order (coarser levels after finer ones; within a level, in the order chosen).

    One pass: detection and descriptors together (one image pyramid, where detecting then
    computing the chosen points built it twice), descriptors of the points left out dropped.
    The points, descriptors and order are those of detecting, choosing, then computing (OpenCV
    returns computed points grouped by level: that order is reproduced), about a quarter less
    work.

    ``crowd`` (a query's passes, not a bank's): ORB keeps only the strongest corners of each
    pyramid level, and an overlay's text (a watermark's letters) over a dim picture then
    takes them all: the picture's own, weaker corners are dropped before any choice. The
    plain pass runs first; only when its points crowd (``crowded``) does the pass detect
    ``QUERY_DETECT`` candidates, choose first among those left when each small cell keeps at
    most ``CROWD_CAP`` (``_uncrowded``), then among the others when that is not enough, and
    compute descriptors for the chosen points only. That second pass costs about 5 ms of CPU
    more (detecting 5,000, a second pyramid): paid on every query, it took the upload p50
    from 3.8x PDQ's path to 4.0-4.6x; and the plain points of a picture that does not
    crowd are the bank's own (a dark tile whose banked points sit on one bright spot kept its light
    70% screenshot only with them)."""
    empty = np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    if min(grey.shape) <= 2 * _EDGE + 4:
        return empty, None
    plain = _orb_detector(3 * points // 2)
    kps, desc = plain.detectAndCompute(grey, None)
    read = _Points.of(kps)
    if crowd and crowded(read, grey.shape):
        orb = _orb_detector(QUERY_DETECT)
        found = orb.detect(grey, None)
        candidates = _Points.of(found)
        kept = _uncrowded(candidates, grey.shape)
        rows = kept[_spread_rows(candidates[kept], grey.shape, points)]
        if len(rows) < points:
            # a picture with few corners (a dark one with a bright spot): the spot's crowded
            # points still fill what the cells left (the bank has its points there too)
            rest = np.setdiff1d(np.arange(len(found)), kept)
            more = _spread_rows(candidates[rest], grey.shape, points - len(rows))
            rows = np.concatenate([rows, rest[more]])
        rows = rows[np.argsort(candidates.level[rows], kind="stable")]
        chosen, chosen_desc = orb.compute(grey, [found[i] for i in rows])
        if chosen_desc is None or not chosen:
            return empty, None
        return ((cv2.KeyPoint_convert(chosen).reshape(-1, 2).astype(np.float32), chosen_desc),
                _chosen(read, desc, grey.shape, points))
    if desc is None or not kps:
        return empty, None
    return _chosen(read, desc, grey.shape, points), None


@dataclass(frozen=True, eq=False)
class _Points:
    """OpenCV keypoints' positions, responses and pyramid levels, read once (reading a
    keypoint's field is a Python call: the plain pass's 1,200 were read five times, the crowd
    check's and the choice's, about 0.2 ms a pass)."""

    xy: np.ndarray  # n x 2 float32
    response: np.ndarray  # float32
    level: np.ndarray  # int16 (``KeyPoint.octave``: 0..7; numpy sorts 16-bit keys by radix)

    @classmethod
    def of(cls, kps) -> _Points:
        if isinstance(kps, _Points):
            return kps
        n = len(kps)
        xy = (cv2.KeyPoint_convert(kps).reshape(-1, 2) if n else np.zeros((0, 2), np.float32))
        return cls(xy, np.fromiter(map(attrgetter("response"), kps), np.float32, n),
                   np.fromiter(map(attrgetter("octave"), kps), np.int16, n))

    @functools.cached_property
    def strongest(self) -> np.ndarray:
        """Rows by response, strongest first (ties in row order): sorted once, for the crowd
        check and the choice both."""
        return np.argsort(-self.response, kind="stable")

    def __len__(self) -> int:
        return len(self.xy)

    def __getitem__(self, rows: np.ndarray) -> _Points:
        return _Points(self.xy[rows], self.response[rows], self.level[rows])


def _chosen(kps, desc, shape: tuple[int, int], points: int) -> tuple[np.ndarray, np.ndarray]:
    """A plain pass's points chosen (``_spread_rows``), in pyramid level order."""
    read = _Points.of(kps)
    rows = _spread_rows(read, shape, points)  # its order: best first, in rounds
    rows = rows[np.argsort(read.level[rows], kind="stable")]
    return read.xy.astype(np.float32)[rows], desc[rows]


def _orb_detector(n: int):
    return cv2.ORB_create(nfeatures=n, scaleFactor=SCALE_STEP, nlevels=8, edgeThreshold=_EDGE,
                          fastThreshold=7)


def crowded(kps, shape: tuple[int, int]) -> bool:
    """Whether ``kps`` (a plain ORB pass's points on a picture of ``shape``) crowd into few
    cells: at least ``CROWDED_SHARE`` of them are beyond their cell's ``CROWD_CAP`` strongest
    (``_uncrowded``): a watermark's letters or a caption's took the strongest corners."""
    if not len(kps):
        return False
    return len(kps) - len(_uncrowded(kps, shape)) >= CROWDED_SHARE * len(kps)


def _uncrowded(kps, shape: tuple[int, int]) -> np.ndarray:
    """Rows of the keypoints left when each cell of a ``CROWD_GRID`` x ``CROWD_GRID`` grid
    keeps its ``CROWD_CAP`` strongest (ascending rows: the detector's order)."""
    if not len(kps):
        return np.zeros(0, np.int64)
    read = _Points.of(kps)
    order = read.strongest
    cells = _cells(read.xy, shape, CROWD_GRID)
    return np.sort(order[_cell_rank(cells[order], CROWD_GRID ** 2) < CROWD_CAP])


def _cells(xy: np.ndarray, shape: tuple[int, int], grid: int) -> np.ndarray:
    """Each point's cell of a ``grid`` x ``grid`` grid over a picture of ``shape``, row by row
    (int16: numpy sorts 16-bit keys by radix, several times faster than 64-bit ones)."""
    h, w = shape
    return (np.minimum(grid - 1, xy[:, 1] * grid // h) * grid
            + np.minimum(grid - 1, xy[:, 0] * grid // w)).astype(np.int16)


def _cell_rank(cells: np.ndarray, count: int) -> np.ndarray:
    """Each point's rank among the points of its cell (``cells``: the points' cells, strongest
    point first, each below ``count``): its place in a stable sort by cell, less the place
    where its cell's run starts there (the points of the cells before it)."""
    by_cell = np.argsort(cells, kind="stable")
    per_cell = np.bincount(cells, minlength=count)
    first = np.cumsum(per_cell) - per_cell
    rank = np.empty(len(cells), np.int64)
    rank[by_cell] = np.arange(len(cells)) - first[cells[by_cell]]
    return rank


def _spread_rows(kps, shape: tuple[int, int], points: int) -> np.ndarray:
    """Rows of the keypoints chosen in rounds of ``BANK_POINTS``: in each round at most an
    equal share per cell of a 4 x 4 grid (strongest first), then the strongest left over. ORB
    alone crowds its points into the most textured corner, and a crop or a caption can then
    take them all."""
    if not len(kps):
        return np.zeros(0, np.int64)
    read = _Points.of(kps)
    cell = _cells(read.xy, shape, 4)
    left = read.strongest  # not yet taken, strongest first
    taken: list[np.ndarray] = []
    count, total = 0, min(points, len(kps))
    while count < total:
        need = min(total, count + BANK_POINTS) - count
        quota = max(1, need // 16)
        # each point's rank among the points left in its cell (strongest first): the first
        # ``quota`` of each cell, in strength order, then the strongest left over
        pick = np.flatnonzero(_cell_rank(cell[left], 16) < quota)[:need]
        rest = np.ones(len(left), bool)
        rest[pick] = False
        more = np.flatnonzero(rest)[:need - len(pick)]
        rest[more] = False
        taken += [left[pick], left[more]]
        count += len(pick) + len(more)
        left = left[rest]
    return np.concatenate(taken) if taken else np.zeros(0, np.int64)
