"""Fewer copies, same hashes: PDQ from the numba kernels (and from the fallback's strip-computed
luma) is bit for bit pdqhash's, and strip-by-strip conversions, the uint8 border test and the
numba border scan give what whole-picture code gave."""

from __future__ import annotations

import numpy as np
import pdqhash
import pytest
from PIL import Image

from rempart.demo.hostile import float_tiff, grey_png
from rempart.signals import fingerprint
from rempart.signals.decode import to_rgb
from rempart.signals.pdq import bits_to_hex, float_luma, pdq_dihedral, pdq_hash
from rempart.signals.trim import DEFAULT_TRIM, _border_fraction


def _reference(rgb: np.ndarray) -> tuple[list[str], int]:
    hashes, quality = pdqhash.compute_dihedral(np.ascontiguousarray(rgb))
    return [bits_to_hex(b) for b in hashes], int(quality)


def test_pdq_from_our_luma_is_bit_exact_with_pdqhash_on_any_strides():
    rng = np.random.default_rng(7)
    for size in [(5, 5), (37, 1000), (480, 360), (1001, 777)]:
        rgb = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        grey = np.broadcast_to(rng.integers(0, 256, (*size, 1), dtype=np.uint8), (*size, 3))
        padded = rng.integers(0, 256, (*size, 4), dtype=np.uint8)[:, :, :3]  # Pillow's RGBX
        for picture in (rgb, rgb[::-1, ::2], rgb.transpose(1, 0, 2), grey, grey[:, ::-1], padded,
                        padded[::-1]):
            hashes, quality = pdq_dihedral(picture)
            assert (list(hashes.values()), quality) == _reference(picture)
            assert pdq_hash(picture) == (hashes["original"], quality)


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_decoded_pixels_are_pillow_s_memory_shared_read_only(mode):
    """The last frame's pixels are a read-only view of Pillow's picture, not a copy: the same
    values as converting, hashed the same, and still valid once Pillow's picture is closed."""
    import gc
    import io

    from rempart.signals.decode import contiguous_rgb, decode_frames, encode_jpeg
    from rempart.signals.limits import DEFAULT_LIMITS, Deadline

    rgb = _photo_like(np.random.default_rng(5), 300, 410)
    data = encode_jpeg(rgb if mode == "RGB" else rgb[:, :, 1])
    (frame,) = decode_frames(data, "jpeg", DEFAULT_LIMITS, Deadline(30.0))
    gc.collect()
    scratch = [np.full(1 << 20, 7, np.uint8) for _ in range(8)]  # reuses freed memory, if any
    assert not frame.rgb.flags.writeable and not frame.rgb.flags.owndata
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert np.array_equal(frame.rgb, expected)
    if mode == "RGB":
        assert frame.rgb.strides == (4 * 410, 4, 1)  # RGBX, seen without the padding byte
    assert pdq_dihedral(frame.rgb) == pdq_dihedral(np.ascontiguousarray(frame.rgb))
    dense = contiguous_rgb(frame.rgb)  # what OpenCV is given (stage 1's working copy)
    assert dense.flags.c_contiguous and np.array_equal(dense, expected)
    del scratch


def test_luma_is_pdqhash_s_float64_arithmetic_rounded_to_float32():
    rgb = np.random.default_rng(8).integers(0, 256, (300, 200, 3), dtype=np.uint8)
    expected = (rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114).astype("float32")
    assert np.array_equal(float_luma(rgb), expected)
    grey = np.broadcast_to(rgb[:, :, :1], rgb.shape)
    expected = (grey[:, :, 0] * 0.299 + grey[:, :, 1] * 0.587 + grey[:, :, 2] * 0.114)
    assert np.array_equal(float_luma(grey), expected.astype("float32"))


@pytest.mark.parametrize("mode", ["RGB", "L", "P", "1", "LA", "La", "RGBA", "CMYK", "YCbCr",
                                  "I;16", "I", "F"])
def test_strip_conversion_gives_the_whole_picture_conversion(mode, monkeypatch):
    import rempart.signals.decode as decode

    rgb = np.random.default_rng(9).integers(0, 256, (301, 203, 3), dtype=np.uint8)
    picture = Image.fromarray(rgb)
    picture = {"I;16": lambda: Image.fromarray((rgb[:, :, 0].astype(np.uint16) * 257)),
               "I": lambda: Image.fromarray(rgb[:, :, 1].astype(np.int32) * 1000 - 7),
               "F": lambda: Image.fromarray(rgb[:, :, 2].astype(np.float32) / 255),
               "La": lambda: picture.convert("LA").convert("La")}.get(mode, lambda: picture.convert(mode))()
    whole = np.array(to_rgb(picture))
    monkeypatch.setattr(decode, "_STRIP_BYTES", 4096)  # many strips of a few rows
    assert np.array_equal(np.array(to_rgb(picture)), whole)
    if mode not in ("I;16", "I", "F"):
        assert np.array_equal(whole, np.asarray(picture.convert("LA").convert("RGB") if mode == "La"
                                                else picture.convert("RGB")))


