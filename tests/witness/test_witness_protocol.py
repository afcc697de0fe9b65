"""The witness's rules (C2SP tlog-witness), tested on the pure core: each refusal with the
specification's status, in its order; cosignatures that verify; state that survives a restart."""

from __future__ import annotations

import base64

import pytest

from rempart.transparency import Checkpoint, CosignatureVerifier, EMPTY_ROOT, open_note, sign_checkpoint
from rempart.transparency.note import Ed25519Signer, Signature, parse_note
from rempart.transparency.witness import (
    InconsistentCheckpoint,
    MalformedRequest,
    SizeMismatch,
    UnknownLog,
    UntrustedCheckpoint,
    Witness,
    WitnessState,
    add_signatures,
    format_add_checkpoint,
    init_witness,
    load_signer,
    origin_hash,
    parse_add_checkpoint,
    read_log_keys,
)
from rempart.transparency.witness.protocol import parse_size_body, read_cosignature
from tests.witness.witness_helpers import MemoryLog

ORIGIN = "example.org/log"


@pytest.fixture
def log() -> MemoryLog:
    log = MemoryLog.new(ORIGIN)
    log.append(*(f"entry {i}".encode() for i in range(5)))
    return log


@pytest.fixture
def witness(tmp_path, log) -> Witness:
    init_witness(tmp_path / "w", "witness.example/w1")
    return Witness.open(tmp_path / "w", [log.vkey])


def _cosigns(witness: Witness, log: MemoryLog, body: bytes, size: int) -> None:
    line = witness.add_checkpoint(body)
    assert line.startswith("— witness.example/w1 ".encode()) and line.endswith(b"\n")
    sig = read_cosignature(line, log.signed(size), witness.signer.verifier())
    assert int.from_bytes(sig.signature[:8], "big") > 0  # a cosignature/v1 always carries its time
    note = open_note(add_signatures(log.signed(size), [sig]), [log.signer.verifier(), witness.signer.verifier()])
    assert {s.name for s in note.sigs} == {ORIGIN, "witness.example/w1"}


def test_the_request_is_written_and_read_byte_for_byte(log):
    proof = log.proof(3)
    body = format_add_checkpoint(3, proof, log.signed())
    lines = body.split(b"\n")
    assert lines[0] == b"old 3"
    assert lines[1:1 + len(proof)] == [base64.b64encode(h) for h in proof]
    assert lines[1 + len(proof)] == b""
    assert body.endswith(log.signed())
    req = parse_add_checkpoint(body)
    assert (req.old_size, list(req.proof), req.signed) == (3, proof, log.signed())


@pytest.mark.parametrize("body", [
    b"old 3\n",                                  # no empty line, no checkpoint
    b"old 03\n\nx\n",                            # leading zero
    b"old -1\n\nx\n",
    b"old  3\n\nx\n",
    b"new 3\n\nx\n",
    b"old 3\nnot base64!\n\nx\n",
    b"old 3\n" + base64.b64encode(b"\x00" * 31) + b"\n\nx\n",   # not a 32-byte hash
    b"old 3\n" + (base64.b64encode(b"\x00" * 32) + b"\n") * 64 + b"\nx\n",  # 64 proof lines
    "old 3\n\u00e9\n\nx\n".encode(),
])
def test_malformed_requests_are_400(body):
    with pytest.raises(MalformedRequest) as exc:
        parse_add_checkpoint(body)
    assert exc.value.status == 400


def test_a_new_log_is_cosigned_from_size_0_then_advances_only_with_a_proof(witness, log):
    _cosigns(witness, log, log.request(0), 5)
    assert witness.state.latest(ORIGIN).size == 5
    log.append(b"six", b"seven")
    _cosigns(witness, log, log.request(5), 7)
    assert witness.state.latest(ORIGIN).size == 7
    _cosigns(witness, log, log.request(7), 7)  # the same checkpoint again: cosigned, no change
    assert witness.state.latest(ORIGIN).size == 7


def test_a_stale_old_size_is_409_with_the_witness_size(witness, log):
    witness.add_checkpoint(log.request(0))
    log.append(b"six")
    for old in (0, 3, 6):
        with pytest.raises(SizeMismatch) as exc:
            witness.add_checkpoint(log.request(old))
        assert (exc.value.status, exc.value.size) == (409, 5)
    assert parse_size_body(b"5\n") == 5


def test_rollbacks_are_refused(witness, log):
    witness.add_checkpoint(log.request(0))
    with pytest.raises(MalformedRequest) as exc:  # old size beyond the checkpoint: 400
        witness.add_checkpoint(format_add_checkpoint(5, [], log.signed(3)))
    assert exc.value.status == 400
    with pytest.raises(SizeMismatch):  # from the older size: 409, the witness stays at 5
        witness.add_checkpoint(log.request(0, 3))
    assert witness.state.latest(ORIGIN).size == 5


