"""RFC 6962 / RFC 9162 Merkle trees: hashing, stored hashes, proof generation and verification.

Hashing (RFC 9162 section 2.1.1), SHA-256 throughout::

    leaf hash  = SHA-256(0x00 || entry bytes)
    node hash  = SHA-256(0x01 || left hash (32 bytes) || right hash (32 bytes))
    empty tree = SHA-256("")  = e3b0c442...b855

Example: ``leaf_hash(b"")`` is ``6e340b9c...a01d``, the root of the one-leaf tree of the
RFC 6962 reference vectors.

Stored hashes. A log keeps every hash of every *complete* subtree, in append order, as Go's
``golang.org/x/mod/sumdb/tlog`` does: the hash of the perfect subtree of height ``level`` that
covers leaves ``[n * 2**level, (n+1) * 2**level)`` lives at ``stored_hash_index(level, n)``.
Appending leaf ``n`` appends its leaf hash, then one node hash per trailing 1-bit of ``n``
(the subtrees that leaf completes): O(log n) hashes, and on average two. For a tree of
4 leaves the stored order is::

    index: 0    1    2         3    4    5         6
    hash : L0   L1   N(0..1)   L2   L3   N(2..3)   N(0..3)

Storage reaches the proof code through the one-method ``HashReader`` protocol, so the same
proof code runs on memory, a database or a tiled log read over HTTP.

Proofs are lists of 32-byte hashes in the order of RFC 9162 sections 2.1.3.1 (inclusion,
leaf's sibling first) and 2.1.4.1 (consistency). Verification follows 2.1.3.2 and 2.1.4.2
and raises ``VerificationError``; it never returns False.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

from rempart.errors import InvalidInput, InvariantViolation
from rempart.transparency.errors import VerificationError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
#: tree sizes and indexes are unsigned 63-bit integers (checkpoints cap them there too)
MAX_TREE_SIZE = (1 << 63) - 1
#: a proof for a 2**63 tree has at most 63 hashes; a few more for the power-of-two prefix case
MAX_PROOF_HASHES = 64


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash of one entry: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class HashReader(Protocol):
    """Where stored hashes come from: a list, a database table, a tiled log."""

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hashes at ``indexes``, in the same order, each 32 bytes.

        Raise ``rempart.errors.NotFound`` (or ``VerificationError`` for an authenticated
        source that fails to authenticate) when a hash cannot be produced.
        """
        ...


# --- stored hash layout -------------------------------------------------------------------


def stored_hash_index(level: int, n: int) -> int:
    """Return the position of the hash of subtree ``n`` at height ``level`` in the stored order."""
    if level < 0 or n < 0:
        raise InvalidInput(f"negative stored hash coordinates ({level}, {n})")
    # Level L's n-th hash is stored right after level L+1's (2n+1)-th leaf; walk down to level 0.
    leaf = ((n + 1) << level) - 1
    # Leaf k's hash sits after every hash stored for leaves 0..k-1: k + k/2 + k/4 + ...
    index = 0
    k = leaf
    while k:
        index += k
        k >>= 1
    return index + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """Inverse of ``stored_hash_index``: return ``(level, n)`` for a stored position."""
    if index < 0:
        raise InvalidInput(f"negative stored hash index {index}")
    # Find the leaf whose hashes end at or after ``index``: stored_hash_count is monotonic.
    lo, hi = 0, index + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if stored_hash_count(mid + 1) > index:
            hi = mid
        else:
            lo = mid + 1
    leaf = lo
    level = index - stored_hash_index(0, leaf)
    return level, leaf >> level


def stored_hash_count(size: int) -> int:
    """Return how many hashes a log of ``size`` leaves stores."""
    if size < 0:
        raise InvalidInput(f"negative tree size {size}")
    if size == 0:
        return 0
    count = stored_hash_index(0, size - 1) + 1
    k = size - 1
    while k & 1:
        count += 1
        k >>= 1
    return count


