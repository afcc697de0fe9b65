"""The live matcher's policy: thresholds per bank, entry state, safelists, videos (pure)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from rempart.matching.codec import hashes_to_hex
from rempart.matching.matcher import BankPolicy, EntryState, Matcher, Query
from rempart.scanning.verdict import verdict_for
from rempart.signals import FrameHash

NOW = dt.datetime(2026, 11, 29, 12, 0)
rng = np.random.default_rng(7)


def random_hex() -> str:
    return hashes_to_hex(rng.integers(0, 256, size=(1, 32), dtype=np.uint8))[0]


def flip(hex_: str, bits: int) -> str:
    arr = np.frombuffer(bytes.fromhex(hex_), dtype=np.uint8).copy()
    bitsarr = np.unpackbits(arr)
    bitsarr[:bits] ^= 1
    return np.packbits(bitsarr).tobytes().hex()


def matcher_with(*banks: BankPolicy, entries=()) -> Matcher:
    m = Matcher()
    for b in banks:
        m.put_bank(b)
    m.put_entries(entries)
    return m


BLOCK = BankPolicy(1, "known", 31, "block", False, True)
REVIEW = BankPolicy(2, "maybe", 10, "review", False, True)
SAFE = BankPolicy(3, "safe", 31, "block", True, True)


def q(h: str, quality: int = 100) -> Query:
    return Query(pdq=(("original", h, quality),))


def test_pdq_threshold_is_inclusive_and_per_bank():
    h = random_hex()
    m = matcher_with(BLOCK, REVIEW, entries=[EntryState(10, 1, "pdq", h), EntryState(20, 2, "pdq", h)])
    at_31 = m.match(q(flip(h, 31)), NOW).matches
    assert [(x.entry_id, x.distance) for x in at_31] == [(10, 31)]  # review bank threshold is 10
    assert m.match(q(flip(h, 32)), NOW).matches == ()
    both = m.match(q(flip(h, 10)), NOW).matches
    assert {x.entry_id for x in both} == {10, 20}
    assert verdict_for(both) == "block"
    assert verdict_for(m.match(q(flip(h, 11)), NOW).matches) == "block"


def test_low_quality_query_goes_to_review_not_block():
    h = random_hex()
    m = matcher_with(BLOCK, entries=[EntryState(10, 1, "pdq", h)])
    res = m.match(q(h, quality=20), NOW).matches
    assert res[0].low_quality and verdict_for(res) == "review"


def test_disabled_entry_and_disabled_bank_do_not_count():
    h = random_hex()
    later = NOW + dt.timedelta(hours=1)
    m = matcher_with(BLOCK, entries=[EntryState(10, 1, "pdq", h, disabled=True, disabled_until=later)])
    assert m.match(q(h), NOW).matches == ()
    assert len(m.match(q(h), later).matches) == 1  # the date passed: it matches again
    m.put_entry(EntryState(10, 1, "pdq", h, disabled=True))  # indefinitely
    assert m.match(q(h), later + dt.timedelta(days=999)).matches == ()
    m.put_entry(EntryState(10, 1, "pdq", h))
    m.put_bank(BankPolicy(1, "known", 31, "block", False, False))
    assert m.match(q(h), NOW).matches == ()


def test_exact_match_and_replacement_and_drop():
    sha = "ab" * 32
    m = matcher_with(BLOCK, entries=[EntryState(5, 1, "sha256", sha)])
    assert [x.signal for x in m.match(Query(exact={"sha256": sha}), NOW).matches] == ["sha256"]
    m.drop_entry(5)
    assert m.match(Query(exact={"sha256": sha}), NOW).matches == ()
    assert len(m) == 0


def test_perceptual_safelist_cancels_perceptual_matches_only():
    h = random_hex()
    sha = "cd" * 32
    m = matcher_with(BLOCK, SAFE, entries=[
        EntryState(1, 1, "pdq", h), EntryState(2, 1, "sha256", sha), EntryState(3, 3, "pdq", flip(h, 3))])
    res = m.match(Query(exact={"sha256": sha}, pdq=(("original", h, 100),)), NOW)
    assert [x.entry_id for x in res.matches] == [2]  # the exact ban stands
    assert [x.entry_id for x in res.cancelled] == [1]
    assert [x.entry_id for x in res.safelisted] == [3]
    assert verdict_for(res.matches) == "block"
    assert verdict_for(m.match(q(h), NOW).matches) == "allow"


def test_exact_safelist_cancels_everything():
    h, sha = random_hex(), "ef" * 32
    m = matcher_with(BLOCK, SAFE, entries=[EntryState(1, 1, "pdq", h), EntryState(3, 3, "sha256", sha)])
    res = m.match(Query(exact={"sha256": sha}, pdq=(("original", h, 100),)), NOW)
    assert res.matches == () and len(res.cancelled) == 1


def test_video_matches_banked_video_and_banked_picture_in_a_frame():
    frames = tuple(FrameHash(float(i), random_hex(), 100) for i in range(10))
    picture = random_hex()
    m = matcher_with(BLOCK, entries=[EntryState(7, 1, "vpdq", "00" * 32, frames=frames),
                                     EntryState(8, 1, "pdq", picture)])
    reupload = tuple(FrameHash(f.t, flip(f.pdq, 4), 100) for f in frames[:9])
    res = m.match(Query(video=reupload), NOW).matches
    assert [(x.entry_id, x.signal, x.distance) for x in res] == [(7, "vpdq", 4)]
    # Two of ten frames are not enough for either direction of the 80% rule.
    assert m.match(Query(video=reupload[:2] + tuple(FrameHash(9.0 + i, random_hex(), 100)
                                                      for i in range(8))), NOW).matches == ()
    with_picture = (FrameHash(0.0, random_hex(), 100), FrameHash(1.0, flip(picture, 2), 100))
    res = m.match(Query(video=with_picture), NOW).matches
    assert [(x.entry_id, x.signal, x.variant) for x in res] == [(8, "pdq", "original@1.0s")]
    # A letterbox-trimmed variant of the frames is compared as a whole video too.
    res = m.match(Query(video=(), video_variants={"trim": reupload}), NOW).matches
    assert [(x.entry_id, x.variant) for x in res] == [(7, "trim")]


def test_near_any_prefilter():
    h = random_hex()
    m = matcher_with(BLOCK, entries=[EntryState(1, 1, "pdq", h)])
    arr = np.stack([np.frombuffer(bytes.fromhex(x), dtype=np.uint8) for x in (flip(h, 30), random_hex())])
    assert m.near_any(arr).tolist() == [True, False]
