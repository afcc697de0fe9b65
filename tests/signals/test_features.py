"""Stage 2 signals: ORB features and their stored form (explicit, versioned, capped)."""

from __future__ import annotations

import importlib
import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from bench import edits
from rempart.banks.entries import MAX_FEATURE_BYTES
from rempart.errors import InvalidInput
from rempart.signals import fingerprint
from rempart.signals.features import (BANK_CENTRE, BANK_POINTS, BANK_WHOLE, MAX_POINTS,
                                      QUERY_POINTS, Features,
                                      BANK_BOX_SHARE, bank_box, bank_set, centre, covers_most,
                                      extract, extract_region)
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
    assert covers_most((0, 85, 0, 100), (100, 100))  # a caption bar: half a pyramid step
    assert not covers_most((0, 80, 0, 100), (100, 100))  # a screenshot's picture: a second pass


def test_a_peeled_box_starts_its_orb_pass_before_the_content_box_is_looked_for(monkeypatch):
    fpmod = importlib.import_module("rempart.signals.fingerprint")  # the module, not the function
    photo = edits.load(edits.IMAGES / "labelme-subset/q0746.jpg")
    bar = photo.shape[0] // 6
    framed = np.full((photo.shape[0] + 2 * bar, photo.shape[1], 3), 255, np.uint8)
    framed[bar:-bar] = photo  # white bars above and below: peeled, the box holds ~56%
    events, passes = [], []

    def region(*args, **kwargs):
        passes.append(extract_region(*args, **kwargs))
        return passes[-1]

    class Pool:  # the feature pool, noting what is started when
        def submit(self, fn, *args, **kwargs):
            events.append("region pass" if fn is region else "whole pass")
            return pool.submit(fn, *args, **kwargs)

    pool, real_box = fpmod._FEATURES, fpmod.content_box
    monkeypatch.setattr(fpmod, "_FEATURES", Pool())
    monkeypatch.setattr(fpmod, "extract_region", region)
    monkeypatch.setattr(fpmod, "content_box", lambda small: events.append("content box")
                        or real_box(small))
    fp = fingerprint(edits.encode(framed))
    assert events == ["whole pass", "region pass", "content box"]
    # the box's pass is the picture's features; the whole picture's are kept beside them
    assert fp.features == passes[0].to_bytes() and fp.region_features
    box = Features.from_bytes(fp.features)
    assert box.xy[:, 1].min() >= bar * box.height / framed.shape[0] - 1  # none on the bars


