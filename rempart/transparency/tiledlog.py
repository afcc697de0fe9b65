"""Writing a tiled log to a directory, and reading one back with verification.

On disk (and over HTTP) a log is the C2SP tlog-tiles layout under one prefix::

    checkpoint                     the latest signed checkpoint (mutable)
    tile/<L>/<N>[.p/<W>]           hash tiles (immutable)
    tile/entries/<N>[.p/<W>]       entry bundles (immutable)

The writer only ever adds files; an immutable file that exists with other bytes means history
would change, and is refused. Partial tiles of earlier sizes are kept, so every checkpoint the
log signed stays provable.

The reader takes a caller-supplied ``fetch(path) -> bytes`` (a directory, an HTTP client, a
test double) and trusts nothing it returns: every tile is authenticated against the signed
checkpoint before use (the right-edge partial tiles by recomputing the root; every full tile by
its hash in the tile above), and every entry against its leaf hash.
"""

from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from rempart.errors import InvalidInput, InvariantViolation, NotFound
from rempart.transparency.checkpoint import Checkpoint, open_checkpoint
from rempart.transparency.errors import LogUnavailable, VerificationError
from rempart.transparency.merkle import (
    EMPTY_ROOT,
    HashReader,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    split_stored_hash_index,
    verify_consistency,
    verify_inclusion,
)
from rempart.transparency.note import Verifier
from rempart.transparency.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    Tile,
    format_entry_bundle,
    new_tiles,
    parse_entry_bundle,
    parse_tile_path,
    read_tile_data,
    split_tile_data,
    subtree_hash,
    tile_width,
)

Fetch = Callable[[str], bytes]
MAX_FETCH_BYTES = 1 << 24


# --- writing ------------------------------------------------------------------------------


def write_tiles(
    directory: str | Path, entries: Sequence[bytes], hashes: HashReader, old_size: int, new_size: int
) -> list[str]:
    """Write the tiles and entry bundles that growing from ``old_size`` to ``new_size`` adds.

    ``entries`` holds at least the first ``new_size`` entries, ``hashes`` their stored hashes.
    Returns the paths written, in order.
    """
    if len(entries) < new_size:
        raise InvalidInput(f"have {len(entries)} entries, need {new_size}")
    written = []
    for tile in new_tiles(old_size, new_size, bundles=True):
        if tile.is_bundle:
            start = tile.index * TILE_WIDTH
            data = format_entry_bundle(entries[start : start + tile.width])
        else:
            data = read_tile_data(tile, hashes)
        _write_immutable(Path(directory), tile.path, data)
        written.append(tile.path)
    return written


def write_checkpoint(directory: str | Path, signed: bytes) -> None:
    """Replace the log's ``checkpoint`` file atomically with ``signed``."""
    _write_atomic(Path(directory) / "checkpoint", signed)


def _write_immutable(root: Path, rel: str, data: bytes) -> None:
    target = root / rel
    if target.exists():
        if target.read_bytes() != data:
            raise InvariantViolation(f"{rel} exists with different bytes: the log would rewrite history")
        return
    _write_atomic(target, data)


def _write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def directory_fetcher(directory: str | Path) -> Fetch:
    """Return a ``fetch`` that reads log paths below ``directory`` (NotFound if absent)."""
    root = Path(directory).resolve()

    def fetch(path: str) -> bytes:
        if path != "checkpoint":
            parse_tile_path(path)  # only log paths; no "..", no absolute paths
        target = root / path
        try:
            size = target.stat().st_size
            if size > MAX_FETCH_BYTES:
                raise InvalidInput(f"{path} is larger than {MAX_FETCH_BYTES} bytes")
            return target.read_bytes()
        except FileNotFoundError as exc:
            raise NotFound("log file", path) from exc

    return fetch


