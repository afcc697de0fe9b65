"""Border detection: find the content box inside letterbox / pillarbox / padding bars.

A *border* is a run of rows (or columns) at an image edge that are near-uniform and of the same
colour as the outermost row (or column). "Near-uniform" tolerates compression noise: a line belongs
to the border when at least ``min_fraction`` of its pixels are within ``tolerance`` (per channel,
0-255) of the edge colour, the per-channel median of the outermost line, and its own median stays
within ``step`` of that colour: white padding around a near-white page ends where the page
begins (its median steps from 255 to, say, 244), not at the page's first line of text.

The line where a border meets the picture is usually blurred by chroma subsampling and
compression (JPEG, H.264 4:2:0): after the run of border lines, up to ``blur_lines`` more lines
are taken when at least ``blur_fraction`` of their pixels are still border-coloured. This can cost
the picture at most ``blur_lines`` lines per side, and keeps bar remnants out of the hash.

Borders thinner than ``min_trim`` of the dimension in total (top + bottom, left + right) are left
alone: a few flat rows of sky or shadow are part of the picture, and cutting them would cost a
second PDQ computation for a variant within a few bits of the original.

Trimming is refused (``content_box`` returns ``None``) when nothing would be removed, or when the
content left would be smaller than ``min_keep`` of either dimension or ``min_pixels`` pixels: a
uniform or almost uniform picture is never trimmed to nothing. It is refused too when a border
reaches ``max_side`` of the dimension: no letterbox is that wide, and such a picture is flat
(a sky, a wall) rather than framed.

Pure numpy and numba (the line scan, ``rempart.signals._kernels.edge_run``, loaded on first
use; ``_edge_run`` below is the same scan in numpy, used where numba cannot load); no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rempart.errors import InvalidInput


@dataclass(frozen=True)
class TrimRule:
    """Parameters of border detection (see the module docstring)."""

    tolerance: int = 24
    min_fraction: float = 0.98
    max_side: float = 0.45
    min_keep: float = 0.10
    min_pixels: int = 16
    blur_lines: int = 2
    blur_fraction: float = 0.5
    min_trim: float = 0.02
    step: int = 6


DEFAULT_TRIM = TrimRule()


def content_box(rgb: np.ndarray, rule: TrimRule = DEFAULT_TRIM) -> tuple[int, int, int, int] | None:
    """Return ``(top, bottom, left, right)`` (slice bounds) of the picture inside its borders.

    ``rgb`` is an ``H x W x 3`` uint8 array. Returns ``None`` when there is no border to remove or
    when removing it would leave too little (see the module docstring). Raises ``InvalidInput``
    for an array of the wrong shape or type.
    """
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InvalidInput("content_box expects an H x W x 3 uint8 array")
    height, width = rgb.shape[:2]
    if height < 3 or width < 3:
        return None
    max_rows = max(1, int(height * rule.max_side))
    max_cols = max(1, int(width * rule.max_side))
    scan = _scanner(rule)
    runs = (
        scan(rgb[:max_rows]),
        scan(rgb[::-1][:max_rows]),
        # Columns: the same scan on the transposed strips.
        scan(rgb[:, :max_cols].transpose(1, 0, 2)),
        scan(rgb[:, ::-1][:, :max_cols].transpose(1, 0, 2)),
    )
    if runs[0] >= max_rows or runs[1] >= max_rows or runs[2] >= max_cols or runs[3] >= max_cols:
        return None  # a border as wide as the cap: a flat picture, not a framed one
    top, bottom, left, right = runs[0], height - runs[1], runs[2], width - runs[3]
    if top + (height - bottom) < rule.min_trim * height:
        top, bottom = 0, height
    if left + (width - right) < rule.min_trim * width:
        left, right = 0, width
    if (top, bottom, left, right) == (0, height, 0, width):
        return None
    kept_h, kept_w = bottom - top, right - left
    if (
        kept_h < max(rule.min_pixels, rule.min_keep * height)
        or kept_w < max(rule.min_pixels, rule.min_keep * width)
    ):
        return None
    return top, bottom, left, right


def trim(rgb: np.ndarray, rule: TrimRule = DEFAULT_TRIM) -> np.ndarray | None:
    """The content inside the borders of ``rgb`` (a view, no copy), or ``None`` (see
    ``content_box``)."""
    box = content_box(rgb, rule)
    if box is None:
        return None
    top, bottom, left, right = box
    return rgb[top:bottom, left:right]


def _scanner(rule: TrimRule):
    """The line scan: numba's (one pass, stops at the first line that is not border) when it
    loads, else numpy's; both give the same run."""
    kernels = _kernels()
    if kernels is None:
        return lambda lines: _edge_run(lines, rule)
    return lambda lines: kernels.edge_run(lines, rule.tolerance, rule.min_fraction,
                                          rule.blur_lines, rule.blur_fraction, rule.step)


