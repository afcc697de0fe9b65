"""PDQIndex answers exactly what a brute-force scan answers, through every kind of update."""

from __future__ import annotations

import numpy as np
import pytest

from rempart.errors import InvalidInput
from rempart.matching import PDQIndex, plan
from tests.matching.matching_helpers import Reference, flip_bits, random_hashes

THRESHOLDS = [0, 1, 2, 7, 15, 16, 30, 31, 32, 33, 40, 64, 128, 256]


def clustered(rng, n_bases: int, n_random: int):
    """Stored hashes: per base, variants at every distance 0..40 (so queries hit many rows,
    at the threshold and one past it, with ties), plus unrelated random rows."""
    bases = random_hashes(rng, n_bases)
    rows = [flip_bits(rng, b, k) for b in bases for k in range(41)]
    rows += list(random_hashes(rng, n_random))
    return bases, np.stack(rows)


def planted_queries(rng, stored: np.ndarray, per_distance: int = 1) -> np.ndarray:
    picks = rng.integers(0, stored.shape[0], 41 * per_distance)
    return np.stack([flip_bits(rng, stored[p], i % 41) for i, p in enumerate(picks)])


def check_all(index: PDQIndex, contents: dict, queries: np.ndarray, thresholds=THRESHOLDS):
    ref = Reference(contents, queries)
    for t in thresholds:
        assert index.query(queries, t) == ref.answer(t), f"threshold {t}"


@pytest.mark.parametrize("buffer_capacity", [1, 64, 4096])
def test_matches_brute_force_across_segments(rng, buffer_capacity):
    bases, stored = clustered(rng, 6, 6000)
    ids = rng.permutation(np.unique(rng.integers(-2**62, 2**62, stored.shape[0])))  # negative too
    stored = stored[: ids.shape[0]]
    index = PDQIndex(buffer_capacity=buffer_capacity)
    for a in range(0, stored.shape[0], 701):   # chunks land in buffer and segments
        index.add(ids[a:a + 701], stored[a:a + 701])
    contents = dict(zip(ids.tolist(), stored))
    queries = np.concatenate([bases, planted_queries(rng, stored), random_hashes(rng, 5)])
    assert len(index) == len(contents)
    check_all(index, contents, queries)


def test_default_threshold_is_31_inclusive(rng):
    stored = random_hashes(rng, 2000)
    index = PDQIndex()
    index.add(np.arange(2000), stored)
    q = np.stack([flip_bits(rng, stored[5], 31), flip_bits(rng, stored[6], 32)])
    assert index.query(q) == [[(5, 31)], []]


def test_pigeonhole_boundary_in_a_large_segment(rng):
    """Neighbours whose flips are spread so that exactly one substring is within its probe
    radius (distance t: must be found) or none is (distance t + 1: must not be)."""
    n = 70000
    stored = random_hashes(rng, n)
    index = PDQIndex()
    index.add(np.arange(n), stored)
    (segment,) = index._segments
    layout = segment.layout
    for t in (31, 20, 5):
        radii = plan.radii(layout.m, t)
        queries, expect = [], []
        for j in range(layout.m):
            flips = [(r + 1) if k != j else r for k, r in enumerate(radii)]
            if flips[j] < 0:
                continue
            queries.append(_spread(rng, stored[j], layout, flips))
            expect.append([(j, t)])
        queries.append(_spread(rng, stored[99], layout, [r + 1 for r in radii]))
        expect.append([])
        assert index.query(np.stack(queries), t) == expect


def _spread(rng, h, layout, flips):
    """Flip flips[k] bits inside substring k (the index's own bit numbering)."""
    bits = np.unpackbits(h, bitorder="little").copy()
    for start, width, k in zip(layout.starts, layout.widths, flips):
        bits[start + rng.choice(width, size=k, replace=False)] ^= 1
    return np.packbits(bits, bitorder="little")


def test_interleaved_add_remove_readd(rng):
    index = PDQIndex(buffer_capacity=50, merge_ratio=2)
    contents: dict[int, np.ndarray] = {}
    pool = random_hashes(rng, 400)
    for step in range(60):
        k = int(rng.integers(1, 120))
        ids = rng.integers(0, 900, k)
        if rng.random() < 0.6:
            hashes = np.stack([flip_bits(rng, pool[i % 400], int(rng.integers(0, 40))) for i in ids])
            index.add(ids, hashes)
            contents.update(zip(ids.tolist(), hashes))   # later duplicates win, as in add
        else:
            removed = index.remove(ids)
            assert removed == sum(contents.pop(i, None) is not None for i in set(ids.tolist()))
        assert len(index) == len(contents)
        if step % 6 == 5:
            queries = np.concatenate([pool[rng.integers(0, 400, 10)],
                                      planted_queries(rng, pool)])
            check_all(index, contents, queries, thresholds=[0, 9, 31, 32, 64])
    assert all(i in index for i in contents)
    assert not any(i in index for i in set(range(900)) - set(contents))


def test_replacing_an_id_moves_it(rng):
    a, b = random_hashes(rng, 2)
    index = PDQIndex(buffer_capacity=1)
    index.add([7], a[None])
    index.add(np.arange(100, 200), random_hashes(rng, 100))
    index.add([7], b[None])
    assert index.query(np.stack([a, b]), 0) == [[], [(7, 0)]]
    assert len(index) == 101
    index.remove([7])
    assert index.query(b[None], 0) == [[]] and 7 not in index
    index.add([7], a[None])
    assert index.query(a[None], 0) == [[(7, 0)]]


