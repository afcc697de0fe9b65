"""Stage 2 matching (pure): the descriptor index, geometric verification and its refusals."""

from __future__ import annotations

import threading

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
    a = fingerprint(edits.encode(edits.in_template(tiles[0])), bank=True)
    banked = Features.from_bytes(a.bank_features)  # the picture inside the frame only
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


def _matcher_with(photo_features: Features, pdq_hex: str, action: str):
    import datetime as dt

    from rempart.matching.matcher import BankPolicy, EntryState, Matcher, Query

    matcher = Matcher()
    matcher.put_bank(BankPolicy(1, "known", 31, action, False, True))
    matcher.put_entries([EntryState(1, 1, "pdq", pdq_hex),
                         EntryState(2, 1, "orb", "", features=photo_features.to_bytes())])
    return matcher, Query, dt.datetime(2026, 1, 1)


def test_stage_2_is_skipped_when_pdq_already_blocks_and_runs_otherwise(photos):
    from rempart.signals import fingerprint, query_variants

    data = edits.encode(photos[0], 92)
    fp = fingerprint(data)
    pdq = tuple((name, value, 100) for name, value in query_variants(fp))
    banked = Features.from_bytes(fp.features)
    for action, signals in (("block", {"pdq"}), ("review", {"pdq", "orb"})):
        matcher, Query, now = _matcher_with(banked, fp.frames[0].pdq, action)
        query = Query(pdq=pdq, features=fp.features)
        assert {m.signal for m in matcher.match(query, now).matches} == signals


def test_an_entry_dropped_while_stage_2_verifies_is_not_reported(photos, monkeypatch):
    from rempart.matching import matcher as matcher_module

    f = feats(photos[0])
    matcher, Query, now = _matcher_with(f, "0" * 64, "block")
    real = matcher_module.confirm

    def confirm_while_dropped(item, banked, query):
        # Another thread drops the entry meanwhile: it does not wait for the verification.
        other = threading.Thread(target=matcher.drop_entry, args=(item,))
        other.start()
        other.join(timeout=10)
        assert not other.is_alive(), "verification held the matcher's lock"
        return real(item, banked, query)

    monkeypatch.setattr(matcher_module, "confirm", confirm_while_dropped)
    assert matcher.match(Query(features=f.to_bytes()), now).matches == ()
    monkeypatch.setattr(matcher_module, "confirm", real)
    matcher.put_entries([matcher_module.EntryState(2, 1, "orb", "", features=f.to_bytes())])
    assert [m.signal for m in matcher.match(Query(features=f.to_bytes()), now).matches] == ["orb"]


def _reference_votes(tables, query, stale):
    """What the votes kernel must return, written plainly: per query point and item, the
    nearest banked point sharing a chunk (lists over the busy cap skipped), within NEAR bits,
    voting when nearer than RATIO x the item's next."""
    from rempart.matching import feature_index as fi
    busy = max(fi.BUSY_LIST, int(4 * len(tables.desc) / fi._LISTS))
    bank_chunks, query_chunks = fi._chunks(tables.desc), fi._chunks(query.desc)
    out = set()
    for q in range(len(query)):
        rows = set()
        for t in range(fi._CHUNKS):
            same = np.flatnonzero(bank_chunks[:, t] == query_chunks[q, t])
            if len(same) <= busy:
                rows.update(same.tolist())
        per_item: dict[int, list[tuple[int, int]]] = {}
        for r in sorted(rows):
            d = int(np.unpackbits(query.desc[q] ^ tables.desc[r]).sum())
            if d <= fi.NEAR and int(tables.owners[r]) not in stale:
                per_item.setdefault(int(tables.owners[r]), []).append((d, r))
        for item, found in per_item.items():
            found.sort()
            if len(found) == 1 or found[0][0] < fi.RATIO * found[1][0]:
                out.add((q, item, int(tables.pos[found[0][1]])))
    return out


