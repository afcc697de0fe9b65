"""Stage 1 query normalisers: undo the cheap edits that move a picture's PDQ hash (pure, no I/O).

Each normaliser looks at a *working copy* (the picture shrunk so its longer side is at most
``WORK_SIDE`` pixels: PDQ averages down to 64 x 64 anyway) and returns the part of it to hash
again, or ``None`` when it finds nothing to undo:

    peel       border peeling that tolerates text in the bars: a caption bar above or below a
               picture, a letterbox with a watermark or a title in it. A side's bar is the run of
               lines from the edge that are each either uniform in the edge colour (>= 97% of
               pixels), mostly so (>= ``text_floor``: a line through the caption's text) or a
               line of strokes (>= ``stroke_floor`` in the edge colour, the rest in short runs:
               a line through dense text, light letters on a dark bar); it ends at the last
               *uniform* line before the first two lines in a row that are none of these, so a
               picture's own textured edge is never eaten; and the picture must begin there: a
               band of flat lines (at least ``min_peel`` of the side) followed by more than
               ``edge_lines`` lines mostly but not wholly in its colour before the picture (a
               shape's tip growing into a graphic's flat background, a thin line crossing it)
               is no bar, unless the side read at ``flat_tolerance`` ends sharply (a dark
               picture next to a dark bar). A uniform line must also be flat
               (within ``flat_tolerance`` of its own median colour), and a side that stays
               bar-coloured to ``max_side`` is read again at ``flat_tolerance``: a dark picture
               under a dark bar is close to it in colour, but textured where the bar is flat.
    box        content-box detection: the picture inside a screenshot, under a caption, inside a
               meme template. The canvas colour is the median of its outer ring; pixels away from
               it are "ink"; dense ink (>= 60% of a ``DENSE_WINDOW`` neighbourhood) is opened so
               that text strokes vanish and the largest dense component is the picture. Its box
               must hold between ``MIN_BOX`` and ``MAX_BOX`` of the canvas.
    straight   straightening of small rotations (``MIN_ANGLE``..``MAX_ANGLE`` degrees), expanded
               (the canvas grew; corners filled with a flat colour: the picture is the minimum-area
               rectangle of the ink, rotated back and cut out exactly) or same-size (the corners
               hold four flat triangles whose legs give the angle: rotated back, the corners lost
               are filled from their neighbourhood, the frame cut back to the original size).

``normalised(work)`` runs all three and returns ``[(name, picture)]``, at most one each, in that
order; the caller hashes each with PDQ (``rempart.signals.fingerprint``): about two extra hashes of
a small picture per query. Boxes are in working-copy pixels (top, bottom, left, right).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

from rempart.errors import InvalidInput
from rempart.signals.trim import _kernels

#: the working copy's longer side, in pixels
WORK_SIDE = 512
#: the smallest and largest share of the canvas a content box may cover
MIN_BOX, MAX_BOX = 0.15, 0.92
#: the least share of its box the picture's component fills
BOX_FILLED = 0.6
#: the neighbourhood (pixels of the working copy) over which ink density is measured
DENSE_WINDOW = 9
#: rotations undone, in degrees (smaller ones move PDQ by a few bits only)
MIN_ANGLE, MAX_ANGLE = 0.7, 12.0


@dataclass(frozen=True)
class PeelRule:
    """Parameters of ``peel`` (see the module docstring)."""

    tolerance: int = 24
    uniform: float = 0.97
    text_floor: float = 0.55
    #: a line with less of the bar colour is still text when what is not bar colour comes in
    #: short runs (strokes: at most ``stroke_run`` of the line's length each, at least 3 runs)
    stroke_floor: float = 0.3
    stroke_run: float = 0.1
    #: a side bar-coloured to ``max_side`` is read again at this tolerance: a picture as dark
    #: as its dark bar is within ``tolerance`` of it, but textured, where the bar is flat
    flat_tolerance: int = 8
    max_side: float = 0.40
    min_peel: float = 0.02
    blur_lines: int = 2
    #: lines mostly (not wholly) bar-coloured allowed between a bar's last flat line and the
    #: picture: a caption's or a screenshot's has 0-4 (JPEG's blur), a graphic's flat background
    #: before a shape 10-190 (bench/pdq_misses.py's pictures)
    edge_lines: int = 6


DEFAULT_PEEL = PeelRule()


def working_copy(rgb: np.ndarray, side: int = WORK_SIDE) -> np.ndarray:
    """``rgb`` shrunk (area averaging) so that its longer side is at most ``side`` pixels."""
    _check(rgb)
    h, w = rgb.shape[:2]
    scale = side / max(h, w)
    if scale >= 1:
        return np.ascontiguousarray(rgb)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(np.ascontiguousarray(rgb), size, interpolation=cv2.INTER_AREA)


def normalised(work: np.ndarray, boxes: tuple | None = None) -> list[tuple[str, np.ndarray]]:
    """The stage 1 pictures of ``work`` worth hashing: ``[(name, picture)]`` (see module doc).
    ``boxes``: ``(peel(work), content_box(work))`` when the caller has them already."""
    _check(work)
    out: list[tuple[str, np.ndarray]] = []
    peeled, boxed = boxes if boxes is not None else (peel(work), content_box(work))
    if peeled is not None:
        out.append(("peel", _crop(work, peeled)))
    if boxed is not None and boxed != peeled and not _close(boxed, peeled, work.shape):
        out.append(("box", _crop(work, boxed)))
    upright = straighten(work)
    if upright is not None:
        out.append(("straight", upright))
    return out


def _close(a, b, shape, slack: float = 0.02) -> bool:
    if a is None or b is None:
        return False
    h, w = shape[:2]
    return all(abs(x - y) <= slack * s for x, y, s in zip(a, b, (h, h, w, w)))


def _crop(rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    top, bottom, left, right = box
    return rgb[top:bottom, left:right]


# ------------------------------------------------------------------------------------- peel


def peel(rgb: np.ndarray, rule: PeelRule = DEFAULT_PEEL) -> tuple[int, int, int, int] | None:
    """The ``(top, bottom, left, right)`` box inside bars that may carry text, or ``None``."""
    _check(rgb)
    h, w = rgb.shape[:2]
    if h < 16 or w < 16:
        return None
    rows, cols = int(h * rule.max_side), int(w * rule.max_side)
    bar = _bar if _kernels() is None else _bar_kernel
    top, bottom = bar(rgb, "top", rows, rule), bar(rgb, "bottom", rows, rule)
    left, right = bar(rgb, "left", cols, rule), bar(rgb, "right", cols, rule)
    if top + bottom < rule.min_peel * h:
        top = bottom = 0
    if left + right < rule.min_peel * w:
        left = right = 0
    box = (top, h - bottom, left, w - right)
    if box == (0, h, 0, w) or (box[1] - box[0]) * (box[3] - box[2]) < MIN_BOX * h * w:
        return None
    return box


def load_kernels() -> bool:
    """Compile (or load from numba's cache) peel's line scan for the arrays it reads (a
    working copy, writable or read-only: each side's lines in place), so no upload pays the
    compile; whether numba's scan is in use."""
    picture = np.full((40, 48, 3), 250, np.uint8)
    picture[6:8, 4:44:4] = 0  # strokes in the top bar
    picture[12:34, 8:40] = np.arange(32, dtype=np.uint8)[None, :, None] * 7
    frozen = picture.copy()
    frozen.setflags(write=False)  # as numpy sees a decoded Pillow picture
    for rgb in (picture, frozen):
        peel(rgb)
    return _kernels() is not None


def _bar_kernel(rgb: np.ndarray, side: str, cap: int, rule: PeelRule) -> int:
    """``_bar`` by numba's line scan (``rempart.signals._kernels.bar_run``): the same run,
    read line by line up to the bar's end (a few lines past it), not in chunks of numpy passes
    (peel: 1.5 ms to about 0.35 ms a picture)."""
    if side == "top":  # only this side's view (a dict of all four made four per call)
        lines = rgb
    elif side == "bottom":
        lines = rgb[::-1]
    elif side == "left":
        lines = rgb.transpose(1, 0, 2)
    else:
        lines = rgb[:, ::-1].transpose(1, 0, 2)
    length = rgb.shape[0 if side in ("top", "bottom") else 1]

    def scan(tolerance: int) -> tuple[int, bool]:
        return _kernels().bar_run(lines, cap, tolerance, rule.uniform, rule.text_floor,
                                  rule.stroke_floor, rule.stroke_run, rule.flat_tolerance,
                                  rule.blur_lines, rule.edge_lines, rule.min_peel * length)

    run, sharp = scan(rule.tolerance)
    if run >= 0 and sharp:
        return run
    if rule.tolerance <= rule.flat_tolerance:
        return 0
    flat, flat_sharp = scan(rule.flat_tolerance)  # read again at the flat tolerance
    flat = flat if flat >= 0 and flat_sharp else 0
    return flat if run < 0 else (run if flat else 0)


def _bar(rgb: np.ndarray, side: str, cap: int, rule: PeelRule) -> int:
    """How many of the first ``cap`` lines from ``side`` (rows from the top or the bottom,
    columns from the left or the right) form a bar that may hold text (numpy; ``_bar_kernel``
    is the same scan in numba, used when it loads)."""
    if cap < 2:
        return 0
    colour = np.median(_edge(rgb, side), axis=0).astype(np.int16)
    if _side_near(rgb, side, 0, 1, colour, rule.tolerance)[0] < rule.uniform:
        return 0  # most pictures: no bar on this side, and nothing more is read
    # Read the lines in chunks until one is neither bar nor text (plus a chunk for the blurred
    # lines after it): a plain page's margin is not read to the cap on every side.
    parts: list[np.ndarray] = []
    texts: list[np.ndarray] = []
    for start in range(0, cap, _CHUNK):
        stop = min(cap, start + _CHUNK)
        share = _side_near(rgb, side, start, stop, colour, rule.tolerance)
        parts.append(share)
        texts.append(_text_lines(rgb, side, start, share, colour, rule))
        if len(parts) > 1 and len(_ends(np.concatenate(texts)[:1 - len(share)])):
            break
    fraction = np.concatenate(parts)
    ends = _ends(np.concatenate(texts))
    if not len(ends):
        if rule.tolerance > rule.flat_tolerance:
            return _bar(rgb, side, cap, replace(rule, tolerance=rule.flat_tolerance))
        return 0  # bar-coloured to the cap: a flat picture, not a framed one
    # the last uniform line must be flat too (in its own colour: a bar may join a canvas of a
    # close colour): a dark picture's dark lines are within the tolerance of a dark bar, but
    # textured
    uniform = np.flatnonzero(fraction[:ends[0]] >= rule.uniform)
    last = next((int(k) for k in uniform[::-1]
                 if _flatness(_line(rgb, side, int(k)), rule.flat_tolerance) >= rule.uniform), 0)
    if not _sharp(fraction, last, int(ends[0]), rgb.shape[0 if side in ("top", "bottom") else 1],
                  rule):
        # a flat band that fades into the picture: no bar, unless the side ends sharply at
        # the flat tolerance (a dark picture's lines are within the tolerance of a dark bar)
        if (rule.tolerance <= rule.flat_tolerance
                or not _bar(rgb, side, cap, replace(rule, tolerance=rule.flat_tolerance))):
            return 0
    run = last + 1
    for _ in range(rule.blur_lines):  # the blurred line where the bar meets the picture
        if run < len(fraction) and fraction[run] >= 0.5:
            run += 1
    return run


def _sharp(fraction: np.ndarray, last: int, end: int, length: int, rule: PeelRule) -> bool:
    """Whether the picture begins where a bar's flat lines end (``last``, the last of them;
    ``end``, the first of two non-text lines): at most ``edge_lines`` lines between them are
    mostly but not wholly bar-coloured, or the flat lines are fewer than ``min_peel`` of the
    side (``length`` lines). A caption's or a screenshot's bar ends in a straight edge; a
    graphic's flat background goes on beside a shape's tip for many lines."""
    between = fraction[last + 1:end]
    partial = int(np.count_nonzero((between >= rule.text_floor) & (between < rule.uniform)))
    return partial <= rule.edge_lines or last + 1 < rule.min_peel * length


def _flatness(line: np.ndarray, tolerance: int) -> float:
    """The share of the pixels of ``line`` (L x 3) within ``tolerance`` of its own median
    colour in every channel."""
    own = np.median(line, axis=0).astype(np.int16)
    return float(np.count_nonzero(_within(line[None], own, tolerance))) / len(line)


def _ends(text: np.ndarray) -> np.ndarray:
    """Where a bar may end: the first of two lines in a row that are not text (one alone may
    be a line through the text where strokes join, along the letters' bars)."""
    neither = ~text
    return np.flatnonzero(neither[:-1] & neither[1:])


def _text_lines(rgb: np.ndarray, side: str, start: int, share: np.ndarray, colour: np.ndarray,
                rule: PeelRule) -> np.ndarray:
    """Which of the lines ``start:start + len(share)`` from ``side`` may belong to a bar with
    text: mostly bar-coloured (``text_floor``), or strokes on the bar colour (``stroke_floor``,
    the rest in at least 3 runs, none longer than ``stroke_run`` of the line). Dense light
    letters on a dark bar leave under ``text_floor`` of it (their strokes and the JPEG ringing
    around them), but a picture's line is rarely cut into short runs by the bar's colour."""
    text = share >= rule.text_floor
    maybe = np.flatnonzero(~text & (share >= rule.stroke_floor))
    if not len(maybe):
        return text
    # the candidate lines at once (lines x L): each pixel off the bar colour, the length of
    # the run of such pixels ending there, and the runs' starts
    off = np.stack([_line(rgb, side, start + int(k)) for k in maybe])
    off = _within(off, colour, rule.tolerance) == 0
    at = np.arange(off.shape[1])
    run = at - np.maximum.accumulate(np.where(off, -1, at), axis=1)
    starts = off[:, 0].astype(np.int64) + np.count_nonzero(off[:, 1:] & ~off[:, :-1], axis=1)
    text[maybe] = (starts >= 3) & (run.max(axis=1) <= rule.stroke_run * off.shape[1])
    return text


def _line(rgb: np.ndarray, side: str, k: int) -> np.ndarray:
    """Line ``k`` from ``side`` (L x 3)."""
    return {"top": lambda: rgb[k], "bottom": lambda: rgb[-1 - k], "left": lambda: rgb[:, k],
            "right": lambda: rgb[:, -1 - k]}[side]()


def _edge(rgb: np.ndarray, side: str) -> np.ndarray:
    """The outermost line of ``side`` (L x 3)."""
    return {"top": rgb[0], "bottom": rgb[-1], "left": rgb[:, 0], "right": rgb[:, -1]}[side]


def _side_near(rgb: np.ndarray, side: str, start: int, stop: int, colour: np.ndarray,
               tolerance: int) -> np.ndarray:
    """Per line ``start:stop`` from ``side`` (nearest the edge first), the share of its pixels
    within ``tolerance`` of ``colour`` in every channel; read in place (a side's columns are not
    copied into rows first)."""
    h, w = rgb.shape[:2]
    if side in ("top", "bottom"):
        block = rgb[start:stop] if side == "top" else rgb[h - stop:h - start]
        inside = _within(block, colour, tolerance)
        share = np.count_nonzero(inside, axis=1) / inside.shape[1]
    else:
        block = rgb[:, start:stop] if side == "left" else rgb[:, w - stop:w - start]
        inside = _within(block, colour, tolerance)
        share = np.count_nonzero(inside, axis=0) / inside.shape[0]
    return share if side in ("top", "left") else share[::-1]


#: lines ``_bar`` reads at a time
_CHUNK = 32


def _within(rgb: np.ndarray, colour: np.ndarray, tolerance: int) -> np.ndarray:
    """Which pixels are within ``tolerance`` of ``colour`` in every channel (uint8: 255 or 0;
    OpenCV's ``inRange``, one pass without temporaries)."""
    low = tuple(max(0, int(v) - tolerance) for v in colour)
    high = tuple(min(255, int(v) + tolerance) for v in colour)
    # OpenCV reads rows at any (positive) stride: a block of columns is not copied
    whole_pixels = rgb.strides[1:] == (3, 1) and rgb.strides[0] > 0
    return cv2.inRange(rgb if whole_pixels else np.ascontiguousarray(rgb), low, high)


# -------------------------------------------------------------------------------------- box


_SQUARE_5 = np.ones((5, 5), np.uint8)
_SQUARE_WINDOW = np.ones((DENSE_WINDOW, DENSE_WINDOW), np.uint8)
_SQUARE_CLOSED_OPEN = np.ones((DENSE_WINDOW + 4, DENSE_WINDOW + 4), np.uint8)


def median_colour(pixels: np.ndarray) -> np.ndarray:
    """``np.median(pixels, axis=0).astype(np.int16)`` of ``N x C`` uint8 ``pixels`` (N >= 1):
    per channel, the middle value, or for an even ``N`` the mean of the two middle values
    rounded down; by a partition, without ``np.median``'s float pass and checks (a few times
    faster on a ring of 2,000 pixels)."""
    n = len(pixels)
    middle = n // 2
    if n % 2:
        return np.partition(pixels, middle, axis=0)[middle].astype(np.int16)
    both = np.partition(pixels, (middle - 1, middle), axis=0)
    return (both[middle - 1].astype(np.int16) + both[middle]) // 2


def content_box(rgb: np.ndarray, tolerance: int = 24) -> tuple[int, int, int, int] | None:
    """The box of the picture inside a screenshot or template, or ``None`` (see module doc)."""
    _check(rgb)
    h, w = rgb.shape[:2]
    if h < 32 or w < 32:
        return None
    ring = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    canvas = median_colour(ring)
    # the share of the ring within ``tolerance`` of the canvas colour in every channel
    if np.count_nonzero(_within(ring.reshape(-1, 1, 3), canvas, tolerance)) / len(ring) < 0.6:
        return None  # the picture reaches the edges: no canvas around it
    # dense: at least 60% ink in the window around, counted exactly in integers: a window
    # holds DENSE_WINDOW^2 pixels, so at most the rest are canvas (inRange's 255 each; no
    # inverted copy of the mask)
    canvas_most = (DENSE_WINDOW ** 2 - math.ceil(0.6 * DENSE_WINDOW ** 2)) * 255
    count = cv2.boxFilter(_within(rgb, canvas, tolerance), cv2.CV_16U,
                          (DENSE_WINDOW, DENSE_WINDOW), normalize=False)
    dense = (count <= canvas_most).view(np.uint8)
    # A picture may hold canvas-coloured patches (a white sky on a white page): close them first,
    # then open so that strokes of text (thinner than the window) vanish. Closing's erosion and
    # opening's erosion, by centred squares of 5 and DENSE_WINDOW, are one erosion by a square
    # of DENSE_WINDOW + 4 (OpenCV ignores the pixels beyond the edges, and a rectangle holds
    # every step between two of its pixels): one pass less, the same mask.
    dense = cv2.dilate(dense, _SQUARE_5)
    dense = cv2.erode(dense, _SQUARE_CLOSED_OPEN)
    dense = cv2.dilate(dense, _SQUARE_WINDOW)
    # the picture's component fills BOX_FILLED of its box, at least MIN_BOX of the canvas: with
    # fewer dense pixels in all (a pixel less, for rounding) no component can be it, and none
    # is labelled (a quarter of the pictures that have a canvas: a page, a flat graphic)
    if cv2.countNonZero(dense) < BOX_FILLED * MIN_BOX * h * w - 1:
        return None
    # the largest component's area and bounding box (OpenCV's statistics of every component
    # cost twice the labelling itself). Opened by a DENSE_WINDOW square, every component holds
    # one: a box under DENSE_WINDOW^2 x 65,535 pixels (a working copy has 262,144) has
    # fewer components than 16-bit labels can count, and OpenCV's histogram of 16-bit labels
    # counts their areas in half numpy's time on 32-bit ones (exactly: float32 holds integers
    # to 2^24)
    # Only the dense pixels' bounding box is labelled: the same components, numbered in the
    # same (raster) order, in less area (a screenshot's picture and its blocks of text).
    x0, y0, cw, ch = cv2.boundingRect(dense)
    dense = dense[y0:y0 + ch, x0:x0 + cw]
    small = ch * cw < DENSE_WINDOW ** 2 * 65535
    count, labels = cv2.connectedComponents(dense, connectivity=4,
                                            ltype=cv2.CV_16U if small else cv2.CV_32S)
    if count < 2:
        return None
    areas = (cv2.calcHist([labels], [0], None, [count], [0, count]).ravel() if small
             else np.bincount(labels.ravel(), minlength=count))
    best = 1 + int(np.argmax(areas[1:]))
    x, y, bw, bh = cv2.boundingRect((labels == best).view(np.uint8))
    x, y = x + x0, y + y0
    area = int(areas[best])
    share = bw * bh / (h * w)
    if not MIN_BOX <= share <= MAX_BOX or area < BOX_FILLED * bw * bh:
        return None
    return y, y + bh, x, x + bw


# --------------------------------------------------------------------------------- straighten


def straighten(rgb: np.ndarray, tolerance: int = 24) -> np.ndarray | None:
    """The picture rotated back upright when it was turned by a few degrees, or ``None``."""
    _check(rgb)
    h, w = rgb.shape[:2]
    if h < 32 or w < 32:
        return None
    corners = np.stack([rgb[0, 0], rgb[0, -1], rgb[-1, 0], rgb[-1, -1]]).astype(np.int16)
    fill = median_colour(corners)
    if np.abs(corners - fill).max() > tolerance:
        return None  # no flat fill in all four corners
    # The borders first (three lines a side): most pictures with flat corners (a page, a
    # graphic on a plain background) are told apart there, before the whole picture is read.
    edge = {"top": _ink(rgb[:3], fill, tolerance), "bottom": _ink(rgb[-3:], fill, tolerance),
            "left": _ink(rgb[:, :3], fill, tolerance), "right": _ink(rgb[:, -3:], fill, tolerance)}
    top, bottom = edge["top"][0], edge["bottom"][-1]
    left, right = edge["left"][:, 0], edge["right"][:, -1]
    legs = _corner_legs(top, bottom, left, right)
    if legs is None:
        return None
    touches = [top.mean(), bottom.mean(), left.mean(), right.mean()]
    if max(touches) < 0.5:
        # Expanded: the turned picture's corners touch all four edges, each in a short run.
        if not all(e.any() for e in edge.values()):
            return None
        return _expanded(rgb, _ink(rgb, fill, tolerance))
    return _same_size(rgb, lambda: _ink(rgb, fill, tolerance), legs)


def _ink(rgb: np.ndarray, fill: np.ndarray, tolerance: int) -> np.ndarray:
    """Pixels further than ``tolerance`` from the ``fill`` colour in some channel."""
    return _within(rgb, fill, tolerance) == 0


def _corner_legs(top: np.ndarray, bottom: np.ndarray, left: np.ndarray,
                 right: np.ndarray) -> list[tuple[int, int]] | None:
    """For each corner, the lengths of fill along its row and its column (None: no triangles),
    from the ink of the picture's outer rows and columns."""
    def run(line: np.ndarray) -> int:
        hit = np.flatnonzero(line)
        return int(hit[0]) if hit.size else len(line)

    legs = [(run(top), run(left)), (run(top[::-1]), run(right)),
            (run(bottom), run(left[::-1])), (run(bottom[::-1]), run(right[::-1]))]
    if any(a < 2 or b < 2 for a, b in legs):
        return None
    return legs


def _angle(rect_angle: float, size: tuple[float, float]) -> tuple[float, tuple[float, float]]:
    """OpenCV's minAreaRect angle folded to -45..45 degrees, with the matching (w, h)."""
    angle, (rw, rh) = rect_angle, size
    if angle > 45:
        angle, rw, rh = angle - 90, rh, rw
    elif angle < -45:
        angle, rw, rh = angle + 90, rh, rw
    return angle, (rw, rh)


def _expanded(rgb: np.ndarray, ink: np.ndarray) -> np.ndarray | None:
    points = cv2.findNonZero(ink.astype(np.uint8))
    if points is None:
        return None
    (cx, cy), size, raw = cv2.minAreaRect(cv2.convexHull(points))  # the same, from fewer points
    angle, (rw, rh) = _angle(raw, size)
    if not MIN_ANGLE <= abs(angle) <= MAX_ANGLE or rw * rh < 0.3 * ink.size:
        return None
    if ink.sum() < 0.9 * rw * rh:
        return None  # not a filled rectangle: a picture with flat corners, not a turned one
    m = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    m[:, 2] += (rw / 2 - cx, rh / 2 - cy)
    size = (max(1, round(rw) - 2), max(1, round(rh) - 2))
    return cv2.warpAffine(rgb, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _same_size(rgb: np.ndarray, ink, legs) -> np.ndarray | None:
    """``ink``: computes the ink mask, called only once the corners gave an angle."""
    h, w = rgb.shape[:2]
    # Top-left and bottom-right triangles lie along the rows when the picture turned one way,
    # along the columns the other way; each gives tan(angle) = short leg / long leg.
    estimates = []
    for (along_row, along_col), sign in zip(legs, (1, -1, -1, 1)):
        if along_row >= along_col:
            estimates.append(sign * math.degrees(math.atan2(along_col, along_row)))
        else:
            estimates.append(-sign * math.degrees(math.atan2(along_row, along_col)))
    angle = float(np.median(estimates))
    if not MIN_ANGLE <= abs(angle) <= MAX_ANGLE or np.ptp(estimates) > 2.0:
        return None
    # Fill the corners from their neighbourhood, then turn back about the centre.
    filled = cv2.inpaint(rgb, (~ink()).astype(np.uint8), 3, cv2.INPAINT_TELEA)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
    return cv2.warpAffine(filled, m, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


def _check(rgb: np.ndarray) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InvalidInput("normalisers expect an H x W x 3 uint8 array")