def test_border_fraction_in_uint8_is_the_int16_formula():
    rng = np.random.default_rng(10)
    for edge in ([0, 0, 0], [255, 255, 255], [10, 200, 250], [128, 20, 240]):
        edge = np.array(edge, dtype=np.int16)
        block = rng.integers(0, 256, (16, 50, 3), dtype=np.uint8)
        block[:, ::3] = np.clip(edge + rng.integers(-30, 30, (16, 17, 3)), 0, 255)
        expected = (np.abs(block.astype(np.int16) - edge).max(axis=2)
                    <= DEFAULT_TRIM.tolerance).mean(axis=1)
        assert np.array_equal(_border_fraction(block, edge, DEFAULT_TRIM), expected)
        grey = np.broadcast_to(block[:, :, :1], block.shape)
        expected = (np.abs(grey.astype(np.int16) - edge[0]).max(axis=2)
                    <= DEFAULT_TRIM.tolerance).mean(axis=1)
        assert np.array_equal(_border_fraction(grey, np.full(3, edge[0]), DEFAULT_TRIM), expected)


def test_flat_hostile_pictures_hash_as_before():
    # what main's whole-picture code gave for these (PDQ of a flat picture: quality 0)
    png, tiff = fingerprint(grey_png(700, 500, 0)), fingerprint(float_tiff(700, 500, 0.5))
    assert (png.pdq().pdq, png.pdq().quality) == ("0" * 64, 0)
    rgb = np.full((500, 700, 3), 128, np.uint8)  # 0.5 in 0..1 scales to 127.5 -> 128
    assert tiff.pdq().pdq == _reference(rgb)[0][0]


def test_the_entry_points_are_in_use_and_the_fallbacks_give_the_same_hashes(monkeypatch):
    import rempart.signals.pdq as pdq

    assert pdq._fast() is not None  # the numba kernels loaded and passed their probes
    assert pdq._REFERENCE is not None and pdq.HASH_BYTES_PER_PIXEL == 8  # not the 35 B/px path
    rgb = np.random.default_rng(11).integers(0, 256, (120, 90, 3), dtype=np.uint8)[::-1]
    fast = pdq_dihedral(rgb)
    monkeypatch.setattr(pdq, "_FAST", [None])  # no numba: Meta's C++ on our strip luma
    assert pdq_dihedral(rgb) == fast and pdq_hash(rgb) == (fast[0]["original"], fast[1])
    monkeypatch.setattr(pdq, "_REFERENCE", None)  # another pdqhash build: its own functions
    assert pdq_dihedral(rgb) == fast and pdq_hash(rgb) == (fast[0]["original"], fast[1])


def _photo_like(rng, rows: int, cols: int) -> np.ndarray:
    """Smooth gradients and blobs plus noise: medians and box sums like a photo's."""
    y, x = np.mgrid[0:rows, 0:cols]
    base = np.stack([(x * 255 // max(1, cols - 1)), (y * 255 // max(1, rows - 1)),
                     ((x + y) % 97) * 2], axis=2)
    noise = rng.integers(-20, 21, (rows, cols, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("size", [(5, 5), (4, 300), (300, 4), (64, 64), (63, 65), (128, 128),
                                  (129, 257), (1080, 1920), (3024, 4032)])
def test_numba_kernels_are_bit_exact_with_pdqhash(size):
    """The fast path's hashes and quality equal pdqhash's for every size class, including
    PDQ's special cases (under 5 pixels: zero hash; exactly 64 x 64), and for views."""
    rng = np.random.default_rng(sum(size))
    rgb = _photo_like(rng, *size)
    pictures = [rgb, rgb[::-1, ::-1]]
    if size[0] * size[1] < 1 << 21:
        pictures += [rgb.transpose(1, 0, 2), np.broadcast_to(rgb[:, :, :1], rgb.shape)]
    for picture in pictures:
        hashes, quality = pdq_dihedral(picture)
        if min(size) < 5:
            assert (set(hashes.values()), quality) == ({"0" * 64}, 0)
            continue
        assert (list(hashes.values()), quality) == _reference(picture)
        bits, single_quality = pdqhash.compute(np.ascontiguousarray(picture))
        assert pdq_hash(picture) == (bits_to_hex(bits), int(single_quality))


def test_the_numba_border_scan_is_the_numpy_one():
    from rempart.signals import _kernels
    from rempart.signals.trim import _edge_run

    rng, rule, runs = np.random.default_rng(12), DEFAULT_TRIM, []
    for k in range(300):
        rows, cols = (int(v) for v in rng.integers(3, 120, 2))
        a = rng.integers(0, 256, (rows, cols, 3), dtype=np.uint8)
        if k % 3:  # bars of one colour, sometimes noisy
            colour, top, left = rng.integers(0, 256, 3), rng.integers(0, rows // 3 + 1), \
                rng.integers(0, cols // 3 + 1)
            a[:top], a[:, :left] = colour, colour
            if k % 2:
                a = np.clip(a.astype(int) + rng.integers(-30, 30, a.shape), 0, 255).astype(np.uint8)
        if k % 4 == 0:  # padding around a near-white page: the border stops at the step
            pad = int(rng.integers(1, rows // 2 + 1))
            a[:pad], a[pad:] = 255, 255 - int(rng.integers(3, 12))
        if k % 5 == 0:
            a = np.broadcast_to(a[:, :, :1], a.shape)
        for lines in (a, a.transpose(1, 0, 2), a[::-1]):
            expected = _edge_run(lines, rule)
            runs.append(expected)
            assert _kernels.edge_run(lines, rule.tolerance, rule.min_fraction, rule.blur_lines,
                                     rule.blur_fraction, rule.step) == expected
    assert sum(r > 0 for r in runs) > 100  # bordered lines were exercised
