"""Signal types: the kinds of fingerprint rempart stores, exchanges and matches.

Each type has a stable explicit ``name`` (it is written in databases, hash-list files and API
payloads, so it never changes), a ``validate`` that normalises a value or raises
``InvalidSignal``, and ``examples`` that feed the tests. Exact types match by equality;
``pdq`` matches by Hamming distance under a threshold.

Canonical value forms:
  sha256  64 lowercase hex digits
  md5     32 lowercase hex digits
  sha1    40 lowercase hex digits
  pdq     64 lowercase hex digits (256 bits, most significant bit first, as Meta's reference)
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from rempart.errors import InvalidSignal, shown

_HEX = frozenset(string.hexdigits)


@dataclass(frozen=True)
class SignalType:
    name: str
    hex_digits: int
    #: True when values match by Hamming distance rather than equality
    distance_based: bool
    description: str
    examples: tuple[str, ...] = ()

    def validate(self, value: str) -> str:
        """Return the canonical form of ``value`` or raise ``InvalidSignal``."""
        if not isinstance(value, str):
            raise InvalidSignal(f"{self.name}: value must be a string")
        v = value.strip().lower()
        if len(v) != self.hex_digits or not _HEX.issuperset(v):
            raise InvalidSignal(
                f"{self.name}: expected {self.hex_digits} hex digits, got {_describe(value)}"
            )
        return v


def _describe(value: str) -> str:
    return f"{len(value)} characters ({shown(value, 17)})"


SHA256 = SignalType(
    "sha256", 64, False, "SHA-256 of the original file bytes",
    ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",),
)
MD5 = SignalType(
    "md5", 32, False, "MD5 of the original file bytes (NCMEC and IWF lists use it)",
    ("d41d8cd98f00b204e9800998ecf8427e",),
)
SHA1 = SignalType(
    "sha1", 40, False, "SHA-1 of the original file bytes",
    ("da39a3ee5e6b4b0d3255bfef95601890afd80709",),
)
PDQ = SignalType(
    "pdq", 64, True, "Meta's PDQ perceptual hash of an image or a video frame",
    ("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",),
)

SIGNAL_TYPES: dict[str, SignalType] = {t.name: t for t in (SHA256, MD5, SHA1, PDQ)}
EXACT_TYPES: tuple[str, ...] = tuple(t.name for t in SIGNAL_TYPES.values() if not t.distance_based)


def signal_type(name: str) -> SignalType:
    """Look up a signal type by its stable name, or raise ``InvalidSignal``."""
    try:
        return SIGNAL_TYPES[name.strip().lower()]
    except (KeyError, AttributeError):
        raise InvalidSignal(
            f"unknown signal type {shown(name)}; known: {', '.join(SIGNAL_TYPES)}"
        ) from None


def validate_signal(type_name: str, value: str) -> tuple[str, str]:
    """Normalise a (type, value) pair: returns the canonical type name and value."""
    t = signal_type(type_name)
    return t.name, t.validate(value)
