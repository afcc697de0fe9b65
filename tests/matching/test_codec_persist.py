"""Hex <-> array conversion, and the save/load file format with its failure modes."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from rempart.errors import InvalidInput, InvalidSignal, NotFound
from rempart.matching import PDQIndex, hashes_to_hex, hex_to_hashes
from rempart.matching import persist
from rempart.signals.types import PDQ
from tests.matching.matching_helpers import random_hashes

EXAMPLE = PDQ.examples[0]


def test_hex_is_most_significant_bit_first():
    arr = hex_to_hashes([EXAMPLE])
    assert arr.shape == (1, 32) and arr.dtype == np.uint8
    assert arr[0, 0] == 0xF8 and arr[0, 31] == 0x22
    assert np.unpackbits(arr[0])[:8].tolist() == [1, 1, 1, 1, 1, 0, 0, 0]
    assert hashes_to_hex(arr) == [EXAMPLE]


def test_hex_round_trip_and_normalisation(rng):
    arr = random_hashes(rng, 300)
    text = hashes_to_hex(arr)
    assert all(len(t) == 64 and t == t.lower() for t in text)
    assert np.array_equal(hex_to_hashes(text), arr)
    messy = [f"  {t.upper()}\n" for t in text[:5]]
    assert np.array_equal(hex_to_hashes(messy), arr[:5])
    assert hex_to_hashes([]).shape == (0, 32)


@pytest.mark.parametrize("bad", ["0" * 63, "0" * 65, "g" + "0" * 63, "", 12, None, "0" * 62 + " 0"])
def test_bad_hex_names_the_position(bad):
    with pytest.raises(InvalidSignal, match="hash #1"):
        hex_to_hashes([EXAMPLE, bad])


def test_a_single_string_is_not_a_batch():
    with pytest.raises(InvalidInput):
        hex_to_hashes(EXAMPLE)


def test_save_load_round_trip(rng, tmp_path):
    stored = random_hashes(rng, 5000)
    index = PDQIndex(buffer_capacity=300)
    index.add(np.arange(5000) * 7 - 100, stored)
    index.remove([-100, 600])
    index.add([600], stored[:1])
    path = tmp_path / "index.rpdq"
    index.save(path)
    loaded = PDQIndex.load(path)
    assert len(loaded) == len(index) == 4999
    for a, b in zip(index.snapshot(), loaded.snapshot()):
        assert np.array_equal(a, b)
    q = np.concatenate([stored[:50], random_hashes(rng, 5)])
    assert loaded.query(q, 40) == index.query(q, 40)


def test_empty_file_layout_is_exact(tmp_path):
    path = tmp_path / "empty.rpdq"
    PDQIndex().save(path)
    data = path.read_bytes()
    assert data[:20] == b"RMPDQIX\n" + b"\x01\x00\x00\x00" + b"\x00" * 8
    assert data[20:26] == b"\x93NUMPY" and len(data) == 308
    assert data[-32:] == hashlib.sha256(data[:-32]).digest()
    assert len(PDQIndex.load(path)) == 0


def _rewrite(path, data: bytes, fix_digest: bool = True) -> None:
    body = data[:-32]
    path.write_bytes(body + (hashlib.sha256(body).digest() if fix_digest else data[-32:]))


def test_corrupt_files_are_rejected(rng, tmp_path):
    path = tmp_path / "i.rpdq"
    index = PDQIndex()
    index.add(np.arange(40), random_hashes(rng, 40))
    index.save(path)
    good = path.read_bytes()
    # any flipped byte breaks the digest (or the magic/version checks that come first)
    for offset in range(0, len(good), 97):
        bad = bytearray(good)
        bad[offset] ^= 0x40
        path.write_bytes(bytes(bad))
        with pytest.raises(InvalidInput):
            PDQIndex.load(path)
    cases = {
        "bad magic": b"XMPDQIX\n" + good[8:],
        "unsupported format version 2": good[:8] + b"\x02" + good[9:],
        "too short": good[:40],
        "checksum": good[:-33] + good[-32:],
    }
    for message, data in cases.items():
        path.write_bytes(data)
        with pytest.raises(InvalidInput, match=message):
            PDQIndex.load(path)
    # structurally wrong but correctly checksummed files
    _rewrite(path, good[:12] + (41).to_bytes(8, "little") + good[20:])
    with pytest.raises(InvalidInput, match="ids: expected"):
        PDQIndex.load(path)
    _rewrite(path, good[:-32] + b"extra" + good[-32:])
    with pytest.raises(InvalidInput, match="trailing"):
        PDQIndex.load(path)


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        PDQIndex.load(tmp_path / "absent.rpdq")


def test_unsorted_ids_in_a_file_are_rejected(rng, tmp_path):
    path = tmp_path / "u.rpdq"
    persist.write_pdq(path, np.array([3, 1], np.int64), random_hashes(rng, 2))
    with pytest.raises(InvalidInput, match="increasing"):
        PDQIndex.load(path)


def test_pickled_arrays_are_refused(tmp_path):
    path = tmp_path / "p.rpdq"
    PDQIndex().save(path)
    good = path.read_bytes()
    evil = np.lib.format.header_data_from_array_1_0(np.array([None], dtype=object))
    import io
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, evil)
    _rewrite(path, good[:20] + buf.getvalue() + good[20 + len(buf.getvalue()):])
    with pytest.raises(InvalidInput, match="ids"):
        PDQIndex.load(path)
