"""Merkle hashing, stored hashes, proofs: vectors, probes, and exhaustive proofs with tampering."""

from __future__ import annotations

import base64
import hashlib
import json
import random

import pytest
from tlog_vectors import PROBES, RFC6962_LEAVES, RFC6962_ROOTS, hexb

from rempart.errors import InvalidInput
from rempart.transparency import (
    EMPTY_ROOT,
    MemoryHashStore,
    VerificationError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    stored_hash_count,
    stored_hash_index,
    stored_hashes_for_leaf,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)
from rempart.transparency.merkle import split_stored_hash_index

# --- an independent reference: RFC 9162 section 2.1 recursions, written the slow way ----------


def ref_mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:])).digest()


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return ref_path(m, leaves[:k]) + [ref_mth(leaves[k:])]
    return ref_path(m - k, leaves[k:]) + [ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [ref_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return ref_subproof(m, leaves[:k], b) + [ref_mth(leaves[k:])]
    return ref_subproof(m - k, leaves[k:], False) + [ref_mth(leaves[:k])]


def entries(n: int) -> list[bytes]:
    return [b"entry %d" % i for i in range(n)]


def store_of(data: list[bytes]) -> MemoryHashStore:
    store = MemoryHashStore()
    for d in data:
        store.append(d)
    return store


def flipped(proof: list[bytes], i: int, j: int) -> list[bytes]:
    """A copy of ``proof`` with bit 0 of byte ``j`` of hash ``i`` flipped."""
    out = list(proof)
    h = bytearray(out[i])
    h[j] ^= 1
    out[i] = bytes(h)
    return out


# --- hashing vectors --------------------------------------------------------------------------


def test_rfc6962_hasher_vectors() -> None:
    assert EMPTY_ROOT == hexb(RFC6962_ROOTS[0])
    assert leaf_hash(b"") == hexb(RFC6962_ROOTS[1])
    assert node_hash(leaf_hash(b""), leaf_hash(b"\x00")) == hexb(RFC6962_ROOTS[2])
    # Domain separation: a leaf and a node over the same bytes differ.
    assert leaf_hash(b"\x01" * 64) != node_hash(b"\x01" * 32, b"\x01" * 32)


def test_reference_roots_by_size() -> None:
    store = MemoryHashStore()
    assert store.root() == hexb(RFC6962_ROOTS[0])
    for size, leaf in enumerate(RFC6962_LEAVES, start=1):
        store.append(leaf)
        assert store.root() == hexb(RFC6962_ROOTS[size]), size
        assert ref_mth(RFC6962_LEAVES[:size]) == hexb(RFC6962_ROOTS[size])


# --- stored hash layout ------------------------------------------------------------------------


def test_stored_hash_layout_of_four_leaves() -> None:
    store = store_of(entries(4))
    h = [leaf_hash(e) for e in entries(4)]
    n01, n23 = node_hash(h[0], h[1]), node_hash(h[2], h[3])
    assert store.hashes == [h[0], h[1], n01, h[2], h[3], n23, node_hash(n01, n23)]
    assert [stored_hash_index(0, i) for i in range(4)] == [0, 1, 3, 4]
    assert [stored_hash_index(1, 0), stored_hash_index(1, 1), stored_hash_index(2, 0)] == [2, 5, 6]


def test_stored_hash_index_round_trip_and_counts() -> None:
    store = MemoryHashStore()
    for n in range(300):
        assert len(store.hashes) == stored_hash_count(n)
        new = stored_hashes_for_leaf(n, leaf_hash(b"%d" % n), store)
        store.append(b"%d" % n)
        assert store.hashes[-len(new) :] == new
    for i in range(len(store.hashes)):
        level, n = split_stored_hash_index(i)
        assert stored_hash_index(level, n) == i


def test_million_leaves_append() -> None:
    # O(log n) per append (on average two hashes): a million leaves is a second or two.
    store = MemoryHashStore()
    for i in range(1_000_000):
        store.append_leaf_hash(hashlib.sha256(i.to_bytes(8, "big")).digest())
    assert store.size == 1_000_000
    assert len(store.hashes) == stored_hash_count(1_000_000) < 2_000_000
    proof = inclusion_proof(store.size, 765_432, store)
    leaf = hashlib.sha256((765_432).to_bytes(8, "big")).digest()
    verify_inclusion(leaf, 765_432, store.size, proof, store.root())
    verify_consistency(
        999_999, 1_000_000, consistency_proof(999_999, 1_000_000, store), tree_hash(999_999, store), store.root()
    )


# --- probes from transparency-dev/merkle -------------------------------------------------------

# The one probe where rempart is deliberately stricter: roots must be 32-byte hashes, even when
# the sizes are equal and nothing else is compared (the probe uses "don't care" strings).
STRICTER = {"consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"}


def _probes(kind: str) -> list:
    files = sorted((PROBES / kind).rglob("*.json"))
    return [pytest.param(f, id=str(f.relative_to(PROBES))) for f in files]


def _b64(v) -> bytes:
    return base64.b64decode(v)


def test_probe_directories_are_present() -> None:
    assert len(_probes("inclusion")) > 50 and len(_probes("consistency")) > 50


@pytest.mark.parametrize("path", _probes("inclusion"))
def test_inclusion_probe(path) -> None:
    p = json.loads(path.read_text())
    proof = [_b64(h) for h in p["proof"] or []]
    args = (_b64(p["leafHash"]), p["leafIdx"], p["treeSize"], proof, _b64(p["root"]))
    if p["wantErr"]:
        with pytest.raises(InvalidInput):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", _probes("consistency"))
def test_consistency_probe(path) -> None:
    p = json.loads(path.read_text())
    proof = [_b64(h) for h in p["proof"] or []]
    args = (p["size1"], p["size2"], proof, _b64(p["root1"]), _b64(p["root2"]))
    want_err = p["wantErr"] or str(path.relative_to(PROBES)) in STRICTER
    if want_err:
        with pytest.raises(InvalidInput):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


# --- exhaustive proofs ------------------------------------------------------------------------


def test_every_inclusion_proof_up_to_100() -> None:
    data = entries(100)
    store = MemoryHashStore()
    rng = random.Random(6962)
    for size in range(1, 101):
        store.append(data[size - 1])
        root = tree_hash(size, store)
        assert root == ref_mth(data[:size])
        for index in range(size):
            proof = inclusion_proof(size, index, store)
            assert proof == ref_path(index, data[:size])
            leaf = leaf_hash(data[index])
            verify_inclusion(leaf, index, size, proof, root)
            # Every byte of every hash up to size 32, one random byte per hash beyond.
            for i in range(len(proof)):
                for j in range(32) if size <= 32 else [rng.randrange(32)]:
                    with pytest.raises(VerificationError):
                        verify_inclusion(leaf, index, size, flipped(proof, i, j), root)
            _expect_inclusion_misuse_fails(leaf, index, size, proof, root)


def _expect_inclusion_misuse_fails(leaf, index, size, proof, root) -> None:
    bad_leaf = bytes([leaf[0] ^ 1]) + leaf[1:]
    cases = [
        (bad_leaf, index, size, proof),
        (leaf, index, size, proof + [root]),
        (leaf, size, size, proof),
    ]
    if index > 0:
        cases.append((leaf, index - 1, size, proof))
    if proof:
        cases.append((leaf, index, size, proof[:-1]))
    # (A changed size is not always caught: sizes with the same path shape share the formula,
    # which is why a checkpoint binds the size and the root together.)
    for args in cases:
        with pytest.raises(VerificationError):
            verify_inclusion(*args, root)


def test_every_consistency_proof_up_to_64() -> None:
    data = entries(64)
    store = store_of(data)
    roots = [tree_hash(n, store) for n in range(65)]
    rng = random.Random(9162)
    for new in range(1, 65):
        for old in range(0, new + 1):
            proof = consistency_proof(old, new, store)
            assert proof == ([] if old in (0, new) else ref_subproof(old, data[:new], True))
            verify_consistency(old, new, proof, roots[old], roots[new])
            for i in range(len(proof)):
                for j in range(32) if new <= 24 else [rng.randrange(32)]:
                    with pytest.raises(VerificationError):
                        verify_consistency(old, new, flipped(proof, i, j), roots[old], roots[new])
            if 0 < old < new:
                with pytest.raises(VerificationError):
                    verify_consistency(old, new, proof, roots[old - 1], roots[new])
                with pytest.raises(VerificationError):
                    verify_consistency(old, new, proof, roots[old], roots[new - 1])
                with pytest.raises(VerificationError):
                    verify_consistency(old, new, proof[:-1], roots[old], roots[new])
                with pytest.raises(VerificationError):
                    verify_consistency(old, new, proof + [roots[new]], roots[old], roots[new])


def test_consistency_of_a_forked_tree_fails() -> None:
    data = entries(20)
    forked = data[:9] + [b"rewritten"] + data[10:]
    a, b = store_of(data), store_of(forked)
    proof = consistency_proof(12, 20, b)
    with pytest.raises(VerificationError):
        verify_consistency(12, 20, proof, tree_hash(12, a), tree_hash(20, b))


# --- argument checks ---------------------------------------------------------------------------


def test_generation_rejects_impossible_requests() -> None:
    store = store_of(entries(5))
    with pytest.raises(InvalidInput):
        inclusion_proof(5, 5, store)
    with pytest.raises(InvalidInput):
        inclusion_proof(0, 0, store)
    with pytest.raises(InvalidInput):
        consistency_proof(6, 5, store)
    with pytest.raises(InvalidInput):
        tree_hash(6, store)  # hashes of the sixth leaf are not stored


def test_verification_rejects_malformed_hashes() -> None:
    store = store_of(entries(4))
    root, proof = store.root(), inclusion_proof(4, 1, store)
    leaf = leaf_hash(b"entry 1")
    with pytest.raises(VerificationError):
        verify_inclusion(leaf[:31], 1, 4, proof, root)
    with pytest.raises(VerificationError):
        verify_inclusion(leaf, 1, 4, [proof[0] + b"\x00", proof[1]], root)
    with pytest.raises(VerificationError):
        verify_inclusion(leaf, 1, 4, proof, root + b"\x00")
    with pytest.raises(VerificationError):
        verify_inclusion(leaf, 1, 4, proof * 40, root)
    with pytest.raises(VerificationError):
        verify_consistency(0, 4, [], root, root)  # the empty tree's root is fixed


def test_c2sp_merkle_tree_worked_example() -> None:
    # c2sp.org/merkle-tree, "Example": a 7-entry tree with labelled nodes.
    store = store_of(entries(7))
    a, b, c, d, e, f, g = (leaf_hash(x) for x in entries(7))
    h, i, j = node_hash(a, b), node_hash(c, d), node_hash(e, f)
    k, l_ = node_hash(h, i), node_hash(j, g)
    assert store.root() == node_hash(k, l_)
    assert inclusion_proof(7, 0, store) == [b, i, l_]
    assert inclusion_proof(7, 3, store) == [c, h, l_]
    assert inclusion_proof(7, 4, store) == [f, g, k]
    assert inclusion_proof(7, 6, store) == [j, k]
    assert consistency_proof(3, 7, store) == [c, d, h, l_]
    assert consistency_proof(4, 7, store) == [l_]
    assert consistency_proof(6, 7, store) == [j, g, k]
