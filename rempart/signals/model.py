"""The values ``fingerprint`` returns: ``FrameHash`` and ``Fingerprint`` (immutable, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

from rempart.errors import InvalidInput, shown
from rempart.signals.pdq import DIHEDRAL_NAMES, LOW_QUALITY

#: the stage 1 normalisers' variants (``rempart.signals.normalise``): a still picture's only
STAGE1_NAMES = ("peel", "box", "straight")
#: every variant name a Fingerprint may carry besides "original", in query order
VARIANT_NAMES = DIHEDRAL_NAMES[1:] + ("trim",) + STAGE1_NAMES


@dataclass(frozen=True)
class FrameHash:
    """The PDQ hash of one frame.

    ``t``: seconds from the start (video: ``frame_number / fps``; animated image: the frame's start
    from the frame durations); ``None`` for a still image. ``pdq``: 64 lowercase hex digits.
    ``quality``: PDQ quality 0-100.
    """

    t: float | None
    pdq: str
    quality: int

    @property
    def low_quality(self) -> bool:
        """True when the hash carries too little signal to match on (quality < 50)."""
        return self.quality < LOW_QUALITY


@dataclass(frozen=True)
class Fingerprint:
    """Every signal rempart extracts from one media file.

    ``width`` / ``height`` are the upright (EXIF-oriented) size of the first frame.
    ``frames``: one hash per frame for images (every frame of an animation), one per sampled
    second for videos. ``variants``: for each name in ``VARIANT_NAMES`` that was computed, the
    hashes of that transformation of each frame, aligned with ``frames``; the "trim" entry of a
    frame with no border to remove is that frame's own hash, and so are the stage 1 entries
    ("peel", "box", "straight": still pictures only, first frame) where nothing was undone. ``duration``: a video's declared
    length in seconds. ``partial``: a video whose stream broke off after some frames decoded.
    """

    kind: str
    format: str
    sha256: str
    md5: str
    sha1: str
    width: int
    height: int
    frames: tuple[FrameHash, ...]
    variants: tuple[tuple[str, tuple[FrameHash, ...]], ...] = ()
    duration: float | None = None
    partial: bool = False
    #: stage 2: ORB features (``rempart.signals.features`` stored form) of the (first) picture's
    #: content (inside bars or a frame when one was found: what banking stores) and, when a
    #: frame was found, of the whole picture (``region_features``; when the content holds most
    #: of the picture, the whole picture's points outside it: the two never share a point);
    #: b"" when none
    features: bytes = b""
    region_features: bytes = b""
    #: what a bank keeps of them (``rempart.signals.features.bank_set``: the content's points and
    #: its centre's), only when fingerprinted for banking (``fingerprint(bank=True)``); b"" else
    bank_features: bytes = b""

    def __post_init__(self) -> None:
        if self.kind not in ("image", "video"):
            raise InvalidInput(
                f"fingerprint kind must be 'image' or 'video', got {shown(self.kind)}")
        for name, hashes in self.variants:
            if name not in VARIANT_NAMES or len(hashes) != len(self.frames):
                raise InvalidInput(
                    f"variant {shown(name)} must be one of {', '.join(VARIANT_NAMES)} with one hash "
                    "per frame"
                )

    def pdq(self) -> FrameHash | None:
        """The primary (first) frame's hash, or None when there is no frame."""
        return self.frames[0] if self.frames else None

    def variant(self, name: str) -> tuple[FrameHash, ...]:
        """The per-frame hashes of variant ``name`` ("original" gives ``frames``).

        Raises ``InvalidInput`` for a name this fingerprint does not carry.
        """
        if name == "original":
            return self.frames
        for key, hashes in self.variants:
            if key == name:
                return hashes
        raise InvalidInput(f"fingerprint has no variant {shown(name)}")

    @property
    def trimmed_frames(self) -> tuple[FrameHash, ...]:
        """The "trim" variant (aligned with ``frames``) when some frame had a border, else ``()``.

        A video to compare against banked videos after letterbox removal: pass it to
        ``compare_videos`` in place of ``frames``.
        """
        for key, hashes in self.variants:
            if key == "trim":
                if any(a.pdq != b.pdq for a, b in zip(hashes, self.frames)):
                    return hashes
        return ()

    @property
    def peeled(self) -> FrameHash | None:
        """The picture's "peeled" hash: its first frame with bars (that may hold text) peeled
        off, or else its content box; ``None`` when neither differs from the frame itself."""
        if not self.frames:
            return None
        for name in ("peel", "box"):
            for key, hashes in self.variants:
                if key == name and hashes[0].pdq != self.frames[0].pdq:
                    return hashes[0]
        return None

    def to_json(self, file: str) -> dict:
        """The CLI's JSON object for this fingerprint.

        Images: ``{"file", "sha256", "md5", "sha1", "pdq", "pdq_quality"}`` with ``pdq`` and
        ``pdq_quality`` null when there is no hash. Videos, and animated images (more than one
        frame), also carry ``"frames": [{"t", "pdq", "quality"}, ...]`` (``t`` in seconds, rounded
        to the millisecond).
        """
        first = self.pdq()
        out: dict = {
            "file": file,
            "sha256": self.sha256,
            "md5": self.md5,
            "sha1": self.sha1,
            "pdq": first.pdq if first else None,
            "pdq_quality": first.quality if first else None,
        }
        if self.kind == "video" or len(self.frames) > 1:
            out["frames"] = [
                {"t": None if f.t is None else round(f.t, 3), "pdq": f.pdq, "quality": f.quality}
                for f in self.frames
            ]
        return out


@dataclass(frozen=True)
class VideoComparison:
    """The result of ``compare_videos`` (see there for the rule)."""

    query_pct: float
    target_pct: float
    matched: bool
    query_frames: int  # query frames of usable quality
    target_frames: int  # target frames of usable quality
    #: median over the matched usable query frames of the distance to their nearest target frame
    #: (over all usable query frames when none matched; 256 when there are none)
    median_distance: int = 256
