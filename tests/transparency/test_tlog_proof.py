"""C2SP tlog-proof: format, parse, verify, and tampering."""

from __future__ import annotations

import pytest

from rempart.errors import InvalidInput
from rempart.transparency import (
    Checkpoint,
    CosignatureSigner,
    Ed25519Signer,
    MemoryHashStore,
    TlogProof,
    VerificationError,
    WitnessPolicy,
    format_tlog_proof,
    inclusion_proof,
    leaf_hash,
    parse_tlog_proof,
    sign_checkpoint,
    verify_tlog_proof,
)

ORIGIN = "rempart.example/log"
LOG = Ed25519Signer(ORIGIN, b"\x11" * 32)
WITNESSES = [CosignatureSigner(f"w{i}.example", bytes([0x20 + i]) * 32, 1_700_000_000) for i in range(3)]
ENTRIES = [b"decision %d" % i for i in range(37)]


def _proof(index: int = 21, witnesses=(), extra: bytes | None = None) -> bytes:
    store = MemoryHashStore()
    for e in ENTRIES:
        store.append(e)
    signed = sign_checkpoint(Checkpoint(ORIGIN, store.size, store.root()), [LOG, *witnesses])
    hashes = tuple(inclusion_proof(store.size, index, store))
    return format_tlog_proof(TlogProof(index, hashes, signed, extra))


def test_round_trip_and_verify() -> None:
    data = _proof(extra=b"context")
    text = data.decode()
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra Y29udGV4dA==\nindex 21\n")
    assert "\n\nrempart.example/log\n37\n" in text
    p = parse_tlog_proof(data)
    assert (p.index, p.extra, len(p.hashes)) == (21, b"context", 6)
    assert format_tlog_proof(p) == data
    _, cp = verify_tlog_proof(data, leaf_hash(ENTRIES[21]), ORIGIN, [LOG.verifier()])
    assert cp.size == 37
    one_leaf = format_tlog_proof(TlogProof(0, (), sign_checkpoint(Checkpoint(ORIGIN, 1, leaf_hash(b"x")), [LOG])))
    verify_tlog_proof(one_leaf, leaf_hash(b"x"), ORIGIN, [LOG.verifier()])


def test_witness_policy() -> None:
    policy = WitnessPolicy(tuple(w.verifier() for w in WITNESSES), threshold=2)
    good = _proof(witnesses=WITNESSES[:2])
    verify_tlog_proof(good, leaf_hash(ENTRIES[21]), ORIGIN, [LOG.verifier()], policy)
    with pytest.raises(VerificationError):
        verify_tlog_proof(_proof(witnesses=WITNESSES[:1]), leaf_hash(ENTRIES[21]), ORIGIN, [LOG.verifier()], policy)


def test_tampering_fails() -> None:
    data = _proof()
    leaf = leaf_hash(ENTRIES[21])
    with pytest.raises(VerificationError):
        verify_tlog_proof(data, leaf_hash(ENTRIES[20]), ORIGIN, [LOG.verifier()])  # another entry
    with pytest.raises(VerificationError):
        verify_tlog_proof(data.replace(b"index 21", b"index 20"), leaf, ORIGIN, [LOG.verifier()])
    with pytest.raises(VerificationError):
        verify_tlog_proof(data, leaf, "rempart.example/other", [LOG.verifier()])
    with pytest.raises(VerificationError):
        verify_tlog_proof(data, leaf, ORIGIN, [Ed25519Signer(ORIGIN, b"\x12" * 32).verifier()])
    head, _, tail = data.partition(b"\n\n")
    lines = head.split(b"\n")
    for i in range(2, len(lines)):  # each proof hash, one character changed
        changed = list(lines)
        changed[i] = (b"A" if changed[i][:1] != b"A" else b"B") + changed[i][1:]
        with pytest.raises(VerificationError):
            verify_tlog_proof(b"\n".join(changed) + b"\n\n" + tail, leaf, ORIGIN, [LOG.verifier()])


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"c2sp.org/tlog-proof@v1\n", b"c2sp.org/tlog-proof@v2\n"),
        (b"index 21\n", b"index 021\n"),
        (b"index 21\n", b"index  21\n"),
        (b"index 21\n", b"extra \nindex 21\n"),
        (b"index 21\n", b"index 21\n\n"),
        (b"index 21\n", b""),
        (
            b"=\n",
            b"\n",
        ),  # unpadded hash
    ],
)
def test_malformed_proofs_are_rejected(old: bytes, new: bytes) -> None:
    data = _proof().replace(old, new, 1)
    assert data != _proof()
    with pytest.raises(InvalidInput) as err:
        verify_tlog_proof(data, leaf_hash(ENTRIES[21]), ORIGIN, [LOG.verifier()])
    assert not isinstance(err.value, VerificationError)  # refused as malformed, not as a bad proof


def test_no_checkpoint_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        parse_tlog_proof(b"c2sp.org/tlog-proof@v1\nindex 0\n\n")
    with pytest.raises(InvalidInput):
        parse_tlog_proof(b"c2sp.org/tlog-proof@v1\nindex 0\n")
