"""The upload path's fingerprinting: bytes in, ``Fingerprint`` out.

    fingerprint(data)      sniff the type from the bytes -> exact hashes (SHA-256, MD5, SHA-1 of
                           the original bytes) -> decode + canonicalise (``decode`` / ``video``)
                           -> per frame: PDQ and its 8 dihedral variants (one PDQ computation),
                           plus PDQ of the frame with its borders trimmed (``trim``)
    query_variants(fp)     the (name, hex) pairs a query looks up to catch flips, rotations and
                           letterbox / padding

Images hash every frame; videos one frame per second (vPDQ sampling, see ``video``). Variants of
video frames are computed too: a mirrored re-upload is a common evasion.

Cost: what decoding and hashing will hold is estimated from the headers and reserved from the
caller's ``MemoryBudget`` (``rempart.signals.budget``) before a pixel is decoded; a process that
shares no budget (the CLI) passes none.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable
from contextlib import closing

import numpy as np

from rempart.errors import InvalidInput, InvariantViolation, NotFound
from rempart.signals.budget import UNLIMITED, MemoryBudget
from rempart.signals.decode import decode_frames
from rempart.signals.limits import DEFAULT_LIMITS, Deadline, Limits
from rempart.signals.model import VARIANT_NAMES, FrameHash, Fingerprint
from rempart.signals.pdq import DIHEDRAL_NAMES, pdq_dihedral, pdq_hash
from rempart.signals.sniff import SNIFF_BYTES, MediaType, sniff
from rempart.signals.trim import trim
from rempart.signals.video import decode_video


def fingerprint(
    data: bytes, *, limits: Limits = DEFAULT_LIMITS, jpeg_draft: int | None = None,
    budget: MemoryBudget = UNLIMITED, timings: dict[str, float] | None = None,
) -> Fingerprint:
    """Fingerprint one media file given as bytes.

    ``timings``, when given, gains the seconds spent decoding (``decode``: sniffing, the exact
    hashes, decoding pixels) and hashing them (``hash``: PDQ of every frame and variant).

    ``jpeg_draft`` (off by default) decodes JPEGs at a reduced DCT scale keeping both sides at
    least that many pixels: faster on large photos, but PDQ is then a few bits off the reference
    (see ``rempart.signals.decode``). The exact hashes (SHA-256, MD5, SHA-1) are unaffected.

    ``budget``: decoding waits for its estimated cost there (see the module docstring).

    Raises ``UnsupportedMedia`` (empty, unknown type, no video stream), ``CorruptMedia`` (a known
    type that does not decode), ``MediaLimitExceeded`` (see ``limits``; "memory" when the cost
    exceeds the whole budget) or ``Overloaded`` (the budget stayed spent while waiting);
    ``InvalidInput`` when ``data`` is not bytes-like.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidInput(f"fingerprint expects bytes, got {type(data).__name__}")
    start = time.perf_counter()
    spent = {"hash": 0.0}
    try:
        return _fingerprint(bytes(data), limits, jpeg_draft, budget, spent)
    finally:
        if timings is not None:
            timings["hash"] = timings.get("hash", 0.0) + spent["hash"]
            timings["decode"] = (timings.get("decode", 0.0) + time.perf_counter() - start
                                 - spent["hash"])


def _fingerprint(data: bytes, limits: Limits, jpeg_draft: int | None, budget: MemoryBudget,
                 spent: dict[str, float]) -> Fingerprint:
    limits.check_bytes(len(data))
    media = sniff(data[:SNIFF_BYTES])
    limits.check_bytes(len(data), media.kind)
    deadline = Deadline(limits.decode_seconds)
    exact = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "sha1": hashlib.sha1(data, usedforsecurity=False).hexdigest(),
    }
    if media.kind == "image":
        return _image(data, media, exact, limits, deadline, jpeg_draft, budget, spent)
    return _video(data, media, exact, limits, deadline, budget, spent)


def fingerprint_file(
    path: str | os.PathLike, *, limits: Limits = DEFAULT_LIMITS, jpeg_draft: int | None = None
) -> Fingerprint:
    """Fingerprint the file at ``path``, refusing an oversized file before reading it all.

    The size is checked from ``stat`` before reading, the type from the first bytes, then at most
    the kind's byte limit plus one byte is read (a file that grows, or a pipe, cannot exceed it).
    Raises ``NotFound`` when there is no such file, and whatever ``fingerprint`` raises.
    """
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise NotFound("file", os.fspath(path)) from None
    with f:
        size = os.fstat(f.fileno()).st_size
        limits.check_bytes(size)
        head = f.read(SNIFF_BYTES)
        media = sniff(head)
        limits.check_bytes(size, media.kind)
        cap = limits.max_image_bytes if media.kind == "image" else limits.max_video_bytes
        data = head + f.read(max(0, cap + 1 - len(head)))
    limits.check_bytes(len(data), media.kind)
    return fingerprint(data, limits=limits, jpeg_draft=jpeg_draft)


