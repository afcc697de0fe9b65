"""Stage 2 matching (pure): the descriptor index, geometric verification and its refusals."""

from __future__ import annotations

import numpy as np
import pytest

from bench import edits
from rempart.matching.feature_index import MIN_INLIERS, FeatureIndex, verify
from rempart.signals.features import Features, extract
from rempart.signals.normalise import working_copy


def feats(rgb: np.ndarray) -> Features:
    return extract(working_copy(np.ascontiguousarray(rgb)))


@pytest.fixture(scope="module")
def photos():
    return [edits.load(edits.IMAGES / name) for name in edits.SOURCES]


def test_an_edited_copy_is_shortlisted_and_verified_with_its_geometry(photos):
    index = FeatureIndex()
    for i, p in enumerate(photos):
        index.add(i, feats(p))
    bridge = photos[0]
    turned = edits.rotate(edits.crop(bridge, 0.10), 4, True)
    found = index.match(feats(turned))
    assert [m.item for m in found] == [0]
    m = found[0]
    assert m.inliers >= MIN_INLIERS and abs(m.rotation - 4) < 1.0
    assert 0.55 < m.area < 0.75  # 80% x 80% of the banked picture is shown
    left, top, right, bottom = m.region
    assert left <= 0.05 and top <= 0.05 and right >= 0.95 and bottom >= 0.95
    ev = m.evidence()
    assert set(ev) == {"inliers", "transform", "area_covered", "region"}


def test_live_changes_add_remove_and_merge(photos):
    index = FeatureIndex()
    f = [feats(p) for p in photos]
    for i, x in enumerate(f):
        index.add(i, x)
    index._merge()  # everything in the main tables
    index.add(100, f[1])  # the same picture under another id, in the delta
    assert {m.item for m in index.match(f[1])} == {1, 100}
    index.remove([1])
    assert {m.item for m in index.match(f[1])} == {100}
    index.remove([100])
    assert index.match(f[1]) == [] and len(index) == len(photos) - 1


def test_a_shared_logo_alone_never_matches():
    rng = np.random.default_rng(5)
    tiles = edits.tiles(336, "right")
    banked = edits.with_logo(edits.graphic(rng))
    for tile in tiles[:6]:
        v = verify(feats(banked), feats(edits.with_logo(tile)))
        assert v.match is None


def test_a_shared_meme_template_never_matches():
    tiles = edits.tiles(168, "right")
    from rempart.signals import fingerprint
    a = fingerprint(edits.encode(edits.in_template(tiles[0])))
    banked = Features.from_bytes(a.features)  # the picture inside the frame only
    for tile in tiles[1:6]:
        q = fingerprint(edits.encode(edits.in_template(tile)))
        both = Features.from_bytes(q.features).joined(Features.from_bytes(q.region_features))
        assert verify(banked, both).match is None


def test_a_line_of_text_never_matches():
    rng = np.random.default_rng(9)
    page = edits.text_heavy(rng)
    other = edits.text_heavy(np.random.default_rng(10)).copy()
    w = min(page.shape[1], other.shape[1])
    other[:40, :w] = page[:40, :w]  # the same first line of text
    assert verify(feats(page), feats(other)).match is None
