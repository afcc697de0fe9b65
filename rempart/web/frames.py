"""A revealed video as a frame strip: a row of small stills, so a reviewer can see a video
without playing it (reviewer preference ``frame_strip``).

Built only from bytes ``review_media`` already released (a revealed video), so it shows nothing
that the reviewer has not revealed. Decoding goes through ``rempart.signals.video`` within the
runtime's safety limits; Pillow's errors become ``CorruptMedia`` here.
"""

from __future__ import annotations

import io

from PIL import Image

from rempart.errors import CorruptMedia
from rempart.signals import Limits, MemoryBudget
from rempart.signals.limits import Deadline
from rempart.signals.video import decode_video

FRAMES = 8
THUMB = 160
EVERY_SECONDS = 2.0


def frame_strip(data: bytes, fmt: str, limits: Limits, budget: MemoryBudget) -> bytes:
    """JPEG of up to ``FRAMES`` stills, evenly spread over the video, side by side (decoded
    within ``limits`` and the server's decode memory ``budget``)."""
    stills: list[Image.Image] = []

    def keep(_number: int, _t: float, rgb) -> None:
        im = Image.fromarray(rgb)
        im.thumbnail((THUMB, THUMB))  # small at once: a long video never holds big frames
        stills.append(im)

    decode_video(data, fmt, limits, Deadline(limits.decode_seconds), keep,
                 seconds_per_hash=EVERY_SECONDS, budget=budget)
    step = max(1, len(stills) / FRAMES)
    chosen = [stills[int(i * step)] for i in range(min(FRAMES, len(stills)))]
    try:
        height = max(s.height for s in chosen)
        sheet = Image.new("RGB", (sum(s.width for s in chosen) + 4 * (len(chosen) - 1), height),
                          "white")
        x = 0
        for s in chosen:
            sheet.paste(s, (x, 0))
            x += s.width + 4
        out = io.BytesIO()
        sheet.save(out, "JPEG", quality=80)
        return out.getvalue()
    except (OSError, ValueError) as exc:
        raise CorruptMedia(f"cannot draw the frame strip: {exc}") from None
