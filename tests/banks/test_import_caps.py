"""Imports cap what one entry may hold, in every format; CSV exports are safe in spreadsheets."""

from __future__ import annotations

import tracemalloc

import pytest

from rempart.banks.formats import ExportEntry, Limits, export_hash_list, parse_hash_list
from rempart.errors import ImportFormatError

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
MD5_B = "9e107d9d372bb6826bd81d3542a419d6"


def _errors(data: bytes, fmt: str, **kw) -> list[tuple[int, str]]:
    with pytest.raises(ImportFormatError) as excinfo:
        parse_hash_list(data, fmt, **kw)
    return excinfo.value.errors


def _ncmec(record_body: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">\n'
            "<images>\n<image>\n" + record_body + "</image>\n</images>\n</queryResult>\n"
            ).encode()


def test_an_ncmec_record_with_a_million_children_is_an_error_not_gigabytes():
    children = "<x/>\n" * 1_000_000  # 5 MB of one record
    data = _ncmec(f"<fingerprints><md5>{MD5}</md5></fingerprints>\n{children}")
    tracemalloc.start()
    try:
        errors = _errors(data, "ncmec")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # line 5: <fingerprints> and <md5>; then one child a line: the 257th element is on line 260
    assert errors == [(260, "<image> holds more than 256 elements")]
    assert peak < 32 << 20  # before: every child kept as a node until the record ended (~1 GB)


def test_ncmec_caps_elements_and_text_per_element():
    fingerprints = "".join(f"<pdna>{n}</pdna>" for n in range(10))
    data = _ncmec(f"<fingerprints><md5>{MD5}</md5>{fingerprints}</fingerprints>\n")
    assert len(parse_hash_list(data, "ncmec")) == 1
    assert _errors(data, "ncmec", limits=Limits(max_record_elements=5)) == [
        (5, "<image> holds more than 5 elements")]
    long_text = _ncmec(f"<id>{'i' * 20_000}</id><fingerprints><md5>{MD5}</md5></fingerprints>\n")
    assert _errors(long_text, "ncmec") == [(5, "<id> holds more than 16384 characters of text")]


def test_te_caps_fields_per_entry():
    fields = " ".join(f"k{n}=v" for n in range(32))
    assert len(parse_hash_list(f"md5 {MD5} external_id=e {fields}\n".encode(), "te")) == 1
    too_many = f"md5 {MD5} external_id=e {fields} k32=v\n".encode()
    assert _errors(too_many, "te") == [
        (1, "34 fields after the value; limit is 33 (an external id and the metadata)")]


def test_csv_caps_columns_per_row():
    keys = [f"k{n}" for n in range(32)]
    header = ",".join(["type", "value", "external_id", *keys])
    row = ",".join(["md5", MD5, "e", *("v" for _ in keys)])
    assert len(parse_hash_list(f"{header}\n{row}\n".encode(), "csv")) == 1
    wide = f"{header},k32\n{row},v\n".encode()
    assert _errors(wide, "csv") == [(1, "more than 35 columns"), (2, "more than 35 columns")]
    assert _errors(b"md5," + b"x," * 5000 + b"\n", "csv") == [(1, "more than 35 columns")]


def test_csv_export_writes_formula_like_cells_as_text_and_reads_them_back():
    entries = [
        ExportEntry("md5", MD5, "=HYPERLINK(\"http://example.org\")", {"note": "+1", "by": "@ngo"}),
        ExportEntry("md5", MD5_B, "-17", {"note": "'quoted", "by": "plain"}),
    ]
    data = export_hash_list(entries, "csv").decode()
    lines = data.split("\r\n")
    assert lines[1] == "md5," + MD5 + ",\"'=HYPERLINK(\"\"http://example.org\"\")\",'@ngo,'+1"
    assert lines[2] == f"md5,{MD5_B},'-17,plain,''quoted"
    back = parse_hash_list(data.encode(), "csv")
    assert [(e.external_id, e.metadata) for e in back] == [
        (e.external_id, dict(e.metadata)) for e in entries]
