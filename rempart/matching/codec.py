"""PDQ hash forms and input checks shared by the matching package.

Pure (standard library and numpy).

Two forms of a PDQ hash:
  hex    64 hex digits, most significant bit first, as Meta's reference prints it: digits
         2k and 2k+1 are byte k, so "f8..." means byte 0 is 0xf8 (bits 1,1,1,1,1,0,0,0).
         Input may be upper or lower case and carry surrounding whitespace; output is
         lowercase (the canonical form of ``rempart.signals.PDQ``).
  array  numpy uint8 of shape (n, 32), row i = the 32 bytes of hash i in that order.

Internally the index views each row as four native uint64 words; Hamming distance does
not depend on the bit numbering, so no byte swapping is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from rempart.errors import InvalidInput
from rempart.signals.types import PDQ


def hex_to_hashes(hex_strings: Iterable[str]) -> np.ndarray:
    """Parse PDQ hex strings into a (n, 32) uint8 array, or raise ``InvalidSignal``
    (an ``InvalidInput``) naming the first bad value and its position."""
    values = list(hex_strings) if not isinstance(hex_strings, str) else None
    if values is None:
        raise InvalidInput("expected a sequence of hex strings, got a single string")
    n = len(values)
    try:
        # fast path: one C call for the whole batch when every value is clean
        joined = "".join(values)
        raw = bytes.fromhex(joined)
        if len(raw) == 32 * n and all(len(v) == 64 for v in values):
            return np.frombuffer(raw, np.uint8).reshape(n, 32).copy()
    except (TypeError, ValueError):
        pass
    out = np.empty((n, 32), np.uint8)
    for i, v in enumerate(values):
        try:
            out[i] = np.frombuffer(bytes.fromhex(PDQ.validate(v)), np.uint8)
        except InvalidInput as e:
            raise type(e)(f"hash #{i}: {e}") from None
    return out


def hashes_to_hex(hashes: np.ndarray) -> list[str]:
    """Format a (n, 32) uint8 array as canonical lowercase PDQ hex strings."""
    arr = as_hashes(hashes)
    raw = arr.tobytes().hex()
    return [raw[64 * i: 64 * (i + 1)] for i in range(arr.shape[0])]


def as_hashes(hashes: object, name: str = "hashes") -> np.ndarray:
    """Check that ``hashes`` is a uint8 array of shape (n, 32); return it C-contiguous."""
    if not isinstance(hashes, np.ndarray):
        raise InvalidInput(f"{name} must be a numpy uint8 array of shape (n, 32), "
                           f"got {type(hashes).__name__}")
    if hashes.dtype != np.uint8:
        raise InvalidInput(f"{name} must have dtype uint8, got {hashes.dtype}")
    if hashes.ndim != 2 or hashes.shape[1] != 32:
        raise InvalidInput(f"{name} must have shape (n, 32), got {hashes.shape}")
    return np.ascontiguousarray(hashes)


def as_ids(ids: object, n: int | None = None) -> np.ndarray:
    """Check ids (a sequence or 1-D array of integers that fit int64); return int64.
    When ``n`` is given the count must equal it."""
    if isinstance(ids, np.ndarray):
        arr = ids
    else:
        if isinstance(ids, (str, bytes)) or not isinstance(ids, (Sequence, Iterable)):
            raise InvalidInput(f"ids must be a sequence of integers, got {type(ids).__name__}")
        seq = list(ids)
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in seq):
            raise InvalidInput("ids must be integers")
        try:
            arr = np.array(seq, dtype=np.int64) if seq else np.empty(0, np.int64)
        except OverflowError:
            raise InvalidInput("ids must fit in a signed 64-bit integer") from None
    if arr.ndim != 1:
        raise InvalidInput(f"ids must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise InvalidInput("ids must fit in a signed 64-bit integer")
    if arr.dtype.kind not in "iu":
        raise InvalidInput(f"ids must be integers, got dtype {arr.dtype}")
    if n is not None and arr.shape[0] != n:
        raise InvalidInput(f"got {arr.shape[0]} ids for {n} hashes")
    return arr.astype(np.int64, copy=False)


def to_words(hashes: np.ndarray) -> np.ndarray:
    """View checked (n, 32) uint8 hashes as (n, 4) uint64 words (a copy)."""
    return hashes.view(np.uint64).reshape(-1, 4).copy()


def to_bytes(words: np.ndarray) -> np.ndarray:
    """Inverse of ``to_words``."""
    return np.ascontiguousarray(words).view(np.uint8).reshape(-1, 32)
