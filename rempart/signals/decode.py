"""Image decoding and canonicalisation with Pillow: the only module that imports Pillow.

Canonical form: an upright ``H x W x 3`` uint8 RGB array per frame, which is what PDQ hashes.

- Only the Pillow plugin of the format found by ``sniff`` may parse the bytes (``formats=``), so a
  file cannot reach a decoder it did not announce.
- The declared size is checked against ``Limits.max_pixels`` right after the header is read and
  before any pixel is decoded; Pillow's own ``DecompressionBombError`` / ``Warning`` are reported as
  the same "pixels" limit.
- EXIF orientation (tag 274, values 2-8) is applied; an unreadable EXIF block is ignored.
- Colour modes: 8-bit modes with a known conversion (1, L, P, PA, LA, RGBA, RGBX, RGBa, CMYK,
  YCbCr, LAB, HSV) use Pillow's ``convert("RGB")``, which is what Meta's reference hashes were made
  with (``pdq-reference.csv``). Alpha is dropped, not composited: the colour under a transparent
  pixel is kept, as the reference does. 16-bit grey (I;16*) keeps the high byte (v >> 8), as Pillow
  does for 16-bit RGB. 32-bit integer (I) and float (F) pictures carry no declared range, so the
  range is inferred: values within 0..1 (float) scale by 255, within 0..255 are kept, within
  0..65535 keep the high byte, anything else is stretched from its min..max; NaN becomes 0.
- Optional fast path (``jpeg_draft``, off by default): a JPEG is decoded at the smallest DCT
  scale (1/2, 1/4, 1/8) that keeps both sides at least ``jpeg_draft`` pixels. PDQ averages the
  picture down to 64 x 64 anyway, so the hash moves by a few bits only, but it is no longer
  bit-exact with the reference: never use it where exact hashes are promised.
- Every frame of an animation (GIF, APNG, animated WebP, multi-page TIFF) is decoded, in order,
  composited by Pillow; ``Limits.max_frames`` is checked before each extra frame is decoded.

Every Pillow error is translated here: ``CorruptMedia`` for bytes that fail to decode,
``MediaLimitExceeded`` for limits, ``UnsupportedMedia`` for a mode with no RGB conversion.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from PIL import Image

from rempart.errors import CorruptMedia, MediaLimitExceeded, RempartError, UnsupportedMedia
from rempart.signals.limits import Deadline, Limits

_PILLOW_FORMAT = {
    "jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP", "bmp": "BMP", "tiff": "TIFF",
}

_EXIF_ORIENTATION = 0x0112
_BOMB_SIZE = re.compile(r"\((\d+) pixels\)")


@dataclass(frozen=True)
class ImageFrame:
    """One decoded frame: canonical RGB pixels, when it starts (seconds; 0.0 for a still), and the
    upright size the file declares (larger than ``rgb`` when a JPEG draft scale was used)."""

    rgb: np.ndarray
    start: float
    width: int
    height: int


def decode_frames(
    data: bytes, fmt: str, limits: Limits, deadline: Deadline, *, jpeg_draft: int | None = None
) -> Iterator[ImageFrame]:
    """Yield every frame of the image in ``data`` (of sniffed format ``fmt``), canonicalised.

    ``jpeg_draft``: see the module docstring; ``None`` decodes at full size (the exact path).

    Raises ``CorruptMedia``, ``MediaLimitExceeded`` or ``UnsupportedMedia``; never a Pillow error.
    The deadline is checked after each frame.
    """
    pillow_format = _PILLOW_FORMAT.get(fmt)
    if pillow_format is None:
        raise UnsupportedMedia(f"not an image format: {fmt!r}")
    with _translated(fmt, limits):
        im = Image.open(io.BytesIO(data), formats=[pillow_format])
    try:
        with _translated(fmt, limits):
            orientation = _orientation(im)
        start_ms = 0.0
        index = 0
        while True:
            with _translated(fmt, limits):
                if index > 0 and not _seek(im, index):
                    return
                if index >= limits.max_frames:
                    raise MediaLimitExceeded("frames", index + 1, limits.max_frames)
                frame = _current_frame(im, orientation, limits, start_ms, jpeg_draft)
                start_ms += _duration_ms(im)
            deadline.check()
            yield frame
            index += 1
    finally:
        im.close()


def _current_frame(
    im: Image.Image, orientation: int, limits: Limits, start_ms: float, jpeg_draft: int | None
) -> ImageFrame:
    """Decode the frame ``im`` is positioned on, after checking its declared size."""
    limits.check_pixels(*im.size)
    width, height = im.size if orientation < 5 else im.size[::-1]
    if jpeg_draft and im.format in ("JPEG", "MPO"):
        _draft(im, jpeg_draft)
    im.load()
    return ImageFrame(orient(to_rgb(im), orientation), start_ms / 1000.0, width, height)


@contextmanager
def _translated(fmt: str, limits: Limits) -> Iterator[None]:
    """Run one synchronous block of Pillow calls, translating whatever it raises.

    The warnings filter is changed only for the block (never across a ``yield``): a bomb warning
    stops decoding instead of being printed, and Pillow's informational warnings about damaged
    metadata ("Corrupt EXIF data") are silenced, so the outcome never depends on the process's
    warning filters. ``catch_warnings`` is process-wide: another thread that warns during the
    block sees these filters too.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except RempartError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = _BOMB_SIZE.search(str(exc))
        raise MediaLimitExceeded(
            "pixels", int(found.group(1)) if found else limits.max_pixels + 1, limits.max_pixels
        ) from None
    except Exception as exc:  # Pillow raises many types on hostile input; all mean "corrupt"
        raise CorruptMedia(f"{fmt} does not decode: {type(exc).__name__}: {exc}") from None


