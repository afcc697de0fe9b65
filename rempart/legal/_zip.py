"""The canonical .zip of a disclosure package: one encoding per content, so any byte counts.

A package zip is a plain PKZIP archive that any unzip tool reads, restricted to one layout:
entries sorted by name (bytewise UTF-8), no directory entries, each stored (no compression:
no zip bomb can exist) and written as, byte for byte (little-endian)::

    local header   50 4B 03 04 | 14 00 | 00 08 | 00 00 | 00 00 | 21 00 | crc32 (4) | size (4) |
                   size (4) | name length (2) | 00 00 | name (UTF-8) | the file's bytes
    ...
    central entry  50 4B 01 02 | 14 00 | 14 00 | 00 08 | 00 00 | 00 00 | 21 00 | crc32 | size |
                   size | name length | 00 00 | 00 00 | 00 00 | 00 00 | 00 00 00 00 |
                   offset of the local header (4) | name
    ...
    end record     50 4B 05 06 | 00 00 | 00 00 | n (2) | n (2) | central size (4) |
                   central offset (4) | 00 00

(version 2.0, flag bit 11 "UTF-8 names", method 0 "stored", time 00:00 on 1980-01-01, no extra
fields, comments or attributes). Entries follow each other from offset 0, the central directory
follows the last one, the end record closes the file. No Zip64: a package zip holds at most
65,535 entries and 4 GiB; larger packages use the directory form.

``read_members`` checks all of that and returns where each file's bytes are; the data's CRC-32
is checked by the reader of the data. Safety problems (compression, encryption, Zip64, unsafe
names, attributes such as symlinks, sizes) and other deviations are reported separately.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from rempart.errors import shown
from rempart.legal.errors import PackageError, PackageProblem

MAX_ENTRIES = 0xFFFF
MAX_ZIP_BYTES = 0xFFFFFFFF
CHUNK = 1 << 20
_LOCAL = struct.Struct("<IHHHHHIIIHH")  # 30 bytes
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # 46 bytes
_END = struct.Struct("<IHHHHIIH")  # 22 bytes
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = 0x04034B50, 0x02014B50, 0x06054B50
_VERSION, _FLAGS, _STORED, _TIME, _DATE = 20, 0x0800, 0, 0, 0x21


@dataclass(frozen=True)
class Member:
    name: str
    data_offset: int
    size: int
    crc: int


@dataclass(frozen=True)
class Entry:
    """One file to write: its name, size, CRC-32 and a function yielding its bytes."""

    name: str
    size: int
    crc: int
    chunks: Callable[[], Iterable[bytes]]


def local_header(name: bytes, crc: int, size: int) -> bytes:
    return _LOCAL.pack(_LOCAL_SIG, _VERSION, _FLAGS, _STORED, _TIME, _DATE, crc, size, size,
                       len(name), 0) + name


def central_entry(name: bytes, crc: int, size: int, offset: int) -> bytes:
    return _CENTRAL.pack(_CENTRAL_SIG, _VERSION, _VERSION, _FLAGS, _STORED, _TIME, _DATE, crc,
                         size, size, len(name), 0, 0, 0, 0, 0, offset) + name


def write_zip(out: BinaryIO, entries: Sequence[Entry]) -> None:
    """Write the canonical zip of ``entries`` (sorted by name, unique) to ``out``."""
    names = [e.name.encode() for e in entries]
    if names != sorted(set(names)):
        raise PackageError("zip entries must be unique and sorted")
    if len(entries) > MAX_ENTRIES:
        raise PackageError(f"a package zip holds at most {MAX_ENTRIES} files; use a directory")
    offset, central = 0, []
    for name, e in zip(names, entries):
        central.append(central_entry(name, e.crc, e.size, offset))
        head = local_header(name, e.crc, e.size)
        out.write(head)
        crc, n = 0, 0
        for chunk in e.chunks():
            crc, n = zlib.crc32(chunk, crc), n + len(chunk)
            out.write(chunk)
        if (crc, n) != (e.crc, e.size):
            raise PackageError(f"{e.name} changed while it was being packaged")
        offset += len(head) + e.size
    body = b"".join(central)
    if offset + len(body) + _END.size > MAX_ZIP_BYTES:
        raise PackageError("a package zip is limited to 4 GiB; use a directory")
    out.write(body)
    out.write(_END.pack(_END_SIG, 0, 0, len(entries), len(entries), len(body), offset, 0))


def _bad(message: str) -> PackageProblem:
    return PackageProblem("non-canonical-container", message)


def _unsafe(message: str) -> PackageProblem:
    return PackageProblem("unsafe-container", message)


def read_members(f: BinaryIO, size: int, valid_name: Callable[[str], bool]) -> list[Member]:
    """Check that ``f`` (``size`` bytes) is a canonical package zip; return its members in order."""
    if size < _END.size:
        raise _bad("too short for a zip")
    if size > MAX_ZIP_BYTES:
        raise _unsafe("larger than 4 GiB: not a package zip")
    f.seek(size - _END.size)
    sig, disk, cd_disk, n_here, n, cd_size, cd_offset, comment = _END.unpack(f.read(_END.size))
    if sig != _END_SIG:
        raise _bad("the file does not end with a zip end record (trailing data or a comment)")
    if 0xFFFF in (disk, cd_disk, n_here, n) or 0xFFFFFFFF in (cd_size, cd_offset):
        raise _unsafe("Zip64 or multi-disk archives are refused")
    if (disk, cd_disk, comment) != (0, 0, 0) or n_here != n or cd_offset + cd_size != size - _END.size:
        raise _bad("end record does not describe a single canonical archive")
    if cd_size > n * (_CENTRAL.size + 0xFFFF):
        raise _bad("central directory larger than its entries")
    f.seek(cd_offset)
    members = _central_directory(f.read(cd_size), n, cd_offset, valid_name)
    for m in members:
        raw = m.name.encode()
        f.seek(m.data_offset - _LOCAL.size - len(raw))
        if f.read(_LOCAL.size + len(raw)) != local_header(raw, m.crc, m.size):
            raise _bad(f"{m.name}: local header differs from the central directory or is not canonical")
    return members


def _central_directory(cd: bytes, n: int, cd_offset: int, valid_name: Callable[[str], bool]) -> list[Member]:
    """The ``n`` canonical entries of central directory ``cd``, which starts at ``cd_offset``."""
    members, pos, expected_offset, previous = [], 0, 0, b""
    for _ in range(n):
        if pos + _CENTRAL.size > len(cd):
            raise _bad("central directory is truncated")
        (sig, made, need, flags, method, time, date, crc, csize, usize, nlen, xlen, clen, dstart,
         iattr, eattr, offset) = _CENTRAL.unpack_from(cd, pos)
        raw = cd[pos + _CENTRAL.size: pos + _CENTRAL.size + nlen]
        if sig != _CENTRAL_SIG or len(raw) != nlen:
            raise _bad("bad central directory entry")
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _unsafe("an entry name is not UTF-8") from None
        if not valid_name(name):
            raise _unsafe(f"unsafe entry name {shown(name[:80])} (absolute, '..', a backslash or a drive)")
        if method != _STORED or csize != usize:
            raise _unsafe(f"{name}: compressed entries are refused (zip bombs)")
        if flags & 0x41:
            raise _unsafe(f"{name}: encrypted entries are refused")
        if eattr or iattr:
            raise _unsafe(f"{name}: entries with attributes (symlinks, permissions) are refused")
        if (made, need, flags, time, date, xlen, clen, dstart) != (_VERSION, _VERSION, _FLAGS, _TIME, _DATE, 0, 0, 0):
            raise _bad(f"{name}: central entry is not canonical")
        if raw <= previous:
            raise _bad(f"{name}: entries must be unique and sorted by name")
        if offset != expected_offset:
            raise _bad(f"{name}: entries must follow each other from the start of the file")
        members.append(Member(name, offset + _LOCAL.size + nlen, usize, crc))
        expected_offset = offset + _LOCAL.size + nlen + usize
        previous, pos = raw, pos + _CENTRAL.size + nlen
    if pos != len(cd) or expected_offset != cd_offset:
        raise _bad("central directory does not match the entries")
    return members


def member_chunks(f: BinaryIO, m: Member) -> Iterator[bytes]:
    """The stored bytes of ``m``, in chunks (seeking each time: readers may interleave)."""
    pos, left = m.data_offset, m.size
    while left:
        f.seek(pos)
        chunk = f.read(min(CHUNK, left))
        pos += len(chunk)
        if not chunk:
            raise _bad(f"{m.name}: truncated")
        left -= len(chunk)
        yield chunk