def test_the_votes_kernel_agrees_with_a_plain_reference():
    from rempart.matching import feature_index as fi
    rng = np.random.default_rng(5)
    base = rng.integers(0, 256, (40, 32), dtype=np.uint8)

    def noisy(desc, bits):  # the same points, a few bits flipped (a re-encoded copy)
        flips = rng.random((len(desc), 256)) < bits / 256
        return desc ^ np.packbits(flips, axis=1)

    items = []
    for item in range(6):
        desc = np.concatenate([noisy(base, 12), rng.integers(0, 256, (30, 32), dtype=np.uint8)])
        desc[:50, :3] = 7  # a list longer than the busy cap: skipped
        desc[50:52, :3] = (7, 7, 8)  # a short list in the same crowded bucket: searched
        items.append((item * 10, Features(100, 100, rng.uniform(0, 100, (70, 2)).astype(
            np.float32), desc)))
    tables = fi._tables(items)
    query = Features(100, 100, rng.uniform(0, 100, (60, 2)).astype(np.float32),
                     np.concatenate([noisy(base, 20), rng.integers(0, 256, (20, 32), np.uint8)]))
    query.desc[0] = items[2][1].desc[50]  # found only in the crowded bucket
    for stale in (set(), {10, 40}):
        q, o, r = tables.votes(query, stale)
        got = list(zip(q.tolist(), o.tolist(), r.tolist()))
        assert set(got) == _reference_votes(tables, query, stale)
        assert got and not {item for _, item, _ in got} & stale
        # in query row order, then item order (verification's RANSAC sees the pairs in it)
        assert got == sorted(got) and len({(a, b) for a, b, _ in got}) == len(got)
        assert (0, 20, 50) in got


def test_the_votes_kernel_agrees_with_the_reference_on_real_pictures(photos):
    """Real ORB points (the sources of tests/data, their crowded flat-area lists, a text page),
    items given out of id order and some stale: the kernel's votes, in its order, are the plain
    reference's (the tables drop busy lists when built and keep rows in item id order)."""
    from rempart.matching import feature_index as fi
    rng = np.random.default_rng(3)
    pictures = (photos[:5] + [edits.text_heavy(rng) for _ in range(4)]
                + [edits.graphic(rng) for _ in range(4)])
    ids = [40, 7, 300, 12, 9, 101, 3, 55, 8, 1000, 2, 77, 500]  # the tables order rows by id
    tables = fi._tables([(i, feats(p)) for i, p in zip(ids, pictures)])
    assert (np.diff(tables.owners) >= 0).all()
    # glyphs and flat areas shared by many points: lists over the busy cap, dropped
    assert (tables.keys < fi._LISTS).sum() < fi._CHUNKS * len(tables.desc)
    queries = [feats(edits.crop(photos[1], 0.1)), feats(edits.rotate(photos[3], 3, True)),
               feats(edits.text_heavy(np.random.default_rng(4)))]
    for query in queries:
        for stale in (set(), {7, 101}):
            q, o, r = tables.votes(query, stale)
            got = list(zip(q.tolist(), o.tolist(), r.tolist()))
            assert got and set(got) == _reference_votes(tables, query, stale)
            assert got == sorted(got) and not {item for _, item, _ in got} & stale


def _pairs_features(rng, banked_xy, query_xy):
    """Banked and query features whose i-th descriptors are equal (so the i-th points pair up
    in verification) at the given positions."""
    desc = rng.integers(0, 256, (len(banked_xy), 32), dtype=np.uint8)
    return (Features(512, 512, banked_xy.astype(np.float32), desc),
            Features(512, 512, query_xy.astype(np.float32), desc.copy()))


