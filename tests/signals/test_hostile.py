"""Hostile and broken input: every safety limit, and corrupt, truncated, empty, random or
mislabelled bytes. Whatever comes in, the result is a Fingerprint or a typed RempartError: never
a third-party exception, a crash or a hang."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import replace

import av
import numpy as np
import pytest
from PIL import Image

from rempart.errors import (
    CorruptMedia, InvalidInput, MediaLimitExceeded, NotFound, RempartError, UnsupportedMedia,
)
from rempart.signals import DEFAULT_LIMITS, Fingerprint, Limits, fingerprint, fingerprint_file
from rempart.signals.limits import Deadline
from rempart.signals.sniff import sniff
from tests.signals.signals_media import encode, make_video, scene

MIB = 1024 * 1024


def _limit(excinfo) -> str:
    return excinfo.value.limit


# ---------------------------------------------------------------- crafted headers, no pixels

def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height (its pixel data is a few bytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b""))


def _gif_declaring(width: int, height: int) -> bytes:
    """A GIF whose logical screen is width x height, holding one 1x1 frame."""
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0)
    image = b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return screen + image + b";"


@pytest.mark.parametrize("width, height", [
    (8_000, 8_000),        # 64 Mpx: over rempart's 50 Mpx, under Pillow's own thresholds
    (10_000, 10_000),      # 100 Mpx: Pillow's DecompressionBombWarning
    (20_000, 20_000),      # 400 Mpx: Pillow's DecompressionBombError
    (65_535, 65_535),      # the largest PNG/GIF header value that fits here
])
@pytest.mark.parametrize("craft", [_png_declaring, _gif_declaring])
def test_huge_declared_dimensions_are_refused_before_decoding(craft, width, height):
    data = craft(width, height)
    assert len(data) < 200
    with pytest.raises(MediaLimitExceeded) as excinfo:
        fingerprint(data)
    assert _limit(excinfo) == "pixels"
    assert excinfo.value.maximum == DEFAULT_LIMITS.max_pixels


def test_pixel_limit_is_configurable():
    data = encode(scene(1, (320, 240)), "PNG")
    with pytest.raises(MediaLimitExceeded) as excinfo:
        fingerprint(data, limits=Limits(max_pixels=320 * 240 - 1))
    assert (excinfo.value.limit, excinfo.value.value) == ("pixels", 320 * 240)
    assert fingerprint(data, limits=Limits(max_pixels=320 * 240)).pdq() is not None


def _gif_with_frames(n: int) -> bytes:
    colours = [(i * 37 % 256, i * 91 % 256, i * 53 % 256) for i in range(n)]
    frames = [Image.new("RGB", (4, 4), c) for c in colours]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=10)
    return buf.getvalue()


def test_too_many_animation_frames():
    data = _gif_with_frames(DEFAULT_LIMITS.max_frames + 1)
    with pytest.raises(MediaLimitExceeded) as excinfo:
        fingerprint(data)
    assert (_limit(excinfo), excinfo.value.value) == ("frames", DEFAULT_LIMITS.max_frames + 1)
    small = _gif_with_frames(5)
    assert len(fingerprint(small).frames) == 5
    with pytest.raises(MediaLimitExceeded):
        fingerprint(small, limits=Limits(max_frames=4))


def test_byte_limits():
    data = encode(scene(2), "PNG")
    with pytest.raises(MediaLimitExceeded) as excinfo:
        fingerprint(data, limits=Limits(max_image_bytes=len(data) - 1))
    assert (_limit(excinfo), excinfo.value.value) == ("bytes", len(data))
    # the image limit applies to images even when the video limit is larger
    assert fingerprint(data, limits=Limits(max_image_bytes=len(data), max_video_bytes=1)).kind == "image"


def test_oversized_files_are_refused_before_they_are_read(tmp_path):
    sparse = tmp_path / "huge.bin"
    with open(sparse, "wb") as f:
        f.truncate(DEFAULT_LIMITS.max_bytes + 1)  # sparse: no disk, and reading it would take long
    with pytest.raises(MediaLimitExceeded) as excinfo:
        fingerprint_file(sparse)
    assert _limit(excinfo) == "bytes"
    # a JPEG-looking file over the image limit but under the video limit: refused after 64 bytes
    jpeg = tmp_path / "big.jpg"
    with open(jpeg, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0" + b"\0" * 60)
        f.truncate(DEFAULT_LIMITS.max_image_bytes + 1)
    with pytest.raises(MediaLimitExceeded):
        fingerprint_file(jpeg)
    with pytest.raises(NotFound):
        fingerprint_file(tmp_path / "missing.png")


def test_decode_time_budget():
    with pytest.raises(MediaLimitExceeded) as excinfo:
        fingerprint(encode(scene(3), "PNG"), limits=Limits(decode_seconds=0))
    assert _limit(excinfo) == "decode_seconds"
    with pytest.raises(MediaLimitExceeded) as excinfo:
        fingerprint(make_video("mp4", seconds=2), limits=Limits(decode_seconds=0))
    assert _limit(excinfo) == "decode_seconds"


def test_compiling_the_kernels_is_not_counted_as_decoding(monkeypatch):
    # a machine with an empty numba cache compiles on the first upload; on a loaded one that
    # took 41 s and the upload failed as a decoding bomb (decode_seconds)
    import importlib
    import time

    fingerprint_module = importlib.import_module("rempart.signals.fingerprint")  # not the function
    monkeypatch.setattr(fingerprint_module, "load_kernels", lambda: time.sleep(0.6))
    assert fingerprint(encode(scene(3), "JPEG"), limits=Limits(decode_seconds=0.5)).pdq() is not None


def test_deadline_uses_its_clock():
    now = [100.0]
    deadline = Deadline(5.0, clock=lambda: now[0])
    now[0] = 105.0
    deadline.check()  # exactly on budget is fine
    now[0] = 105.5
    with pytest.raises(MediaLimitExceeded) as excinfo:
        deadline.check()
    assert (excinfo.value.value, excinfo.value.maximum) == (5.5, 5.0)


def test_video_limits():
    clip = make_video("mp4", seconds=3, fps=10)
    with pytest.raises(MediaLimitExceeded) as excinfo:
        fingerprint(clip, limits=Limits(max_video_seconds=2))
    assert _limit(excinfo) == "seconds"
    with pytest.raises(MediaLimitExceeded) as excinfo:
        fingerprint(clip, limits=Limits(max_pixels=160 * 120 - 1))
    assert _limit(excinfo) == "pixels"
    with pytest.raises(MediaLimitExceeded) as excinfo:
        fingerprint(clip, limits=Limits(max_video_bytes=len(clip) - 1))
    assert _limit(excinfo) == "bytes"


def test_limits_are_validated():
    with pytest.raises(InvalidInput):
        Limits(max_pixels=-1)
    with pytest.raises(InvalidInput):
        Limits(decode_seconds="soon")
    assert replace(DEFAULT_LIMITS, max_frames=10).max_frames == 10
    with pytest.raises(InvalidInput):
        fingerprint("not bytes")


# ---------------------------------------------------------------- broken bytes

def _outcome(data: bytes):
    """Fingerprint or the RempartError raised; anything else fails the test."""
    try:
        return fingerprint(data)
    except RempartError as exc:
        return exc


def test_empty_and_random_bytes():
    with pytest.raises(UnsupportedMedia):
        fingerprint(b"")
    rng = np.random.default_rng(0)
    for _ in range(50):
        data = rng.bytes(int(rng.integers(1, 4000)))
        assert isinstance(_outcome(data), UnsupportedMedia)
    with pytest.raises(UnsupportedMedia):
        fingerprint(b"hello, this is a text file that claims to be a picture")


@pytest.mark.parametrize("magic", [
    b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"RIFF\0\0\0\0WEBPVP8 ",
    b"BM\0\0\0\0\0\0\0\0\0\0\0\0", b"II*\0", b"MM\0*",
    b"\0\0\0\x18ftypisom", b"\0\0\0\x14ftypqt  ", b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm",
])
def test_valid_magic_then_garbage_is_corrupt(magic):
    rng = np.random.default_rng(1)
    for size in (0, 10, 1000):
        result = _outcome(magic + rng.bytes(size))
        assert isinstance(result, (CorruptMedia, UnsupportedMedia, MediaLimitExceeded)), result


def test_non_webm_matroska_is_unsupported():
    with pytest.raises(UnsupportedMedia):
        sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"])
def test_truncated_and_bit_flipped_images_never_crash(fmt):
    data = encode(scene(4, (64, 48)), fmt)
    for cut in sorted({1, 8, 16, 32, len(data) // 4, len(data) // 2, len(data) - 1}):
        assert isinstance(_outcome(data[:cut]), (Fingerprint, CorruptMedia, UnsupportedMedia))
    rng = np.random.default_rng(2)
    for _ in range(40):
        mutated = bytearray(data)
        for pos in rng.integers(0, len(data), size=4):
            mutated[pos] = int(rng.integers(0, 256))
        assert isinstance(_outcome(bytes(mutated)), (Fingerprint, RempartError))


def test_truncated_jpeg_is_corrupt():
    data = encode(scene(5), "JPEG")
    with pytest.raises(CorruptMedia):
        fingerprint(data[: len(data) // 2])


def test_mislabelled_files_are_detected_from_their_bytes(tmp_path):
    png_named_jpg = tmp_path / "photo.jpg"
    png_named_jpg.write_bytes(encode(scene(6), "PNG"))
    assert fingerprint_file(png_named_jpg).format == "png"
    video_named_png = tmp_path / "clip.png"
    video_named_png.write_bytes(make_video("webm", seconds=1))
    assert fingerprint_file(video_named_png).kind == "video"
    text_named_jpg = tmp_path / "notes.jpg"
    text_named_jpg.write_text("not a picture")
    with pytest.raises(UnsupportedMedia):
        fingerprint_file(text_named_jpg)


def test_broken_videos_never_crash():
    clip = make_video("mp4", seconds=2, fps=10)
    for cut in (16, 100, len(clip) // 3, len(clip) // 2, len(clip) - 10):
        assert isinstance(_outcome(clip[:cut]), (Fingerprint, CorruptMedia, UnsupportedMedia))
    rng = np.random.default_rng(3)
    for _ in range(15):
        mutated = bytearray(clip)
        for pos in rng.integers(64, len(clip), size=8):
            mutated[pos] = int(rng.integers(0, 256))
        assert isinstance(_outcome(bytes(mutated)), (Fingerprint, RempartError))


def test_audio_only_file_is_unsupported():
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with pytest.raises(UnsupportedMedia):
        fingerprint(buf.getvalue())