def test_unknown_logs_are_404_and_bad_signatures_403(witness, log):
    other = MemoryLog.new("example.org/other")
    other.append(b"x")
    with pytest.raises(UnknownLog) as exc:
        witness.add_checkpoint(other.request(0))
    assert exc.value.status == 404
    impostor = MemoryLog(Ed25519Signer(ORIGIN, b"\x02" * 32), log.store, log.size)
    with pytest.raises(UntrustedCheckpoint) as exc:  # the origin's name, another key: no trusted signature
        witness.add_checkpoint(impostor.request(0))
    assert exc.value.status == 403
    text, [sig] = parse_note(log.signed())
    flipped = Signature(sig.name, sig.key_id, bytes([sig.signature[0] ^ 1]) + sig.signature[1:])
    with pytest.raises(UntrustedCheckpoint) as exc:  # a trusted key whose signature fails
        witness.add_checkpoint(format_add_checkpoint(0, [], (text + "\n" + flipped.line()).encode()))
    assert exc.value.status == 403
    assert witness.state.latest(ORIGIN) is None


def test_inconsistent_checkpoints_are_422_and_kept_as_evidence(witness, log):
    witness.add_checkpoint(log.request(0, 3))
    fork = MemoryLog(log.signer)  # the same origin and key, another history
    fork.append(b"entry 0", b"forged", b"entry 2", b"entry 3", b"entry 4")
    with pytest.raises(InconsistentCheckpoint) as exc:  # a proof from the fork's own tree
        witness.add_checkpoint(fork.request(3))
    assert exc.value.status == 422
    with pytest.raises(InconsistentCheckpoint):  # the same size with another root
        witness.add_checkpoint(format_add_checkpoint(3, [], fork.signed(3)))
    with pytest.raises(InconsistentCheckpoint):  # a proof sent with old size 0
        fresh = Witness(witness.signer, witness.logs, WitnessState(witness.state.path.parent / "other.db"))
        fresh.add_checkpoint(format_add_checkpoint(0, log.proof(3), log.signed()))
    kept = witness.state.evidence(ORIGIN)
    assert len(kept) == 2 and kept[0][0] == fork.request(3)
    assert witness.state.latest(ORIGIN).size == 3  # nothing advanced


def test_a_size_0_checkpoint_needs_the_empty_root(tmp_path):
    signer = Ed25519Signer(ORIGIN, b"\x01" * 32)
    init_witness(tmp_path / "w", "witness.example/w1")
    witness = Witness.open(tmp_path / "w", [signer.verifier().vkey()])
    assert witness.add_checkpoint(format_add_checkpoint(0, [], sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), [signer])))
    with pytest.raises(InconsistentCheckpoint):
        witness.add_checkpoint(format_add_checkpoint(0, [], sign_checkpoint(Checkpoint(ORIGIN, 0, b"\x07" * 32), [signer])))


def test_state_survives_a_restart_and_the_monitoring_read(tmp_path, witness, log):
    witness.add_checkpoint(log.request(0))
    again = Witness.open(tmp_path / "w", [log.vkey])
    assert again.state.latest(ORIGIN).size == 5
    with pytest.raises(SizeMismatch):
        again.add_checkpoint(log.request(0))
    note = again.checkpoint(origin_hash(ORIGIN))
    opened = open_note(note, [log.signer.verifier(), again.signer.verifier()])
    assert {s.name for s in opened.sigs} == {ORIGIN, "witness.example/w1"}


def test_the_witness_directory(tmp_path, log):
    signer = init_witness(tmp_path / "w", "witness.example/w1")
    assert (tmp_path / "w" / "witness.skey").stat().st_mode & 0o077 == 0
    assert CosignatureVerifier.from_vkey((tmp_path / "w" / "witness.vkey").read_text().strip()).key_id == signer.key_id
    assert load_signer(tmp_path / "w").skey() == signer.skey()
    with pytest.raises(Exception, match="already holds"):
        init_witness(tmp_path / "w", "witness.example/w1")
    (tmp_path / "w" / "witness.skey").chmod(0o644)
    with pytest.raises(Exception, match="readable by others"):
        load_signer(tmp_path / "w")
    assert set(read_log_keys([log.vkey])) == {ORIGIN}
    with pytest.raises(Exception, match="twice"):
        read_log_keys([log.vkey, log.vkey])


def test_the_size_is_checked_before_the_proof(witness, log):
    """The specification's order: a stale old size is 409 even when the proof is also wrong."""
    witness.add_checkpoint(log.request(0, 3))
    with pytest.raises(SizeMismatch):
        witness.add_checkpoint(format_add_checkpoint(0, log.proof(3), log.signed()))
    with pytest.raises(SizeMismatch):
        witness.add_checkpoint(format_add_checkpoint(2, [b"\x00" * 32], log.signed()))
