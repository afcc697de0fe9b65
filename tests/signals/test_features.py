"""Stage 2 signals: ORB features and their stored form (explicit, versioned, capped)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from bench import edits
from rempart.banks.entries import MAX_FEATURE_BYTES
from rempart.errors import InvalidInput
from rempart.signals import fingerprint
from rempart.signals.features import (BANK_POINTS, MAX_POINTS, Features, covers_most, extract,
                                      extract_region)
from rempart.signals.normalise import working_copy


def test_stored_form_round_trips_and_fits_the_cap():
    rgb = edits.load(edits.IMAGES / "pen-and-coaster.png")
    f = extract(working_copy(rgb)).head(BANK_POINTS)  # what a bank keeps
    assert 100 < len(f) <= BANK_POINTS
    blob = f.to_bytes()
    assert blob[:4] == b"ORB1" and len(blob) == 10 + 36 * len(f) <= MAX_FEATURE_BYTES
    back = Features.from_bytes(blob)
    assert (back.width, back.height) == (f.width, f.height)
    assert np.array_equal(back.desc, f.desc) and np.abs(back.xy - f.xy).max() <= 1 / 64


@pytest.mark.parametrize("blob", [b"", b"ORB2" + bytes(6), b"ORB1" + bytes(4) + b"\x01\x00",
                                  b"ORB1" + bytes(4) + (MAX_POINTS + 1).to_bytes(2, "little")])
def test_stored_form_rejects_what_it_did_not_write(blob):
    with pytest.raises(InvalidInput):
        Features.from_bytes(blob)


def test_region_points_lie_in_the_region_and_a_speck_has_none():
    rgb = working_copy(edits.load(edits.IMAGES / "bridge-mods/aaa-orig.jpg"))
    box = (50, 250, 100, 400)
    f = extract_region(rgb, box)
    assert len(f) > 50
    assert f.xy[:, 0].min() >= 100 and f.xy[:, 0].max() <= 400
    assert f.xy[:, 1].min() >= 50 and f.xy[:, 1].max() <= 250
    assert extract_region(rgb, (0, 10, 0, 10)) is None


def test_fingerprint_carries_features_for_pictures_only(testdata):
    fp = fingerprint((edits.IMAGES / "bridge-mods/aaa-orig.jpg").read_bytes())
    assert len(Features.from_bytes(fp.features)) > 100 and fp.region_features == b""
    shot = fingerprint(edits.encode(edits.screenshot(
        edits.load(edits.IMAGES / "misc/c.png"), np.random.default_rng(1), 0.7)))
    assert shot.region_features  # the whole screenshot's points, besides its picture's


def test_a_box_holding_most_of_the_picture_reuses_its_points_without_a_second_pass(monkeypatch):
    fpmod = importlib.import_module("rempart.signals.fingerprint")  # the module, not the function
    photo = edits.load(edits.IMAGES / "labelme-subset/q0746.jpg")
    framed = np.full((photo.shape[0] + 24, photo.shape[1], 3), 255, np.uint8)
    framed[12:-12] = photo  # thin white bars above and below: the box holds ~95%
    passes = []
    monkeypatch.setattr(fpmod, "extract_region", lambda *a, **k: passes.append(a))
    fp = fingerprint(edits.encode(framed))
    assert passes == []  # no second ORB pass
    box, rest = Features.from_bytes(fp.features), Features.from_bytes(fp.region_features)
    assert len(box) > 300 and len(rest) > 0
    assert box.xy[:, 1].min() > 12 * box.height / framed.shape[0]  # none on the bars
    joined = {tuple(d) for d in box.desc.tolist()} & {tuple(d) for d in rest.desc.tolist()}
    assert not joined  # a query joins the two: no point counted twice
    assert covers_most((0, 95, 0, 95), (100, 100))
    assert not covers_most((0, 85, 0, 100), (100, 100))  # a caption bar: a second pass


def _spread_out_reference(kps, shape, points):
    """The choice ``_spread_out`` makes, as a plain loop: rounds of BANK_POINTS, in each at
    most an equal share per cell of a 4 x 4 grid (strongest first), then the strongest left."""
    h, w = shape
    cell = [min(3, int(k.pt[1] * 4 // h)) * 4 + min(3, int(k.pt[0] * 4 // w)) for k in kps]
    order = sorted(range(len(kps)), key=lambda i: -np.float32(kps[i].response))
    used, taken = set(), []
    while len(taken) < min(points, len(kps)):
        goal = min(points, len(kps), len(taken) + BANK_POINTS)
        quota = [max(1, (goal - len(taken)) // 16)] * 16
        for i in order:
            if len(taken) < goal and i not in used and quota[cell[i]] > 0:
                quota[cell[i]] -= 1
                used.add(i)
                taken.append(i)
        for i in order:
            if len(taken) < goal and i not in used:
                used.add(i)
                taken.append(i)
    return taken


def test_points_are_spread_out_as_the_plain_rule_says():
    import cv2

    from rempart.signals.features import _spread_out

    rng = np.random.default_rng(3)
    for n, points in ((1200, 800), (700, 800), (90, 500), (3, 800), (0, 800)):
        # clustered positions (most in one corner) and tied responses
        xy = np.concatenate([rng.uniform(0, 120, (n // 2, 2)), rng.uniform(0, 480, (n - n // 2, 2))])
        kps = [cv2.KeyPoint(float(x), float(y), 7, -1, float(r))
               for (x, y), r in zip(xy, rng.integers(0, 40, n) / 1000)]
        chosen = _spread_out(kps, (480, 480), points)
        assert [kps.index(k) for k in chosen] == _spread_out_reference(kps, (480, 480), points)