def stored_hashes_for_leaf(n: int, leaf: bytes, reader: HashReader) -> list[bytes]:
    """Return the hashes to append to storage when leaf hash ``leaf`` becomes leaf ``n``.

    The first is ``leaf``; each further one is a subtree that leaf ``n`` completes. Reads at
    most log2(n) left siblings through ``reader``.
    """
    _check_hash(leaf, "leaf hash")
    levels = []
    k, level = n, 0
    while k & 1:
        levels.append(stored_hash_index(level, k - 1))
        k >>= 1
        level += 1
    lefts = reader.read_hashes(levels) if levels else []
    out = [leaf]
    h = leaf
    for left in lefts:
        h = node_hash(_check_hash(left, "stored hash"), h)
        out.append(h)
    return out


class MemoryHashStore:
    """An in-memory log of stored hashes; also a ``HashReader``.

    ``append(data)`` costs O(log n) hashes at worst; the right edge of the tree is kept
    so appending never searches.
    """

    def __init__(self) -> None:
        self.hashes: list[bytes] = []
        self.size = 0
        # Hashes of the perfect subtrees on the right edge, largest first.
        self._edge: list[bytes] = []

    def append(self, data: bytes) -> int:
        """Append one entry; return its leaf index."""
        return self.append_leaf_hash(leaf_hash(data))

    def append_leaf_hash(self, leaf: bytes) -> int:
        """Append one leaf hash; return its leaf index."""
        _check_hash(leaf, "leaf hash")
        n = self.size
        h = leaf
        self.hashes.append(h)
        k = n
        while k & 1:
            h = node_hash(self._edge.pop(), h)
            self.hashes.append(h)
            k >>= 1
        self._edge.append(h)
        self.size = n + 1
        return n

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hashes at ``indexes``; InvalidInput for an index not stored yet."""
        stored = len(self.hashes)
        for i in indexes:
            if not 0 <= i < stored:
                raise InvalidInput(f"stored hash {i} does not exist (have {stored})")
        return [self.hashes[i] for i in indexes]

    def root(self) -> bytes:
        """Return the root hash of the current tree."""
        return tree_hash(self.size, self)


# --- tree hash and proof generation -----------------------------------------------------


def _subtrees(lo: int, hi: int) -> list[int]:
    """Stored indexes of the perfect subtrees that make up the range [lo, hi), largest first.

    RFC 9162's recursion only ever builds ranges whose ``lo`` is a multiple of a power of two
    at least ``hi - lo``, so the binary digits of ``hi - lo`` give aligned subtrees.
    """
    out = []
    size = hi - lo
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append(stored_hash_index(level, lo >> level))
            lo += 1 << level
    return out


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Combine the subtree hashes of a range (largest first) into the range's MTH."""
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = node_hash(left, h)
    return h


def _resolve(ranges: list[list[int]], reader: HashReader) -> list[bytes]:
    """Read every stored hash the ranges need in one call, then hash each range."""
    flat = [i for r in ranges for i in r]
    got = reader.read_hashes(flat) if flat else []
    if len(got) != len(flat):
        raise InvariantViolation(f"reader returned {len(got)} hashes for {len(flat)} indexes")
    out, pos = [], 0
    for r in ranges:
        part = [_check_hash(h, "stored hash") for h in got[pos : pos + len(r)]]
        pos += len(r)
        out.append(_fold(part))
    return out


def _largest_power_of_two_below(n: int) -> int:
    """Largest power of two strictly less than ``n`` (n >= 2), RFC 9162's split point k."""
    return 1 << ((n - 1).bit_length() - 1)


def tree_hash(size: int, reader: HashReader) -> bytes:
    """Return the root hash (MTH) of the first ``size`` leaves."""
    _check_size(size)
    if size == 0:
        return EMPTY_ROOT
    return _resolve([_subtrees(0, size)], reader)[0]


def _path(m: int, lo: int, hi: int, out: list[list[int]]) -> None:
    """RFC 9162 PATH(m, D[lo:hi]) as subtree ranges, sibling of the leaf first."""
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if m < lo + k:
            out.append(_subtrees(lo + k, hi))
            hi = lo + k
        else:
            out.append(_subtrees(lo, lo + k))
            lo = lo + k
    out.reverse()


