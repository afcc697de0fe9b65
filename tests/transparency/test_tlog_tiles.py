"""Tile coordinates, paths and entry bundles (C2SP tlog-tiles)."""

from __future__ import annotations

import pytest

from rempart.errors import InvalidInput
from rempart.transparency import (
    MemoryHashStore,
    Tile,
    format_entry_bundle,
    format_tile_index,
    new_tiles,
    parse_entry_bundle,
    parse_tile_index,
    parse_tile_path,
    tiles_for_size,
)
from rempart.transparency.tiles import read_tile_data, subtree_hash


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "000"),
        (7, "007"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (10**9, "x001/x000/x000/000"),
    ],
)
def test_tile_index_encoding(n: int, text: str) -> None:
    assert format_tile_index(n) == text
    assert parse_tile_index(text) == n


@pytest.mark.parametrize("text", ["0", "0000", "x000/001", "001/000", "x1/000", "x001/x234", "x001/234/067", "", "-01"])
def test_non_canonical_tile_indexes_are_rejected(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_tile_index(text)


@pytest.mark.parametrize(
    ("path", "tile"),
    [
        ("tile/0/000", Tile(0, 0, 256)),
        ("tile/0/x001/x234/067.p/8", Tile(0, 1234067, 8)),
        ("tile/2/000.p/1", Tile(2, 0, 1)),
        ("tile/entries/x001/000.p/255", Tile(-1, 1000, 255)),
        ("tile/entries/005", Tile(-1, 5, 256)),
        ("tile/63/000.p/1", Tile(63, 0, 1)),
    ],
)
def test_tile_paths(path: str, tile: Tile) -> None:
    assert tile.path == path
    assert parse_tile_path(path) == tile


@pytest.mark.parametrize(
    "path",
    [
        "tile/00/000",
        "tile/64/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/08",
        "tile/0/000/",
        "/tile/0/000",
        "tile/0/../000",
        "tile/entries/000.p/",
        "tile/data/000",
        "checkpoint",
    ],
)
def test_bad_tile_paths_are_rejected(path: str) -> None:
    with pytest.raises(InvalidInput):
        parse_tile_path(path)


def test_tiles_of_the_spec_example_size_70000() -> None:
    tiles = tiles_for_size(70_000)
    full0 = [t for t in tiles if t.level == 0 and t.width == 256]
    assert len(full0) == 273 and [t.index for t in full0] == list(range(273))
    rest = [t for t in tiles if not (t.level == 0 and t.width == 256)]
    assert rest == [Tile(0, 273, 112), Tile(1, 0, 256), Tile(1, 1, 17), Tile(2, 0, 1)]
    assert tiles_for_size(256) == [Tile(0, 0, 256), Tile(1, 0, 1)]
    assert tiles_for_size(0) == []


def test_new_tiles_when_a_log_grows() -> None:
    assert new_tiles(3, 5, bundles=True) == [Tile(-1, 0, 5), Tile(0, 0, 5)]
    assert new_tiles(250, 260) == [Tile(0, 0, 256), Tile(0, 1, 4), Tile(1, 0, 1)]
    assert new_tiles(256, 256) == []
    # Growing step by step writes, in all, every tile the final size has (and the old partials).
    final = set(tiles_for_size(600))
    seen = set()
    for n in range(600):
        seen.update(new_tiles(n, n + 1))
    assert final <= seen
    assert all(t.width < 256 for t in seen - final)
    with pytest.raises(InvalidInput):
        new_tiles(5, 3)


def test_tile_data_holds_subtree_hashes() -> None:
    store = MemoryHashStore()
    for i in range(256 * 3 + 5):
        store.append(b"%d" % i)
    level0 = read_tile_data(Tile(0, 1, 256), store)
    level1 = read_tile_data(Tile(1, 0, 3), store)
    assert len(level0) == 8192 and len(level1) == 96
    rows = [level0[i : i + 32] for i in range(0, 8192, 32)]
    assert subtree_hash(rows) == level1[32:64]


def test_entry_bundle_example() -> None:
    bundle = format_entry_bundle([b"one", b"two", b"three"])
    assert bundle == bytes.fromhex("00036f6e65 000374776f 00057468726565")
    assert parse_entry_bundle(bundle, 3) == [b"one", b"two", b"three"]
    assert parse_entry_bundle(format_entry_bundle([b""] * 256), 256) == [b""] * 256


@pytest.mark.parametrize(
    ("data", "width"),
    [
        (bytes.fromhex("00036f6e65"), 2),  # too few entries
        (bytes.fromhex("00036f6e6500"), 1),  # trailing byte
        (bytes.fromhex("00046f6e65"), 1),  # truncated entry
        (bytes.fromhex("00"), 1),  # truncated length
        (b"", 1),
    ],
)
def test_bad_entry_bundles_are_rejected(data: bytes, width: int) -> None:
    with pytest.raises(InvalidInput):
        parse_entry_bundle(data, width)


def test_bundle_limits() -> None:
    with pytest.raises(InvalidInput):
        format_entry_bundle([b"x" * 65536])
    with pytest.raises(InvalidInput):
        format_entry_bundle([b"x"] * 257)
    with pytest.raises(InvalidInput):
        format_entry_bundle([])
