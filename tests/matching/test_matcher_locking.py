"""What a big batch does under the matcher's lock: only the swap. The PDQ segment is built
before the lock is taken and the index's merges run after it is released, so queries answer
while millions of entries go in (pure)."""

from __future__ import annotations

import numpy as np

from rempart.matching.codec import hashes_to_hex
from rempart.matching.entry_table import KIND_CODE
from rempart.matching.matcher import BankPolicy, EntryState, Matcher
from rempart.matching.pdq_index import PDQIndex


def _rows(rng, first: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    return (np.arange(first, first + n, dtype=np.int64),
            rng.integers(0, 256, size=(n, 32), dtype=np.uint8))


def test_segment_builds_and_merges_run_outside_the_matchers_lock(monkeypatch):
    rng = np.random.default_rng(11)
    m = Matcher()
    m.put_bank(BankPolicy(1, "known", 31, "block", False, True))
    held: dict[str, list[bool]] = {"prepare": [], "merge": []}
    prepare, merge = PDQIndex.prepare, PDQIndex.merge_while_due

    def spy_prepare(self, ids, hashes):
        held["prepare"].append(m._lock._is_owned())
        return prepare(self, ids, hashes)

    def spy_merge(self):
        held["merge"].append(m._lock._is_owned())
        return merge(self)

    monkeypatch.setattr(PDQIndex, "prepare", spy_prepare)
    monkeypatch.setattr(PDQIndex, "merge_while_due", spy_merge)
    for k in range(6):  # segments of 5000 rows (above the buffer): merges fall due
        ids, hashes = _rows(rng, 1 + 5000 * k, 5000)
        m.put_columns(ids, np.ones(5000, np.int32), np.full(5000, KIND_CODE["pdq"], np.uint8),
                      np.zeros(5000, np.uint8), pdq=(ids, hashes))
    ids, hashes = _rows(rng, 40_000, 5000)
    m.put_entries([EntryState(int(i), 1, "pdq", h) for i, h in zip(ids, hashes_to_hex(hashes))])
    m.drop_entries(np.arange(1, 20_000, dtype=np.int64))
    assert len(held["prepare"]) == 7 and not any(held["prepare"])
    assert len(held["merge"]) >= 16 and not any(held["merge"])
    assert len(m) == 35_000 - 19_999
    assert len(m._images.stats()["segments"]) < 7  # the merges did run


def test_a_prepared_batch_puts_what_add_puts():
    rng = np.random.default_rng(12)
    ids, hashes = _rows(rng, 1, 6000)
    ids[5] = ids[9]  # a repeated id keeps its last hash
    small_ids, small_hashes = _rows(rng, 100, 50)  # under the buffer: no segment
    a, b = PDQIndex(), PDQIndex()
    a.add(ids, hashes)
    a.add(small_ids, small_hashes)
    batch = b.prepare(ids, hashes)
    assert batch.segment is not None and len(b) == 0  # built, not yet in
    b.put_prepared(batch)
    small = b.prepare(small_ids, small_hashes)
    assert small.segment is None
    b.put_prepared(small, merge=False)
    b.merge_while_due()
    assert np.array_equal(a.snapshot()[0], b.snapshot()[0])
    assert np.array_equal(a.snapshot()[1], b.snapshot()[1])
    queries = np.concatenate([hashes[:20], small_hashes[:5]])
    assert a.query(queries) == b.query(queries)


def test_deferred_merges_build_the_batches_into_one_segment_at_the_end():
    rng = np.random.default_rng(13)
    batches = [_rows(rng, 1 + 5000 * k, 5000) for k in range(10)]
    deferred, eager = Matcher(), Matcher()
    for m in (deferred, eager):
        m.put_bank(BankPolicy(1, "known", 31, "block", False, True))

    def put(m, ids, hashes):
        m.put_columns(ids, np.ones(5000, np.int32), np.full(5000, KIND_CODE["pdq"], np.uint8),
                      np.zeros(5000, np.uint8), pdq=(ids, hashes))

    with deferred.merges_deferred():
        for ids, hashes in batches:
            put(deferred, ids, hashes)
            put(eager, ids, hashes)
        assert len(deferred._images.stats()["segments"]) == 10  # queried as they are
    assert len(deferred._images.stats()["segments"]) == 1  # then one build of them all
    assert len(eager._images.stats()["segments"]) > 1
    queries = np.concatenate([h[:3] for _, h in batches])
    assert deferred._images.query(queries) == eager._images.query(queries)
    assert all(len(hits) == 1 for hits in deferred._images.query(queries))
