"""Stage 1 normalisers (pure): bars with text, content boxes, small rotations, padded pages."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import cv2
from PIL import Image, ImageDraw

from bench import edits
from rempart.errors import InvalidInput
from rempart.signals import hamming
from rempart.signals.normalise import (DEFAULT_PEEL, DENSE_WINDOW, MAX_BOX, MIN_BOX, content_box,
                                       median_colour, normalised, peel, straighten, working_copy)
from rempart.signals.pdq import pdq_hash
from rempart.signals.trim import content_box as trim_box

RNG = np.random.default_rng(7)


@pytest.fixture(scope="module")
def bridge():
    return edits.load(edits.IMAGES / "bridge-mods/aaa-orig.jpg")


def _near(a: np.ndarray, b: np.ndarray) -> int:
    return hamming(pdq_hash(np.ascontiguousarray(a))[0], pdq_hash(np.ascontiguousarray(b))[0])


@pytest.mark.parametrize("where,dark", [("top", False), ("bottom", True)])
def test_peel_goes_through_the_text_of_a_caption_bar(bridge, where, dark):
    captioned = edits.caption(bridge, RNG, where, dark)
    assert trim_box(captioned) is None or trim_box(captioned) != peel(captioned)  # trim stops at text
    top, bottom, left, right = peel(captioned)
    h = bridge.shape[0]
    bar = captioned.shape[0] - h
    assert (top, bottom) in {(bar + d, captioned.shape[0]) for d in range(3)} | \
        {(0, h - d) for d in range(3)}
    assert _near(captioned[top:bottom, left:right], bridge) <= 31


def _under_a_dark_bar(picture: np.ndarray, bar: int = 80) -> np.ndarray:
    """``picture`` above a black bar holding a line of large, dense light letters, as a JPEG
    upload decodes (the ringing around the letters is part of what peel reads)."""
    h, w = picture.shape[:2]
    canvas = Image.new("RGB", (w, h + bar), (0, 0, 0))
    canvas.paste(Image.fromarray(picture), (0, 0))
    ImageDraw.Draw(canvas).text((6, h + bar // 4), "mmmm wwww mmmm wwww mmmm wwww mmmm",
                                fill=(255, 255, 255), font=edits.font(bar // 2))
    return np.asarray(Image.open(io.BytesIO(edits.encode(np.asarray(canvas)))).convert("RGB"))


def _bar_share(rgb: np.ndarray, rows: slice, tolerance: int) -> np.ndarray:
    """Per row, the share of pixels within ``tolerance`` of black in every channel."""
    return (rgb[rows].max(axis=2) <= tolerance).mean(axis=1)


def test_peel_goes_through_dense_light_letters_on_a_dark_bar(bridge):
    framed = _under_a_dark_bar(bridge)
    h = bridge.shape[0]
    # the letters leave under text_floor of their rows in the bar's colour: strokes, not a line
    # mostly in the bar's colour, tell the bar from the picture
    rule = DEFAULT_PEEL
    assert _bar_share(framed, slice(h, None), rule.tolerance).min() < rule.text_floor
    top, bottom, left, right = peel(framed)
    assert (top, left, right) == (0, 0, framed.shape[1]) and h - 2 <= bottom <= h


def test_peel_finds_a_dark_bar_under_a_picture_as_dark(bridge):
    dark = (bridge // 5 + 4).astype(np.uint8)  # textured, but mostly within the tolerance of black
    framed = _under_a_dark_bar(dark)
    h = dark.shape[0]
    # its last rows pass, on the whole, for the bar at the tolerance: only their texture tells
    # them from the bar's flat lines
    rule = DEFAULT_PEEL
    assert _bar_share(framed, slice(h - 40, h), rule.tolerance).mean() > rule.text_floor
    top, bottom, left, right = peel(framed)
    assert h - 2 <= bottom <= h and top == 0


def test_peel_leaves_a_picture_without_bars_alone(bridge):
    assert peel(bridge) is None


def _flat_graphic() -> np.ndarray:
    """A graphic on a flat background, as a JPEG upload decodes: an ellipse whose tip grows
    into the background line by line, a thin line crossing it."""
    im = Image.new("RGB", (420, 400), (90, 140, 160))
    draw = ImageDraw.Draw(im)
    draw.ellipse((60, 70, 360, 380), fill=(200, 60, 40))
    draw.line((20, 120, 400, 140), fill=(250, 250, 80), width=4)
    return np.asarray(Image.open(io.BytesIO(edits.encode(np.asarray(im)))).convert("RGB"))


def test_peel_takes_no_bar_off_a_graphics_flat_background():
    """The rows above a shape are flat, and the rows through its tip mostly background (text,
    at the text floor): read as a caption bar, the graphic lost its edges to a region pass. A
    bar ends in a straight edge: many rows mostly but not wholly in its colour between its
    flat rows and the picture are no bar (a caption's have 0-4)."""
    graphic = _flat_graphic()
    rule = DEFAULT_PEEL
    shares = _colour_share(graphic, graphic[0, 0], rule.tolerance)
    top = int(np.argmax(shares < rule.uniform))  # the ellipse's tip
    tip = shares[top:top + 60]
    assert top > rule.min_peel * len(shares)
    assert np.count_nonzero((tip >= rule.text_floor) & (tip < rule.uniform)) > rule.edge_lines
    assert peel(graphic) is None


def _colour_share(rgb: np.ndarray, colour: np.ndarray, tolerance: int) -> np.ndarray:
    """Per row, the share of pixels within ``tolerance`` of ``colour`` in every channel."""
    return (np.abs(rgb.astype(int) - colour.astype(int)).max(axis=2) <= tolerance).mean(axis=1)


@pytest.mark.parametrize("fill,dark", [(0.70, False), (0.70, True), (0.50, False)])
def test_content_box_finds_the_picture_inside_a_screenshot(bridge, fill, dark):
    shot = edits.screenshot(bridge, RNG, fill, dark)
    work = working_copy(shot)
    top, bottom, left, right = content_box(work)
    share = (bottom - top) * (right - left) / (work.shape[0] * work.shape[1])
    assert abs(share - fill) < 0.08
    best = min(_near(p, bridge) for _, p in normalised(work))
    assert best <= 31


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 1000, 1001, 2046])
def test_median_colour_is_numpys_median_rounded_down(n):
    rng = np.random.default_rng(n)
    for pixels in (rng.integers(0, 256, (n, 3), dtype=np.uint8),
                   rng.integers(0, 2, (n, 3), dtype=np.uint8) * 255,  # halves: x.5 medians
                   rng.integers(0, 256, (n, 3)).astype(np.int16)):
        expected = np.median(pixels, axis=0).astype(np.int16)
        got = median_colour(pixels)
        assert got.dtype == np.int16 and np.array_equal(got, expected)


