"""The on-disk form of a ``PDQIndex``: explicit, versioned, checksummed, never executable.

Pure (standard library and numpy). Only the live contents are stored; the reader rebuilds
the bucket tables (a few seconds at 10M rows), so the format does not depend on index
tuning and a file cannot smuggle out-of-range table offsets into the numba kernels.

File layout, byte for byte (version 1):

  offset  size  field
  0       8     magic: the ASCII bytes ``RMPDQIX`` followed by 0x0A
  8       4     format version, uint32 little-endian: 1
  12      8     n, the number of rows, uint64 little-endian (at most 2**32 - 1)
  20      a     ids: one .npy file (format 1.0), dtype '<i8', shape (n,), C order,
                strictly increasing
  20+a    b     hashes: one .npy file (format 1.0), dtype '|u1', shape (n, 32), C order;
                row i is the PDQ hash of ids[i], bytes in hex order (see ``codec``)
  20+a+b  32    SHA-256 of bytes [0, 20+a+b)
  end

Example: an empty index is 8 + 4 + 8 + 128 + 128 + 32 = 308 bytes
(``RMPDQIX\\n``, ``01 00 00 00``, eight zero bytes, two 128-byte .npy headers, digest).
A missing file raises ``NotFound``. Readers reject a wrong magic, an unknown version, a bad digest, trailing bytes and arrays
of the wrong dtype, shape or order, with ``InvalidInput`` saying which.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from pathlib import Path

import numpy as np

from rempart.errors import InvalidInput, NotFound, shown

MAGIC = b"RMPDQIX\n"
VERSION = 1
MAX_ROWS = 2**32 - 1
_HEAD = struct.Struct("<8sIQ")


def write_pdq(path: str | os.PathLike, ids: np.ndarray, hashes: np.ndarray) -> None:
    """Write sorted unique int64 ``ids`` and their uint8 (n, 32) ``hashes`` atomically
    (to a temporary file renamed over ``path``)."""
    n = ids.shape[0]
    buf = io.BytesIO()
    buf.write(_HEAD.pack(MAGIC, VERSION, n))
    np.lib.format.write_array(buf, np.ascontiguousarray(ids, "<i8"), version=(1, 0),
                              allow_pickle=False)
    np.lib.format.write_array(buf, np.ascontiguousarray(hashes, np.uint8), version=(1, 0),
                              allow_pickle=False)
    body = buf.getbuffer()
    tmp = Path(f"{os.fspath(path)}.tmp")
    with open(tmp, "wb") as f:
        f.write(body)
        f.write(hashlib.sha256(body).digest())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_pdq(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read and check a file written by ``write_pdq``; return (ids, hashes)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise NotFound("PDQ index file", os.fspath(path)) from None
    where = f"PDQ index file {shown(os.fspath(path))}"
    if len(data) < _HEAD.size + 32:
        raise InvalidInput(f"{where}: too short ({len(data)} bytes)")
    magic, version, n = _HEAD.unpack_from(data)
    if magic != MAGIC:
        raise InvalidInput(f"{where}: not a rempart PDQ index (bad magic {shown(magic)})")
    if version != VERSION:
        raise InvalidInput(f"{where}: unsupported format version {version} "
                           f"(this reader knows {VERSION})")
    body = memoryview(data)[:-32]
    if hashlib.sha256(body).digest() != data[-32:]:
        raise InvalidInput(f"{where}: checksum mismatch (file corrupt or truncated)")
    if n > MAX_ROWS:
        raise InvalidInput(f"{where}: {n} rows exceeds the limit of {MAX_ROWS}")
    stream = io.BytesIO(body)
    stream.seek(_HEAD.size)
    ids = _read_array(stream, where, "ids", np.dtype("<i8"), (n,))
    hashes = _read_array(stream, where, "hashes", np.dtype(np.uint8), (n, 32))
    if stream.tell() != len(body):
        raise InvalidInput(f"{where}: {len(body) - stream.tell()} unexpected trailing bytes")
    if n > 1 and not np.all(ids[1:] > ids[:-1]):
        raise InvalidInput(f"{where}: ids are not strictly increasing")
    return ids.astype(np.int64, copy=False), hashes


def _read_array(stream: io.BytesIO, where: str, name: str, dtype: np.dtype,
                shape: tuple[int, ...]) -> np.ndarray:
    """Read one .npy array and check its header before reading its data."""
    try:
        if np.lib.format.read_magic(stream) != (1, 0):
            raise ValueError("not .npy format 1.0")
        got_shape, fortran, got_dtype = np.lib.format.read_array_header_1_0(stream)
    except ValueError as e:
        raise InvalidInput(f"{where}: {name}: bad array header ({e})") from None
    if got_dtype != dtype or tuple(got_shape) != shape or fortran:
        raise InvalidInput(f"{where}: {name}: expected {dtype.str} {shape} C order, got "
                           f"{got_dtype.str} {tuple(got_shape)}{' Fortran' if fortran else ''}")
    size = int(np.prod(shape)) * dtype.itemsize
    raw = stream.read(size)
    if len(raw) != size:
        raise InvalidInput(f"{where}: {name}: truncated array data")
    return np.frombuffer(raw, dtype).reshape(shape)
