"""The upload path's fingerprinting: bytes in, ``Fingerprint`` out.

    fingerprint(data)      sniff the type from the bytes -> exact hashes (SHA-256, MD5, SHA-1 of
                           the original bytes) -> decode + canonicalise (``decode`` / ``video``)
                           -> per frame: PDQ and its 8 dihedral variants (one PDQ computation),
                           plus PDQ of the frame with its borders trimmed (``trim``); for a
                           still picture, stage 1 (``normalise``: bars with text peeled, the
                           content box, a small rotation undone; each hashed when found) and
                           stage 2 (``features``: ORB points of the picture and of its box;
                           its ORB passes run on other threads while it hashes; banking,
                           ``bank=True``, adds a pass on the picture's centre: what a bank
                           keeps, ``bank_features``)
    query_variants(fp)     the (name, hex) pairs a query looks up to catch flips, rotations and
                           letterbox / padding

Images hash every frame; videos one frame per second (vPDQ sampling, see ``video``). Variants of
video frames are computed too: a mirrored re-upload is a common evasion.

Cost: what decoding and hashing will hold is estimated from the headers and reserved from the
caller's ``MemoryBudget`` (``rempart.signals.budget``) before a pixel is decoded; a process that
shares no budget (the CLI) passes none.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import cv2
import numpy as np

from rempart.errors import InvalidInput, InvariantViolation, NotFound
from rempart.signals.budget import UNLIMITED, MemoryBudget
from rempart.signals.decode import DEFAULT_JPEG_DRAFT, contiguous_rgb, decode_frames
from rempart.signals.limits import DEFAULT_LIMITS, Deadline, Limits
from rempart.signals.features import (BANK_CENTRE, BANK_POINTS, Features, bank_box, bank_set,
                                      centre, covers_most, extract, extract_region, inside,
                                      plain_of)
from rempart.signals.model import STAGE1_NAMES, VARIANT_NAMES, FrameHash, Fingerprint
from rempart.signals.normalise import (content_box, load_kernels as load_peel_kernels,
                                       normalised, peel, working_copy)
from rempart.signals.pdq import DIHEDRAL_NAMES, LOW_QUALITY, fast_path_loaded, pdq_dihedral, pdq_hash
from rempart.signals.sniff import SNIFF_BYTES, MediaType, sniff
from rempart.signals.trim import load_kernels as load_trim_kernels, trim
from rempart.signals.video import decode_video


#: stage 1 looks at the picture shrunk to this longer side (PDQ averages down to 64 x 64: the
#: same hashes within a few bits; 256 was cheaper but found fewer screenshots' pictures)
STAGE1_SIDE = 512


def _feature_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2),
                              thread_name_prefix="rempart-features")


# OpenCV's own worker pool, one thread per call: a scan's ORB passes already run beside its
# hashing (``_FEATURES``) and a server scans on several threads; handing each call's pyramid
# levels to more threads on top cost more than it saved (same points and descriptors either
# way). Process-wide, like OpenCV's setting.
cv2.setNumThreads(1)

#: where the whole picture's ORB pass runs, alongside the hashing (``_FrameHasher._add``); a
#: forked child gets its own (the parent's threads do not exist there)
_FEATURES = _feature_pool()
os.register_at_fork(after_in_child=lambda: globals().update(_FEATURES=_feature_pool()))

#: compute stage 1 hashes and stage 2 features of still pictures (bench/pdq_misses.py turns it
#: off to time the path as it was before them; nothing else does)
STAGES = True


def fingerprint(
    data: bytes, *, limits: Limits = DEFAULT_LIMITS, jpeg_draft: int | None = DEFAULT_JPEG_DRAFT,
    budget: MemoryBudget = UNLIMITED, timings: dict[str, float] | None = None,
    bank: bool = False,
) -> Fingerprint:
    """Fingerprint one media file given as bytes.

    ``timings``, when given, gains the seconds spent decoding (``decode``: sniffing, the exact
    hashes, decoding pixels) and hashing them (``hash``: PDQ of every frame and variant).

    ``jpeg_draft`` decodes JPEGs at a reduced DCT scale keeping both sides at least that many
    pixels (``DEFAULT_JPEG_DRAFT``, 256): several times faster on large photos, but PDQ is then a
    few bits off the reference (see ``rempart.signals.decode``); ``None`` decodes at full size,
    bit-exact with the reference. The exact hashes (SHA-256, MD5, SHA-1) are unaffected.

    ``budget``: decoding waits for its estimated cost there (see the module docstring).

    ``bank``: the picture is being banked: ``bank_features`` also gets what a bank keeps of
    its local features (``rempart.signals.features.bank_set``: one more ORB pass, on the
    picture's centre; uploads never pay for it).

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
        return _fingerprint(bytes(data), limits, jpeg_draft, budget, spent, bank)
    finally:
        if timings is not None:
            timings["hash"] = timings.get("hash", 0.0) + spent["hash"]
            timings["decode"] = (timings.get("decode", 0.0) + time.perf_counter() - start
                                 - spent["hash"])


@functools.cache
def load_kernels() -> bool:
    """Compile (or load from numba's cache) PDQ's, the border scan's and peel's kernels, once per
    process; whether PDQ's numba fast path is in use.

    On a machine whose cache is empty this takes seconds (tens of seconds on a loaded machine):
    paid inside the decode time limit, it made a first upload fail as if it were a decoding bomb.
    """
    load_trim_kernels()
    load_peel_kernels()
    return fast_path_loaded()


def _fingerprint(data: bytes, limits: Limits, jpeg_draft: int | None, budget: MemoryBudget,
                 spent: dict[str, float], bank: bool = False) -> Fingerprint:
    limits.check_bytes(len(data))
    media = sniff(data[:SNIFF_BYTES])
    limits.check_bytes(len(data), media.kind)
    load_kernels()  # before the decode clock starts: compiling is not decoding
    deadline = Deadline(limits.decode_seconds)
    exact = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "sha1": hashlib.sha1(data, usedforsecurity=False).hexdigest(),
    }
    if media.kind == "image":
        return _image(data, media, exact, limits, deadline, jpeg_draft, budget, spent, STAGES,
                      bank)
    return _video(data, media, exact, limits, deadline, budget, spent)


