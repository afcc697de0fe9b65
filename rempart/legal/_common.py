"""Shared strict text helpers of the legal core: canonical JSON and UTC timestamps.

Canonical JSON, byte for byte: ``json.dumps(value, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` encoded as UTF-8, then one U+000A. Example: ``{"a":1,"b":"é"}\\n``.

Timestamps are naive UTC inside rempart (the database convention). On the wire they are
RFC 3339 in UTC with a ``Z``: ``2026-08-20T09:30:00Z``, or with six fractional digits when the
time has microseconds (``2026-08-20T09:30:00.250000Z``). Parsing accepts any RFC 3339 offset
(``+02:00``) and converts; a time without an offset is refused (it would be ambiguous).
"""

from __future__ import annotations

import datetime as dt
import json
import re

from rempart.errors import InvalidInput, shown

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")


def canonical_json(value: object) -> bytes:
    """The canonical JSON encoding of ``value`` (see the module docstring)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode() + b"\n"


def utc(when: dt.datetime) -> dt.datetime:
    """``when`` as naive UTC; an aware time is converted, a naive one is taken as UTC."""
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return when


def format_time(when: dt.datetime) -> str:
    """RFC 3339 UTC with ``Z``; microseconds only when non-zero."""
    when = utc(when)
    spec = "microseconds" if when.microsecond else "seconds"
    return when.isoformat(timespec=spec) + "Z"


def parse_time(text: object, what: str) -> dt.datetime:
    """Parse an RFC 3339 time with an explicit offset into naive UTC (``what`` names the field)."""
    if not isinstance(text, str) or not _RFC3339.fullmatch(text):
        raise InvalidInput(f"{what}: want an RFC 3339 time with an offset, e.g. 2026-08-20T09:30:00Z")
    try:
        return utc(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError as exc:
        raise InvalidInput(f"{what}: not a valid time: {shown(text[:40])}") from exc


def printable(text: str) -> bool:
    """No control characters (C0, DEL, C1) and no line or paragraph separators."""
    return not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029" for c in text)


def is_email(text: str) -> bool:
    """A plausible email address: one @, no spaces, a dot in the domain (not RFC 5322 in full)."""
    return _EMAIL.fullmatch(text) is not None