@pytest.fixture
def fits(monkeypatch) -> list[int]:
    """One element per similarity fit (RANSAC) that verification runs."""
    import cv2
    from rempart.matching import feature_index as fi

    calls: list[int] = []
    real = cv2.estimateAffinePartial2D
    monkeypatch.setattr(fi.cv2, "estimateAffinePartial2D",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_verification_fits_a_second_round_only_after_a_cluster(fits):
    rng = np.random.default_rng(7)
    # pairs that agree on no transform: the first fit gathers few inliers, so nothing the
    # second round could find among the rest would be a better fit
    banked, query = _pairs_features(rng, rng.uniform(20, 490, (300, 2)),
                                    rng.uniform(20, 490, (300, 2)))
    v = verify(banked, query)
    assert v.match is None and v.inliers < MIN_INLIERS and len(fits) == 1
    # a cluster of 90 pairs in one corner (shifted one way) outvotes 60 spread-out pairs
    # (shifted another): the second round finds the spread-out fit
    fits.clear()
    spread = rng.uniform(20, 490, (60, 2))
    corner = rng.uniform(20, 80, (90, 2))
    banked, query = _pairs_features(rng, np.concatenate([corner, spread]),
                                    np.concatenate([corner + 200, spread + 5]))
    v = verify(banked, query)
    assert v.match is not None and v.inliers >= MIN_INLIERS and len(fits) == 2


def test_inliers_on_one_line_or_in_one_spot_fail_the_spread_rules_a_quarter_passes():
    from rempart.matching import feature_index as fi

    seen = np.array([[0, 0], [300, 0], [300, 300], [0, 300]], np.float32)
    rng = np.random.default_rng(4)

    def passes(points) -> bool:
        spread, cells = fi._spread(np.asarray(points, np.float32), seen)
        return spread >= fi.MIN_SPREAD and cells >= fi.MIN_CELLS

    line = np.stack([np.linspace(5, 295, 40), 150 + rng.normal(0, 4, 40)], 1)
    slanted = np.stack([np.linspace(5, 295, 40), np.linspace(5, 295, 40) + rng.normal(0, 4, 40)], 1)
    spot = rng.uniform(200, 290, (40, 2))  # a logo in a corner
    quarter = rng.uniform(5, 190, (40, 2))  # texture filling one corner quarter of the picture
    assert not passes(line) and not passes(slanted) and not passes(spot)
    assert fi._spread(quarter.astype(np.float32), seen)[1] == 4 and passes(quarter)


def test_a_blurred_tiles_crop_of_a_fifth_per_side_matches_what_a_bank_keeps():
    """A blurred photo tile with texture in one part: its 20% crop, found by a query on the
    crop enlarged, matches the bank set (the picture's points and its centre's, found enlarged
    too); it missed with the picture's first 500 points alone."""
    from rempart.signals import fingerprint

    tile = dict(edits.sources())["tile-8"]
    banked = fingerprint(edits.encode(tile, 92), bank=True)
    crop = fingerprint(edits.encode(np.ascontiguousarray(edits.crop(tile, 0.2)), 85))
    query = Features.from_bytes(crop.features)
    found = verify(Features.from_bytes(banked.bank_features), query)
    assert found.match is not None and found.match.area < 0.5
    assert verify(Features.from_bytes(banked.features).head(500), query).match is None


def test_a_banked_point_pairs_with_one_query_point_however_often_the_query_finds_it():
    """A corner found at several pyramid levels of the query, or by both of its passes, is
    one correspondence: 12 banked corners each found three times by the query (a pixel
    apart) are 12 inliers, not 36, and do not match; 30 distinct ones found three times
    each are 30 and do."""
    rng = np.random.default_rng(13)

    def thrice(n: int):
        xy = rng.uniform(20, 490, (n, 2))
        banked, once = _pairs_features(rng, xy, xy + 5)
        jitter = rng.uniform(-1, 1, (3 * n, 2)).astype(np.float32)
        query = Features(512, 512, np.tile(once.xy, (3, 1)) + jitter, np.tile(once.desc, (3, 1)))
        return verify(banked, query)

    few = thrice(12)
    assert few.inliers == 12 and few.match is None
    many = thrice(30)
    assert many.inliers == 30 and many.match is not None


def test_confirm_fits_nothing_when_too_few_pairs_pass_the_ratio_test(fits):
    from rempart.matching import feature_index as fi

    rng = np.random.default_rng(11)
    xy = rng.uniform(0, 512, (fi.MIN_INLIERS - 1, 2))
    banked, query = _pairs_features(rng, xy, xy + 5)  # one pair short of a match, all agreeing
    assert fi.verify(banked, query).inliers == fi.MIN_INLIERS - 1 and fits == [1]
    assert fi.confirm(1, banked, query) is None and fits == [1]  # no fit: it could not match
    more = rng.uniform(0, 512, (fi.MIN_INLIERS, 2))
    banked, query = _pairs_features(rng, more, more + 5)
    assert fi.confirm(1, banked, query) is not None and len(fits) == 2


def test_votes_are_tallied_as_unique_then_a_weighted_count_whether_ids_are_dense_or_not():
    """``_tally`` counts in place when the item ids are few, by sorting when they are not (an
    id far above the votes' number): either way ``np.unique``'s items and counts and the same
    weighted sums, to the last bit (each item's weights added in the votes' order)."""
    from rempart.matching import feature_index as fi

    rng = np.random.default_rng(11)
    for ids, n in ((rng.integers(1, 50, 7), 300), (rng.integers(1, 5_000, 900), 20_000),
                   (np.array([3, 10**9]), 40), (np.array([10**6]), 1)):
        o = rng.choice(ids, n)
        weight = 1.0 / rng.integers(1, 9, n)
        items, where, counts = np.unique(o, return_inverse=True, return_counts=True)
        expected = (items, counts, np.bincount(where, weights=weight, minlength=len(items)))
        got = fi._tally(o, weight)
        dense = int(o.max()) < fi.DENSE_TALLY * len(o)
        assert dense == (n >= 300)  # both ways are exercised
        for a, b in zip(got, expected):
            assert a.dtype == b.dtype and np.array_equal(a, b)


def test_the_prescreen_keeps_a_true_fit_whose_pairs_crowd_on_one_bright_spot():
    """Most of the shortlist's pairs sit on one spot (a bright spot's corners, each banked
    corner found twice by the query), a few across the picture: RANSAC mostly samples two
    pairs of the spot, whose transform is off across the picture, and stops after a few
    samples (most pairs agree). Its own inliers were then the spot alone (3 cells: screened
    out, a dark-captioned tile lost so); counted under the transform refitted on them, they
    hold the far pairs too, in every one of 40 such queries."""
    from rempart.matching import feature_index as fi

    rng = np.random.default_rng(5)
    query = Features(281, 371, np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))
    far_xy = np.array([[300, 40], [420, 60], [440, 250], [300, 300], [250, 440], [430, 430]],
                      np.float64)
    scores = []
    for _ in range(40):
        spot = np.array([90.0, 85.0]) + rng.uniform(0, 1, (60, 2)) * (100, 70)
        banked_xy = np.concatenate([np.repeat(spot, 2, axis=0), far_xy])
        query_xy = banked_xy * 0.56 + (6, 50) + rng.normal(0, 1.0, banked_xy.shape)
        stray = (rng.uniform(0, 480, (20, 2)), rng.uniform(0, (281, 371), (20, 2)))
        src = np.concatenate([banked_xy, stray[0]]).astype(np.float32)
        dst = np.concatenate([query_xy, stray[1]]).astype(np.float32)
        order = rng.permutation(len(src))
        scores.append(fi._prescreen(src[order], dst[order], query))
    # the true pairs (the spot's 120 and the 6 far ones; a noisy one or two may fall out),
    # where RANSAC's own inliers made 0 (the spot alone, 3 cells) in a third of them
    assert min(scores) >= 124


