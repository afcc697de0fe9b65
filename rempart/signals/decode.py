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
- JPEG draft (``jpeg_draft``; ``fingerprint`` passes ``DEFAULT_JPEG_DRAFT`` = 256): a JPEG is
  decoded at the smallest DCT scale (1/2, 1/4, 1/8) keeping both sides >= ``jpeg_draft`` pixels,
  so libjpeg skips most of the inverse DCT and upsampling of a large photo (a 12-megapixel photo
  is decoded at 504 x 378). PDQ averages the picture down to 64 x 64 anyway, so the hash moves
  by a few bits only (on the benign test pictures and their 1-12 megapixel re-encodings: at most
  14 bits, median 0-6, and no match gained or lost; pinned by tests/signals/test_pdq_drift.py),
  but it is no longer bit-exact with the reference: ``jpeg_draft=None`` decodes at full size,
  the exact path. A JPEG whose shorter side is under twice ``jpeg_draft`` is decoded at full
  size either way (and then hashes exactly as the reference).
- Every frame of an animation (GIF, APNG, animated WebP, multi-page TIFF) is decoded, in order,
  composited by Pillow. Frames are counted from the file's structure before any is decoded
  (``Limits.max_frames``), and frames x canvas pixels checked (``Limits.max_total_pixels``).
- Memory: ``image_cost`` (pixels x bytes per pixel x copies, from the header's size, mode and
  frame count) is reserved from the caller's ``MemoryBudget`` before any pixel is decoded.
  Conversions run strip by strip into one output array (no full-size intermediate, no float64
  copy of the picture); a grey picture stays one byte per pixel, seen as three channels through a
  read-only view; the last frame's Pillow picture is freed before the frame is hashed, or, for
  an RGB or grey picture Pillow holds in one block, not copied at all: the canonical array is a
  read-only view of Pillow's memory (``_shared``).