def inclusion_proof(size: int, index: int, reader: HashReader) -> list[bytes]:
    """Return the inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
    _check_size(size)
    if not 0 <= index < size:
        raise InvalidInput(f"leaf index {index} is outside a tree of size {size}")
    ranges: list[list[int]] = []
    _path(index, 0, size, ranges)
    return _resolve(ranges, reader)


def consistency_proof(old_size: int, new_size: int, reader: HashReader) -> list[bytes]:
    """Return the proof that the tree of ``old_size`` leaves is a prefix of ``new_size``'s.

    Empty when ``old_size`` is 0 or equals ``new_size``.
    """
    _check_size(new_size)
    if not 0 <= old_size <= new_size:
        raise InvalidInput(f"old size {old_size} is not between 0 and new size {new_size}")
    if old_size == 0 or old_size == new_size:
        return []
    ranges: list[list[int]] = []
    m, lo, hi, complete = old_size, 0, new_size, True
    # RFC 9162 SUBPROOF(m, D[lo:hi], b), unrolled; entries are collected top-down.
    while m != hi - lo:
        k = _largest_power_of_two_below(hi - lo)
        if m <= k:
            ranges.append(_subtrees(lo + k, hi))
            hi = lo + k
        else:
            ranges.append(_subtrees(lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        ranges.append(_subtrees(lo, hi))
    ranges.reverse()
    return _resolve(ranges, reader)


# --- verification (RFC 9162 2.1.3.2 and 2.1.4.2) -----------------------------------------


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """Return the root that ``proof`` implies for ``leaf`` at ``index`` in a tree of ``size``.

    Raises VerificationError when the proof has the wrong shape for (index, size).
    """
    _check_hash(leaf, "leaf hash")
    _check_size(size)
    _check_proof(proof)
    if not 0 <= index < size:
        raise VerificationError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise VerificationError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("inclusion proof is too short")
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf`` is leaf ``index`` of the tree of ``size`` whose root is ``root``."""
    _check_hash(root, "root hash")
    if root_from_inclusion(leaf, index, size, proof) != root:
        raise VerificationError(f"inclusion proof for leaf {index} does not match the root of size {size}")


def verify_consistency(old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes) -> None:
    """Check that the tree (old_size, old_root) is a prefix of (new_size, new_root)."""
    _check_hash(old_root, "old root")
    _check_hash(new_root, "new root")
    _check_size(new_size)
    _check_proof(proof)
    if not 0 <= old_size <= new_size:
        raise VerificationError(f"old size {old_size} is not between 0 and new size {new_size}")
    if old_size == new_size or old_size == 0:
        # Nothing to prove; only the trivial proof is canonical.
        if proof:
            raise VerificationError("consistency proof must be empty for these sizes")
        if old_size == new_size and old_root != new_root:
            raise VerificationError("equal sizes with different roots")
        if old_size == 0 and old_root != EMPTY_ROOT:
            raise VerificationError("old root of the empty tree is not the empty hash")
        return
    if not proof:
        raise VerificationError("empty consistency proof")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("consistency proof is too short")
    if fr != old_root:
        raise VerificationError(f"consistency proof does not match the old root of size {old_size}")
    if sr != new_root:
        raise VerificationError(f"consistency proof does not match the new root of size {new_size}")


# --- argument checks --------------------------------------------------------------------


def _check_hash(h: bytes, what: str) -> bytes:
    if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
        raise VerificationError(f"{what} is not a {HASH_SIZE}-byte hash")
    return bytes(h)


def _check_size(size: int) -> None:
    if not 0 <= size <= MAX_TREE_SIZE:
        raise InvalidInput(f"tree size {size} is out of range")


def _check_proof(proof: Sequence[bytes]) -> None:
    if len(proof) > MAX_PROOF_HASHES:
        raise VerificationError(f"proof has {len(proof)} hashes, more than {MAX_PROOF_HASHES}")
    for p in proof:
        _check_hash(p, "proof hash")