def _spread_out_reference(kps, shape, points):
    """The choice ``_spread_rows`` makes, as a plain loop: rounds of BANK_POINTS, in each at
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

    from rempart.signals.features import _spread_rows

    rng = np.random.default_rng(3)
    for n, points in ((1200, 800), (700, 800), (90, 500), (3, 800), (0, 800)):
        # clustered positions (most in one corner) and tied responses
        xy = np.concatenate([rng.uniform(0, 120, (n // 2, 2)), rng.uniform(0, 480, (n - n // 2, 2))])
        kps = [cv2.KeyPoint(float(x), float(y), 7, -1, float(r))
               for (x, y), r in zip(xy, rng.integers(0, 40, n) / 1000)]
        chosen = _spread_rows(kps, (480, 480), points)
        assert chosen.tolist() == _spread_out_reference(kps, (480, 480), points)


def test_the_centre_is_what_a_crop_of_a_fifth_per_side_keeps():
    assert centre((0, 100, 0, 200)) == (20, 80, 40, 160)
    assert centre((10, 110, 30, 80), 0.1) == (20, 100, 35, 75)
    assert centre((0, 3, 0, 3)) == (0, 3, 0, 3)  # too small to cut: all of it
    for bad in (((0, 100, 0, 100), 0.5), ((0, 100, 0, 100), -0.1), ((50, 50, 0, 100), 0.2)):
        with pytest.raises(InvalidInput):
            centre(*bad)


def _points(n: int, start: int = 0, size=(100, 80)) -> Features:
    xy = np.stack([np.arange(start, start + n) % size[0], np.arange(n) % size[1]], 1)
    desc = (np.arange(start, start + n)[:, None] + np.arange(32)) % 256
    return Features(*size, xy.astype(np.float32), desc.astype(np.uint8))


def test_a_bank_keeps_the_pictures_first_points_then_its_centres():
    whole, middle = _points(800), _points(300, start=1000)
    kept = bank_set(whole, middle)
    assert len(kept) == BANK_WHOLE + BANK_CENTRE
    assert np.array_equal(kept.desc[:BANK_WHOLE], whole.desc[:BANK_WHOLE])
    assert np.array_equal(kept.desc[BANK_WHOLE:], middle.desc[:BANK_CENTRE])
    assert len(kept.to_bytes()) <= MAX_FEATURE_BYTES
    # a flat picture: all of its few points, and the centre's
    assert len(bank_set(_points(52), middle)) == 52 + BANK_CENTRE
    # no centre set: the picture's points fill the same room
    for none in (None, _points(0)):
        alone = bank_set(whole, none)
        assert np.array_equal(alone.desc, whole.desc[:BANK_WHOLE + BANK_CENTRE])
    with pytest.raises(InvalidInput):
        bank_set(whole, _points(10, size=(50, 50)))


def test_only_banking_pays_for_the_centres_pass(monkeypatch):
    fpmod = importlib.import_module("rempart.signals.fingerprint")
    data = edits.encode(edits.load(edits.IMAGES / "bridge-mods/aaa-orig.jpg"), 92)
    passes = []
    real = fpmod.extract_region
    monkeypatch.setattr(fpmod, "extract_region", lambda *a, **k: passes.append(a) or real(*a, **k))
    upload = fingerprint(data)
    assert passes == [] and upload.bank_features == b""
    banked = fingerprint(data, bank=True)
    assert len(passes) == 1
    work, box, points = passes[0]
    h, w = work.shape[:2]
    assert box == centre((0, h, 0, w)) and points == BANK_CENTRE
    kept = Features.from_bytes(banked.bank_features)
    whole = Features.from_bytes(banked.features)
    assert len(kept) == BANK_WHOLE + BANK_CENTRE
    assert np.array_equal(kept.desc[:BANK_WHOLE], whole.desc[:BANK_WHOLE])
    top, bottom, left, right = box  # the centre's points lie in the centre
    assert (kept.xy[BANK_WHOLE:, 0] >= left).all() and (kept.xy[BANK_WHOLE:, 0] <= right).all()
    assert (kept.xy[BANK_WHOLE:, 1] >= top).all() and (kept.xy[BANK_WHOLE:, 1] <= bottom).all()
    # the bank keeps the plain pass's points; an upload's are the query pass's (``crowd``)
    work = working_copy(_decoded(data))
    assert banked.features == extract(work).to_bytes()
    assert upload.features == extract(work, crowd=True).to_bytes()


def _decoded(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def test_a_querys_points_are_not_all_taken_by_an_overlays_letters():
    """A watermark's letters over a dim photo, as an upload decodes: ORB's strongest corners
    are the letters'; a query's pass keeps more points of the photo itself."""
    tile = np.asarray(Image.fromarray(edits.tiles(672, "left")[4]).resize((480, 480),
                                                                          Image.LANCZOS))
    marked = edits.watermark(tile, np.random.default_rng(4))
    work = working_copy(_decoded(edits.encode(marked)))
    # where the overlay changed the picture, and ORB's patch around it
    changed = (np.abs(marked.astype(int) - tile.astype(int)).max(axis=2) > 10).astype(np.uint8)
    near = cv2.dilate(changed, np.ones((15, 15), np.uint8)).astype(bool)
    on_overlay = lambda f: near[f.xy[:, 1].astype(int), f.xy[:, 0].astype(int)]
    plain, query = extract(work), extract(work, crowd=True)
    assert len(query) == len(plain) == QUERY_POINTS
    # the overlay and its surroundings are 14% of the picture, and take nearly every point
    assert near.mean() < 0.2 and on_overlay(plain).mean() > 0.9
    assert (~on_overlay(query)).sum() > 10 * max(1, (~on_overlay(plain)).sum())


def test_points_crowd_when_the_cell_cap_would_drop_most_of_them():
    """``crowded``: the share of points beyond their cell's ``CROWD_CAP`` strongest, against
    ``CROWDED_SHARE``; the points' strength decides which of a cell's are kept."""
    from rempart.signals.features import CROWD_CAP, CROWD_GRID, CROWDED_SHARE, crowded

    shape = (512, 512)
    step = 512 / CROWD_GRID
    def points(per_cell: list[int]) -> list:
        kps = []
        for cell, n in enumerate(per_cell):
            cy, cx = divmod(cell, CROWD_GRID)
            kps += [cv2.KeyPoint((cx + 0.5) * step, (cy + 0.5) * step, 31, -1, 1.0 + i)
                    for i in range(n)]
        return kps

    cells = CROWD_GRID * CROWD_GRID
    assert not crowded([], shape)
    assert not crowded(points([CROWD_CAP] * cells), shape)  # spread: none dropped
    assert crowded(points([200] * 4 + [0] * (cells - 4)), shape)  # a watermark's letters
    # at the threshold: 20 cells each with the cap and n more, dropping exactly the share
    extra = round(CROWD_CAP * CROWDED_SHARE / (1 - CROWDED_SHARE))
    assert crowded(points([CROWD_CAP + extra] * 20 + [0] * (cells - 20)), shape)
    assert not crowded(points([CROWD_CAP + extra - 1] * 20 + [0] * (cells - 20)), shape)


def test_the_cell_cap_keeps_what_the_plain_rule_says():
    """``_uncrowded`` (each cell of the crowd grid keeps its ``CROWD_CAP`` strongest, ties in
    the detector's order) against a plain loop, on clustered points with tied responses, points
    on the grid's lines and on the picture's far edges."""
    from rempart.signals.features import CROWD_CAP, CROWD_GRID, _Points, _uncrowded

    def reference(kps, shape):
        h, w = shape
        cell = [min(CROWD_GRID - 1, int(np.float32(k.pt[1]) * CROWD_GRID // h)) * CROWD_GRID
                + min(CROWD_GRID - 1, int(np.float32(k.pt[0]) * CROWD_GRID // w)) for k in kps]
        order = sorted(range(len(kps)), key=lambda i: -np.float32(kps[i].response))
        used = [0] * CROWD_GRID ** 2
        kept = []
        for i in order:
            if used[cell[i]] < CROWD_CAP:
                used[cell[i]] += 1
                kept.append(i)
        return sorted(kept)

    rng = np.random.default_rng(5)
    shape = (384, 512)
    for n in (1200, 300, 5, 1):
        xy = np.concatenate([rng.uniform(0, 60, (n // 2, 2)),
                             rng.uniform(0, 1, (n - n // 2, 2)) * (511.9, 383.9)])
        xy[: n // 4] = np.round(xy[: n // 4] / 32) * 32  # on the grid's lines
        kps = [cv2.KeyPoint(float(x), float(y), 7, -1, float(r))
               for (x, y), r in zip(xy, rng.integers(0, 20, n) / 1000)]
        want = reference(kps, shape)
        assert _uncrowded(kps, shape).tolist() == want
        read = _Points.of(kps)
        read.strongest  # noqa: B018 - the shared order, sorted first, gives the same rows
        assert _uncrowded(read, shape).tolist() == want


def test_a_query_pays_for_the_crowd_proof_choice_only_when_its_points_crowd():
    """A textured photo's plain points are spread: its query pass is the plain pass (the bank's
    points, no second detection); a watermark over a dim tile crowds them: the query's
    points are chosen cell by cell and differ."""
    from rempart.signals.features import _orb_detector, crowded

    photo = working_copy(edits.load(edits.IMAGES / "bridge-mods/aaa-orig.jpg"))
    tile = np.asarray(Image.fromarray(edits.tiles(672, "left")[4]).resize((480, 480),
                                                                          Image.LANCZOS))
    marked = working_copy(_decoded(edits.encode(edits.watermark(tile,
                                                                 np.random.default_rng(4)))))
    def plain_crowded(work):
        grey = cv2.cvtColor(work, cv2.COLOR_RGB2GRAY)
        grey = cv2.resize(grey, (512, round(512 * grey.shape[0] / grey.shape[1])))
        return crowded(_orb_detector(3 * QUERY_POINTS // 2).detect(grey, None), grey.shape)
    assert not plain_crowded(photo) and plain_crowded(marked)
    assert extract(photo, crowd=True).to_bytes() == extract(photo).to_bytes()
    assert extract(marked, crowd=True).to_bytes() != extract(marked).to_bytes()


def test_a_querys_two_passes_are_both_crowd_proof_or_both_plain():
    """``plain_of``: the whole picture's pass and its content box's are taken as they are when
    both made the crowd-proof choice or neither did; mixed, both plain."""
    from rempart.signals.features import plain_of

    def pass_(n: int, crowd: bool) -> Features:
        f = Features(100, 100, np.full((n, 2), 50, np.float32), np.full((n, 32), n, np.uint8))
        return Features(100, 100, f.xy[:1], f.desc[:1], f) if crowd else f

    plain_whole, plain_region = pass_(3, False), pass_(4, False)
    crowd_whole, crowd_region = pass_(5, True), pass_(6, True)
    assert plain_of(plain_whole, plain_region) == (plain_whole, plain_region)
    assert plain_of(crowd_whole, crowd_region) == (crowd_whole, crowd_region)
    assert plain_of(crowd_whole, None) == (crowd_whole, None)  # no box: nothing to agree with
    assert plain_of(crowd_whole, plain_region) == (crowd_whole.plain, plain_region)
    assert plain_of(plain_whole, crowd_region) == (plain_whole, crowd_region.plain)


def test_an_upload_whose_frame_crowds_but_picture_does_not_queries_plain_points(monkeypatch):
    """A light phone screenshot of a dark desk tile: the screen's text crowds the whole
    picture's points, the tile's own do not crowd: the upload keeps both plain passes."""
    fpmod = importlib.import_module("rempart.signals.fingerprint")
    passes: dict[str, Features] = {}

    def spy(name, real):
        def run(*args, **kwargs):
            passes[name] = real(*args, **kwargs)
            return passes[name]
        return run

    monkeypatch.setattr(fpmod, "extract", spy("whole", extract))
    monkeypatch.setattr(fpmod, "extract_region", spy("box", extract_region))
    names = [name for name, _ in edits.sources()]
    upload = fingerprint(edits.edited(dict(edits.sources())["tile-8"], "screenshot-70",
                                      names.index("tile-8")))
    assert passes["whole"].plain is not None and passes["box"].plain is None
    # the whole screenshot's points (kept apart from the box's) are its plain pass's
    assert upload.region_features == passes["whole"].plain.to_bytes()
    assert upload.features == passes["box"].to_bytes()


def test_a_bank_takes_a_box_as_its_pictures_frame_only_when_it_holds_enough_of_it():
    shape = (100, 200, 3)
    assert bank_box(None, shape) is None
    assert bank_box((0, 100, 40, 160), shape) == (0, 100, 40, 160)  # a screenshot's picture
    least = round(BANK_BOX_SHARE * 100)
    assert bank_box((0, least, 0, 200), shape) == (0, least, 0, 200)
    assert bank_box((0, least - 1, 0, 200), shape) is None  # a bright band of the picture


def test_a_low_contrast_pictures_bright_band_is_not_banked_as_its_picture():
    """A blurred, low-contrast photo (a tile of the desk photo the bench banks) whose brighter
    top band the content box takes for the picture inside a frame: the bank keeps the whole
    picture's points and its centre's, not the band's (it kept 52 points of the band)."""
    tile = dict(edits.sources())["tile-3"]
    fp = fingerprint(edits.encode(tile, 92), bank=True)
    band = Features.from_bytes(fp.features)  # what the upload looks inside: the band
    assert band.xy[:, 1].max() < 0.2 * band.height
    kept = Features.from_bytes(fp.bank_features)
    assert len(kept) > 400 and (kept.xy[:, 1] > 0.5 * kept.height).sum() > 100