def query_variants(fp: Fingerprint) -> list[tuple[str, str]]:
    """The ``(variant name, pdq hex)`` pairs to look up when ``fp`` is a query.

    Names: "original", "rot90", "rot180", "rot270", "flipx", "flipy", "transpose", "transverse"
    (see ``rempart.signals.pdq``) and "trim" (the frame with its borders removed; listed only for
    frames that had a border). A single-frame image gives plain names; for multi-frame media
    (animations, videos) every name carries the frame's index: "rot90@3". Frames are in order,
    variants in the order above; low-quality hashes are included (the caller filters on quality).
    """
    multi = len(fp.frames) > 1
    table = [("original", fp.frames), *fp.variants]
    out: list[tuple[str, str]] = []
    for index, frame in enumerate(fp.frames):
        for name, hashes in table:
            value = hashes[index].pdq
            if name == "trim" and value == frame.pdq:
                continue  # no border on this frame
            out.append((f"{name}@{index}" if multi else name, value))
    return out


class _FrameHasher:
    """Accumulates the hashes of each frame and of its variants, aligned by frame."""

    def __init__(self, spent: dict[str, float] | None = None) -> None:
        self.spent = spent if spent is not None else {"hash": 0.0}
        self.frames: list[FrameHash] = []
        self.variants: dict[str, list[FrameHash]] = {name: [] for name in VARIANT_NAMES}

    def add(self, rgb: np.ndarray, t: float | None) -> None:
        start = time.perf_counter()
        try:
            self._add(rgb, t)
        finally:
            self.spent["hash"] += time.perf_counter() - start

    def _add(self, rgb: np.ndarray, t: float | None) -> None:
        hashes, quality = pdq_dihedral(rgb)
        for name in DIHEDRAL_NAMES:
            target = self.frames if name == "original" else self.variants[name]
            target.append(FrameHash(t, hashes[name], quality))
        trimmed = trim(rgb)
        if trimmed is None:
            self.variants["trim"].append(self.frames[-1])
        else:
            value, trimmed_quality = pdq_hash(trimmed)
            self.variants["trim"].append(FrameHash(t, value, trimmed_quality))

    def variant_table(self) -> tuple[tuple[str, tuple[FrameHash, ...]], ...]:
        for name, hashes in self.variants.items():
            if len(hashes) != len(self.frames):
                raise InvariantViolation(
                    f"variant {name} has {len(hashes)} frames, not {len(self.frames)}"
                )
        return tuple((name, tuple(hashes)) for name, hashes in self.variants.items())


def _image(
    data: bytes, media: MediaType, exact: dict, limits: Limits, deadline: Deadline,
    jpeg_draft: int | None, budget: MemoryBudget, spent: dict[str, float],
) -> Fingerprint:
    hasher = _FrameHasher(spent)
    starts: list[float] = []
    size = (0, 0)
    frames = decode_frames(data, media.format, limits, deadline, jpeg_draft=jpeg_draft,
                           budget=budget)
    with closing(frames):  # the budget is returned even when hashing fails half-way
        for frame in frames:
            if not starts:
                size = (frame.width, frame.height)
            starts.append(frame.start)
            hasher.add(frame.rgb, frame.start)
            del frame  # the next frame is decoded without this one's pixels
            deadline.check()
    if not starts:
        raise InvariantViolation("an image decoded to no frame without an error")
    if len(starts) == 1:
        hasher = _without_time(hasher)
    return Fingerprint(
        kind="image", format=media.format, width=size[0], height=size[1],
        frames=tuple(hasher.frames), variants=hasher.variant_table(), **exact,
    )


def _video(
    data: bytes, media: MediaType, exact: dict, limits: Limits, deadline: Deadline,
    budget: MemoryBudget, spent: dict[str, float],
) -> Fingerprint:
    hasher = _FrameHasher(spent)

    def on_frame(number: int, t: float, rgb: np.ndarray) -> None:
        hasher.add(rgb, round(t, 6))
        deadline.check()

    info = decode_video(data, media.format, limits, deadline, on_frame, budget=budget)
    return Fingerprint(
        kind="video", format=media.format, width=info.width, height=info.height,
        frames=tuple(hasher.frames), variants=hasher.variant_table(),
        duration=info.duration, partial=info.partial, **exact,
    )


def _without_time(hasher: _FrameHasher) -> _FrameHasher:
    """A still image's hashes carry ``t = None``."""
    hasher.frames = _untimed(hasher.frames)
    hasher.variants = {name: _untimed(hashes) for name, hashes in hasher.variants.items()}
    return hasher


def _untimed(hashes: Iterable[FrameHash]) -> list[FrameHash]:
    return [FrameHash(None, h.pdq, h.quality) for h in hashes]
