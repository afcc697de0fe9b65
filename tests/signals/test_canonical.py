"""Canonicalisation before hashing: EXIF orientation, colour modes, every animation frame, borders."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from rempart.signals import fingerprint, hamming, query_variants
from rempart.signals.decode import to_rgb
from rempart.signals.pdq import pdq_hash
from rempart.signals.trim import content_box
from tests.signals.signals_media import encode, scene


def _grey_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[:, :, None], 3, axis=2)


# ---------------------------------------------------------------- EXIF orientation

@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation):
    stored = Image.fromarray(scene(orientation, (240, 160)))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    stored.save(buf, "JPEG", quality=95, exif=exif)
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue()))).convert("RGB")
    fp = fingerprint(buf.getvalue())
    assert fp.pdq().pdq == pdq_hash(np.asarray(upright))[0]
    assert (fp.width, fp.height) == upright.size == ((160, 240) if orientation >= 5 else (240, 160))


def test_broken_exif_is_ignored_not_fatal():
    data = encode(scene(3), "JPEG")
    # an APP1 "Exif" segment with garbage inside, right after SOI
    garbage = b"Exif\0\0" + b"MM\0*\0\0\0\x08\xff\xff" + b"\x13" * 20
    broken = data[:2] + b"\xff\xe1" + struct.pack(">H", len(garbage) + 2) + garbage + data[2:]
    assert fingerprint(broken).pdq().pdq == fingerprint(data).pdq().pdq


# ---------------------------------------------------------------- colour modes

def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_rgb16(rgb8: np.ndarray) -> bytes:
    """A 16-bit-per-channel RGB PNG whose samples are the 8-bit ones times 257."""
    h, w, _ = rgb8.shape
    samples = (rgb8.astype(">u2") * 257).reshape(h, w * 3)
    raw = b"".join(b"\0" + row.tobytes() for row in samples)
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(raw)) + _png_chunk(b"IEND", b""))


def test_16_bit_rgb_png_keeps_the_high_byte():
    rgb = scene(11)
    assert fingerprint(_png_rgb16(rgb)).pdq().pdq == pdq_hash(rgb)[0]


def test_16_bit_grey_png():
    grey = scene(12)[:, :, 1]
    data = encode((grey.astype(np.uint16) * 257), "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    assert fingerprint(data).pdq().pdq == pdq_hash(_grey_rgb(grey))[0]


@pytest.mark.parametrize("values, dtype", [
    (lambda g: g / 255.0, np.float32),           # float 0..1
    (lambda g: g * 1.0, np.float32),             # float 0..255
    (lambda g: g * 257, np.int32),               # 32-bit int holding 16-bit samples
    (lambda g: g * 1, np.int32),                 # 32-bit int holding 8-bit samples
])
def test_float_and_32_bit_tiff(values, dtype):
    grey = scene(13)[:, :, 0]
    data = encode(values(grey.astype(np.float64)).astype(dtype), "TIFF")
    assert Image.open(io.BytesIO(data)).mode in ("F", "I")
    assert hamming(fingerprint(data).pdq().pdq, pdq_hash(_grey_rgb(grey))[0]) <= 2


def test_cmyk_lab_hsv_la_and_palette_convert_to_the_same_picture():
    rgb = scene(14)
    reference = pdq_hash(rgb)[0]
    im = Image.fromarray(rgb)
    srgb, lab = ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB")
    converted = {
        "CMYK": im.convert("CMYK"),
        "LAB": ImageCms.applyTransform(im, ImageCms.buildTransform(srgb, lab, "RGB", "LAB")),
        "HSV": im.convert("HSV"),
        "RGBA": im.convert("RGBA"),
        "P": im.convert("P", palette=Image.ADAPTIVE, colors=256),
        "YCbCr": im.convert("YCbCr"),
    }
    for mode, picture in converted.items():
        assert picture.mode == mode
        # an adaptive 256-colour palette costs a few more bits than the continuous modes
        assert hamming(pdq_hash(to_rgb(picture))[0], reference) <= (16 if mode == "P" else 8), mode
    grey = im.convert("L")
    la = grey.convert("LA").convert("La")
    assert la.mode == "La"
    assert hamming(pdq_hash(to_rgb(la))[0], pdq_hash(to_rgb(grey))[0]) <= 2
    # and through files: CMYK TIFF, palette PNG with transparency
    for fmt in ("TIFF", "JPEG"):
        buf = io.BytesIO()
        converted["CMYK"].save(buf, fmt)
        assert hamming(fingerprint(buf.getvalue()).pdq().pdq, reference) <= 8, fmt
    p = converted["P"]
    p.info["transparency"] = 0
    buf = io.BytesIO()
    p.save(buf, "PNG", transparency=0)
    assert hamming(fingerprint(buf.getvalue()).pdq().pdq, reference) <= 16


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF"])
def test_every_image_format(fmt):
    rgb = scene(15)
    fp = fingerprint(encode(rgb, fmt))
    assert fp.kind == "image" and fp.format == fmt.lower().replace("jpg", "jpeg")
    assert (fp.width, fp.height) == (320, 240)
    assert hamming(fp.pdq().pdq, pdq_hash(rgb)[0]) <= 16  # lossy formats and GIF's palette


# ---------------------------------------------------------------- animations

def _animation(fmt: str, n: int, duration_ms: int = 100) -> tuple[bytes, list[np.ndarray]]:
    frames = [scene(100 + i) for i in range(n)]
    buf = io.BytesIO()
    first, *rest = [Image.fromarray(f) for f in frames]
    first.save(buf, fmt, save_all=True, append_images=rest, duration=duration_ms, loop=0)
    return buf.getvalue(), frames


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_every_frame_of_an_animation_is_hashed(fmt):
    data, frames = _animation(fmt, 5)
    fp = fingerprint(data)
    assert len(fp.frames) == 5
    for got, pixels in zip(fp.frames, frames):
        assert hamming(got.pdq, pdq_hash(pixels)[0]) <= 31
    assert [f.t for f in fp.frames] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    for a, b in zip(fp.frames, fp.frames[1:]):
        assert hamming(a.pdq, b.pdq) > 31  # distinct scenes: each frame really is decoded
    out = fp.to_json("anim")
    assert [f["pdq"] for f in out["frames"]] == [f.pdq for f in fp.frames]
    names = [n for n, _ in query_variants(fp)]
    assert "original@4" in names and "flipy@4" in names and "original" not in names


def test_still_image_json_contract():
    fp = fingerprint(encode(scene(16), "PNG"))
    assert set(fp.to_json("a.png")) == {"file", "sha256", "md5", "sha1", "pdq", "pdq_quality"}
    assert fp.to_json("a.png")["pdq"] == fp.pdq().pdq


# ---------------------------------------------------------------- borders

def _pad(rgb: np.ndarray, top: int, bottom: int, left: int, right: int, colour) -> np.ndarray:
    h, w, _ = rgb.shape
    out = np.empty((h + top + bottom, w + left + right, 3), np.uint8)
    out[:] = colour
    out[top:top + h, left:left + w] = rgb
    return out


@pytest.mark.parametrize("fmt, colour, bars", [
    ("PNG", (0, 0, 0), (60, 60, 0, 0)),          # letterbox
    ("JPEG", (255, 255, 255), (0, 0, 90, 90)),   # pillarbox, with JPEG noise at the edges
    ("JPEG", (40, 40, 40), (24, 50, 8, 70)),     # uneven padding on all sides
])
def test_border_trim_recovers_the_original(fmt, colour, bars):
    rgb = scene(17)
    original = pdq_hash(rgb)[0]
    padded = fingerprint(encode(_pad(rgb, *bars, colour), fmt, **({"quality": 85} if fmt == "JPEG" else {})))
    assert hamming(padded.pdq().pdq, original) > 31  # the bars alone defeat plain PDQ
    trimmed = dict(query_variants(padded))["trim"]
    assert hamming(trimmed, original) <= 12


def test_no_border_no_trim_variant():
    fp = fingerprint(encode(scene(18), "PNG"))
    assert "trim" not in dict(query_variants(fp))
    assert fp.variant("trim") == fp.frames


def test_content_box_with_noisy_bars():
    rng = np.random.default_rng(1)
    rgb = _pad(scene(19, (100, 80)), 30, 10, 5, 0, (0, 0, 0)).astype(np.int16)
    rgb[:30] += rng.integers(0, 12, size=rgb[:30].shape, dtype=np.int16)  # compression noise
    assert content_box(np.clip(rgb, 0, 255).astype(np.uint8)) == (30, 110, 5, 105)


def test_blurred_transition_lines_are_trimmed_but_no_more():
    rgb = _pad(scene(20, (100, 80)), 20, 0, 0, 0, (0, 0, 0))
    rgb[20:] = np.maximum(rgb[20:], 60)  # picture lines are clearly not border
    # a blurred line between the bar and the picture: 70% still border-coloured
    rgb[19, :70] = 10
    rgb[19, 70:] = rgb[20, 70:]
    assert content_box(rgb)[0] == 20


def test_never_trims_to_nothing():
    flat = np.full((100, 100, 3), 128, np.uint8)
    assert content_box(flat) is None
    assert content_box(np.full((800, 1000, 3), 7, np.uint8)) is None
    sky = np.full((400, 300, 3), 200, np.uint8)
    sky[300:] = scene(21, (300, 100))  # three quarters flat: a picture of sky, not a frame
    assert content_box(sky) is None
    dot = flat.copy()
    dot[50:53, 50:53] = 255  # almost uniform: the content left would be a speck
    assert content_box(dot) is None
    assert "trim" not in dict(query_variants(fingerprint(encode(dot, "PNG"))))
    assert content_box(np.zeros((2, 2, 3), np.uint8)) is None
