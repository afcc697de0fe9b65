"""The manifest and signature of a disclosure package, byte for byte.

MANIFEST (UTF-8; every line ends with U+000A; nothing else)::

    rempart-package/v1
    order <order reference>
    delivery <n>
    previous <64 lowercase hex digits | none>
    created <YYYY-MM-DDTHH:MM:SSZ>
    file <SHA-256, 64 lowercase hex> <size in bytes, decimal> <path>
    ...

``n`` is a decimal from 1 with no leading zero. ``previous`` is ``none`` for delivery 1 and the
manifest digest of the delivery before for any later one. There is one ``file`` line per file
of the package except MANIFEST and SIGNATURE, sorted by path (bytewise UTF-8), paths unique.
A path is ``order.json``, ``custody.json``, ``transparency-receipt``, ``records/<...>.json`` or
``media/<...>``; its segments match ``[A-Za-z0-9][A-Za-z0-9._-]{0,127}``, at most 8 of them and
255 bytes in all. The order reference is 1 to 128 characters with no control character and no
surrounding space. The manifest digest is the SHA-256 of the MANIFEST bytes, in lowercase hex.

SIGNATURE is a C2SP signed note (see ``rempart.transparency.note``) whose text is exactly::

    rempart-package-signature/v1
    order <order reference>
    delivery <n>
    manifest <manifest digest>

followed by an empty line and the Ed25519 signature line(s) of the platform's key; the signed
bytes are those four lines, final newline included. Example, with the key
``rempart.example/evidence``::

    rempart-package-signature/v1
    order PAR-2026-0042
    delivery 1
    manifest 9f2c...e1                                  (64 hex digits)

    — rempart.example/evidence <base64(key ID || 64-byte signature)>

The verifier key is the usual ``name+keyid+base64`` vkey: the platform publishes one kind of key.
The signature's own text names a different format than a checkpoint's, so a signature made for
one can never pass as the other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from rempart.errors import InvalidInput, shown
from rempart.legal._common import format_time, parse_time, printable
from rempart.legal.errors import PackageProblem

FORMAT = "rempart-package/v1"
SIGNATURE_FORMAT = "rempart-package-signature/v1"
MANIFEST, SIGNATURE = "MANIFEST", "SIGNATURE"
ORDER_FILE, CUSTODY_FILE, RECEIPT_FILE = "order.json", "custody.json", "transparency-receipt"
REQUIRED = (CUSTODY_FILE, ORDER_FILE, RECEIPT_FILE)
MAX_MANIFEST_BYTES = 16 << 20
MAX_FILES = 65_000
MAX_DELIVERY = 999_999

_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")


def valid_path(path: str) -> bool:
    """Whether ``path`` may name a file of a package (see the module docstring)."""
    if path in REQUIRED:
        return True
    parts = path.split("/")
    if len(path.encode()) > 255 or len(parts) > 8 or not all(_SEGMENT.fullmatch(p) for p in parts):
        return False
    return len(parts) >= 2 and (parts[0] == "media" or (parts[0] == "records" and path.endswith(".json")))


def valid_reference(reference: str) -> bool:
    return (0 < len(reference) <= 128 and reference == reference.strip() and printable(reference))


@dataclass(frozen=True)
class FileEntry:
    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    order: str
    delivery: int
    previous: str | None
    created_at: dt.datetime
    files: tuple[FileEntry, ...]


def manifest_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def format_manifest(m: Manifest) -> bytes:
    """The MANIFEST bytes of ``m`` (which must be valid: see ``parse_manifest``)."""
    lines = [FORMAT, f"order {m.order}", f"delivery {m.delivery}", f"previous {m.previous or 'none'}",
             f"created {format_time(m.created_at)}"]
    lines += [f"file {f.sha256} {f.size} {f.path}" for f in m.files]
    data = ("\n".join(lines) + "\n").encode()
    if parse_manifest(data) != m:
        raise PackageProblem("non-canonical-manifest", "the manifest would not read back as written")
    return data


def _bad(message: str) -> PackageProblem:
    return PackageProblem("non-canonical-manifest", message)


def _number(text: str, what: str, high: int) -> int:
    if not _DECIMAL.fullmatch(text) or int(text) > high:
        raise _bad(f"{what}: not a canonical decimal: {shown(text[:20])}")
    return int(text)


def parse_manifest(data: bytes) -> Manifest:
    """Parse MANIFEST bytes, refusing any other spelling of the same content."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise _bad(f"larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("not UTF-8") from None
    if not text.endswith("\n") or "\r" in text:
        raise _bad("lines must end with a single newline")
    lines = text[:-1].split("\n")
    if len(lines) < 5 or lines[0] != FORMAT:
        raise _bad(f"must start with {shown(FORMAT)} and its four header lines")
    heads = []
    for line, key in zip(lines[1:5], ("order", "delivery", "previous", "created")):
        if not line.startswith(key + " "):
            raise _bad(f"header line {shown(key)} expected, got {shown(line[:40])}")
        heads.append(line[len(key) + 1:])
    order, delivery_text, previous, created = heads
    if not valid_reference(order):
        raise _bad("invalid order reference")
    delivery = _number(delivery_text, "delivery", MAX_DELIVERY)
    if delivery < 1:
        raise _bad("deliveries are numbered from 1")
    if (previous == "none") != (delivery == 1) or (previous != "none" and not _HEX64.fullmatch(previous)):
        raise _bad("previous is 'none' for delivery 1 and a manifest digest for later ones")
    try:
        created_at = parse_time(created, "created")
    except InvalidInput:
        created_at = None
    if created_at is None or format_time(created_at) != created or created_at.microsecond:
        raise _bad("created must be YYYY-MM-DDTHH:MM:SSZ")
    files, last = [], b""
    if len(lines) - 5 > MAX_FILES:
        raise _bad(f"more than {MAX_FILES} files")
    for line in lines[5:]:
        parts = line.split(" ", 3)
        if len(parts) != 4 or parts[0] != "file" or not _HEX64.fullmatch(parts[1]):
            raise _bad(f"not a file line: {shown(line[:80])}")
        size, path = _number(parts[2], "size", (1 << 63) - 1), parts[3]
        if not valid_path(path):
            raise _bad(f"invalid path {shown(path[:80])}")
        if path.encode() <= last:
            raise _bad(f"paths must be unique and sorted: {shown(path[:80])}")
        last = path.encode()
        files.append(FileEntry(path, parts[1], size))
    missing = set(REQUIRED) - {f.path for f in files}
    if missing:
        raise _bad(f"missing required file(s): {', '.join(sorted(missing))}")
    return Manifest(order, delivery, None if previous == "none" else previous, created_at, tuple(files))


def signature_text(order: str, delivery: int, digest: str) -> str:
    return f"{SIGNATURE_FORMAT}\norder {order}\ndelivery {delivery}\nmanifest {digest}\n"


def parse_signature_text(text: str) -> tuple[str, int, str]:
    """(order reference, delivery, manifest digest) of a signature's text."""
    lines = text.split("\n")
    ok = (len(lines) == 5 and lines[0] == SIGNATURE_FORMAT and lines[4] == ""
          and lines[1].startswith("order ") and lines[2].startswith("delivery ")
          and lines[3].startswith("manifest ") and _HEX64.fullmatch(lines[3][9:]) is not None)
    if not ok:
        raise PackageProblem("bad-signature", "the signed text is not a package signature")
    order, delivery = lines[1][6:], lines[2][9:]
    if not _DECIMAL.fullmatch(delivery) or signature_text(order, int(delivery), lines[3][9:]) != text:
        raise PackageProblem("bad-signature", "the signed text is not canonical")
    return order, int(delivery), lines[3][9:]
