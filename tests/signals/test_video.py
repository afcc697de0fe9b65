"""Video fingerprints: agreement with Meta's vPDQ reference hashes, the documented match / no-match
pairs of the sample clips (tests/data), and the pure frame-list comparison."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rempart.errors import InvalidInput, InvalidSignal
from rempart.signals import FrameHash, compare_videos, fingerprint, hamming, query_variants
from rempart.signals.pdq import pdq_hash
from tests.signals.signals_media import make_video, scene

# Our frames come from libswscale through PyAV, Meta's through their own FFmpeg build: the colour
# conversion rounds differently, so hashes of frames with usable quality agree within this many
# bits (observed at most 6). Featureless frames (quality < 50) hash to noise; only their quality
# is compared.
FRAME_TOLERANCE = 8
QUALITY_TOLERANCE = 5

CLIPS = [
    "chair-22-sd-grey-bar", "chair-22-with-large-logo-bar", "chair-orig-22-sd-bar",
    "doorknob-hd-no-bar", "pattern-hd-no-bar", "pattern-sd-grey-bar",
    "pattern-sd-with-large-logo-bar", "pattern-sd-with-small-logo-bar", "test-padded-dimensions",
]


def _reference(video_dir, name: str) -> dict[float, tuple[int, str]]:
    """timestamp (ms precision) -> (quality, pdq) from NAME.vpdq.txt"""
    out = {}
    for line in (video_dir / f"{name}.vpdq.txt").read_text().splitlines():
        _frame, quality, pdq, t = line.split(",")
        out[round(float(t), 3)] = (int(quality), pdq)
    return out


@pytest.mark.parametrize("name", CLIPS)
def test_frames_agree_with_the_vpdq_reference(clips, video_dir, name):
    fp, reference = clips[name], _reference(video_dir, name)
    assert fp.kind == "video" and fp.format == "mp4" and not fp.partial
    assert len(fp.frames) == math.ceil(len(reference) / 30)  # 30 fps clips: 1 frame per second
    assert [f.t for f in fp.frames] == [float(i) for i in range(len(fp.frames))]
    for frame in fp.frames:
        quality, pdq = reference[round(frame.t, 3)]
        assert abs(frame.quality - quality) <= QUALITY_TOLERANCE, frame.t
        if min(frame.quality, quality) >= 50:
            assert hamming(frame.pdq, pdq) <= FRAME_TOLERANCE, frame.t


@pytest.mark.parametrize("a, b", [
    ("chair-orig-22-sd-bar", "chair-22-sd-grey-bar"),
    ("pattern-sd-grey-bar", "pattern-sd-with-small-logo-bar"),
])
def test_easy_pairs_match(clips, a, b):
    for q, t in ((a, b), (b, a)):
        result = compare_videos(clips[q].frames, clips[t].frames)
        assert result.matched and result.query_pct >= 90 and result.target_pct >= 90


@pytest.mark.parametrize("letterboxed", ["pattern-sd-grey-bar", "pattern-sd-with-small-logo-bar"])
def test_letterboxed_clips_match_once_bars_are_removed(clips, letterboxed):
    hd = clips["pattern-hd-no-bar"].frames
    sd = clips[letterboxed]
    assert not compare_videos(sd.frames, hd).matched  # plain per-frame PDQ misses it
    assert sd.trimmed_frames and sd.trimmed_frames == sd.variant("trim")
    result = compare_videos(sd.trimmed_frames, hd)
    assert result.matched and result.query_pct >= 90 and result.target_pct >= 90
    assert any(name.startswith("trim@") for name, _ in query_variants(sd))


@pytest.mark.parametrize("loner", ["doorknob-hd-no-bar", "test-padded-dimensions"])
def test_unrelated_clips_match_nothing(clips, loner):
    for other in CLIPS:
        if other == loner:
            continue
        for q in (clips[loner].frames, clips[loner].trimmed_frames or clips[loner].frames):
            for t in (clips[other].frames, clips[other].trimmed_frames or clips[other].frames):
                assert not compare_videos(q, t).matched, other
                assert not compare_videos(t, q).matched, other


def test_chair_and_pattern_families_do_not_match(clips):
    for a in ("chair-orig-22-sd-bar", "chair-22-sd-grey-bar"):
        for b in ("pattern-hd-no-bar", "pattern-sd-grey-bar"):
            assert not compare_videos(clips[a].frames, clips[b].frames).matched
            assert not compare_videos(clips[a].trimmed_frames, clips[b].frames).matched


def test_video_json_contract(clips):
    fp = clips["doorknob-hd-no-bar"]
    out = fp.to_json("d.mp4")
    assert set(out) == {"file", "sha256", "md5", "sha1", "pdq", "pdq_quality", "frames"}
    assert out["frames"][0] == {"t": 0.0, "pdq": fp.frames[0].pdq, "quality": fp.frames[0].quality}
    assert out["pdq"] == fp.frames[0].pdq and len(out["frames"]) == 4
    assert any(f.low_quality for f in fp.frames)  # the dark frames are kept, flagged


@pytest.mark.parametrize("fmt", ["mp4", "mov", "webm"])
def test_synthetic_clip_in_every_container(fmt):
    data = make_video(fmt, seconds=3.0, fps=10)
    fp = fingerprint(data)
    assert (fp.kind, fp.format, fp.width, fp.height) == ("video", fmt, 160, 120)
    assert [f.t for f in fp.frames] == [0.0, 1.0, 2.0]
    for second, frame in enumerate(fp.frames):
        assert hamming(frame.pdq, pdq_hash(scene(second, (160, 120)))[0]) <= 31


# ---------------------------------------------------------------- compare_videos (pure)

def _h(seed: int) -> str:
    return np.random.default_rng(seed).bytes(32).hex()


def _flip(hex_: str, bits: int) -> str:
    return f"{int(hex_, 16) ^ ((1 << bits) - 1):064x}"


def _frames(hashes, quality=100):
    return [FrameHash(float(i), h, quality) for i, h in enumerate(hashes)]


def test_compare_identical_excerpt_and_compilation():
    video = [_h(i) for i in range(10)]
    same = compare_videos(_frames(video), _frames(video))
    assert (same.query_pct, same.target_pct, same.matched, same.median_distance) == (100, 100, True, 0)
    excerpt = compare_videos(_frames(video[:3]), _frames(video))
    assert (excerpt.query_pct, excerpt.target_pct, excerpt.matched) == (100, 30, True)
    longer = video + [_h(100 + i) for i in range(30)]
    compilation = compare_videos(_frames(longer), _frames(video))
    assert (compilation.query_pct, compilation.target_pct, compilation.matched) == (25, 100, True)
    unrelated = compare_videos(_frames([_h(200 + i) for i in range(10)]), _frames(video))
    assert (unrelated.query_pct, unrelated.target_pct, unrelated.matched) == (0, 0, False)


def test_compare_threshold_and_distance_boundaries():
    video = [_h(i) for i in range(10)]
    eight = [_flip(h, 31) for h in video[:8]] + [_h(50), _h(51)]  # 8 of 10 within exactly 31 bits
    result = compare_videos(_frames(eight), _frames(video))
    assert (result.query_pct, result.matched, result.median_distance) == (80, True, 31)
    seven = eight[:7] + [_h(52)] + eight[8:]
    assert not compare_videos(_frames(seven), _frames(video)).matched  # 70%
    too_far = [_flip(h, 32) for h in video]
    assert compare_videos(_frames(too_far), _frames(video)).query_pct == 0
    assert compare_videos(_frames(too_far), _frames(video), distance=32).matched


def test_compare_ignores_low_quality_frames():
    video = [_h(i) for i in range(5)]
    dark = compare_videos(_frames(video, quality=10), _frames(video))
    assert (dark.query_pct, dark.target_pct, dark.matched, dark.query_frames) == (0, 0, False, 0)
    mixed = _frames(video) + _frames([_h(70), _h(71)], quality=0)
    assert compare_videos(mixed, _frames(video)).query_pct == 100
    assert compare_videos(mixed, _frames(video), quality_min=0).query_pct == pytest.approx(500 / 7)
    assert not compare_videos([], _frames(video)).matched


def test_compare_agrees_with_brute_force_on_many_frames():
    rng = np.random.default_rng(5)
    base = [_h(1000 + i) for i in range(40)]
    query = [_flip(base[rng.integers(40)], int(rng.integers(0, 60))) for _ in range(1500)]
    target = base + [_h(2000 + i) for i in range(1460)]
    result = compare_videos(_frames(query), _frames(target))
    q_hits = sum(any(hamming(q, t) <= 31 for t in base) for q in query)
    t_hits = sum(any(hamming(q, t) <= 31 for q in query) for t in base)
    assert result.query_pct == pytest.approx(100 * q_hits / 1500)
    assert result.target_pct == pytest.approx(100 * t_hits / 1500)


def test_compare_rejects_bad_input():
    good = _frames([_h(1)])
    with pytest.raises(InvalidSignal):
        compare_videos([FrameHash(0.0, "xyz", 100)], good)
    with pytest.raises(InvalidInput):
        compare_videos(good, good, distance=-1)
    with pytest.raises(InvalidInput):
        compare_videos(good, good, query_threshold=101)
