"""C2SP transparency log proofs (c2sp.org/tlog-proof): one entry's offline-verifiable proof.

Format, byte for byte, lines separated by U+000A::

    c2sp.org/tlog-proof@v1
    extra <canonical base64 of opaque bytes>      (optional; absent when there is no extra)
    index <leaf index, ASCII decimal, no leading zero>
    <inclusion proof hash, canonical base64>     (zero or more, leaf's sibling first)
    <empty line>
    <the signed checkpoint, verbatim: body, empty line, signature lines>

Example (abridged from C2SP)::

    c2sp.org/tlog-proof@v1
    index 1
    bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=

    example.com/log
    2
    +sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=

    — example.com/log AAAAAB...=

The extra data is not authenticated; callers must not trust it. Verification: the checkpoint
is signed by the log key for the expected origin, optional witness policy holds, and the
inclusion proof binds the caller's leaf hash to the checkpoint's root.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rempart.errors import InvalidInput
from rempart.transparency._text import b64decode, b64encode, parse_decimal
from rempart.transparency.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from rempart.transparency.cosignature import WitnessPolicy
from rempart.transparency.merkle import HASH_SIZE, MAX_PROOF_HASHES, verify_inclusion
from rempart.transparency.note import MAX_NOTE_BYTES, Verifier, parse_note

HEADER = "c2sp.org/tlog-proof@v1"
MAX_EXTRA_BYTES = 4096
MAX_PROOF_BYTES = MAX_NOTE_BYTES + 16 * 1024


@dataclass(frozen=True)
class TlogProof:
    """An entry index, its inclusion proof, the signed checkpoint and optional extra data."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: bytes
    extra: bytes | None = None


def format_tlog_proof(p: TlogProof) -> bytes:
    """Return the proof's text encoding."""
    if any(len(h) != HASH_SIZE for h in p.hashes):
        raise InvalidInput("proof hashes must be 32 bytes")
    if p.extra is not None and not 0 < len(p.extra) <= MAX_EXTRA_BYTES:
        raise InvalidInput(f"extra data must be 1 to {MAX_EXTRA_BYTES} bytes")
    lines = [HEADER]
    if p.extra is not None:
        lines.append("extra " + b64encode(p.extra))
    lines.append(f"index {p.index}")
    lines.extend(b64encode(h) for h in p.hashes)
    return ("\n".join(lines) + "\n\n").encode() + p.checkpoint


def parse_tlog_proof(data: bytes) -> TlogProof:
    """Parse a proof and the syntax of its checkpoint; reject anything ``format_tlog_proof``
    would not write. Verifies no signature or hash."""
    if len(data) > MAX_PROOF_BYTES:
        raise InvalidInput(f"tlog proof exceeds {MAX_PROOF_BYTES} bytes")
    head, sep, checkpoint = data.partition(b"\n\n")
    if not sep:
        raise InvalidInput("tlog proof has no empty line before its checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError as exc:
        raise InvalidInput("tlog proof header is not ASCII") from exc
    if lines[0] != HEADER:
        raise InvalidInput(f"tlog proof must start with {HEADER}")
    pos, extra = 1, None
    if pos < len(lines) and lines[pos].startswith("extra "):
        extra = b64decode(lines[pos][len("extra ") :], "tlog proof extra")
        if not 0 < len(extra) <= MAX_EXTRA_BYTES:
            raise InvalidInput(f"tlog proof extra must be 1 to {MAX_EXTRA_BYTES} bytes")
        pos += 1
    if pos >= len(lines) or not lines[pos].startswith("index "):
        raise InvalidInput("tlog proof has no index line")
    index = parse_decimal(lines[pos][len("index ") :], "tlog proof index")
    hashes = tuple(_parse_hash(line) for line in lines[pos + 1 :])
    if len(hashes) > MAX_PROOF_HASHES:
        raise InvalidInput(f"tlog proof has more than {MAX_PROOF_HASHES} hashes")
    # The checkpoint must itself be well formed; signatures are checked by verify_tlog_proof.
    parse_checkpoint(parse_note(checkpoint)[0])
    return TlogProof(index, hashes, checkpoint, extra)


def _parse_hash(line: str) -> bytes:
    h = b64decode(line, "tlog proof hash")
    if len(h) != HASH_SIZE:
        raise InvalidInput("tlog proof hash is not 32 bytes")
    return h


def verify_tlog_proof(
    data: bytes,
    leaf: bytes,
    origin: str,
    log_verifiers: Iterable[Verifier],
    policy: WitnessPolicy | None = None,
) -> tuple[TlogProof, Checkpoint]:
    """Verify a tlog proof for the caller's ``leaf`` hash; return the proof and its checkpoint.

    Checks, in order: syntax; the checkpoint's origin and log signature (and, with ``policy``,
    the witness cosignatures); the inclusion of ``leaf`` at the proof's index. Raises
    ``InvalidInput`` for malformed input and ``VerificationError`` for a failed check.
    """
    p = parse_tlog_proof(data)
    known: Sequence[Verifier] = list(log_verifiers) + (list(policy.witnesses) if policy else [])
    cp, note = open_checkpoint(p.checkpoint, origin, known)
    if policy is not None:
        policy.check(note)
    verify_inclusion(leaf, p.index, cp.size, p.hashes, cp.root)
    return p, cp
