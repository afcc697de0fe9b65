"""The public surface of rempart.signals, pinned: other packages import only these names."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

import rempart.signals as signals
from rempart.errors import UnsupportedMedia
from rempart.signals.sniff import sniff


def test_exported_names():
    assert set(signals.__all__) == {
        # signal types (rempart.signals.types)
        "EXACT_TYPES", "MD5", "PDQ", "SHA1", "SHA256", "SIGNAL_TYPES", "SignalType",
        "signal_type", "validate_signal",
        # fingerprinting
        "DEFAULT_LIMITS", "DIHEDRAL_NAMES", "IMAGE_FORMATS", "LOW_QUALITY", "VARIANT_NAMES",
        "DEFAULT_THRESHOLD",
        "VIDEO_FORMATS", "Fingerprint", "FrameHash", "Limits", "VideoComparison",
        "compare_videos", "fingerprint", "fingerprint_file", "hamming", "query_variants",
        # the decode memory budget a server shares between uploads (rempart.signals.budget)
        "MemoryBudget", "return_freed_memory",
    }
    for name in signals.__all__:
        assert getattr(signals, name) is not None


def test_value_types_are_frozen_dataclasses():
    for cls in (signals.FrameHash, signals.Fingerprint, signals.Limits, signals.VideoComparison):
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    frame = signals.FrameHash(None, "0" * 64, 49)
    assert frame.low_quality and not signals.FrameHash(None, "0" * 64, 50).low_quality
    with pytest.raises(dataclasses.FrozenInstanceError):
        frame.quality = 100


def test_signatures():
    assert list(inspect.signature(signals.fingerprint).parameters) == [
        "data", "limits", "jpeg_draft", "budget", "timings", "bank"]
    assert list(inspect.signature(signals.fingerprint_file).parameters) == [
        "path", "limits", "jpeg_draft", "bank"]
    assert inspect.signature(signals.fingerprint).parameters["bank"].default is False
    params = inspect.signature(signals.compare_videos).parameters
    assert params["distance"].default == 31 and params["quality_min"].default == 50
    assert signals.VARIANT_NAMES == (
        "rot90", "rot180", "rot270", "flipx", "flipy", "transpose", "transverse", "trim",
        "peel", "box", "straight")


def test_default_limits():
    limits = signals.DEFAULT_LIMITS
    assert (limits.max_image_bytes, limits.max_video_bytes) == (64 << 20, 512 << 20)
    assert (limits.max_pixels, limits.max_frames) == (50_000_000, 1_000)
    assert limits.max_total_pixels == 400_000_000
    assert (limits.max_video_seconds, limits.decode_seconds) == (3600.0, 30.0)


@pytest.mark.parametrize("head, kind, fmt", [
    (b"\xff\xd8\xff\xdb", "image", "jpeg"),
    (b"\x89PNG\r\n\x1a\n\0\0", "image", "png"),
    (b"GIF87a", "image", "gif"),
    (b"RIFF\x10\0\0\0WEBPVP8L", "image", "webp"),
    (b"BM\x36\0\0\0\0\0\0\0\x36\0\0\0", "image", "bmp"),
    (b"II*\0\x08\0\0\0", "image", "tiff"),
    (b"MM\0*\0\0\0\x08", "image", "tiff"),
    (b"\0\0\0\x20ftypisom\0\0\2\0", "video", "mp4"),
    (b"\0\0\0\x14ftypqt  \0\0\2\0", "video", "mov"),
    (b"\0\0\0\x08wide\0\0\0\0mdat", "video", "mov"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video", "webm"),
])
def test_sniff_table(head, kind, fmt):
    media = sniff(head)
    assert (media.kind, media.format) == (kind, fmt)


@pytest.mark.parametrize("head", [b"", b"BM", b"BMxxxxxxxxxxxxxx", b"RIFF\0\0\0\0AVI ", b"%PDF-1.7", b"\0" * 64])
def test_sniff_rejects(head):
    with pytest.raises(UnsupportedMedia):
        sniff(head)
