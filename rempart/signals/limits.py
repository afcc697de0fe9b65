"""Safety limits for decoding untrusted media, and the decode-time budget that enforces one of them.

Every limit that is hit raises ``MediaLimitExceeded(limit, value, maximum)`` with ``limit`` one of
the names below, so callers (and the HTTP layer) can tell which one.

    limit name        checked
    ---------------   ---------------------------------------------------------------------------
    "bytes"           before reading a file (``fingerprint_file`` stats it), and on the bytes given
    "pixels"          from the declared width x height, before any pixel is decoded; again for every
                      animation frame and video frame (dimensions may change mid-stream)
    "frames"          animated images: counted from the file's structure before any frame is decoded
    "total_pixels"    animated images: frames x canvas pixels, before any frame is decoded (a 23 KB
                      GIF can hold 999 frames of 4000 x 4000); then the pixels of each frame decoded
    "seconds"         video: the declared duration before decoding, then each frame's timestamp
    "decode_seconds"  wall-clock time from the start of ``fingerprint`` (waiting for decode memory
                      included), checked between frames (one frame's decode is not interrupted;
                      ``max_pixels`` bounds how long that can take)
    "memory"          the bytes decoding would hold at once (estimated from the headers: pixels x
                      bytes per pixel x copies) exceed the whole decode memory budget
                      (``rempart.signals.budget``); checked before any pixel is decoded
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rempart.errors import InvalidInput, MediaLimitExceeded

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Maximum sizes accepted by ``fingerprint``; override any of them with ``dataclasses.replace``.

    Pillow refuses images over twice ``PIL.Image.MAX_IMAGE_PIXELS`` (about 179 Mpx) on its own;
    that error is reported as the "pixels" limit too, so ``max_pixels`` above that has no effect.
    """

    max_image_bytes: int = 64 * MIB
    max_video_bytes: int = 512 * MIB
    max_pixels: int = 50_000_000
    max_frames: int = 1_000
    max_total_pixels: int = 400_000_000
    max_video_seconds: float = 3600.0
    decode_seconds: float = 30.0

    def __post_init__(self) -> None:
        for name in ("max_image_bytes", "max_video_bytes", "max_pixels", "max_frames",
                     "max_total_pixels", "max_video_seconds", "decode_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InvalidInput(f"Limits.{name} must be a non-negative number, got {value}")

    @property
    def max_bytes(self) -> int:
        """The largest file any media kind may be (used before the kind is known)."""
        return max(self.max_image_bytes, self.max_video_bytes)

    def check_bytes(self, size: int, kind: str | None = None) -> None:
        """Raise ``MediaLimitExceeded("bytes", ...)`` when ``size`` is over the limit for ``kind``."""
        maximum = {"image": self.max_image_bytes, "video": self.max_video_bytes}.get(
            kind or "", self.max_bytes
        )
        if size > maximum:
            raise MediaLimitExceeded("bytes", size, maximum)

    def check_pixels(self, width: int, height: int) -> None:
        """Raise ``MediaLimitExceeded("pixels", ...)`` when ``width * height`` is over the limit."""
        if width * height > self.max_pixels:
            raise MediaLimitExceeded("pixels", width * height, self.max_pixels)

    def check_total_pixels(self, pixels: int) -> None:
        """Raise ``MediaLimitExceeded("total_pixels", ...)`` for the pixels of all frames."""
        if pixels > self.max_total_pixels:
            raise MediaLimitExceeded("total_pixels", pixels, self.max_total_pixels)


DEFAULT_LIMITS = Limits()


class Deadline:
    """The decode-time budget of one ``fingerprint`` call.

    ``clock`` is injectable so tests can exhaust the budget without waiting for it.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seconds = seconds
        self._start = clock()

    def check(self) -> None:
        """Raise ``MediaLimitExceeded("decode_seconds", ...)`` once the budget is spent."""
        elapsed = self._clock() - self._start
        if elapsed > self._seconds:
            raise MediaLimitExceeded("decode_seconds", round(elapsed, 3), self._seconds)