_KERNELS: list = []


def _kernels():
    if not _KERNELS:
        try:
            from rempart.signals import _kernels as kernels  # numba: loaded on first use
        except ImportError:
            kernels = None
        _KERNELS.append(kernels)
    return _KERNELS[0]


def load_kernels() -> bool:
    """Import the numba kernels now and run the line scan on a contiguous, a strided, a
    broadcast grey, a read-only and a read-only strided picture (the array types decoding
    yields), so no caller pays the compile; whether numba's scan is in use."""
    kernels = _kernels()
    picture = np.zeros((12, 10, 3), np.uint8)
    picture[3:9, 2:8] = 200
    grey = np.broadcast_to(picture[:, :, :1], picture.shape)
    frozen = picture.copy()
    frozen.setflags(write=False)  # as numpy sees a decoded Pillow picture
    shared = np.concatenate([picture, picture[:, :, :1]], axis=2)[:, :, :3]
    shared.setflags(write=False)  # as decoding shares Pillow's RGBX memory (decode._shared)
    for rgb in (picture, picture[::-1, ::2], grey, frozen, shared):
        content_box(rgb)
    return kernels is not None


def _edge_run(lines: np.ndarray, rule: TrimRule) -> int:
    """How many leading lines of ``lines`` (N x L x 3) are border lines of the first one's colour."""
    if lines.shape[0] == 0:
        return 0
    edge_colour = np.median(lines[0], axis=0).astype(np.int16)
    run = _strict_run(lines, edge_colour, rule)
    if run == 0:
        return 0
    # Then the blurred transition lines, at most blur_lines of them.
    for _ in range(rule.blur_lines):
        if run >= lines.shape[0]:
            break
        if _border_fraction(lines[run:run + 1], edge_colour, rule)[0] < rule.blur_fraction:
            break
        run += 1
    return run


def _strict_run(lines: np.ndarray, edge_colour: np.ndarray, rule: TrimRule) -> int:
    # Scan in growing chunks: most pictures have no border, and then only the first chunk is read.
    # Chunks stop growing at about a million values, so a flat picture costs no full-size copy.
    start, chunk = 0, 8
    most = max(8, _CHUNK_VALUES // max(1, lines.shape[1] * 3))
    while start < lines.shape[0]:
        block = lines[start:start + chunk]
        fractions = _border_fraction(block, edge_colour, rule)
        not_border = fractions < rule.min_fraction
        if not not_border.all():  # the page inside the padding: another flat colour
            medians = np.median(block[~not_border], axis=1)
            stepped = np.abs(medians - edge_colour).max(axis=1) > rule.step
            not_border[np.flatnonzero(~not_border)[stepped]] = True
        not_border = np.flatnonzero(not_border)
        if not_border.size:
            return start + int(not_border[0])
        start += chunk
        chunk = min(chunk * 2, most)
    return lines.shape[0]


_CHUNK_VALUES = 1 << 20


def _border_fraction(block: np.ndarray, edge_colour: np.ndarray, rule: TrimRule) -> np.ndarray:
    """For each line of ``block``: the share of its pixels within ``tolerance`` of ``edge_colour``."""
    # |v - edge| <= tolerance per channel, in uint8: (v - low) wraps around below ``low``, so
    # "(v - low) <= high - low" is exactly "low <= v <= high", with no wider copy of the block.
    low = np.clip(edge_colour - rule.tolerance, 0, 255).astype(np.uint8)
    span = (np.clip(edge_colour + rule.tolerance, 0, 255) - low).astype(np.uint8)
    if block.strides[2] == 0:  # a grey picture seen as three equal channels: test one
        close = (block[:, :, 0] - low[0]) <= span[0]
    else:
        ok = (block - low) <= span
        close = ok[:, :, 0] & ok[:, :, 1] & ok[:, :, 2]
    return np.count_nonzero(close, axis=1) / block.shape[1]
