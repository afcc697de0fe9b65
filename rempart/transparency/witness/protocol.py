"""C2SP tlog-witness (c2sp.org/tlog-witness): the ``add-checkpoint`` exchange and the witness's rules.

Request, ``POST <prefix>/add-checkpoint``, byte for byte (every line ends in U+000A)::

    old <old size, ASCII decimal, no leading zero unless 0>
    <consistency proof hash, base64>          zero to 63 lines, RFC 6962 old size -> new size
    <empty line>
    <signed checkpoint>                        a signed note (``checkpoint``), any signatures

Example::

    old 3
    jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
    5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=

    example.org/log
    5
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

    — example.org/log Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=

Success, ``200``: one or more note signature lines (``— <witness name> base64(...)\\n``), the
witness's ``cosignature/v1`` over the checkpoint body. Refusals, in the order checked:

    400  malformed request; or the old size is larger than the checkpoint's size
    404  the checkpoint's origin is not a log this witness is configured for
    403  no valid signature by a trusted key of that origin, or one that fails to verify
    409  the old size is not the size of the latest checkpoint the witness cosigned for the
         origin (0 if none); the body is that size in decimal and a newline, with
         ``Content-Type: text/x.tlog.size``
    422  a size-0 checkpoint without the empty tree's root; a proof sent with old size 0; a
         consistency proof that does not verify; or the same size with another root hash

Checking the old size and recording the new checkpoint are one atomic step (see ``state``):
two requests racing from one size cannot both advance, and a smaller one cannot roll back a
larger one. The monitoring read, ``GET <prefix>/<hex SHA-256 of the origin>/checkpoint``,
returns the latest checkpoint the witness cosigned, with the log's and the witness's signatures.

This module is pure: it parses, decides and signs; storage (``state``) and HTTP (``server``,
``client``) are elsewhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rempart.errors import InvalidInput, RempartError, shown
from rempart.transparency._text import b64decode, b64encode, parse_decimal
from rempart.transparency.checkpoint import Checkpoint, parse_checkpoint
from rempart.transparency.cosignature import CosignatureSigner, CosignatureVerifier
from rempart.transparency.errors import InvalidSignature, UnverifiedNote, VerificationError
from rempart.transparency.merkle import EMPTY_ROOT, HASH_SIZE, verify_consistency
from rempart.transparency.note import MAX_NOTE_BYTES, Ed25519Verifier, Signature, open_note, parse_note

#: the media type of a 409's body (the witness's size)
SIZE_CONTENT_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63
#: the largest request a witness reads: a proof of 63 lines and a note of the largest size
MAX_REQUEST_BYTES = 64 + MAX_PROOF_LINES * 46 + MAX_NOTE_BYTES


class WitnessRefusal(RempartError):
    """The witness will not cosign; ``status`` is the HTTP status the specification names."""

    safe_to_show = True
    type = "witness-refused"


class MalformedRequest(WitnessRefusal):
    status = 400
    type = "malformed-request"


class UnknownLog(WitnessRefusal):
    status = 404
    type = "unknown-log"


class UntrustedCheckpoint(WitnessRefusal):
    status = 403
    type = "untrusted-checkpoint"


class SizeMismatch(WitnessRefusal):
    """The old size is not the witness's; ``size`` is the latest size it cosigned (409)."""

    status = 409
    type = "size-mismatch"

    def __init__(self, size: int, old_size: int | None = None) -> None:
        sent = "" if old_size is None else f"old size {old_size} is not "
        super().__init__(f"{sent}the latest cosigned size is {size}")
        self.size = size


class InconsistentCheckpoint(WitnessRefusal):
    """Signed by the log but not consistent with what the witness cosigned: fork evidence (422)."""

    status = 422
    type = "inconsistent-checkpoint"


@dataclass(frozen=True)
class AddCheckpoint:
    """An ``add-checkpoint`` request: the old size, the consistency proof, the signed checkpoint."""

    old_size: int
    proof: tuple[bytes, ...]
    signed: bytes


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], signed: bytes) -> bytes:
    """The request body for ``old_size``, ``proof`` and the signed checkpoint ``signed``."""
    if len(proof) > MAX_PROOF_LINES:
        raise InvalidInput(f"a consistency proof has at most {MAX_PROOF_LINES} hashes")
    head = f"old {old_size}\n" + "".join(b64encode(h) + "\n" for h in proof) + "\n"
    return head.encode() + signed


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse a request body; ``MalformedRequest`` (400) for anything but the canonical form."""
    if len(body) > MAX_REQUEST_BYTES:
        raise MalformedRequest(f"request exceeds {MAX_REQUEST_BYTES} bytes")
    head, sep, signed = body.partition(b"\n\n")
    if not sep:
        raise MalformedRequest("request has no empty line before the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
        if not lines[0].startswith("old "):
            raise InvalidInput("the first line must be 'old <size>'")
        old_size = parse_decimal(lines[0][4:], "old size")
        if len(lines) - 1 > MAX_PROOF_LINES:
            raise InvalidInput(f"more than {MAX_PROOF_LINES} consistency proof lines")
        proof = tuple(b64decode(line, "consistency proof") for line in lines[1:])
    except (InvalidInput, UnicodeDecodeError) as exc:
        raise MalformedRequest(f"malformed add-checkpoint request: {exc}") from None
    if any(len(h) != HASH_SIZE for h in proof):
        raise MalformedRequest("a consistency proof line is not a 32-byte hash")
    return AddCheckpoint(old_size, proof, signed)


def origin_hash(origin: str) -> str:
    """The monitoring path element of a log: lowercase hex SHA-256 of its origin."""
    return hashlib.sha256(origin.encode()).hexdigest()


@dataclass(frozen=True)
class Submission:
    """A request whose checkpoint is signed by a trusted key of a known log (stateless checks passed)."""

    request: AddCheckpoint
    checkpoint: Checkpoint
    #: the checkpoint body (the text the signatures cover)
    text: str
    #: the log's signatures that verified
    log_signatures: tuple[Signature, ...]


@dataclass(frozen=True)
class Cosigned:
    """What a witness keeps per log: the latest checkpoint it cosigned, as a signed note with the
    log's signatures and its own cosignature."""

    origin: str
    size: int
    root: bytes
    note: bytes