def _reference_content_box(rgb: np.ndarray, tolerance: int = 24):
    """``content_box`` as first written (numpy's median and share, the ink mask counted, a
    closing then an opening): the cheaper passes must find the very same box."""
    h, w = rgb.shape[:2]
    ring = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    canvas = np.median(ring, axis=0).astype(np.int16)
    if np.mean(np.abs(ring.astype(np.int16) - canvas).max(axis=1) <= tolerance) < 0.6:
        return None
    ink = (np.abs(rgb.astype(np.int16) - canvas).max(axis=2) > tolerance).astype(np.uint8)
    count = cv2.boxFilter(ink, cv2.CV_16U, (DENSE_WINDOW, DENSE_WINDOW), normalize=False)
    dense = (count >= math.ceil(0.6 * DENSE_WINDOW ** 2)).astype(np.uint8)
    dense = cv2.morphologyEx(dense, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    dense = cv2.morphologyEx(dense, cv2.MORPH_OPEN, np.ones((DENSE_WINDOW, DENSE_WINDOW), np.uint8))
    count, labels = cv2.connectedComponents(dense, connectivity=4)
    if count < 2:
        return None
    areas = np.bincount(labels.ravel(), minlength=count)
    best = 1 + int(np.argmax(areas[1:]))
    x, y, bw, bh = cv2.boundingRect((labels == best).astype(np.uint8))
    if not MIN_BOX <= bw * bh / (h * w) <= MAX_BOX or areas[best] < 0.6 * bw * bh:
        return None
    return y, y + bh, x, x + bw


def test_content_box_is_its_reference(bridge):
    rng = np.random.default_rng(5)
    pictures = [edits.screenshot(bridge, rng, fill, dark)
                for fill, dark in ((0.7, False), (0.7, True), (0.5, False), (0.9, True))]
    pictures += [edits.caption(bridge, rng, "top"), edits.caption(bridge, rng, "bottom", True),
                 edits.text_page(rng, True), edits.text_page(rng, False), bridge]
    # a picture touching the canvas's edge, with canvas-coloured patches inside it
    # a logo alone on a page: too little ink for a picture (no component labelled)
    page = np.full((400, 400, 3), 255, np.uint8)
    logo = edits.logo(120)
    page[150:150 + logo.shape[0], 140:140 + logo.shape[1]] = logo
    pictures.append(page)
    patched = np.full((300, 400, 3), 250, np.uint8)
    patched[40:, 30:370] = bridge[:260, :340]
    patched[100:140, 100:200] = 250
    pictures.append(patched)
    found = 0
    for picture in pictures:
        work = working_copy(picture)
        box = content_box(work)
        assert box == _reference_content_box(work)
        found += box is not None
    assert found >= 4


@pytest.mark.parametrize("degrees,expand", [(2, True), (-5, True), (-2, False), (4, False)])
def test_straighten_undoes_small_rotations(bridge, degrees, expand):
    turned = edits.rotate(bridge, degrees, expand)
    assert _near(turned, bridge) > 31  # PDQ alone misses it
    upright = straighten(working_copy(turned))
    assert upright is not None and _near(upright, bridge) <= 31


def test_straighten_leaves_upright_pictures_and_flat_corners_alone(bridge):
    assert straighten(bridge) is None
    padded = np.zeros((bridge.shape[0] + 40, bridge.shape[1] + 40, 3), np.uint8)
    padded[20:-20, 20:-20] = bridge
    assert straighten(padded) is None  # a letterbox, not a turn


def test_trim_stops_where_the_padding_ends_not_at_the_pages_margin():
    rng = np.random.default_rng(3)
    page, padded = edits.text_page(rng, False), edits.text_page(np.random.default_rng(3), True)
    top, bottom, left, right = trim_box(padded)
    assert 60 <= top <= 62 and 60 <= left <= 62  # the padding is 60 pixels, the margin 40 more
    assert padded.shape[0] - bottom <= 62 and padded.shape[1] - right <= 62
    assert _near(padded[top:bottom, left:right], page) <= 31


def test_normalisers_refuse_what_is_not_a_picture():
    for bad in (np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32), "x"):
        for f in (peel, content_box, straighten, normalised, working_copy):
            with pytest.raises(InvalidInput):
                f(bad)
    tiny = np.zeros((8, 8, 3), np.uint8)
    assert peel(tiny) is None and content_box(tiny) is None and straighten(tiny) is None


