"""C2SP tiled logs (c2sp.org/tlog-tiles): tile coordinates, paths, tile data, entry bundles.

Tiles have height 8: a tile holds up to 256 consecutive 32-byte hashes of one tree level.
The tile at level ``L``, index ``N`` holds, for ``i`` in 0..255, the RFC 6962 hash of leaves
``[(N*256 + i) * 256**L, (N*256 + i + 1) * 256**L)``; at level 0 these are leaf hashes. A tile
with fewer than 256 hashes is *partial*; for a tree of size ``s`` the partial tile of level
``L`` has ``(s // 256**L) % 256`` hashes (none if that is 0). Partial tiles are never hashed
into the level above.

Paths, byte for byte (ASCII)::

    tile/<L>/<N>                 a full tile (8192 bytes)
    tile/<L>/<N>.p/<W>           a partial tile of W hashes (W*32 bytes), 1 <= W <= 255
    tile/entries/<N>             a full entry bundle (256 entries)
    tile/entries/<N>.p/<W>       a partial entry bundle of W entries

``L`` is decimal 0..63 without leading zeroes. ``N`` is written in groups of three decimal
digits, zero-padded, every group but the last prefixed with ``x``: 0 is ``000``, 1234067 is
``x001/x234/067``. Example: ``tile/0/x001/x234/067.p/8``.

Entry bundle, byte for byte: for each entry in order, its length as a big-endian uint16, then
its bytes. The bundle ``tile/entries/000.p/3`` of the entries ``one``, ``two``, ``three`` is::

    00 03 6f 6e 65  00 03 74 77 6f  00 05 74 68 72 65 65
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rempart.errors import InvalidInput, shown
from rempart.transparency.merkle import HASH_SIZE, HashReader, node_hash, stored_hash_index

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
MAX_ENTRY_BYTES = 0xFFFF
#: the largest tile index a 63-bit tree can need, 2**63 / 256
MAX_TILE_INDEX = 1 << 55

_INDEX_RE = re.compile(r"(?:x\d{3}/)*\d{3}")
_PATH_RE = re.compile(r"tile/(entries|0|[1-9]\d?)/((?:x\d{3}/)*\d{3})(?:\.p/([1-9]\d{0,2}))?")


@dataclass(frozen=True, order=True)
class Tile:
    """A tile (``level`` >= 0) or an entry bundle (``level`` == -1), ``width`` hashes/entries."""

    level: int
    index: int
    width: int

    def __post_init__(self) -> None:
        if not -1 <= self.level <= MAX_LEVEL:
            raise InvalidInput(f"tile level {self.level} out of range")
        if not 0 <= self.index <= MAX_TILE_INDEX:
            raise InvalidInput(f"tile index {self.index} out of range")
        if not 1 <= self.width <= TILE_WIDTH:
            raise InvalidInput(f"tile width {self.width} out of range")

    @property
    def is_bundle(self) -> bool:
        """Whether this is an entry bundle rather than a hash tile."""
        return self.level == -1

    @property
    def path(self) -> str:
        """The tile's path relative to the log prefix."""
        level = "entries" if self.is_bundle else str(self.level)
        suffix = f".p/{self.width}" if self.width < TILE_WIDTH else ""
        return f"tile/{level}/{format_tile_index(self.index)}{suffix}"


def format_tile_index(n: int) -> str:
    """Return ``n`` as 3-digit groups, all but the last prefixed with ``x`` (``x001/x234/067``)."""
    if n < 0:
        raise InvalidInput(f"negative tile index {n}")
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


def parse_tile_index(text: str) -> int:
    """Parse a tile index written by ``format_tile_index``; reject every other spelling."""
    if not _INDEX_RE.fullmatch(text) or len(text) > 32:
        raise InvalidInput(f"malformed tile index {shown(text)}")
    n = int(text.replace("x", "").replace("/", ""))
    if format_tile_index(n) != text:
        raise InvalidInput(f"non-canonical tile index {shown(text)}")
    return n


def parse_tile_path(path: str) -> Tile:
    """Parse ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]``; canonical spellings only."""
    m = _PATH_RE.fullmatch(path)
    if not m:
        raise InvalidInput(f"malformed tile path {shown(path[:80])}")
    level = -1 if m.group(1) == "entries" else int(m.group(1))
    width = TILE_WIDTH
    if m.group(3):
        width = int(m.group(3))
        if width >= TILE_WIDTH:
            raise InvalidInput(f"partial tile width {width} must be below {TILE_WIDTH}")
    tile = Tile(level, parse_tile_index(m.group(2)), width)
    if tile.path != path:
        raise InvalidInput(f"non-canonical tile path {shown(path)}")
    return tile