def check_submission(body: bytes, logs: Mapping[str, Sequence[Ed25519Verifier]]) -> Submission:
    """The checks before the witness's state is read, in the specification's order (400, 404,
    403, 400).

    ``logs`` maps each origin the witness follows to the log keys it trusts for it; signatures
    by other keys are ignored.
    """
    request = parse_add_checkpoint(body)
    try:
        text, _ = parse_note(request.signed)
        checkpoint = parse_checkpoint(text)
    except InvalidInput as exc:
        raise MalformedRequest(f"malformed checkpoint: {exc}") from None
    trusted = logs.get(checkpoint.origin)
    if not trusted:
        raise UnknownLog(f"unknown log {shown(checkpoint.origin)}")
    try:
        note = open_note(request.signed, trusted)
    except (InvalidSignature, UnverifiedNote) as exc:
        raise UntrustedCheckpoint(f"checkpoint not signed by the log: {exc}") from None
    if request.old_size > checkpoint.size:
        raise MalformedRequest(f"old size {request.old_size} is larger than the checkpoint's "
                               f"size {checkpoint.size}")
    return Submission(request, checkpoint, text, note.sigs)


def advance(sub: Submission, latest: Cosigned | None) -> None:
    """The checks against the latest cosigned checkpoint of the origin, in the specification's
    order (409, then 422). Returns when ``sub`` may be cosigned and become the latest."""
    have = 0 if latest is None else latest.size
    if sub.request.old_size != have:
        raise SizeMismatch(have, sub.request.old_size)
    if sub.checkpoint.size == 0 and sub.checkpoint.root != EMPTY_ROOT:
        raise InconsistentCheckpoint("a checkpoint of size 0 must have the empty tree's root")
    if have == 0:
        if sub.request.proof:
            raise InconsistentCheckpoint("the consistency proof from size 0 must be empty")
        return
    try:
        verify_consistency(have, sub.checkpoint.size, sub.request.proof, latest.root,
                           sub.checkpoint.root)
    except VerificationError as exc:
        raise InconsistentCheckpoint(f"not consistent with the cosigned checkpoint of size "
                                     f"{have}: {exc}") from None


def cosign(sub: Submission, signer: CosignatureSigner) -> tuple[Signature, Cosigned]:
    """The witness's cosignature of ``sub`` (timestamped now, never 0) and its new record."""
    signature = signer.sign(sub.text.encode())
    if int.from_bytes(signature[:8], "big") == 0:
        raise InvalidInput("a witness cosignature must carry a time after the epoch")
    cosignature = Signature(signer.name, signer.key_id, signature)
    lines = "".join(s.line() for s in (*sub.log_signatures, cosignature))
    note = (sub.text + "\n" + lines).encode()
    c = sub.checkpoint
    return cosignature, Cosigned(c.origin, c.size, c.root, note)


# --- the log's side ----------------------------------------------------------------------------


def parse_size_body(body: bytes) -> int:
    """The witness's size from a 409 body (``<decimal>\\n``)."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise InvalidInput("the witness's size is not ASCII") from None
    if not text.endswith("\n"):
        raise InvalidInput("the witness's size must end with a newline")
    return parse_decimal(text[:-1], "witness size")


def read_cosignature(body: bytes, signed: bytes, witness: CosignatureVerifier) -> Signature:
    """The cosignature of ``witness`` among the signature lines ``body``, checked against the
    checkpoint ``signed``; lines by other keys are ignored (the specification's rule)."""
    text, _ = parse_note(signed)
    try:
        note = open_note(text.encode() + b"\n" + body, [witness])
    except (InvalidInput, UnicodeDecodeError) as exc:
        raise VerificationError(f"the witness's answer is not a valid cosignature: {exc}") from None
    sig = note.sigs[0]
    if int.from_bytes(sig.signature[:8], "big") == 0:
        raise VerificationError("the witness's cosignature carries no time")
    return sig


def add_signatures(signed: bytes, extra: Iterable[Signature]) -> bytes:
    """``signed`` with the signature lines ``extra`` appended (already present ones skipped)."""
    text, sigs = parse_note(signed)
    have = {(s.name, s.key_id) for s in sigs}
    more = [s for s in extra if (s.name, s.key_id) not in have]
    return signed + "".join(s.line() for s in more).encode()
