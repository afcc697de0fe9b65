"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys.

Signed note, byte for byte: the text (UTF-8, at least one byte, ending in U+000A), one
empty line (U+000A), then one or more signature lines, each::

    U+2014 (em dash, bytes E2 80 94) U+0020 <key name> U+0020 base64(key ID (4 bytes, big
    endian) || signature bytes) U+000A

The text is separated from the signatures by the *last* empty line. The whole note must be
valid UTF-8 with no ASCII control characters other than U+000A. Key names are non-empty and
contain no Unicode space and no ``+``. Example (C2SP's; verifier key below)::

    This is an example message.
    <empty line>
    — example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=

Key ID, for Ed25519 (signature type 0x01)::

    key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4], as a big-endian uint32

Verifier key (vkey), e.g. ``example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k``::

    <key name> "+" <key ID as 8 lowercase hex digits> "+" base64(0x01 || 32-byte public key)

Signer key (secret; Go's sumdb/note encoding)::

    "PRIVATE+KEY+" <key name> "+" <key ID as 8 hex digits> "+" base64(0x01 || 32-byte seed)

Strictness beyond the specification, so each note has one spelling: base64 must be canonical,
a (name, key ID) pair may sign at most once, notes are capped at ``MAX_NOTE_BYTES`` and
``MAX_SIGNATURES`` signature lines (the specification asks for at least 16).
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rempart.errors import InvalidInput, shown
from rempart.transparency._text import b64decode, b64encode
from rempart.transparency.errors import InvalidSignature, UnverifiedNote

ALG_ED25519 = 0x01
MAX_NOTE_BYTES = 64 * 1024
MAX_SIGNATURES = 32
MAX_NAME_BYTES = 256
_SIG_PREFIX = "\u2014 "
_PRIVATE_PREFIX = "PRIVATE+KEY+"


class Verifier(Protocol):
    """One known public key: its name, key ID, and a check of a signature over a note text."""

    name: str
    key_id: int

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Return whether ``signature`` (without the 4-byte key ID) signs ``text``."""
        ...


class Signer(Protocol):
    """One private key: its name, key ID, and a signer of note texts."""

    name: str
    key_id: int

    def sign(self, text: bytes) -> bytes:
        """Return the signature bytes (without the key ID) over ``text``."""
        ...


@dataclass(frozen=True)
class Signature:
    """One signature line: key name, key ID and the signature bytes after the key ID."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        """Return the signature line, newline included."""
        blob = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_SIG_PREFIX}{self.name} {b64encode(blob)}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text, the signatures verified by known keys, and the others."""

    text: str
    sigs: tuple[Signature, ...]
    unverified: tuple[Signature, ...] = field(default=())


def is_valid_name(name: str) -> bool:
    """Whether ``name`` can be a key name: non-empty, no Unicode space, no ``+``, no control."""
    if not name or len(name.encode()) > MAX_NAME_BYTES or "+" in name:
        return False
    return not any(c.isspace() or unicodedata.category(c) in ("Zs", "Cc") for c in name)


def key_id(name: str, alg: int, public_key: bytes) -> int:
    """Return the key ID SHA-256(name || 0x0A || alg || public key)[:4] as a uint32."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def format_vkey(name: str, alg: int, public_key: bytes) -> str:
    """Return the verifier key string ``name+hexid+base64(alg || public key)``."""
    if not is_valid_name(name):
        raise InvalidInput(f"invalid key name {shown(name)}")
    return f"{name}+{key_id(name, alg, public_key):08x}+{b64encode(bytes([alg]) + public_key)}"


def parse_vkey(vkey: str, alg: int, key_size: int) -> tuple[str, int, bytes]:
    """Parse a verifier key of algorithm ``alg``; return (name, key ID, public key).

    Rejects a wrong algorithm byte, a wrong key length, a non-canonical ID or base64, and a
    key ID that does not match the name and key.
    """
    return _parse_key(vkey, alg, key_size, "verifier key")


def _parse_key(text: str, alg: int, key_size: int, what: str) -> tuple[str, int, bytes]:
    # Base64 may itself contain "+": split off the name and the ID only.
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise InvalidInput(f"{what}: want name+hash+key")
    name, hex_id, blob = parts
    if not is_valid_name(name):
        raise InvalidInput(f"{what}: invalid key name {shown(name)}")
    if len(hex_id) != 8 or hex_id != hex_id.lower() or any(c not in "0123456789abcdef" for c in hex_id):
        raise InvalidInput(f"{what}: key ID must be 8 lowercase hex digits")
    raw = b64decode(blob, what)
    if len(raw) != 1 + key_size or raw[0] != alg:
        raise InvalidInput(f"{what}: want algorithm {alg:#04x} and a {key_size}-byte key")
    return name, int(hex_id, 16), raw[1:]


class Ed25519Verifier:
    """A ``Verifier`` for Ed25519 note signatures (type 0x01)."""

    def __init__(self, name: str, public_key: bytes) -> None:
        if not is_valid_name(name):
            raise InvalidInput(f"invalid key name {shown(name)}")
        if len(public_key) != 32:
            raise InvalidInput("an Ed25519 public key is 32 bytes")
        self.name = name
        self.public_key = bytes(public_key)
        self.key_id = key_id(name, ALG_ED25519, public_key)
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> Ed25519Verifier:
        """Build from a verifier key string; the key ID must match name and key."""
        name, kid, pub = parse_vkey(vkey, ALG_ED25519, 32)
        verifier = cls(name, pub)
        if verifier.key_id != kid:
            raise InvalidInput("verifier key: key ID does not match the name and key")
        return verifier

    def vkey(self) -> str:
        """Return this key's verifier key string."""
        return format_vkey(self.name, ALG_ED25519, self.public_key)

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Return whether ``signature`` is an Ed25519 signature of ``text`` by this key."""
        if len(signature) != 64:
            return False
        try:
            self._key.verify(signature, text)
        except _CryptoInvalidSignature:
            return False
        return True


class Ed25519Signer:
    """A ``Signer`` for Ed25519 note signatures (type 0x01)."""

    def __init__(self, name: str, seed: bytes) -> None:
        if not is_valid_name(name):
            raise InvalidInput(f"invalid key name {shown(name)}")
        if len(seed) != 32:
            raise InvalidInput("an Ed25519 private key seed is 32 bytes")
        self.name = name
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self._seed = bytes(seed)
        self.public_key = self._key.public_key().public_bytes_raw()
        self.key_id = key_id(name, ALG_ED25519, self.public_key)

    @classmethod
    def from_skey(cls, skey: str) -> Ed25519Signer:
        """Build from a ``PRIVATE+KEY+name+hash+base64`` string; the key ID must match."""
        if not skey.startswith(_PRIVATE_PREFIX):
            raise InvalidInput("signer key: must start with PRIVATE+KEY+")
        name, kid, seed = _parse_key(skey[len(_PRIVATE_PREFIX) :], ALG_ED25519, 32, "signer key")
        signer = cls(name, seed)
        if signer.key_id != kid:
            raise InvalidInput("signer key: key ID does not match the name and key")
        return signer

    def skey(self) -> str:
        """Return the secret signer key string."""
        blob = b64encode(bytes([ALG_ED25519]) + self._seed)
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id:08x}+{blob}"

    def verifier(self) -> Ed25519Verifier:
        """Return the matching verifier."""
        return Ed25519Verifier(self.name, self.public_key)

    def sign(self, text: bytes) -> bytes:
        """Return the Ed25519 signature of ``text`` (64 bytes)."""
        return self._key.sign(text)


def generate_key(name: str) -> tuple[str, str]:
    """Generate a new Ed25519 key named ``name``; return (signer key, verifier key)."""
    signer = Ed25519Signer(name, os.urandom(32))
    return signer.skey(), signer.verifier().vkey()


def sign_note(text: str, signers: Sequence[Signer], keep: Iterable[Signature] = ()) -> bytes:
    """Return the signed note: ``text``, an empty line, the ``keep`` signatures, then new ones.

    A kept signature by a key that signs again is dropped. ``text`` must end in a newline.
    """
    _check_text(text)
    if not signers and not keep:
        raise InvalidInput("a note needs at least one signature")
    raw = text.encode()
    fresh = []
    for signer in signers:
        if not is_valid_name(signer.name):
            raise InvalidInput(f"invalid signer name {shown(signer.name)}")
        fresh.append(Signature(signer.name, signer.key_id, signer.sign(raw)))
    new_ids = {(s.name, s.key_id) for s in fresh}
    sigs = [s for s in keep if (s.name, s.key_id) not in new_ids] + fresh
    if len(sigs) > MAX_SIGNATURES:
        raise InvalidInput(f"more than {MAX_SIGNATURES} signatures")
    out = (text + "\n" + "".join(s.line() for s in sigs)).encode()
    if len(out) > MAX_NOTE_BYTES:
        raise InvalidInput(f"signed note exceeds {MAX_NOTE_BYTES} bytes")
    return out


def parse_note(msg: bytes) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and signature lines, checking syntax only."""
    if len(msg) > MAX_NOTE_BYTES:
        raise InvalidInput(f"note exceeds {MAX_NOTE_BYTES} bytes")
    try:
        whole = msg.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("note is not valid UTF-8") from exc
    if any(c < " " and c != "\n" for c in whole):
        raise InvalidInput("note contains a control character")
    split = whole.rfind("\n\n")
    if split < 0:
        raise InvalidInput("note has no empty line before its signatures")
    text, block = whole[: split + 1], whole[split + 2 :]
    if not block or not block.endswith("\n"):
        raise InvalidInput("note must end with a signature line and a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise InvalidInput(f"note has more than {MAX_SIGNATURES} signatures")
    sigs = [_parse_signature_line(line) for line in lines]
    seen: set[tuple[str, int]] = set()
    for s in sigs:
        if (s.name, s.key_id) in seen:
            raise InvalidInput(f"note is signed twice by {s.name}+{s.key_id:08x}")
        seen.add((s.name, s.key_id))
    return text, sigs


def parse_signature_line(line: str) -> Signature:
    """Parse one signature line (``— <name> <base64>``, its final newline optional)."""
    return _parse_signature_line(line[:-1] if line.endswith("\n") else line)


def _parse_signature_line(line: str) -> Signature:
    if not line.startswith(_SIG_PREFIX):
        raise InvalidInput("signature line must start with an em dash and a space")
    name, sep, b64 = line[len(_SIG_PREFIX) :].partition(" ")
    if not sep or not is_valid_name(name):
        raise InvalidInput(f"signature line has an invalid key name {shown(name[:64])}")
    blob = b64decode(b64, "signature")
    if len(blob) < 5:
        raise InvalidInput("signature is shorter than a key ID and one byte")
    return Signature(name, int.from_bytes(blob[:4], "big"), blob[4:])


def open_note(msg: bytes, known: Iterable[Verifier]) -> Note:
    """Parse ``msg`` and verify its signatures against the ``known`` verifiers.

    A signature whose (name, key ID) matches a known verifier must verify, or the whole note
    is rejected (``InvalidSignature``). Signatures by unknown keys are kept in
    ``Note.unverified`` and trusted for nothing. At least one known signature is required
    (``UnverifiedNote`` otherwise).
    """
    text, sigs = parse_note(msg)
    by_id = {(v.name, v.key_id): v for v in known}
    raw = text.encode()
    verified, unverified = [], []
    for s in sigs:
        v = by_id.get((s.name, s.key_id))
        if v is None:
            unverified.append(s)
        elif v.verify(raw, s.signature):
            verified.append(s)
        else:
            raise InvalidSignature(s.name, s.key_id)
    if not verified:
        raise UnverifiedNote("note has no valid signature from a known key")
    return Note(text, tuple(verified), tuple(unverified))


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise InvalidInput("note text must end with a newline")
    if any(c < " " and c != "\n" for c in text):
        raise InvalidInput("note text contains a control character")