def fingerprint_file(
    path: str | os.PathLike, *, limits: Limits = DEFAULT_LIMITS,
    jpeg_draft: int | None = DEFAULT_JPEG_DRAFT, bank: bool = False,
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
    return fingerprint(data, limits=limits, jpeg_draft=jpeg_draft, bank=bank)


def query_variants(fp: Fingerprint) -> list[tuple[str, str]]:
    """The ``(variant name, pdq hex)`` pairs to look up when ``fp`` is a query.

    Names: "original", "rot90", "rot180", "rot270", "flipx", "flipy", "transpose", "transverse"
    (see ``rempart.signals.pdq``), "trim" (the frame with its borders removed) and the stage 1
    normalisers' "peel", "box", "straight" (``rempart.signals.normalise``), each listed only for
    frames where it undid something. A single-frame image gives plain names; for multi-frame media
    (animations, videos) every name carries the frame's index: "rot90@3". Frames are in order,
    variants in the order above; low-quality hashes are included (the caller filters on quality).
    """
    multi = len(fp.frames) > 1
    table = [("original", fp.frames), *fp.variants]
    out: list[tuple[str, str]] = []
    for index, frame in enumerate(fp.frames):
        for name, hashes in table:
            value = hashes[index].pdq
            if name not in DIHEDRAL_NAMES and value == frame.pdq:
                continue  # nothing undone on this frame (no border, no box, no rotation)
            out.append((f"{name}@{index}" if multi else name, value))
    return out


class _FrameHasher:
    """Accumulates the hashes of each frame and of its variants, aligned by frame."""

    def __init__(self, spent: dict[str, float] | None = None, stage1: bool = False,
                 bank: bool = False) -> None:
        self.spent = spent if spent is not None else {"hash": 0.0}
        self.frames: list[FrameHash] = []
        names = VARIANT_NAMES if stage1 else [n for n in VARIANT_NAMES if n not in STAGE1_NAMES]
        self.variants: dict[str, list[FrameHash]] = {name: [] for name in names}
        self.stage1 = stage1
        self.features = b""
        self.region_features = b""
        self.bank = bank
        self.bank_features = b""  # what a bank keeps (``bank``: banking, not an upload)
        self._box: tuple[int, int, int, int] | None = None  # the first frame's content box
        self._region: Features | None = None  # and the features inside it

    def add(self, rgb: np.ndarray, t: float | None) -> None:
        start = time.perf_counter()
        try:
            self._add(rgb, t)
        finally:
            self.spent["hash"] += time.perf_counter() - start

    def _add(self, rgb: np.ndarray, t: float | None) -> None:
        # Stage 2's ORB passes run on other cores while this one hashes (OpenCV releases the
        # GIL): the upload's latency, not its CPU time, is what it saves. The box is found
        # first, so that the pass inside it starts before the hashing, not after; a peeled box
        # (taken before the content box) starts it before the content box is looked for.
        work = working_copy(contiguous_rgb(rgb)) if self.stage1 and not self.frames else None
        whole = (_FEATURES.submit(extract, work, crowd=not self.bank) if work is not None
                 else None)
        region = None
        try:
            small = boxes = None
            if work is not None:
                small = working_copy(work, STAGE1_SIDE)
                # Features of the picture inside its frame (a meme template, a caption, a
                # screenshot) when one was found, else of the whole: a shared frame never
                # carries a match.
                peeled = peel(small)
                if peeled is not None:
                    region = self._region_pass(work, _scaled(peeled, small.shape, work.shape))
                boxes = (peeled, content_box(small))
                if peeled is None:
                    region = self._region_pass(work, _scaled(boxes[1], small.shape, work.shape))
            self._hash(rgb, t, small, boxes)
        except BaseException:
            for future in (whole, region):
                if future is not None:
                    future.cancel()  # or let it finish unread
            raise
        if region is not None:
            self._region = region.result()
        if whole is not None:
            whole_set, self._region = plain_of(whole.result(), self._region)
            self._whole(whole_set)
            if self.bank:
                self._bank_set(work)

    def _region_pass(self, work: np.ndarray, box: tuple[int, int, int, int] | None):
        """Keep ``box`` as the picture's frame; the ORB pass inside it, started (a future), or
        ``None`` when there is no box or it holds most of the picture (``covers_most``)."""
        self._box = box
        if box is None or covers_most(box, work.shape):
            return None
        return _FEATURES.submit(extract_region, work, box, BANK_POINTS, crowd=not self.bank)

    def _hash(self, rgb: np.ndarray, t: float | None, small: np.ndarray | None,
              boxes: tuple | None) -> None:
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
        if self.stage1:
            self._stages(t, small, boxes)

    def _stages(self, t: float | None, small: np.ndarray | None, boxes: tuple | None) -> None:
        """Stage 1 hashes of the first frame (``small``: its stage 1 copy, ``boxes``: its peel
        and content boxes; the others keep their own hashes)."""
        own = {name: self.frames[-1] for name in STAGE1_NAMES}
        if small is not None:
            for name, picture in normalised(small, boxes):
                value, quality = pdq_hash(picture)
                if quality >= LOW_QUALITY:  # a flat remnant matches flat pictures: skipped
                    own[name] = FrameHash(t, value, quality)
        for name, value in own.items():
            self.variants[name].append(value)

    def _whole(self, whole: Features) -> None:
        """The features kept, once the whole picture's are in (see ``_stages``)."""
        if self._box is None:
            self.features = whole.to_bytes()
            return
        if covers_most(self._box, (whole.height, whole.width)):
            # no second pass: the box's points, and the rest (a query joins the two: no point
            # is counted twice)
            self._region, rest = inside(whole, self._box)
            self.features, self.region_features = self._region.to_bytes(), rest.to_bytes()
            return
        # never the frame's own points, even when the picture inside has few
        self.features = (self._region or Features(whole.width, whole.height, whole.xy[:0],
                                                  whole.desc[:0])).to_bytes()
        self.region_features = whole.to_bytes()

    def _bank_set(self, work: np.ndarray) -> None:
        """What a bank keeps (``features.bank_set``): the picture's points (inside its frame
        when it has one, ``bank_box``) and its centre's, found on the centre enlarged."""
        h, w = work.shape[:2]
        box = bank_box(self._box, work.shape)
        # a box too small to be the picture inside a frame: the whole picture's points (kept
        # apart as ``region_features`` when the box had a pass of its own)
        kept = self.region_features if self._box is not None and box is None else self.features
        middle = extract_region(work, centre(box or (0, h, 0, w)), BANK_CENTRE)
        self.bank_features = bank_set(Features.from_bytes(kept), middle).to_bytes()

    def variant_table(self) -> tuple[tuple[str, tuple[FrameHash, ...]], ...]:
        for name, hashes in self.variants.items():
            if len(hashes) != len(self.frames):
                raise InvariantViolation(
                    f"variant {name} has {len(hashes)} frames, not {len(self.frames)}"
                )
        return tuple((name, tuple(hashes)) for name, hashes in self.variants.items())


def _image(
    data: bytes, media: MediaType, exact: dict, limits: Limits, deadline: Deadline,
    jpeg_draft: int | None, budget: MemoryBudget, spent: dict[str, float], stages: bool = True,
    bank: bool = False,
) -> Fingerprint:
    hasher = _FrameHasher(spent, stage1=stages, bank=bank)
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
        frames=tuple(hasher.frames), variants=hasher.variant_table(),
        features=hasher.features, region_features=hasher.region_features,
        bank_features=hasher.bank_features, **exact,
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


def _scaled(box, small: tuple, work: tuple) -> tuple[int, int, int, int] | None:
    """A box found on the small copy, in the working copy's pixels."""
    if box is None:
        return None
    fy, fx = work[0] / small[0], work[1] / small[1]
    top, bottom, left, right = box
    return (round(top * fy), min(work[0], round(bottom * fy)), round(left * fx),
            min(work[1], round(right * fx)))


def _without_time(hasher: _FrameHasher) -> _FrameHasher:
    """A still image's hashes carry ``t = None``."""
    hasher.frames = _untimed(hasher.frames)
    hasher.variants = {name: _untimed(hashes) for name, hashes in hasher.variants.items()}
    return hasher


def _untimed(hashes: Iterable[FrameHash]) -> list[FrameHash]:
    return [FrameHash(None, h.pdq, h.quality) for h in hashes]
