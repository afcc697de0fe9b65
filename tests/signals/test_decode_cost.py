"""Cost checked before it is spent: small files that declare big pictures.

Memory is measured in a fresh process (peak resident memory, reset after the file is made), so
the figures are what decoding really holds; they are compared with generous margins, never with
times. The pictures are flat, benign, synthetic (``rempart.demo.hostile``).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap

import pytest
from PIL import Image

from rempart.demo.hostile import black_video, float_tiff, grey_png, many_frames_gif
from rempart.errors import MediaLimitExceeded
from rempart.signals import Limits, fingerprint

MIB = 1 << 20

_MEASURE = textwrap.dedent("""
    import json, sys
    from rempart.demo import hostile
    from rempart.signals import fingerprint

    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key):
                return int(line.split()[1]) * 1024

    data = getattr(hostile, sys.argv[1])(*map(int, sys.argv[2:]))
    fingerprint(hostile.grey_png(64, 64))  # warm: imports, PDQ's tables
    open("/proc/self/clear_refs", "w").write("5")  # peak := now
    before = status("VmRSS:")
    fp = fingerprint(data)
    print(json.dumps({"grown": status("VmHWM:") - before, "width": fp.width, "height": fp.height}))
""")


def _peak_growth(maker: str, *args: int) -> int:
    """Bytes the resident memory of a fresh process grew by while fingerprinting."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, maker, *map(str, args)],
                         capture_output=True, text=True, check=True, timeout=300)
    return json.loads(out.stdout)["grown"]


@pytest.mark.parametrize("maker, mode, fmt", [
    ("grey_png", "L", "png"),
    ("float_tiff", "F", "tiff"),
])
def test_a_big_flat_picture_costs_what_its_estimate_says_and_no_float64_copies(maker, mode, fmt):
    side = 4000
    grown = _peak_growth(maker, side, side)
    # before: float64 temporaries (24+ bytes per pixel) and full-size RGB copies, 28-41 B/px
    assert grown < 12 * side * side
    from rempart.signals.decode import image_cost

    assert grown <= image_cost(fmt, mode, side, side)  # the budget reserves an upper bound


def test_a_big_video_costs_less_than_its_estimate_and_no_float64_copies():
    side = 3000
    grown = _peak_growth("black_video", side, side)
    assert grown < 20 * side * side  # before: 36 bytes per pixel
    from rempart.signals.video import video_cost

    assert grown <= video_cost(side, side, "yuv420p", frame_threads=0)


def test_frames_times_canvas_is_refused_before_any_frame_is_decoded():
    data = many_frames_gif(999, 4000)  # 23 KB, 16 Gpx to decode
    assert len(data) < 30_000
    with pytest.raises(MediaLimitExceeded) as excinfo:
        fingerprint(data)
    assert (excinfo.value.limit, excinfo.value.value) == ("total_pixels", 999 * 4000 * 4000)
    small = many_frames_gif(20, 64)
    assert len(fingerprint(small).frames) == 20
    with pytest.raises(MediaLimitExceeded) as excinfo:
        fingerprint(small, limits=Limits(max_total_pixels=19 * 64 * 64))
    assert excinfo.value.limit == "total_pixels"


def test_gif_frames_are_counted_like_pillow_counts_them():
    from rempart.signals.decode import _gif_frames
    from rempart.signals.limits import Deadline

    frames = [Image.new("RGB", (8, 8), (i * 40, 0, 0)) for i in range(6)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=20,
                   comment=b"a comment, with a comma!")
    for data in (buf.getvalue(), many_frames_gif(7, 16), many_frames_gif(1, 16)):
        expected = Image.open(io.BytesIO(data)).n_frames
        assert _gif_frames(data, 1000, Deadline(30)) == expected
    assert _gif_frames(many_frames_gif(50, 16), 10, Deadline(30)) == 10  # counted up to the cap


def test_cost_over_the_whole_budget_is_refused_before_decoding():
    from rempart.signals import MemoryBudget

    budget = MemoryBudget(64 * MIB, wait_seconds=0)
    with pytest.raises(MediaLimitExceeded) as excinfo:
        fingerprint(grey_png(4000, 4000), budget=budget)
    assert (excinfo.value.limit, excinfo.value.maximum) == ("memory", 64 * MIB)
    with pytest.raises(MediaLimitExceeded) as excinfo:
        fingerprint(black_video(1920, 1080, seconds=1), budget=budget)
    assert excinfo.value.limit == "memory"
    assert budget.peak == 0  # nothing was decoded
    ok = fingerprint(grey_png(640, 480, 9), budget=budget)
    assert ok.width == 640 and 0 < budget.peak <= 64 * MIB and budget.in_use == 0


def test_a_spent_budget_answers_overloaded_and_is_returned_after_failures():
    from rempart.errors import Overloaded
    from rempart.signals import MemoryBudget

    budget = MemoryBudget(256 * MIB, wait_seconds=0.1)
    with budget.reserve(250 * MIB), pytest.raises(Overloaded):
        fingerprint(grey_png(1000, 1000), budget=budget)
    with pytest.raises(MediaLimitExceeded):  # a decode that fails half-way returns its memory
        fingerprint(grey_png(1000, 1000), budget=budget, limits=Limits(decode_seconds=0))
    assert budget.in_use == 0