Every Pillow error is translated here: ``CorruptMedia`` for bytes that fail to decode,
``MediaLimitExceeded`` for limits, ``UnsupportedMedia`` for a mode with no RGB conversion.
"""

from __future__ import annotations

import ctypes
import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from rempart.errors import CorruptMedia, MediaLimitExceeded, RempartError, UnsupportedMedia
from rempart.signals.budget import UNLIMITED, MemoryBudget
from rempart.signals.limits import Deadline, Limits
from rempart.signals.pdq import HASH_BYTES_PER_PIXEL, rgbx_parent

_PILLOW_FORMAT = {
    "jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP", "bmp": "BMP", "tiff": "TIFF",
}

#: the default ``jpeg_draft``: the shorter side a JPEG keeps when decoded at a reduced DCT scale
DEFAULT_JPEG_DRAFT = 256

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
    data: bytes, fmt: str, limits: Limits, deadline: Deadline, *, jpeg_draft: int | None = None,
    budget: MemoryBudget = UNLIMITED,
) -> Iterator[ImageFrame]:
    """Yield every frame of the image in ``data`` (of sniffed format ``fmt``), canonicalised.

    ``jpeg_draft``: see the module docstring; ``None`` (here the default: pictures shown to
    reviewers keep their resolution) decodes at full size, the exact path. Fingerprinting
    passes ``DEFAULT_JPEG_DRAFT``.
    ``budget``: ``image_cost`` is reserved from it (waiting, or refused) before the first pixel is
    decoded, and held until the generator ends: close it (``contextlib.closing``) when stopping
    early.

    Raises ``CorruptMedia``, ``MediaLimitExceeded``, ``UnsupportedMedia`` or, from the budget,
    ``Overloaded``; never a Pillow error. The deadline is checked after each frame.
    """
    pillow_format = _PILLOW_FORMAT.get(fmt)
    if pillow_format is None:
        raise UnsupportedMedia(f"not an image format: {fmt}")
    with _translated(fmt, limits):
        im = Image.open(io.BytesIO(data), formats=[pillow_format])
    try:
        with _translated(fmt, limits):
            orientation = _orientation(im)
            limits.check_pixels(*im.size)
            frames = _count_frames(im, data, fmt, limits.max_frames + 1, deadline)
            if frames > limits.max_frames:
                raise MediaLimitExceeded("frames", frames, limits.max_frames)
            limits.check_total_pixels(frames * im.size[0] * im.size[1])
            cost = image_cost(fmt, im.mode, *im.size, frames=frames)
        with budget.reserve(cost) as reservation:  # may wait: outside the warnings block
            yield from _frames(im, fmt, frames, orientation, limits, deadline, jpeg_draft,
                               reservation)
    finally:
        im.close()


def _frames(im: Image.Image, fmt: str, frames: int, orientation: int, limits: Limits,
            deadline: Deadline, jpeg_draft: int | None, reservation) -> Iterator[ImageFrame]:
    """Decode the ``frames`` frames of ``im`` in order, within ``reservation``."""
    start_ms, total_pixels = 0.0, 0
    for index in range(frames):
        with _translated(fmt, limits):
            if index > 0 and not _seek(im, index):
                return
            limits.check_pixels(*im.size)
            total_pixels += im.size[0] * im.size[1]
            limits.check_total_pixels(total_pixels)
            cost = image_cost(fmt, im.mode, *im.size, frames=frames)
        reservation.grow(cost)  # a TIFF page may be larger than the first: paid before decoding
        with _translated(fmt, limits):
            frame = _current_frame(im, orientation, start_ms, jpeg_draft,
                                   last=index == frames - 1)
            start_ms += _duration_ms(im)
        deadline.check()
        yield frame


def _current_frame(im: Image.Image, orientation: int, start_ms: float, jpeg_draft: int | None,
                   *, last: bool) -> ImageFrame:
    """Decode the frame ``im`` is positioned on; after the last one, Pillow's copy is freed."""
    width, height = im.size if orientation < 5 else im.size[::-1]
    if jpeg_draft and im.format in ("JPEG", "MPO"):
        _draft(im, jpeg_draft)
    im.load()
    # the last frame is never decoded over: its pixels are shared with Pillow, not copied
    rgb = _shared(im) if last else None
    if rgb is None:
        rgb = to_rgb(im)
    if last:
        im.close()  # the decoded picture is no longer needed while the frame is hashed
    return ImageFrame(orient(rgb, orientation), start_ms / 1000.0, width, height)


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
    """Return ``rgb`` turned upright for EXIF ``orientation`` (1-8), as a view (no copy).

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
    return ops.get(orientation, ops[1])(rgb)


def encode_jpeg(pixels: np.ndarray, quality: int = 90) -> bytes:
    """``pixels`` (H x W x 3 RGB or H x W grey, uint8) as JPEG bytes: synthetic pictures for
    the warm-up (``rempart.signals.warm``) and tests."""
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(out, "JPEG", quality=quality)
    return out.getvalue()


# ---------------------------------------------------------------- cost, before it is spent

#: bytes per pixel of the full-size buffers a decoder holds beside Pillow's picture: libjpeg's
#: coefficients of a progressive JPEG (2 bytes x 3 components), libtiff's strip (a hostile TIFF
#: has one strip as large as the picture), libwebp's canvas
_DECODER_BYTES = {"jpeg": 6, "tiff": 4, "webp": 4}
#: full-size pictures Pillow keeps while compositing an animation (current, previous, disposal,
#: the frame itself), each up to 4 bytes per pixel whatever the first frame's mode
_ANIMATION_BYTES = 16
#: strips of rows (at most a few MiB each, fewer for a small picture) and Python objects
_FIXED_COST = 4 << 20
_STRIPS_COST = 28 << 20


def image_cost(fmt: str, mode: str, width: int, height: int, *, frames: int = 1) -> int:
    """An upper bound of the bytes ``decode_frames`` and hashing hold at once for one frame.

    A still picture is converted to its canonical form and Pillow's copy freed before hashing,
    so the peak is the largest of: decoding (Pillow + decoder buffers), converting (Pillow +
    canonical) and hashing (canonical + ``pdq.HASH_BYTES_PER_PIXEL``). Frames of an animation are
    hashed while Pillow keeps its pictures for the next one. Canonical: 1 byte per pixel for
    grey modes (a view gives the three channels), 3 for the others, 4 when it is Pillow's own
    RGB memory shared (``_shared``).
    """
    pillow = 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4
    canonical = 1 if _is_grey(mode) else 4 if mode == "RGB" else 3
    decoder = _DECODER_BYTES.get(fmt, 0)
    if frames > 1 and fmt in ("gif", "png", "webp"):
        per_pixel = _ANIMATION_BYTES + max(decoder, canonical + HASH_BYTES_PER_PIXEL)
    elif frames > 1:  # pages (TIFF): one at a time, Pillow's copy kept for seeking to the next
        per_pixel = pillow + max(decoder, canonical + HASH_BYTES_PER_PIXEL)
    else:
        per_pixel = max(pillow + decoder, pillow + canonical, canonical + HASH_BYTES_PER_PIXEL)
    return width * height * per_pixel + _FIXED_COST + min(_STRIPS_COST, width * height * 16)


def _count_frames(im: Image.Image, data: bytes, fmt: str, cap: int, deadline: Deadline) -> int:
    """How many frames the file holds, counted up to ``cap`` without decoding a pixel.

    PNG (APNG), WebP and MPO declare it; a GIF's blocks are walked (Pillow's own count seeks
    through every frame of the file, however many); TIFF pages are stepped through.
    """
    if fmt == "gif":
        return _gif_frames(data, cap, deadline)
    if fmt == "tiff":
        count = 1
        while count < cap and _seek(im, count):
            count += 1
        im.seek(0)
        return count
    return min(cap, max(1, int(getattr(im, "n_frames", 1))))


_GIF_BLOCK = re.compile(rb"[,!;]")


def _gif_frames(data: bytes, cap: int, deadline: Deadline) -> int:
    """Image descriptors in a GIF up to ``cap``: Pillow's frames (it skips unknown bytes too)."""
    def table(flags: int) -> int:
        return 3 << ((flags & 7) + 1) if flags & 0x80 else 0

    def skip_sub_blocks(pos: int) -> int:
        while pos < len(data):
            size = data[pos]
            pos += 1 + size
            if size == 0:
                break
        return pos

    pos = 13 + table(data[10]) if len(data) > 10 else len(data)
    count, steps = 0, 0
    while count < cap:
        found = _GIF_BLOCK.search(data, pos)
        if found is None or found.group() == b";":
            break
        pos = found.start()
        if data[pos] == 0x2C:  # image descriptor, local colour table, LZW code size, data
            count += 1
            flags = data[pos + 9] if pos + 9 < len(data) else 0
            pos = skip_sub_blocks(pos + 11 + table(flags))
        else:  # extension: label, then sub-blocks
            pos = skip_sub_blocks(pos + 2)
        steps += 1
        if steps % 4096 == 0:
            deadline.check()
    return max(1, count)


