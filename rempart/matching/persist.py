"""The on-disk forms of the match state: explicit, versioned, checksummed, never executable.

Version 1 (``write_pdq``/``read_pdq``) holds one ``PDQIndex``; version 2 (``write_snapshot``/
``read_snapshot``, at the end of this module) holds a whole replica: the entry arrays, the
values of every kind, and metadata naming the change-feed sequence number it includes.

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
import json
import os
import struct
import threading
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


# ---------------------------------------------------------------- version 2: replica snapshots

SNAPSHOT_VERSION = 2
MAX_META_BYTES = 1 << 20
#: the arrays of a version-2 file, in this order: name -> (dtype, number of dimensions)
SNAPSHOT_ARRAYS: dict[str, tuple[str, int]] = {
    "entry_ids": ("<i8", 1), "entry_bank": ("<i4", 1), "entry_kind": ("|u1", 1),
    "entry_flags": ("|u1", 1),
    "until_ids": ("<i8", 1), "until_us": ("<i8", 1),
    "pdq_ids": ("<i8", 1), "pdq_hashes": ("|u1", 2),
    "exact_ids": ("<i8", 1), "exact_kind": ("|u1", 1), "exact_values": ("|u1", 2),
    "video_ids": ("<i8", 1), "video_sha256": ("|u1", 2), "video_frames": ("<i8", 1),
    "frame_pdq": ("|u1", 2), "frame_t": ("<f8", 1), "frame_quality": ("<i4", 1),
}
_V2_HEAD = struct.Struct("<8sII")


class _HashingWriter:
    def __init__(self, f) -> None:
        self.f, self.digest = f, hashlib.sha256()

    def write(self, data) -> int:
        self.digest.update(data)
        return self.f.write(data)


def write_snapshot(path: str | os.PathLike, meta: dict, arrays: dict[str, np.ndarray]) -> int:
    """Write a replica snapshot (format version 2) atomically; returns its size in bytes.

    Layout, byte for byte::

      offset  size  field
      0       8     magic ``RMPDQIX\\n`` (as version 1)
      8       4     format version, uint32 little-endian: 2
      12      4     m, the length of the metadata, uint32 little-endian (at most 1 MiB)
      16      m     metadata: a JSON object, UTF-8, keys sorted (what the file holds: the
                    change-feed sequence it includes, the schema, the database; see
                    ``rempart.banks.snapshots``)
      16+m    ...   the arrays of ``SNAPSHOT_ARRAYS`` in that order, each one .npy file
                    (format 1.0, C order, the dtype and number of dimensions listed)
      end-32  32    SHA-256 of every byte before it

    The arrays are written straight to the file (no second copy in memory).
    """
    if list(arrays) != list(SNAPSHOT_ARRAYS):
        raise InvalidInput("snapshot arrays must be exactly SNAPSHOT_ARRAYS, in order")
    blob = json.dumps(meta, sort_keys=True, separators=(",", ":")).encode("utf-8")
    if len(blob) > MAX_META_BYTES:
        raise InvalidInput(f"snapshot metadata is {len(blob)} bytes; limit is {MAX_META_BYTES}")
    tmp = Path(f"{os.fspath(path)}.{os.getpid()}-{threading.get_ident()}.tmp")  # writers apart
    with open(tmp, "wb") as f:
        out = _HashingWriter(f)
        out.write(_V2_HEAD.pack(MAGIC, SNAPSHOT_VERSION, len(blob)))
        out.write(blob)
        for name, (dtype, ndim) in SNAPSHOT_ARRAYS.items():
            arr = np.ascontiguousarray(arrays[name], np.dtype(dtype))
            if arr.ndim != ndim:
                raise InvalidInput(f"snapshot array {name} must have {ndim} dimension(s)")
            np.lib.format.write_array(out, arr, version=(1, 0), allow_pickle=False)
        f.write(out.digest.digest())
        f.flush()
        os.fsync(f.fileno())
        size = f.tell()
    os.replace(tmp, path)
    return size


def read_snapshot(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and check a file written by ``write_snapshot``: (metadata, arrays).

    ``InvalidInput`` names what is wrong (magic, version, checksum, metadata, an array's header,
    trailing bytes); ``NotFound`` for a missing file. The arrays are read-only views of the
    file's bytes. What the arrays mean together is checked by their reader (the matcher)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise NotFound("snapshot file", os.fspath(path)) from None
    where = f"snapshot {shown(os.fspath(path))}"
    if len(data) < _V2_HEAD.size + 32:
        raise InvalidInput(f"{where}: too short ({len(data)} bytes)")
    magic, version, m = _V2_HEAD.unpack_from(data)
    if magic != MAGIC:
        raise InvalidInput(f"{where}: not a rempart file (bad magic {shown(magic)})")
    if version != SNAPSHOT_VERSION:
        raise InvalidInput(f"{where}: format version {version}, expected {SNAPSHOT_VERSION}")
    body = memoryview(data)[:-32]
    if hashlib.sha256(body).digest() != data[-32:]:
        raise InvalidInput(f"{where}: checksum mismatch (file corrupt or truncated)")
    if m > MAX_META_BYTES or _V2_HEAD.size + m > len(body):
        raise InvalidInput(f"{where}: metadata length {m} out of range")
    try:
        meta = json.loads(bytes(body[_V2_HEAD.size:_V2_HEAD.size + m]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput(f"{where}: metadata is not a JSON object") from None
    if not isinstance(meta, dict):
        raise InvalidInput(f"{where}: metadata is not a JSON object")
    pos = _V2_HEAD.size + m
    arrays: dict[str, np.ndarray] = {}
    for name, (dtype, ndim) in SNAPSHOT_ARRAYS.items():
        arr, pos = _view_array(body, pos, where, name, np.dtype(dtype), ndim)
        arrays[name] = arr
    if pos != len(body):
        raise InvalidInput(f"{where}: {len(body) - pos} unexpected trailing bytes")
    return meta, arrays


def _view_array(body: memoryview, pos: int, where: str, name: str, dtype: np.dtype,
                ndim: int) -> tuple[np.ndarray, int]:
    stream = io.BytesIO(body[pos:pos + 65536 + 10].tobytes())
    try:
        if np.lib.format.read_magic(stream) != (1, 0):
            raise ValueError("not .npy format 1.0")
        shape, fortran, got = np.lib.format.read_array_header_1_0(stream)
    except ValueError as e:
        raise InvalidInput(f"{where}: {name}: bad array header ({e})") from None
    if got != dtype or len(shape) != ndim or fortran or any(d < 0 for d in shape):
        raise InvalidInput(f"{where}: {name}: expected {dtype.str} with {ndim} dimension(s), "
                           f"got {got.str} {tuple(shape)}")
    start = pos + stream.tell()
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if start + size > len(body):
        raise InvalidInput(f"{where}: {name}: truncated array data")
    if size == 0:
        return np.empty(shape, dtype), start
    arr = np.frombuffer(body, dtype, count=size // dtype.itemsize, offset=start).reshape(shape)
    return arr, start + size
