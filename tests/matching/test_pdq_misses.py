"""What PDQ misses, on a small benign set (bench/pdq_misses.py measures the large one): recall
of each stage per edit, and no false match across distinct pictures, through the real
fingerprint -> bank entries -> matcher path. Properties, no absolute times."""

from __future__ import annotations

import pytest

from bench import edits
from bench.pdq_misses import Bank, stages_found

PHOTOS = 8  # the whole photos of bench/edits.py SOURCES (no tiles)


@pytest.fixture(scope="module")
def world():
    sources = edits.sources()[:PHOTOS]
    right = edits.tiles(168, "right")
    banked = edits.distinct_pictures(30, 1, right[:20])
    queries = edits.distinct_pictures(30, 2, right[20:40])
    bank = Bank()
    for i, (_, rgb) in enumerate(sources):
        bank.add(i, edits.encode(rgb, 92))
    for j, (_, rgb) in enumerate(banked):
        bank.add(100 + j, edits.encode(rgb, 92))
    return bank, sources, queries


def _same_scene(sources, i: int) -> set[int]:
    return {j for j, (name, _) in enumerate(sources)
            if frozenset({name, sources[i][0]}) in edits.SAME_SCENE}


@pytest.mark.parametrize("edit,least", [("crop-10", 7), ("crop-left-30", 7), ("rot-5-same", 7),
                                        ("rot-2-expand", 7), ("caption-top", 7),
                                        ("screenshot-70", 7), ("screenshot-50", 6)])
def test_the_stages_catch_what_pdq_misses_and_nothing_else(world, edit, least):
    bank, sources, _ = world
    caught = {"pdq": 0, "stage1": 0, "stage1+2": 0}
    for i, (_, rgb) in enumerate(sources):
        found = stages_found(bank, edits.edited(rgb, edit, i))
        for stage, items in found.items():
            caught[stage] += i in items
            assert items <= {i} | _same_scene(sources, i), (edit, i, stage, items)
    assert caught["pdq"] <= 1  # the evasion works on PDQ alone
    assert caught["stage1+2"] >= least, caught


def test_no_loss_on_what_pdq_already_catches(world):
    bank, sources, _ = world
    for i, (_, rgb) in enumerate(sources):
        found = stages_found(bank, edits.edited(rgb, "jpeg-q60", i))
        assert i in found["pdq"] and i in found["stage1"] and i in found["stage1+2"]


def test_distinct_pictures_never_match(world):
    """Photo tiles, graphics, text pages, pictures under one logo or in one meme template."""
    bank, _, queries = world
    for kind, rgb in queries:
        found = stages_found(bank, edits.encode(rgb, 85))
        assert found == {"pdq": set(), "stage1": set(), "stage1+2": set()}, kind