# ---------------------------------------------------------------- canonical pixels, in strips

_STRIP_BYTES = 4 << 20


def _is_grey(mode: str) -> bool:
    return mode in ("L", "I", "F") or mode.startswith("I;16")


def to_rgb(im: Image.Image) -> np.ndarray:
    """Convert a loaded Pillow image of any mode to ``H x W x 3`` uint8 RGB (see the module doc).

    Converted strip by strip into one output array: no full-size intermediate. Grey pictures
    come back as one byte per pixel seen through a read-only view with three equal channels.
    """
    mode = im.mode
    if mode == "RGB":
        return _strip_copy(im, 3, lambda strip: np.asarray(strip, dtype=np.uint8))
    if mode == "L":
        return _grey_to_rgb(_strip_copy(im, 1, lambda strip: np.asarray(strip, dtype=np.uint8)))
    if mode.startswith("I;16"):
        return _grey_to_rgb(_strip_copy(
            im, 1, lambda strip: (np.asarray(strip).astype(np.uint16) >> 8).astype(np.uint8)))
    if mode in ("I", "F"):
        return _grey_to_rgb(_scale_to_8bit(im, is_float=mode == "F"))

    def convert(strip: Image.Image) -> np.ndarray:
        if mode == "La":
            strip = strip.convert("LA")
        try:
            return np.asarray(strip.convert("RGB"), dtype=np.uint8)
        except ValueError as exc:
            raise UnsupportedMedia(f"colour mode {mode} has no RGB conversion: {exc}") from None

    return _strip_copy(im, 3, convert)


class _ArrowArray(ctypes.Structure):
    """``struct ArrowArray`` of the Arrow C data interface (a stable ABI)."""


_ArrowArray._fields_ = [
    ("length", ctypes.c_int64), ("null_count", ctypes.c_int64), ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64), ("n_children", ctypes.c_int64),
    ("buffers", ctypes.POINTER(ctypes.c_void_p)),
    ("children", ctypes.POINTER(ctypes.POINTER(_ArrowArray))),
    ("dictionary", ctypes.c_void_p), ("release", ctypes.c_void_p),
    ("private_data", ctypes.c_void_p),
]
_CAPSULE_POINTER = ctypes.pythonapi.PyCapsule_GetPointer
_CAPSULE_POINTER.restype, _CAPSULE_POINTER.argtypes = ctypes.c_void_p, [ctypes.py_object,
                                                                          ctypes.c_char_p]


