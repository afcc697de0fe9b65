"""Signed notes: published vectors, keys, and tampering."""

from __future__ import annotations

import pytest

from rempart.errors import InvalidInput
from rempart.transparency import (
    Ed25519Signer,
    Ed25519Verifier,
    InvalidSignature,
    Signature,
    UnverifiedNote,
    generate_key,
    open_note,
    parse_note,
    sign_note,
)
from rempart.transparency.note import MAX_NOTE_BYTES, MAX_SIGNATURES

# C2SP signed-note specification, "Verifier keys / Example".
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
).encode()

# golang.org/x/mod/sumdb/note documentation and note_test.go.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
PETER_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
# The Go checksum database's public key (sumdb), as configured in the go command.
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"

PETER_NOTE = (PETER_TEXT + "\n" + PETER_SIG).encode()


def test_c2sp_example_verifies() -> None:
    v = Ed25519Verifier.from_vkey(C2SP_VKEY)
    assert (v.name, v.key_id) == ("example.com/foo", 0x530D903A)
    note = open_note(C2SP_NOTE, [v])
    assert note.text == "This is an example message.\n"
    assert [s.name for s in note.sigs] == ["example.com/foo"] and note.unverified == ()


def test_go_signer_reproduces_the_published_signature() -> None:
    signer = Ed25519Signer.from_skey(PETER_SKEY)
    assert signer.key_id == 0xC74F20A3
    assert signer.verifier().vkey() == PETER_VKEY
    assert signer.skey() == PETER_SKEY
    assert sign_note(PETER_TEXT, [signer]) == PETER_NOTE


def test_vkeys_round_trip_including_plus_in_base64() -> None:
    for vkey in (C2SP_VKEY, PETER_VKEY, ENOCH_VKEY, SUMDB_VKEY):
        assert Ed25519Verifier.from_vkey(vkey).vkey() == vkey
    assert Ed25519Verifier.from_vkey(SUMDB_VKEY).key_id == 0x033DE0AE


def test_unknown_signatures_are_kept_but_not_trusted() -> None:
    msg = (PETER_TEXT + "\n" + PETER_SIG + ENOCH_SIG).encode()
    note = open_note(msg, [Ed25519Verifier.from_vkey(PETER_VKEY)])
    assert [s.name for s in note.sigs] == ["PeterNeumann"]
    assert [(s.name, s.key_id) for s in note.unverified] == [("EnochRoot", 0xAF0CFE78)]
    both = open_note(msg, [Ed25519Verifier.from_vkey(PETER_VKEY), Ed25519Verifier.from_vkey(ENOCH_VKEY)])
    assert len(both.sigs) == 2
    # Re-signing keeps the other signatures and replaces the signer's own.
    again = sign_note(note.text, [Ed25519Signer.from_skey(PETER_SKEY)], keep=note.sigs + note.unverified)
    assert again == (PETER_TEXT + "\n" + ENOCH_SIG + PETER_SIG).encode()


def test_generated_keys_sign_and_verify() -> None:
    skey, vkey = generate_key("rempart.example/log")
    msg = sign_note("hello\n", [Ed25519Signer.from_skey(skey)])
    assert open_note(msg, [Ed25519Verifier.from_vkey(vkey)]).text == "hello\n"
    other = Ed25519Verifier.from_vkey(generate_key("rempart.example/log")[1])
    with pytest.raises(UnverifiedNote):
        open_note(msg, [other])  # same name, different key ID: ignored, so nothing verifies


# --- tampering ---------------------------------------------------------------------------------


PETER = Ed25519Verifier.from_vkey(PETER_VKEY)


def test_changed_body_fails() -> None:
    with pytest.raises(InvalidSignature):
        open_note(PETER_NOTE.replace(b"answer", b"Answer"), [PETER])


def test_changed_signature_fails() -> None:
    sig = PETER_SIG.replace("x08go/ZJ", "x08go/ZK")
    with pytest.raises(InvalidSignature) as err:
        open_note((PETER_TEXT + "\n" + sig).encode(), [PETER])
    assert err.value.key_id == 0xC74F20A3