def test_one_orb_pass_gives_the_points_of_detecting_choosing_then_computing():
    """``_orb_passes`` detects and describes in one pass, then keeps the chosen points: the same points,
    descriptors and order as detecting, choosing (``_spread_rows``) and describing only those
    (OpenCV lists described points by pyramid level)."""
    import cv2

    from rempart.signals.features import _EDGE, _orb_passes, _spread_rows

    rng = np.random.default_rng(5)
    pictures = [edits.load(edits.IMAGES / name) for name in edits.SOURCES[:4]]
    pictures.append(edits.screenshot(pictures[0], rng, 0.5))
    pictures.append(edits.text_page(rng, padded=False))
    for rgb, points in zip(pictures, (800, 500, 800, 300, 800, 800)):
        grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
        orb = cv2.ORB_create(nfeatures=3 * points // 2, scaleFactor=1.2, nlevels=8,
                             edgeThreshold=_EDGE, fastThreshold=7)
        kps = orb.detect(grey, None)
        chosen = [kps[i] for i in _spread_rows(kps, grey.shape, points).tolist()]
        kps, desc = orb.compute(grey, chosen)
        levels = [k.octave for k in kps]
        assert levels == sorted(levels) and len(kps) == min(points, len(chosen))
        xy, got = _orb_passes(grey, points)[0]
        assert np.array_equal(xy, cv2.KeyPoint_convert(kps).astype(np.float32))
        assert np.array_equal(got, desc)
