"""C2SP witness cosignatures, ``cosignature/v1`` (c2sp.org/tlog-cosignature), and k-of-n policy.

A cosignature is an ordinary signed-note signature line on a checkpoint, from a witness key
of signature type 0x04::

    key ID    = SHA-256(<witness name> || 0x0A || 0x04 || 32-byte Ed25519 public key)[:4]
    signature = key ID (4 bytes) || timestamp (uint64, big endian, < 2**63) || Ed25519 sig (64)

so the base64 in the signature line encodes 76 bytes. The Ed25519 signature covers, byte for
byte::

    "cosignature/v1" 0x0A "time " <timestamp, ASCII decimal, no leading zero> 0x0A
    <the whole checkpoint body, final newline included, no signature lines>

Example (C2SP's) for timestamp 1679315147::

    cosignature/v1
    time 1679315147
    example.com/behind-the-sofa
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

Witness verifier keys are vkeys with type byte 0x04: ``name+hexid+base64(0x04 || key)``;
signer keys ``PRIVATE+KEY+name+hexid+base64(0x04 || seed)``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rempart.errors import InvalidInput
from rempart.transparency._text import b64encode
from rempart.transparency.errors import VerificationError
from rempart.transparency.note import Note, Signature, format_vkey, is_valid_name, key_id, parse_vkey

ALG_COSIGNATURE_V1 = 0x04
MAX_TIMESTAMP = (1 << 63) - 1
_PRIVATE_PREFIX = "PRIVATE+KEY+"


def cosigned_message(body: bytes, timestamp: int) -> bytes:
    """Return the bytes a ``cosignature/v1`` signs for checkpoint ``body`` at ``timestamp``."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise InvalidInput(f"cosignature timestamp {timestamp} out of range")
    return b"cosignature/v1\ntime %d\n" % timestamp + body


def cosignature_timestamp(sig: Signature) -> int:
    """Return the timestamp carried by a cosignature line's signature bytes."""
    if len(sig.signature) != 72:
        raise InvalidInput("a cosignature/v1 signature is 8 timestamp bytes and 64 signature bytes")
    return int.from_bytes(sig.signature[:8], "big")


class CosignatureVerifier:
    """A note ``Verifier`` for one witness's ``cosignature/v1`` signatures."""

    def __init__(self, name: str, public_key: bytes) -> None:
        if not is_valid_name(name) or len(public_key) != 32:
            raise InvalidInput("a witness key needs a valid name and a 32-byte Ed25519 key")
        self.name = name
        self.public_key = bytes(public_key)
        self.key_id = key_id(name, ALG_COSIGNATURE_V1, public_key)
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @classmethod
    def from_vkey(cls, vkey: str) -> CosignatureVerifier:
        """Build from a type-0x04 verifier key; its key ID must match."""
        name, kid, pub = parse_vkey(vkey, ALG_COSIGNATURE_V1, 32)
        verifier = cls(name, pub)
        if verifier.key_id != kid:
            raise InvalidInput("witness key: key ID does not match the name and key")
        return verifier

    def vkey(self) -> str:
        """Return this witness's verifier key string."""
        return format_vkey(self.name, ALG_COSIGNATURE_V1, self.public_key)

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Return whether ``signature`` (timestamp || Ed25519) cosigns checkpoint ``text``."""
        if len(signature) != 72:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        try:
            self._key.verify(signature[8:], cosigned_message(text, timestamp))
        except _CryptoInvalidSignature:
            return False
        return True


class CosignatureSigner:
    """A note ``Signer`` that cosigns checkpoints as a witness at a fixed or current time."""

    def __init__(self, name: str, seed: bytes, timestamp: int | None = None) -> None:
        if not is_valid_name(name) or len(seed) != 32:
            raise InvalidInput("a witness key needs a valid name and a 32-byte seed")
        self.name = name
        self._seed = bytes(seed)
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._key.public_key().public_bytes_raw()
        self.key_id = key_id(name, ALG_COSIGNATURE_V1, self.public_key)
        #: None means "now" at each signature; a fixed value makes signatures reproducible
        self.timestamp = timestamp

    @classmethod
    def generate(cls, name: str) -> CosignatureSigner:
        """A new random witness key."""
        return cls(name, os.urandom(32))

    @classmethod
    def from_skey(cls, skey: str, timestamp: int | None = None) -> CosignatureSigner:
        """Build from ``PRIVATE+KEY+name+hexid+base64(0x04 || seed)``; the key ID must match."""
        if not skey.startswith(_PRIVATE_PREFIX):
            raise InvalidInput("witness signer key: must start with PRIVATE+KEY+")
        name, kid, seed = parse_vkey(skey[len(_PRIVATE_PREFIX) :], ALG_COSIGNATURE_V1, 32)
        signer = cls(name, seed, timestamp)
        if signer.key_id != kid:
            raise InvalidInput("witness signer key: key ID does not match the name and key")
        return signer

    def skey(self) -> str:
        """Return the secret signer key string."""
        blob = b64encode(bytes([ALG_COSIGNATURE_V1]) + self._seed)
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id:08x}+{blob}"

    def verifier(self) -> CosignatureVerifier:
        """Return the matching verifier."""
        return CosignatureVerifier(self.name, self.public_key)

    def sign(self, text: bytes) -> bytes:
        """Return timestamp (8 bytes) || Ed25519 signature over the cosigned message."""
        timestamp = int(time.time()) if self.timestamp is None else self.timestamp
        sig = self._key.sign(cosigned_message(text, timestamp))
        return timestamp.to_bytes(8, "big") + sig


@dataclass(frozen=True)
class WitnessPolicy:
    """Trust a checkpoint only when at least ``threshold`` of ``witnesses`` cosigned it."""

    witnesses: tuple[CosignatureVerifier, ...]
    threshold: int

    def __post_init__(self) -> None:
        keys = {(w.name, w.key_id) for w in self.witnesses}
        if len(keys) != len(self.witnesses):
            raise InvalidInput("a witness is listed twice in the policy")
        if not 0 <= self.threshold <= len(self.witnesses):
            raise InvalidInput(f"threshold {self.threshold} is not between 0 and {len(self.witnesses)}")

    def check(self, note: Note) -> list[str]:
        """Raise VerificationError unless ``note`` (opened with these witnesses among its known
        verifiers) carries verified cosignatures from at least ``threshold`` distinct witnesses.
        Returns the names of the witnesses that cosigned.
        """
        known = {(w.name, w.key_id) for w in self.witnesses}
        signed = sorted({(s.name, s.key_id) for s in note.sigs if (s.name, s.key_id) in known})
        if len(signed) < self.threshold:
            raise VerificationError(f"{len(signed)} witness cosignature(s), policy needs {self.threshold}")
        return [name for name, _ in signed]