def _shared(im: Image.Image) -> np.ndarray | None:
    """The canonical pixels of a loaded RGB or L picture as a read-only view of Pillow's own
    memory (no copy: packing RGBX to RGB cost 0.1-0.35 ms per 1 MP JPEG at the draft scale),
    or ``None`` when Pillow cannot share it (a picture in several blocks, Pillow < 11.2, another
    mode): the caller copies (``to_rgb``). Shared through Pillow's Arrow export, whose capsule
    keeps the memory alive, after ``close`` too, as long as the array lives.
    """
    mode, (width, height) = im.mode, im.size
    if mode not in ("RGB", "L") or width == 0 or height == 0:
        return None
    try:
        _, capsule = im.__arrow_c_array__()
    except (AttributeError, ValueError):  # older Pillow; rows in several blocks
        return None
    array = _ArrowArray.from_address(_CAPSULE_POINTER(capsule, b"arrow_array"))
    if mode == "RGB":  # fixed-size lists of 4 bytes (R, G, B, padding): the bytes are the child
        if array.n_children != 1:
            return None
        array = array.children[0].contents
    channels = 4 if mode == "RGB" else 1
    if array.n_buffers != 2 or array.offset != 0 or array.length != width * height * channels:
        return None
    memory = (ctypes.c_uint8 * array.length).from_address(array.buffers[1])
    memory.capsule = capsule  # released (Pillow's memory with it) when the array is
    pixels = np.frombuffer(memory, np.uint8)
    pixels.flags.writeable = False
    if mode == "L":
        return _grey_to_rgb(pixels.reshape(height, width))
    return pixels.reshape(height, width, 4)[:, :, :3]


def contiguous_rgb(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` as a C-contiguous ``H x W x 3`` array (itself when it is one), for code that
    needs one (OpenCV): Pillow's shared RGBX memory (``_shared``) loses its fourth byte in one
    vectorised pass, about 20x faster than numpy's strided copy of a 3-of-4-channel view."""
    if rgb.flags.c_contiguous:
        return rgb
    parent = rgbx_parent(rgb)
    if parent is not rgb:
        return cv2.cvtColor(parent, cv2.COLOR_RGBA2RGB)
    return np.ascontiguousarray(rgb)


def _strips(im: Image.Image) -> Iterator[tuple[int, Image.Image]]:
    """(top row, strip) of ``im``, each strip a few MiB (conversions are per pixel)."""
    width, height = im.size
    rows = max(1, _STRIP_BYTES // max(1, 4 * width))
    for top in range(0, height, rows):
        yield top, im.crop((0, top, width, min(height, top + rows)))


def _strip_copy(im: Image.Image, channels: int, convert) -> np.ndarray:
    width, height = im.size
    if width * height * 4 <= _STRIP_BYTES:  # one strip: converted at once, no crop
        return convert(im)
    out = np.empty((height, width, channels) if channels > 1 else (height, width), np.uint8)
    for top, strip in _strips(im):
        out[top:top + strip.size[1]] = convert(strip)
    return out


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.broadcast_to(grey[:, :, None], (*grey.shape, 3))


def _scale_to_8bit(im: Image.Image, *, is_float: bool) -> np.ndarray:
    """Map a single-channel int32/float32 picture of unknown range to uint8 (see module doc).

    Two passes over strips (the range, then the mapping); each value is computed in float64 as a
    whole-picture computation would, in place within its strip.
    """
    lo = hi = None
    for _, strip in _strips(im):
        v = np.asarray(strip)
        if v.size == 0:
            continue
        if is_float:  # NaN and infinities count as 0, as in the mapping below
            bad = ~np.isfinite(v)
            if bad.any():
                v = np.where(bad, np.float32(0), v)
        lo = float(v.min()) if lo is None else min(lo, float(v.min()))
        hi = float(v.max()) if hi is None else max(hi, float(v.max()))
    if lo is None or hi is None:  # an empty picture
        lo = hi = 0.0

    def scale(strip: Image.Image) -> np.ndarray:
        v = np.asarray(strip).astype(np.float64)
        np.nan_to_num(v, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        if is_float and lo >= 0.0 and hi <= 1.0:
            np.multiply(v, 255.0, out=v)
        elif lo >= 0.0 and hi <= 255.0:
            pass
        elif lo >= 0.0 and hi <= 65535.0:
            np.floor(np.divide(v, 256.0, out=v), out=v)
        else:
            np.multiply(np.subtract(v, lo, out=v), 255.0 / (hi - lo), out=v)
        return np.clip(np.rint(v, out=v), 0, 255, out=v).astype(np.uint8)

    return _strip_copy(im, 1, scale)
