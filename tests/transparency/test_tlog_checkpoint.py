"""Checkpoints and witness cosignatures."""

from __future__ import annotations

import base64

import pytest
from tlog_vectors import TESSERA, TESSERA_ORIGIN, TESSERA_SKEY, TESSERA_VKEY

from rempart.errors import InvalidInput
from rempart.transparency import (
    EMPTY_ROOT,
    Checkpoint,
    CosignatureSigner,
    CosignatureVerifier,
    Ed25519Signer,
    Ed25519Verifier,
    InvalidSignature,
    Signature,
    VerificationError,
    WitnessPolicy,
    cosignature_timestamp,
    cosigned_message,
    format_checkpoint,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_note,
    sign_checkpoint,
    sign_note,
)

LOG = Ed25519Verifier.from_vkey(TESSERA_VKEY)
LOG_SIGNER = Ed25519Signer.from_skey(TESSERA_SKEY)

# C2SP tlog-checkpoint / tlog-cosignature examples.
SOFA = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SOFA_COSIG_LINE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZ"
    "qhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)


def test_tessera_checkpoints_open_and_round_trip() -> None:
    for n in range(16):
        msg = (TESSERA / f"checkpoint.{n}").read_bytes()
        cp, note = open_checkpoint(msg, TESSERA_ORIGIN, [LOG])
        assert cp.size == n and cp.origin == TESSERA_ORIGIN
        assert format_checkpoint(cp) == note.text
        assert sign_checkpoint(cp, [LOG_SIGNER]) == msg  # Ed25519 is deterministic
    empty, _ = open_checkpoint((TESSERA / "checkpoint.0").read_bytes(), TESSERA_ORIGIN, [LOG])
    assert empty.root == EMPTY_ROOT


def test_spec_example_parses() -> None:
    cp = parse_checkpoint(SOFA)
    assert (cp.origin, cp.size, cp.extensions) == ("example.com/behind-the-sofa", 20852163, ())
    ext = parse_checkpoint(SOFA + "ext one\next two\n")
    assert ext.extensions == ("ext one", "ext two")
    assert format_checkpoint(ext) == SOFA + "ext one\next two\n"


ROOT_B64 = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="