def test_peels_numba_scan_is_the_numpy_one(bridge):
    """``_bar_kernel`` (numba, line by line) finds the bar ``_bar`` (numpy, in chunks) finds:
    bars with text (light and dark, dense and sparse letters), pictures as dark as their bar,
    flat graphics read again at the flat tolerance, bar-less photos; every side."""
    from rempart.signals import normalise

    rng, rule, runs = np.random.default_rng(12), DEFAULT_PEEL, []
    dark = (bridge // 5 + 4).astype(np.uint8)
    pictures = [bridge, _under_a_dark_bar(bridge), _under_a_dark_bar(dark),
                edits.caption(bridge, rng, "top"), edits.caption(bridge, rng, "bottom", True),
                edits.screenshot(bridge, rng, 0.7), edits.screenshot(bridge, rng, 0.5, True)]
    pictures += [edits.graphic(rng) for _ in range(12)] + [edits.text_heavy(rng) for _ in range(4)]
    pictures += [_flat_graphic(), edits.in_template(bridge), edits.with_logo(edits.graphic(rng))]
    for k in range(24):  # noise in a bar of one colour, with strokes in some of its lines
        h, w = (int(v) for v in rng.integers(20, 200, 2))
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        bar = int(rng.integers(1, h // 2))
        a[:bar] = rng.integers(0, 256, 3)
        lines = rng.integers(0, bar, int(rng.integers(0, bar + 1)))
        a[lines[:, None], rng.integers(0, w, (len(lines), int(rng.integers(1, 12))))] = 0
        pictures.append(a)
    for picture in pictures:
        for rgb in (picture, np.ascontiguousarray(picture[::-1, ::-1])):
            h, w = rgb.shape[:2]
            for side in ("top", "bottom", "left", "right"):
                cap = int((h if side in ("top", "bottom") else w) * rule.max_side)
                expected = normalise._bar(rgb, side, cap, rule)
                runs.append(expected)
                assert normalise._bar_kernel(rgb, side, cap, rule) == expected, side
    assert sum(r > 0 for r in runs) > 60  # bars were found (and many sides without one)
