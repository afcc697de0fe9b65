"""ExactIndex, thread safety of PDQIndex, the pigeonhole plan, and the exported names."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import rempart.matching
from rempart.errors import InvalidInput, InvalidSignal
from rempart.matching import ExactIndex, PDQIndex, plan
from tests.matching.matching_helpers import random_hashes

SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def test_exported_names():
    assert sorted(rempart.matching.__all__) == [
        "DEFAULT_THRESHOLD", "ExactIndex", "PDQIndex", "hashes_to_hex", "hex_to_hashes"]
    assert rempart.matching.DEFAULT_THRESHOLD == 31


def test_exact_index_add_query_replace_remove():
    index = ExactIndex("sha256")
    other = "a" * 64
    index.add([1, 2, 3], [SHA, SHA.upper(), other])
    assert index.query([SHA, other, "b" * 64]) == [[1, 2], [3], []]
    index.add([2], [other])                      # replaces id 2's value
    assert index.query([SHA, other]) == [[1], [2, 3]]
    assert index.remove([1, 99]) == 1
    assert index.query([SHA]) == [[]] and len(index) == 2 and 2 in index and 1 not in index


def test_exact_index_rejects_bad_input_before_storing():
    index = ExactIndex("md5")
    with pytest.raises(InvalidSignal, match="value #1"):
        index.add([1, 2], [MD5, SHA])            # a sha256 is not an md5
    assert len(index) == 0
    with pytest.raises(InvalidInput):
        index.add([1], [MD5, MD5])
    with pytest.raises(InvalidInput):
        index.add(["x"], [MD5])
    with pytest.raises(InvalidInput):
        ExactIndex("pdq")
    with pytest.raises(InvalidSignal):
        ExactIndex("crc32")


@pytest.mark.parametrize("m", range(256 // plan.MAX_WIDTH, 256 // plan.MIN_WIDTH + 1))
def test_layouts_partition_the_bits_and_radii_cover_every_threshold(m):
    layout = plan.even_layout(m)
    covered = [b for s, w in zip(layout.starts, layout.widths) for b in range(s, s + w)]
    assert covered == list(range(256))
    for t in range(257):
        radii = plan.radii(m, t)
        # a hash missed by every probe differs by > r_j in every substring: >= sum(r_j + 1)
        assert sum(r + 1 for r in radii) == t + 1
        assert min(radii) >= -1


def test_ball_masks():
    masks = plan.ball_masks(10, 2)
    assert masks.shape[0] == plan.ball_size(10, 2) == 1 + 10 + 45
    assert len(set(masks.tolist())) == masks.shape[0]
    assert max(bin(int(x)).count("1") for x in masks) == 2 and masks.max() < 1 << 10


def test_concurrent_queries_see_consistent_states(rng):
    """A writer moves whole groups of ids between two hashes (one ``add`` each) or removes
    and re-adds them; a reader must see each group entirely at one hash, or entirely absent
    (between a remove and its re-add), never split, and no id twice."""
    a, b = random_hashes(rng, 2)
    index = PDQIndex(buffer_capacity=64)
    groups = [np.arange(g * 40, g * 40 + 40) for g in range(10)]
    for g in groups:
        index.add(g, np.repeat(a[None], 40, axis=0))
    # unrelated rows, and a threshold that scans them, make each query long enough to race
    index.add(np.arange(10_000, 40_000), random_hashes(rng, 30_000))
    stop, errors = threading.Event(), []

    def writer():
        r = np.random.default_rng(1)
        while not stop.is_set():
            g = groups[int(r.integers(0, 10))]
            index.add(g, np.repeat((a if r.random() < 0.5 else b)[None], 40, axis=0))
            if r.random() < 0.2:
                index.remove(g)
                index.add(g, np.repeat(a[None], 40, axis=0))

    def reader():
        try:
            for _ in range(150):
                at_a, at_b = index.query(np.stack([a, b]), 64)
                seen_a, seen_b = {i for i, _ in at_a}, {i for i, _ in at_b}
                assert len(seen_a) + len(seen_b) == len(seen_a | seen_b), "an id seen twice"
                for g in groups:
                    members = set(g.tolist())
                    assert members <= seen_a or members <= seen_b or \
                        not members & (seen_a | seen_b), "a group seen half-moved"
        except AssertionError as e:
            errors.append(e)

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join()
    stop.set()
    threads[0].join()
    assert not errors, errors[0]
    assert len(index) == 30_400


def test_importing_the_package_does_not_load_numba():
    import subprocess
    import sys
    from pathlib import Path
    code = "import sys, rempart.matching; print('numba' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=root)
    assert out.stdout.strip() == "False"