def _draft(im: Image.Image, min_side: int) -> None:
    """Ask the JPEG decoder for the smallest DCT scale keeping both sides >= ``min_side``."""
    w, h = im.size
    scale = min(w, h) / max(1, min_side)
    if scale >= 2:
        im.draft("RGB", (max(1, int(w / scale)), max(1, int(h / scale))))


def _seek(im: Image.Image, index: int) -> bool:
    """Move to frame ``index``; False when there is none."""
    try:
        im.seek(index)
    except EOFError:
        return False
    return True


def _duration_ms(im: Image.Image) -> float:
    value = im.info.get("duration", 0)
    return float(value) if isinstance(value, (int, float)) and value > 0 else 0.0


def _orientation(im: Image.Image) -> int:
    """EXIF orientation 1-8, or 1 when absent or unreadable (a broken EXIF block is common)."""
    try:
        value = im.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # malformed EXIF: decode the pixels as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def orient(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """Return ``rgb`` turned upright for EXIF ``orientation`` (1-8), as a contiguous array.

    Orientation n means the stored picture must be transformed as follows to be upright:
    2 mirror left-right, 3 rotate 180, 4 mirror top-bottom, 5 transpose, 6 rotate 90 clockwise,
    7 transverse, 8 rotate 90 counter-clockwise.
    """
    ops = {
        1: lambda a: a,
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, k=-1),
        7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
        8: lambda a: np.rot90(a, k=1),
    }
    return np.ascontiguousarray(ops.get(orientation, ops[1])(rgb))


def to_rgb(im: Image.Image) -> np.ndarray:
    """Convert a loaded Pillow image of any mode to ``H x W x 3`` uint8 RGB (see the module doc)."""
    mode = im.mode
    if mode == "RGB":
        return np.asarray(im, dtype=np.uint8)
    if mode.startswith("I;16"):
        grey = (np.asarray(im).astype(np.uint16) >> 8).astype(np.uint8)
        return _grey_to_rgb(grey)
    if mode in ("I", "F"):
        return _grey_to_rgb(_scale_to_8bit(np.asarray(im), is_float=mode == "F"))
    if mode == "La":
        im = im.convert("LA")
    try:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except ValueError as exc:
        raise UnsupportedMedia(f"colour mode {mode} has no RGB conversion: {exc}") from None


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[:, :, None], 3, axis=2)


def _scale_to_8bit(values: np.ndarray, *, is_float: bool) -> np.ndarray:
    """Map a single-channel int32/float32 picture of unknown range to uint8 (see module doc)."""
    v = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 0.0)
    if is_float and lo >= 0.0 and hi <= 1.0:
        scaled = v * 255.0
    elif lo >= 0.0 and hi <= 255.0:
        scaled = v
    elif lo >= 0.0 and hi <= 65535.0:
        scaled = np.floor(v / 256.0)
    else:
        scaled = (v - lo) * (255.0 / (hi - lo))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