def test_wrong_key_fails() -> None:
    with pytest.raises(UnverifiedNote):
        open_note(PETER_NOTE, [Ed25519Verifier.from_vkey(ENOCH_VKEY)])
    with pytest.raises(UnverifiedNote):
        open_note(PETER_NOTE, [])


def test_known_key_with_bad_signature_rejects_the_whole_note() -> None:
    peter_sig = parse_note(PETER_NOTE)[1][0].signature
    enoch_forged = Signature("EnochRoot", 0xAF0CFE78, peter_sig).line()
    msg = (PETER_TEXT + "\n" + PETER_SIG + enoch_forged).encode()
    with pytest.raises(InvalidSignature):
        open_note(msg, [PETER, Ed25519Verifier.from_vkey(ENOCH_VKEY)])


@pytest.mark.parametrize(
    "msg",
    [
        pytest.param((PETER_TEXT + "\n" + PETER_SIG + PETER_SIG).encode(), id="duplicated-signature"),
        pytest.param(PETER_NOTE[:-1], id="missing-final-newline"),
        pytest.param((PETER_TEXT + PETER_SIG).encode(), id="no-blank-line"),
        pytest.param((PETER_TEXT + "\n" + PETER_SIG + "\n").encode(), id="blank-line-after-signatures"),
        pytest.param((PETER_TEXT + "\n").encode(), id="no-signature"),
        pytest.param(PETER_NOTE.replace("— ".encode(), b"- "), id="hyphen-not-em-dash"),
        pytest.param(PETER_NOTE.replace(b"Neumann x08", b"Neumann  x08"), id="double-space"),
        pytest.param(PETER_NOTE.replace(b"AM=\n", b"AM\n"), id="unpadded-base64"),
        pytest.param(PETER_NOTE.replace(b"AM=\n", b"AN=\n"), id="non-canonical-base64"),
        pytest.param(PETER_NOTE.replace(b"problem,", b"problem,\r"), id="carriage-return"),
        pytest.param(PETER_NOTE.replace(b"problem,", b"problem\x00"), id="nul"),
        pytest.param(PETER_NOTE.replace(b"problem,", b"problem\xff"), id="invalid-utf8"),
        pytest.param(PETER_NOTE.replace(b"PeterNeumann", b"Peter+Neumann"), id="plus-in-name"),
        pytest.param(PETER_NOTE.replace(b"PeterNeumann", "Peter\u00a0Neumann".encode()), id="unicode-space"),
        pytest.param((PETER_TEXT + "\n— PeterNeumann AAAA\n").encode(), id="signature-too-short"),
        pytest.param(PETER_NOTE + b"x" * MAX_NOTE_BYTES, id="oversized"),
    ],
)
def test_malformed_notes_are_rejected(msg: bytes) -> None:
    with pytest.raises(InvalidInput):
        open_note(msg, [PETER])


def test_signature_count_is_capped() -> None:
    signers = [Ed25519Signer(f"w{i}", bytes([i]) * 32) for i in range(MAX_SIGNATURES + 1)]
    with pytest.raises(InvalidInput):
        sign_note("text\n", signers)
    at_cap = sign_note("text\n", signers[:MAX_SIGNATURES])
    assert len(parse_note(at_cap)[1]) == MAX_SIGNATURES
    one_more = sign_note("text\n", signers[MAX_SIGNATURES:]).split(b"\n\n")[1]
    with pytest.raises(InvalidInput):
        parse_note(at_cap + one_more)


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key ID
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # uppercase hex
        "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # algorithm 0x02
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # short key
        "PeterNeumann+c74f20a3",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        PETER_SKEY,
    ],
)
def test_bad_verifier_keys_are_rejected(vkey: str) -> None:
    with pytest.raises(InvalidInput):
        Ed25519Verifier.from_vkey(vkey)


def test_bad_signer_keys_are_rejected() -> None:
    with pytest.raises(InvalidInput):
        Ed25519Signer.from_skey(PETER_VKEY)
    with pytest.raises(InvalidInput):
        Ed25519Signer.from_skey(PETER_SKEY.replace("c74f20a3", "c74f20a4"))


def test_sign_refuses_text_without_final_newline() -> None:
    with pytest.raises(InvalidInput):
        sign_note("no newline", [Ed25519Signer.from_skey(PETER_SKEY)])
