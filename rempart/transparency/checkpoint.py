"""C2SP checkpoints (c2sp.org/tlog-checkpoint): the signed head of a transparency log.

Checkpoint body (the text of a signed note), byte for byte, each line ending in U+000A::

    <origin>                 non-empty, no control characters
    <tree size>              ASCII decimal, no leading zero unless the size is 0, < 2**63
    <root hash>              canonical base64 of the 32-byte RFC 6962 root
    <extension line>...      zero or more, each non-empty (opaque; not recommended)

Example (tessera's test log, size 15)::

    example.com/log/testdata
    15
    rKbDipCvhuX1GZ7g5BBe8sA6BbJ7ja/1nk427v383cs=

The signed checkpoint is that body as a signed note (see ``note``); the log's own key name
should equal the origin, and ``open_checkpoint`` requires it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rempart.errors import InvalidInput, shown
from rempart.transparency._text import b64decode, b64encode, parse_decimal
from rempart.transparency.errors import VerificationError
from rempart.transparency.merkle import HASH_SIZE
from rempart.transparency.note import Note, Signer, Verifier, open_note, sign_note

MAX_EXTENSION_LINES = 16
MAX_CHECKPOINT_BYTES = 8 * 1024


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size, root hash and optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Format and parse must be inverses, so a value that cannot be written is refused.
        if not self.origin or "\n" in self.origin:
            raise InvalidInput("checkpoint origin must be one non-empty line")
        if not 0 <= self.size < 1 << 63:
            raise InvalidInput(f"checkpoint size {self.size} out of range")
        if len(self.root) != HASH_SIZE:
            raise InvalidInput("checkpoint root must be a 32-byte hash")
        for line in self.extensions:
            if not line or "\n" in line:
                raise InvalidInput("checkpoint extension lines must be single non-empty lines")


def format_checkpoint(cp: Checkpoint) -> str:
    """Return the checkpoint body text, final newline included."""
    lines = [cp.origin, str(cp.size), b64encode(cp.root), *cp.extensions]
    return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint body; reject anything that ``format_checkpoint`` would not write."""
    if len(text.encode()) > MAX_CHECKPOINT_BYTES:
        raise InvalidInput(f"checkpoint exceeds {MAX_CHECKPOINT_BYTES} bytes")
    if not text.endswith("\n"):
        raise InvalidInput("checkpoint must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise InvalidInput("checkpoint needs origin, size and root lines")
    if len(lines) > 3 + MAX_EXTENSION_LINES:
        raise InvalidInput(f"checkpoint has more than {MAX_EXTENSION_LINES} extension lines")
    if any(not line for line in lines):
        raise InvalidInput("checkpoint has an empty line")
    if any(c < " " for c in text if c != "\n"):
        raise InvalidInput("checkpoint contains a control character")
    size = parse_decimal(lines[1], "checkpoint size")
    root = b64decode(lines[2], "checkpoint root")
    if len(root) != HASH_SIZE:
        raise InvalidInput("checkpoint root is not a 32-byte hash")
    return Checkpoint(lines[0], size, root, tuple(lines[3:]))


def sign_checkpoint(cp: Checkpoint, signers: Sequence[Signer]) -> bytes:
    """Return ``cp`` as a signed note signed by every signer."""
    return sign_note(format_checkpoint(cp), signers)


def open_checkpoint(msg: bytes, origin: str, log_verifiers: Iterable[Verifier]) -> tuple[Checkpoint, Note]:
    """Verify a signed checkpoint of the log ``origin``; return it with its opened note.

    At least one signature must come from a log verifier whose key name is ``origin``.
    Other known verifiers (witnesses, say) may be passed too; their signatures are
    checked and reported in the note, and trusted by the caller's own policy.
    """
    verifiers = list(log_verifiers)
    note = open_note(msg, verifiers)
    cp = parse_checkpoint(note.text)
    if cp.origin != origin:
        raise VerificationError(f"checkpoint origin {shown(cp.origin)} is not {shown(origin)}")
    if not any(s.name == origin for s in note.sigs):
        raise VerificationError(f"checkpoint is not signed by the log key {shown(origin)}")
    return cp, note