@pytest.mark.parametrize(
    "text",
    [
        f"o\n012\n{ROOT_B64}\n",  # leading zero
        f"o\n+12\n{ROOT_B64}\n",
        f"o\n-1\n{ROOT_B64}\n",
        f"o\n 12\n{ROOT_B64}\n",
        f"o\n9223372036854775808\n{ROOT_B64}\n",  # 2**63
        f"o\n12\n{ROOT_B64}",  # no final newline
        f"o\n12\n{ROOT_B64}\n\n",  # empty extension line
        f"\n12\n{ROOT_B64}\n",  # empty origin
        f"o\n12\n{ROOT_B64[:-2]}\n",  # unpadded
        f"o\n12\n{ROOT_B64[:-2]}J=\n",  # non-canonical padding bits
        f"o\n12\n{base64.b64encode(bytes(31)).decode()}\n",  # short root
        "o\n12\n",
        f"o\r\n12\n{ROOT_B64}\n",
        f"o\n12\n{ROOT_B64}\n" + "ext\n" * 17,  # too many extension lines
    ],
)
def test_non_canonical_checkpoints_are_rejected(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_checkpoint(text)


def test_checkpoint_refuses_values_it_cannot_write() -> None:
    with pytest.raises(InvalidInput):
        Checkpoint("o", -1, EMPTY_ROOT)
    with pytest.raises(InvalidInput):
        Checkpoint("o\nx", 1, EMPTY_ROOT)
    with pytest.raises(InvalidInput):
        Checkpoint("o", 1, EMPTY_ROOT, ("",))


def test_open_checkpoint_checks_origin_and_log_key() -> None:
    msg = (TESSERA / "checkpoint.15").read_bytes()
    with pytest.raises(VerificationError):
        open_checkpoint(msg, "example.com/other-log", [LOG])
    # A note signed only by some other known key is not a checkpoint of this log.
    other = Ed25519Signer("someone.example", b"\x01" * 32)
    resigned = sign_note(parse_note(msg)[0], [other])
    with pytest.raises(VerificationError):
        open_checkpoint(resigned, TESSERA_ORIGIN, [LOG, other.verifier()])
    forged = msg.replace(b"\n15\n", b"\n16\n")
    with pytest.raises(InvalidSignature):
        open_checkpoint(forged, TESSERA_ORIGIN, [LOG])


# --- cosignatures ------------------------------------------------------------------------------


def test_spec_cosigned_message_and_signature_layout() -> None:
    assert cosigned_message(SOFA.encode(), 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n"
        b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )
    _, sigs = parse_note((SOFA + "\n" + SOFA_COSIG_LINE).encode())
    assert sigs[0].name == "witness.example.com/w1" and sigs[0].key_id == 0x8D66CF3F
    assert cosignature_timestamp(sigs[0]) == 1679315147


def _witness(i: int, timestamp: int = 1_700_000_000) -> CosignatureSigner:
    return CosignatureSigner(f"witness{i}.example", bytes([0x40 + i]) * 32, timestamp)


def test_cosign_and_verify() -> None:
    w = _witness(1)
    assert CosignatureVerifier.from_vkey(w.verifier().vkey()).key_id == w.key_id
    assert CosignatureSigner.from_skey(w.skey(), w.timestamp).skey() == w.skey()
    assert base64.b64decode(w.verifier().vkey().split("+", 2)[2])[0] == 0x04
    body = (TESSERA / "checkpoint.15").read_bytes()
    _, note = open_checkpoint(body, TESSERA_ORIGIN, [LOG])
    cosigned = sign_note(note.text, [w], keep=note.sigs)
    cp, opened = open_checkpoint(cosigned, TESSERA_ORIGIN, [LOG, w.verifier()])
    assert [s.name for s in opened.sigs] == [TESSERA_ORIGIN, "witness1.example"]
    assert cosignature_timestamp(opened.sigs[1]) == 1_700_000_000
    # The same Ed25519 key as a plain note key (type 0x01) has another key ID: ignored.
    plain = Ed25519Signer("witness1.example", bytes([0x41]) * 32)
    assert plain.key_id != w.key_id
    with pytest.raises(VerificationError):
        open_note(sign_note(note.text, [plain]), [w.verifier()])


def test_tampered_cosignatures_fail() -> None:
    w = _witness(1)
    text = (TESSERA / "checkpoint.15").read_bytes().split(b"\n\n")[0].decode() + "\n"
    good = sign_note(text, [LOG_SIGNER, w])
    _, sigs = parse_note(good)
    ts_changed = sigs[1].signature[:7] + bytes([sigs[1].signature[7] ^ 1]) + sigs[1].signature[8:]
    bad = sign_note(text, [LOG_SIGNER], keep=[Signature(sigs[1].name, sigs[1].key_id, ts_changed)])
    with pytest.raises(InvalidSignature):
        open_note(bad, [LOG, w.verifier()])
    ext = sign_note(text + "extension\n", [LOG_SIGNER], keep=[sigs[1]])  # extension lines are signed
    with pytest.raises(InvalidSignature):
        open_note(ext, [LOG, w.verifier()])


def test_witness_policy_k_of_n() -> None:
    witnesses = [_witness(i) for i in range(3)]
    policy = WitnessPolicy(tuple(w.verifier() for w in witnesses), threshold=2)
    text = format_checkpoint(Checkpoint(TESSERA_ORIGIN, 0, EMPTY_ROOT))
    known = [LOG, *policy.witnesses]
    one = open_note(sign_note(text, [LOG_SIGNER, witnesses[0]]), known)
    with pytest.raises(VerificationError):
        policy.check(one)
    two = open_note(sign_note(text, [LOG_SIGNER, witnesses[0], witnesses[2]]), known)
    assert policy.check(two) == ["witness0.example", "witness2.example"]
    # A stranger's cosignature does not count.
    stranger = _witness(9)
    with pytest.raises(VerificationError):
        policy.check(open_note(sign_note(text, [LOG_SIGNER, witnesses[1], stranger]), known))
    with pytest.raises(InvalidInput):
        WitnessPolicy(policy.witnesses, threshold=4)
    with pytest.raises(InvalidInput):
        WitnessPolicy(policy.witnesses + policy.witnesses[:1], threshold=1)