def tile_width(level: int, index: int, size: int) -> int:
    """Width of tile (``level``, ``index``) in a tree of ``size`` leaves; 0 if it has no hash yet.

    ``level`` -1 means the entry bundle, which has the width of level 0.
    """
    level = max(level, 0)
    return max(0, min(TILE_WIDTH, (size >> (TILE_HEIGHT * level)) - index * TILE_WIDTH))


def tiles_for_size(size: int, bundles: bool = False) -> list[Tile]:
    """Every non-empty tile of a tree of ``size`` leaves, full and partial, level by level.

    With ``bundles``, also the entry bundles (level -1), listed first.
    """
    return new_tiles(0, size, bundles)


def new_tiles(old_size: int, new_size: int, bundles: bool = False) -> list[Tile]:
    """The tiles a log must write when it grows from ``old_size`` to ``new_size`` leaves.

    That is every tile of ``new_size`` that ``old_size`` did not have with the same width:
    tiles completed by the growth, and the new partial tile of each level.
    """
    if not 0 <= old_size <= new_size:
        raise InvalidInput(f"cannot grow a log from {old_size} to {new_size}")
    out = []
    levels = range(-1 if bundles else 0, MAX_LEVEL + 1)
    for level in levels:
        shift = TILE_HEIGHT * max(level, 0)
        if new_size >> shift == 0:
            break
        first = (old_size >> shift) // TILE_WIDTH  # the first tile old_size had not filled
        last = ((new_size >> shift) - 1) // TILE_WIDTH
        for index in range(first, last + 1):
            width = tile_width(level, index, new_size)
            if width != tile_width(level, index, old_size):
                out.append(Tile(level, index, width))
    return out


def tile_hash_indexes(tile: Tile) -> list[int]:
    """Stored hash indexes (see ``merkle``) of the hashes in a hash tile, in tile order."""
    if tile.is_bundle:
        raise InvalidInput("an entry bundle holds entries, not hashes")
    level = TILE_HEIGHT * tile.level
    base = tile.index * TILE_WIDTH
    return [stored_hash_index(level, base + i) for i in range(tile.width)]


def read_tile_data(tile: Tile, reader: HashReader) -> bytes:
    """Return a hash tile's bytes (``width`` * 32), read from stored hashes."""
    return b"".join(reader.read_hashes(tile_hash_indexes(tile)))


def split_tile_data(tile: Tile, data: bytes) -> list[bytes]:
    """Split a hash tile's bytes into its hashes; the length must be exactly ``width`` * 32."""
    if len(data) != tile.width * HASH_SIZE:
        raise InvalidInput(f"{tile.path}: {len(data)} bytes, want {tile.width * HASH_SIZE}")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def subtree_hash(hashes: Sequence[bytes]) -> bytes:
    """Hash of a perfect subtree whose bottom row is ``hashes`` (a power-of-two count)."""
    n = len(hashes)
    if n == 0 or n & (n - 1):
        raise InvalidInput(f"{n} hashes do not form a perfect subtree")
    row = list(hashes)
    while len(row) > 1:
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
    return row[0]


def format_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Encode entries as a bundle: each a big-endian uint16 length, then its bytes."""
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise InvalidInput(f"an entry bundle holds 1 to {TILE_WIDTH} entries, not {len(entries)}")
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY_BYTES:
            raise InvalidInput(f"entry of {len(entry)} bytes exceeds {MAX_ENTRY_BYTES}")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def parse_entry_bundle(data: bytes, width: int) -> list[bytes]:
    """Decode a bundle of exactly ``width`` entries; reject truncation and trailing bytes."""
    if not 1 <= width <= TILE_WIDTH:
        raise InvalidInput(f"bundle width {width} out of range")
    entries, pos = [], 0
    for _ in range(width):
        if pos + 2 > len(data):
            raise InvalidInput(f"entry bundle truncated after {len(entries)} entries")
        n = int.from_bytes(data[pos : pos + 2], "big")
        if pos + 2 + n > len(data):
            raise InvalidInput(f"entry {len(entries)} of the bundle is truncated")
        entries.append(data[pos + 2 : pos + 2 + n])
        pos += 2 + n
    if pos != len(data):
        raise InvalidInput(f"entry bundle has {len(data) - pos} bytes after entry {width}")
    return entries