def test_the_least_squares_similarity_recovers_a_turn_a_scale_and_a_shift():
    from rempart.matching import feature_index as fi

    rng = np.random.default_rng(3)
    src = rng.uniform(0, 480, (30, 2)).astype(np.float32)
    angle, scale = np.radians(7.0), 0.56
    a, b = scale * np.cos(angle), scale * np.sin(angle)
    m = np.array([[a, -b, 6.0], [b, a, 50.0]])
    dst = (src @ m[:, :2].T + m[:, 2]).astype(np.float32)
    assert np.allclose(fi._similarity(src, dst), m, atol=1e-3)
    assert fi._within(m, src, dst + [0, 2.5], 3.0).all()
    assert not fi._within(m, src, dst + [0, 3.5], 3.0).any()


def test_a_large_querys_votes_counted_in_two_halves_are_the_same_arrays(photos, monkeypatch):
    """A query of at least 2 x SPLIT_VOTES points has its first half's votes counted on the
    voter's thread while the scan's thread counts the second (the kernel holds no GIL): the
    same votes in the same order as one count; when the voter is busy (another scan's half)
    the scan counts all of it itself rather than queue."""
    from rempart.matching import feature_index as fi
    rng = np.random.default_rng(5)
    pictures = photos[:5] + [edits.text_heavy(rng), edits.graphic(rng)]
    tables = fi._tables([(i, feats(p)) for i, p in enumerate(pictures)])
    queries = [feats(edits.crop(photos[1], 0.1)), feats(edits.text_heavy(rng))]
    assert all(len(query) >= 2 * fi.SPLIT_VOTES for query in queries)
    halves = []
    real_submit = fi._VOTER.pool.submit
    monkeypatch.setattr(fi._VOTER.pool, "submit",
                        lambda *a: halves.append(a[1:]) or real_submit(*a))
    for query in queries:
        for stale in (set(), {3}):
            split = tables.votes(query, stale)
            with monkeypatch.context() as m:
                m.setattr(fi, "SPLIT_VOTES", len(query) + 1)  # counted at once
                whole = tables.votes(query, stale)
            assert len(whole[0]) > 100
            assert all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(split, whole))
            assert fi._VOTER.free.acquire(blocking=False)  # the voter is taken: all here
            try:
                busy = tables.votes(query, stale)
            finally:
                fi._VOTER.free.release()
            assert all(np.array_equal(a, b) for a, b in zip(busy, whole))
    assert halves == [(0, len(q) // 2) for q in queries for _ in range(2)]


def test_the_shortlist_probes_as_many_points_of_each_set_as_a_bank_keeps_and_verifies_them_all():
    from rempart.matching.matcher import VERIFY_POINTS, query_sets
    from rempart.signals.features import BANK_WHOLE

    rng = np.random.default_rng(3)

    def points(n: int, tag: int) -> Features:
        xy = rng.uniform(0, 500, (n, 2)).astype(np.float32)
        desc = rng.integers(0, 256, (n, 32), dtype=np.uint8)
        desc[:, 31] = tag  # which set a point came from
        return Features(512, 512, xy, desc)

    whole, region = points(800, 1), points(500, 2)
    verified, probe = query_sets(whole.to_bytes(), region.to_bytes())
    # each set's first BANK_WHOLE points (finest pyramid levels first), the picture's then its box's
    assert np.array_equal(probe.desc, np.concatenate([whole.desc[:BANK_WHOLE],
                                                      region.desc[:BANK_WHOLE]]))
    assert len(verified) == min(VERIFY_POINTS, 1300)
    assert np.array_equal(verified.desc, np.concatenate([whole.desc, region.desc])[:VERIFY_POINTS])
    alone_verified, alone_probe = query_sets(whole.to_bytes())
    assert len(alone_probe) == BANK_WHOLE and len(alone_verified) == 800
