"""PDQ hashing of canonical RGB pixels with Meta's reference code (the ``pdqhash`` bindings).

Hex form: the 256 bits as ``pdqhash`` returns them (index 0 first), packed most significant bit
first into 32 bytes, written as 64 lowercase hex digits. This is the form of Meta's reference tools
and of ``pdq-reference.csv`` (checked bit for bit by the tests).

The dihedral variants are the hashes of the picture transformed as named, computed by PDQ from the
one DCT (no re-hashing of transformed pixels; within a few bits of hashing the transformed picture).
Names follow Meta's PDQ (``pdqDihedralHash256esFromFloatLuma``) and the reference test images:

    original    the picture as given
    rot90       rotated 90 degrees counter-clockwise (``numpy.rot90(a, 1)``)
    rot180      rotated 180 degrees
    rot270      rotated 270 degrees counter-clockwise (90 clockwise)
    flipx       mirrored about the horizontal axis: upside down (``a[::-1]``)
    flipy       mirrored about the vertical axis: left-right (``a[:, ::-1]``)
    transpose   reflected about the main diagonal (``a.transpose(1, 0, 2)``)
    transverse  reflected about the anti-diagonal
"""

from __future__ import annotations

import numpy as np
import pdqhash

from rempart.errors import InvalidInput, InvariantViolation
from rempart.signals.types import PDQ

DIHEDRAL_NAMES = (
    "original", "rot90", "rot180", "rot270", "flipx", "flipy", "transpose", "transverse",
)

#: Meta's recommended floor: hashes under it carry too little signal to match on. The one
#: definition: banking, matching, videos and the blast radius all import it.
LOW_QUALITY = 50
#: PDQ's customary match distance: hashes within 31 bits (inclusive) show the same picture. The
#: default of every bank, of the PDQ index and of video comparison; defined here, once.
DEFAULT_THRESHOLD = 31


def pdq_hash(rgb: np.ndarray) -> tuple[str, int]:
    """Return ``(hex, quality)`` of an ``H x W x 3`` uint8 RGB array."""
    bits, quality = pdqhash.compute(_checked(rgb))
    return bits_to_hex(bits), int(quality)


def pdq_dihedral(rgb: np.ndarray) -> tuple[dict[str, str], int]:
    """Return ``({name: hex} for the 8 DIHEDRAL_NAMES, quality)`` of an RGB array.

    ``["original"]`` equals ``pdq_hash(rgb)[0]`` exactly (the same computation).
    """
    hashes, quality = pdqhash.compute_dihedral(_checked(rgb))
    if len(hashes) != len(DIHEDRAL_NAMES):
        raise InvariantViolation(f"pdqhash.compute_dihedral returned {len(hashes)} hashes, expected 8")
    return {name: bits_to_hex(b) for name, b in zip(DIHEDRAL_NAMES, hashes)}, int(quality)


def bits_to_hex(bits: np.ndarray) -> str:
    """Pack 256 0/1 values (index 0 = most significant bit) into 64 hex digits."""
    if bits.shape != (256,):
        raise InvariantViolation(f"a PDQ hash has 256 bits, got shape {bits.shape}")
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def hamming(a_hex: str, b_hex: str) -> int:
    """Hamming distance between two PDQ hashes given as 64 hex digits (case-insensitive).

    Raises ``InvalidSignal`` (an ``InvalidInput``) when either is not 64 hex digits.
    """
    a, b = PDQ.validate(a_hex), PDQ.validate(b_hex)
    return (int(a, 16) ^ int(b, 16)).bit_count()


def hex_to_words(hexes: list[str]) -> np.ndarray:
    """Convert validated 64-digit hex hashes to an ``N x 4`` uint64 array (for vectorised distances)."""
    if not hexes:
        return np.zeros((0, 4), dtype=np.uint64)
    raw = np.frombuffer(bytes.fromhex("".join(hexes)), dtype=">u8")
    return raw.astype(np.uint64).reshape(len(hexes), 4)


def _checked(rgb: np.ndarray) -> np.ndarray:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InvalidInput("PDQ hashing expects an H x W x 3 uint8 array")
    if rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise InvalidInput("cannot PDQ-hash an empty picture")
    return np.ascontiguousarray(rgb)