def url_fetcher(base_url: str, timeout: float = 10.0) -> Fetch:
    """Return a ``fetch`` that GETs log paths below ``base_url`` over HTTP(S).

    404 becomes ``NotFound``; any other failure ``LogUnavailable``. Bodies are capped at
    ``MAX_FETCH_BYTES``. Nothing fetched is trusted: ``LogClient`` verifies it.
    """
    if not base_url.startswith(("https://", "http://")):
        raise InvalidInput("a log URL must be http:// or https://")
    base = base_url.rstrip("/") + "/"

    def fetch(path: str) -> bytes:
        if path != "checkpoint":
            parse_tile_path(path)
        return http_get(base, path, "log file", timeout)

    return fetch


def http_get(base: str, path: str, what: str, timeout: float = 10.0) -> bytes:
    """GET ``base + path`` (``base`` an http(s) URL ending in "/"), at most ``MAX_FETCH_BYTES``.

    404 is ``NotFound(what, path)``; any other HTTP or network failure is ``LogUnavailable``.
    """
    try:
        with urllib.request.urlopen(base + path, timeout=timeout) as resp:  # noqa: S310 (scheme checked)
            body = resp.read(MAX_FETCH_BYTES + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise NotFound(what, path) from exc
        raise LogUnavailable(f"{path}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise LogUnavailable(f"{path}: {exc}") from exc
    if len(body) > MAX_FETCH_BYTES:
        raise InvalidInput(f"{path} is larger than {MAX_FETCH_BYTES} bytes")
    return body


# --- reading ------------------------------------------------------------------------------


class TileHashReader:
    """A ``HashReader`` over the tiles of one tree (``size``, ``root``), authenticating each tile.

    It serves the hash of any complete subtree of the first ``size`` leaves, so the proof
    functions of ``merkle`` run on it unchanged.
    """

    def __init__(self, size: int, root: bytes, fetch: Fetch) -> None:
        self.size = size
        self.root = root
        self._fetch = fetch
        self._tiles: dict[tuple[int, int], list[bytes]] = {}
        self._edge_checked = False
        if size == 0 and root != EMPTY_ROOT:
            raise VerificationError("the empty tree has the wrong root hash")

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hashes at ``indexes``, from authenticated tiles."""
        return [self._stored_hash(*split_stored_hash_index(i)) for i in indexes]

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Return the authenticated leaf hashes of leaves ``[start, end)``."""
        if not 0 <= start <= end <= self.size:
            raise InvalidInput(f"leaves [{start}, {end}) are outside a tree of size {self.size}")
        out = []
        for t in range(start // TILE_WIDTH, (end + TILE_WIDTH - 1) // TILE_WIDTH):
            row = self.tile(0, t)
            lo, hi = max(start - t * TILE_WIDTH, 0), min(end - t * TILE_WIDTH, len(row))
            out.extend(row[lo:hi])
        return out

    def tile(self, level: int, index: int) -> list[bytes]:
        """Return the authenticated hashes of tile (``level``, ``index``) of this tree."""
        key = (level, index)
        if key in self._tiles:
            return self._tiles[key]
        width = tile_width(level, index, self.size)
        if width == 0:
            raise InvalidInput(f"tile ({level}, {index}) is beyond a tree of size {self.size}")
        if width < TILE_WIDTH:
            self._check_edge()
            return self._tiles[key]
        hashes = self._download(Tile(level, index, width))
        # A full tile is authenticated by its hash in the (authenticated) tile above.
        parent = self.tile(level + 1, index // TILE_WIDTH)
        if subtree_hash(hashes) != parent[index % TILE_WIDTH]:
            raise VerificationError(f"tile ({level}, {index}) does not match the tile above it")
        self._tiles[key] = hashes
        return hashes

    def _download(self, tile: Tile) -> list[bytes]:
        return split_tile_data(tile, self._fetch(tile.path))

    def _check_edge(self) -> None:
        """Fetch every partial tile of this tree and check that they produce the root."""
        if self._edge_checked or self.size == 0:
            return
        edge = {(t.level, t.index): self._download(t) for t in new_tiles(0, self.size) if t.width < TILE_WIDTH}
        # The root's subtrees (one per 1-bit of size, largest first) all lie in partial tiles.
        parts, lo = [], 0
        for level in range(self.size.bit_length() - 1, -1, -1):
            if self.size >> level & 1:
                parts.append(_hash_in_tiles(edge, level, lo >> level))
                lo += 1 << level
        root = parts[-1]
        for left in reversed(parts[:-1]):
            root = node_hash(left, root)
        if root != self.root:
            raise VerificationError(f"the tiles do not produce the checkpoint root of size {self.size}")
        self._tiles.update(edge)
        self._edge_checked = True

    def _stored_hash(self, level: int, n: int) -> bytes:
        if (n + 1) << level > self.size:
            raise InvalidInput(f"subtree ({level}, {n}) is not complete in a tree of size {self.size}")
        tile_level = level // TILE_HEIGHT
        start = n << (level % TILE_HEIGHT)
        self.tile(tile_level, start // TILE_WIDTH)
        return _hash_in_tiles(self._tiles, level, n)


def _hash_in_tiles(tiles: dict[tuple[int, int], list[bytes]], level: int, n: int) -> bytes:
    """Hash of subtree (``level``, ``n``) from the tile row that holds its bottom hashes."""
    h = level % TILE_HEIGHT
    start = n << h
    row = tiles[(level // TILE_HEIGHT, start // TILE_WIDTH)]
    lo = start % TILE_WIDTH
    if lo + (1 << h) > len(row):
        raise InvariantViolation(f"subtree ({level}, {n}) is not inside its tile")
    return subtree_hash(row[lo : lo + (1 << h)])


class LogClient:
    """Reads and verifies a tiled log through ``fetch``; trusts only the ``verifiers``' keys."""

    def __init__(self, fetch: Fetch, origin: str, verifiers: Iterable[Verifier]) -> None:
        self._fetch = fetch
        self.origin = origin
        self._verifiers = list(verifiers)

    def open_checkpoint(self, signed: bytes) -> Checkpoint:
        """Verify a signed checkpoint of this log (signature and origin) and return it."""
        return open_checkpoint(signed, self.origin, self._verifiers)[0]

    def latest(self) -> Checkpoint:
        """Fetch and verify the log's current ``checkpoint``."""
        return self.open_checkpoint(self._fetch("checkpoint"))

    def hash_reader(self, cp: Checkpoint) -> TileHashReader:
        """A verified hash reader for the tree of ``cp``."""
        return TileHashReader(cp.size, cp.root, self._fetch)

    def entries(self, cp: Checkpoint, start: int, end: int) -> list[bytes]:
        """Return entries ``[start, end)`` of ``cp``'s tree, each checked against its leaf hash."""
        reader = self.hash_reader(cp)
        want = reader.leaf_hashes(start, end)
        out: list[bytes] = []
        for t in range(start // TILE_WIDTH, (end + TILE_WIDTH - 1) // TILE_WIDTH):
            bundle = Tile(-1, t, tile_width(-1, t, cp.size))
            got = parse_entry_bundle(self._fetch(bundle.path), bundle.width)
            lo, hi = max(start - t * TILE_WIDTH, 0), min(end - t * TILE_WIDTH, bundle.width)
            out.extend(got[lo:hi])
        for i, (entry, h) in enumerate(zip(out, want, strict=True)):
            if leaf_hash(entry) != h:
                raise VerificationError(f"entry {start + i} does not match its leaf hash")
        return out

    def inclusion_proof(self, cp: Checkpoint, index: int) -> list[bytes]:
        """Compute the inclusion proof of leaf ``index`` in ``cp`` from tiles, and verify it."""
        reader = self.hash_reader(cp)
        proof = inclusion_proof(cp.size, index, reader)
        verify_inclusion(reader.leaf_hashes(index, index + 1)[0], index, cp.size, proof, cp.root)
        return proof

    def consistency_proof(self, old: Checkpoint, new: Checkpoint) -> list[bytes]:
        """Compute the proof that ``old`` is a prefix of ``new`` from ``new``'s tiles, and verify it."""
        proof = consistency_proof(old.size, new.size, self.hash_reader(new))
        verify_consistency(old.size, new.size, proof, old.root, new.root)
        return proof
