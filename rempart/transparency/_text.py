"""Strict text helpers shared by the parsers: canonical base64 and decimal integers."""

from __future__ import annotations

import base64
import binascii

from rempart.errors import InvalidInput, shown

MAX_UINT63 = (1 << 63) - 1


def b64encode(data: bytes) -> str:
    """Standard base64 (RFC 4648 section 4) with padding."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, what: str) -> bytes:
    """Decode canonical standard base64; reject any other spelling (``what`` names the field)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise InvalidInput(f"{what}: not valid base64") from exc
    # Non-zero padding bits decode fine but are a second spelling of the same bytes.
    if b64encode(raw) != text:
        raise InvalidInput(f"{what}: non-canonical base64")
    return raw


def parse_decimal(text: str, what: str, maximum: int = MAX_UINT63) -> int:
    """Parse an ASCII decimal with no sign, no leading zeroes (except ``0``), at most ``maximum``."""
    if not text or len(text) > 20 or not text.isascii() or not text.isdigit():
        raise InvalidInput(f"{what}: not a decimal number: {shown(text[:40])}")
    if text != "0" and text[0] == "0":
        raise InvalidInput(f"{what}: leading zero in {shown(text)}")
    value = int(text)
    if value > maximum:
        raise InvalidInput(f"{what}: {value} exceeds {maximum}")
    return value