def test_duplicate_ids_in_one_add_keep_the_last(rng):
    h = random_hashes(rng, 3)
    index = PDQIndex()
    index.add([1, 2, 1], h)
    assert len(index) == 2
    assert index.query(h, 0) == [[], [(2, 0)], [(1, 0)]]


def test_compaction_and_merges_keep_answers(rng):
    stored = random_hashes(rng, 3000)
    index = PDQIndex(buffer_capacity=100)
    index.add(np.arange(3000), stored)
    index.remove(np.arange(0, 2900))          # mostly dead: compacted
    assert len(index) == 100
    assert sum(n for n, _, _ in index.stats()["segments"]) <= 200
    q = stored[[0, 2950]]
    assert index.query(q, 0) == [[], [(2950, 0)]]


def test_empty_index_and_empty_query(rng):
    index = PDQIndex()
    assert len(index) == 0 and 3 not in index
    assert index.query(random_hashes(rng, 2)) == [[], []]
    index.add(np.arange(10), random_hashes(rng, 10))
    assert index.query(np.zeros((0, 32), np.uint8)) == []
    index.add([], np.zeros((0, 32), np.uint8))
    assert index.remove([]) == 0 and index.remove([12345]) == 0
    assert len(index) == 10


@pytest.mark.parametrize("hashes", [
    np.zeros((2, 31), np.uint8), np.zeros(32, np.uint8), np.zeros((2, 32), np.int64),
    [[0] * 32], np.zeros((2, 4), np.uint64),
])
def test_bad_hashes_are_invalid_input(hashes):
    index = PDQIndex()
    with pytest.raises(InvalidInput, match="hashes"):
        index.add([1, 2], hashes)
    with pytest.raises(InvalidInput, match="hashes"):
        index.query(hashes)


@pytest.mark.parametrize("ids", [[1.5, 2], ["a", "b"], [True, False], [1], np.zeros((2, 1), np.int64),
                                 [2**63, 1], np.array([2**63, 1], np.uint64)])
def test_bad_ids_are_invalid_input(ids):
    with pytest.raises(InvalidInput, match="ids"):
        PDQIndex().add(ids, np.zeros((2, 32), np.uint8))


@pytest.mark.parametrize("threshold", [-1, 257, 3.0, True, None])
def test_bad_threshold_is_invalid_input(threshold):
    with pytest.raises(InvalidInput, match="threshold"):
        PDQIndex().query(np.zeros((1, 32), np.uint8), threshold)


def test_hex_helpers(rng):
    index = PDQIndex()
    index.add_hex([11, 12], ["f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
                             "0" * 64])
    assert index.query_hex(["F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6B39C4E9C9B23"]) \
        == [[(11, 1)]]
    assert index.query_hex(["0" * 63 + "7"], 3) == [[(12, 3)]]


def test_snapshot_and_nbytes(rng):
    stored = random_hashes(rng, 500)
    index = PDQIndex(buffer_capacity=100)
    index.add(np.arange(500)[::-1], stored[::-1])
    index.remove([3])
    ids, hashes = index.snapshot()
    assert ids.tolist() == [i for i in range(500) if i != 3]
    assert np.array_equal(hashes, np.delete(stored, 3, axis=0))
    assert index.nbytes >= 500 * 40


def test_updates_during_a_merge_build_survive_it(rng, monkeypatch):
    """A merge builds its segment outside the lock; removals, replacements and re-adds
    that land meanwhile must hold once the merged segment is swapped in."""
    from rempart.matching import pdq_index

    stored = random_hashes(rng, 3000)
    index = PDQIndex(buffer_capacity=500, merge_ratio=2)
    contents: dict[int, np.ndarray] = {}
    index.add(np.arange(2000), stored[:2000])
    contents.update(zip(range(2000), stored[:2000]))
    real_merge, calls = pdq_index._merge, []

    def merge_with_interference(segments, masks):
        calls.append(len(calls))
        ids = np.concatenate([s.ids for s in segments])[:: 7][:30]
        index.remove(ids[:10])                                   # removed meanwhile
        for i in ids[:10].tolist():
            contents.pop(i, None)
        new = random_hashes(rng, 20)
        index.add(ids[10:30], new)                               # replaced meanwhile
        contents.update(zip(ids[10:30].tolist(), new))
        return real_merge(segments, masks)

    monkeypatch.setattr(pdq_index, "_merge", merge_with_interference)
    index.add(np.arange(2000, 3000), stored[2000:])              # 1000 rows: a merge is due
    contents.update(zip(range(2000, 3000), stored[2000:]))
    assert calls, "no merge ran"
    assert len(index) == len(contents)
    queries = np.concatenate([stored[::50], np.stack(list(contents.values()))[::60]])
    check_all(index, contents, queries, thresholds=[0, 31])
    ids, hashes = index.snapshot()
    assert ids.tolist() == sorted(contents)
    assert np.array_equal(hashes, np.stack([contents[i] for i in sorted(contents)]))
