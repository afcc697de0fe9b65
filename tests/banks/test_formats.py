"""Hash-list import/export: golden files, round trips, every error path, format detection.

All hashes here are random hex or the signal types' documented examples; all ids are made up.
Set REMPART_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate format change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rempart.banks.formats import (
    FORMATS,
    MAX_ERRORS,
    ExportEntry,
    Limits,
    ParsedEntry,
    detect_format,
    export_hash_list,
    parse_hash_list,
    parse_hash_list_with_skips,
)
from rempart.errors import ImportFormatError, InvalidInput, InvalidSignal

FIXTURES = Path(__file__).parent / "fixtures"

MD5 = "a717f50a7dc5226ef094cd4b002b68c8"
SHA1 = "9a1dfac40445af0491d644844a8f8e618cb298dd"
SHA256 = "b450d4a77def588b3ce1b34701879c0570cc76289bd7f38b3ddab6b5edb6ce2f"
PDQ = "806aab3ffd83b569d78217876fdc53859088f20a05dbb51a0e8a1ab6642c2eb6"
MD5_B = "d41d8cd98f00b204e9800998ecf8427e"

GOLDEN = [
    ExportEntry("pdq", PDQ, "case-17", {"source": "ngo a", "category": "A1"}),
    ExportEntry("md5", MD5),
    ExportEntry("sha1", SHA1, 'odd, "quoted" #id 100% é&<x>'),
    ExportEntry("sha256", SHA256, None, {"note": "a=b,c"}),
    ExportEntry("md5", MD5_B, "plain"),
]

NCMEC_META = {"ncmec.media": "image", "ncmec.member_id": "9001",
              "ncmec.member": "Example & <Co>", "ncmec.classification": "A1",
              "ncmec.timestamp": "2026-11-01T08:00:00Z"}
NCMEC_GOLDEN = [
    ExportEntry("md5", MD5, "fake-image-1", NCMEC_META),
    ExportEntry("pdq", PDQ, "fake-image-1", NCMEC_META),
    ExportEntry("sha1", SHA1, "fake-image-2", {"ncmec.media": "image"}),
    ExportEntry("md5", MD5_B, "fake-video-1",
                {"ncmec.media": "video", "ncmec.member_id": "9003",
                 "ncmec.timestamp": "2026-11-02T11:00:00Z"}),
    ExportEntry("sha256", SHA256, None, {"ncmec.media": "video"}),
]

GOLDEN_FILES = {"te": ("golden.te.txt", GOLDEN), "csv": ("golden.csv", GOLDEN),
                "ncmec": ("golden-ncmec.xml", NCMEC_GOLDEN)}


def as_tuples(entries):
    """Entries without their line numbers, for comparing with ExportEntry lists."""
    return [(e.signal_type, e.value, e.external_id, dict(e.metadata)) for e in entries]


def errors_of(data: bytes, fmt: str, **kw) -> list[tuple[int, str]]:
    with pytest.raises(ImportFormatError) as info:
        parse_hash_list(data, fmt, **kw)
    return info.value.errors


def lines_of(errors):
    return [line for line, _ in errors]


# ---------------------------------------------------------------- golden files and round trips


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_matches_golden_file(fmt):
    name, entries = GOLDEN_FILES[fmt]
    out = export_hash_list(entries, fmt)
    if os.environ.get("REMPART_UPDATE_GOLDEN"):
        (FIXTURES / name).write_bytes(out)
    assert out == (FIXTURES / name).read_bytes()


@pytest.mark.parametrize("fmt", FORMATS)
def test_golden_file_parses_back_to_the_same_entries(fmt):
    name, entries = GOLDEN_FILES[fmt]
    parsed = parse_hash_list((FIXTURES / name).read_bytes(), fmt)
    assert as_tuples(parsed) == as_tuples(entries)


@pytest.mark.parametrize("fmt", FORMATS)
def test_parse_then_export_reproduces_golden_bytes(fmt):
    name, _ = GOLDEN_FILES[fmt]
    data = (FIXTURES / name).read_bytes()
    again = [ExportEntry(e.signal_type, e.value, e.external_id, e.metadata)
             for e in parse_hash_list(data, fmt)]
    assert export_hash_list(again, fmt) == data


def test_golden_te_is_readable_and_line_numbered():
    text = (FIXTURES / "golden.te.txt").read_text("utf-8")
    assert text.splitlines()[0] == (
        f"pdq {PDQ} external_id=case-17 category=A1 source=ngo%20a")
    parsed = parse_hash_list(text.encode(), "te")
    assert [e.line for e in parsed] == [1, 2, 3, 4, 5]


def test_golden_csv_header_and_quoting():
    rows = (FIXTURES / "golden.csv").read_bytes().split(b"\r\n")
    assert rows[0] == b"type,value,external_id,category,note,source"
    assert rows[3] == f'sha1,{SHA1},"odd, ""quoted"" #id 100% \u00e9&<x>",,,'.encode()
    assert rows[-1] == b""  # every row, the last included, ends with CRLF


def test_ncmec_export_groups_records_and_puts_images_first():
    mixed = [NCMEC_GOLDEN[3], NCMEC_GOLDEN[0], NCMEC_GOLDEN[1]]
    parsed = parse_hash_list(export_hash_list(mixed, "ncmec"), "ncmec")
    assert as_tuples(parsed) == as_tuples([NCMEC_GOLDEN[0], NCMEC_GOLDEN[1], NCMEC_GOLDEN[3]])
    xml = (FIXTURES / "golden-ncmec.xml").read_text("utf-8")
    assert xml.count("<image>") == 2 and xml.count("<video>") == 2
    assert '<images count="2" maxTimestamp="2026-11-01T08:00:00Z">' in xml


def test_ncmec_entry_without_media_is_written_as_image():
    out = export_hash_list([ExportEntry("md5", MD5, "x1")], "ncmec")
    [entry] = parse_hash_list(out, "ncmec")
    assert entry.metadata == {"ncmec.media": "image"}


@pytest.mark.parametrize("fmt", ("te", "csv"))
def test_round_trip_normalises_type_aliases_and_case(fmt):
    entries = [ExportEntry("HASH_PDQ", PDQ.upper(), "i"), ExportEntry("hash_video_md5", MD5)]
    parsed = parse_hash_list(export_hash_list(entries, fmt), fmt)
    assert as_tuples(parsed) == [("pdq", PDQ, "i", {}), ("md5", MD5, None, {})]


def test_empty_list_round_trips_in_every_format():
    for fmt in FORMATS:
        assert parse_hash_list(export_hash_list([], fmt), fmt) == []


# ---------------------------------------------------------------- accepted shapes


def test_te_accepts_comments_blank_lines_crlf_tabs_bom_and_aliases():
    data = (
        "\ufeff# hash list from a partner\r\n"
        "\r\n"
        f"pdq {PDQ}\r\n"
        f"  VIDEO_MD5\t{MD5.upper()}   # trailing comment\r\n"
        f"hash_sha256 {SHA256} external_id=x%20y note=caf%C3%A9 raw=caf\u00e9\n"
        "   # indented comment\n"
    ).encode("utf-8")
    assert parse_hash_list(data, "te") == [
        ParsedEntry(3, "pdq", PDQ, None, {}),
        ParsedEntry(4, "md5", MD5, None, {}),
        ParsedEntry(5, "sha256", SHA256, "x y", {"note": "caf\u00e9", "raw": "caf\u00e9"}),
    ]


def test_te_default_type_reads_bare_hash_lines():
    data = f"{MD5}\n{MD5_B} external_id=k\n".encode()
    assert as_tuples(parse_hash_list(data, "te", default_type="md5")) == [
        ("md5", MD5, None, {}), ("md5", MD5_B, "k", {})]
    assert lines_of(errors_of(data, "te", default_type="pdq")) == [1, 2]
    with pytest.raises(InvalidInput):
        parse_hash_list(data, "csv", default_type="md5")


def test_csv_without_header_two_or_three_columns():
    data = f'md5,{MD5}\r\n"sha1","{SHA1}","id ""1"", two"\r\npdq,{PDQ},\r\n'.encode()
    assert as_tuples(parse_hash_list(data, "csv")) == [
        ("md5", MD5, None, {}), ("sha1", SHA1, 'id "1", two', {}), ("pdq", PDQ, None, {})]


def test_csv_reads_threatexchange_dataset_export_header():
    data = (
        "collab,signal_type,signal_str,category,tags\r\n"
        f"Sample Data,pdq,{PDQ},POSITIVE_CLASS,media_type_photo\r\n"
        f"Sample Data,video_md5,{MD5},POSITIVE_CLASS,\r\n"
    ).encode()
    assert parse_hash_list(data, "csv") == [
        ParsedEntry(2, "pdq", PDQ, None, {"collab": "Sample Data", "category": "POSITIVE_CLASS",
                                          "tags": "media_type_photo"}),
        ParsedEntry(3, "md5", MD5, None, {"collab": "Sample Data", "category": "POSITIVE_CLASS"}),
    ]


def test_csv_header_may_reorder_columns_and_name_id():
    data = f"ID, Hash ,Type\n a1 ,{MD5},md5\n".encode()
    assert as_tuples(parse_hash_list(data, "csv")) == [("md5", MD5, "a1", {})]


def test_duplicates_keep_the_first_and_are_counted():
    data = f"md5 {MD5} external_id=first\nmd5 {MD5.upper()} external_id=second\nsha1 {SHA1}\n"
    entries, skipped = parse_hash_list_with_skips(data.encode(), "te")
    assert [(e.line, e.external_id) for e in entries] == [(1, "first"), (3, None)]
    assert skipped == {"duplicate": 1}


def test_ncmec_sample_fixture():
    data = (FIXTURES / "ncmec-sample.xml").read_bytes()
    entries, skipped = parse_hash_list_with_skips(data, "ncmec")
    assert [(e.line, e.signal_type, e.external_id) for e in entries] == [
        (12, "md5", "fake-image-0001"), (13, "sha1", "fake-image-0001"),
        (15, "pdq", "fake-image-0001"), (40, "md5", "fake-image-0003"),
        (41, "sha256", "fake-image-0003"), (58, "md5", "fake-video-0001"),
        (59, "sha1", "fake-video-0001"),
    ]
    assert entries[2].value == "fda536a3a434d6f9e7fb3f46c9374388167dd69a83f614dc87a152f460ca36fe"
    assert entries[0].metadata == {
        "ncmec.media": "image", "ncmec.member_id": "9001", "ncmec.member": "Example Platform A",
        "ncmec.timestamp": "2026-11-01T08:00:00Z", "ncmec.classification": "A1"}
    assert entries[5].metadata["ncmec.media"] == "video"
    assert entries[5].metadata["ncmec.member"] == "Example Platform & Co"
    assert skipped == {"pdna": 2, "duplicate": 1, "deleted": 2, "tmk-pdqf": 1, "videntifier": 1}


# ---------------------------------------------------------------- errors, with their lines


@pytest.mark.parametrize("fmt, data, line, words", [
    ("te", f"md5 {MD5}\nmd5 {MD5[:-1]}g\n", 2, "32 hex digits"),
    ("te", f"md5 {MD5}\n\nsha1 {MD5}\n", 3, "40 hex digits"),
    ("te", f"# c\nphotodna {MD5}\n", 2, "unknown signal type"),
    ("te", "md5\n", 1, "expected '<signal_type> <value>'"),
    ("te", f"md5 {MD5} quality=\n", 1, "empty metadata"),
    ("te", f"md5 {MD5} 100\n", 1, "key=value"),
    ("te", f"md5 {MD5} a=1 a=2\n", 1, "twice"),
    ("te", f"md5 {MD5} external_id=\n", 1, "empty external_id"),
    ("te", f"md5 {MD5} Bad-Key=1\n", 1, "bad metadata key"),
    ("te", f"md5 {MD5} hash=1\n", 1, "reserved"),
    ("te", f"md5 {MD5} n=50%\n", 1, "two hex digits"),
    ("te", f"md5 {MD5} n=%ff\n", 1, "not valid UTF-8"),
    ("te", f"md5 {MD5}\nmd5 {MD5_B} n=a\x01b\n", 2, "control character U+0001"),
    ("csv", f"md5,{MD5}\nmd5,\n", 2, "empty value"),
    ("csv", f",{MD5}\n", 1, "empty signal type"),
    ("csv", f'md5,"{MD5}\n', 1, "unterminated quoted field"),
    ("csv", f'md5,{MD5},a"b\n', 1, "quote inside an unquoted field at column 39"),
    ("csv", f'md5,"{MD5}"x\n', 1, "after a closing quote"),
    ("csv", f'md5, "{MD5}"\n', 1, "quote inside an unquoted field"),
    ("csv", f"md5,{MD5}\nmd5,{MD5_B},id,extra\n", 2, "too many columns (4)"),
    ("csv", f"md5\n", 1, "only one column"),
    ("csv", f"type,value\nmd5,{MD5},x\n", 2, "3 columns but the header has 2"),
    ("csv", f"type,value,Type\n", 1, "twice"),
    ("csv", f"type,value,bad key\nmd5,{MD5},1\n", 1, "bad metadata key"),
])
def test_each_error_is_reported_with_its_line(fmt, data, line, words):
    [(got_line, message)] = errors_of(data.encode("utf-8"), fmt)
    assert got_line == line
    assert words in message


def test_all_or_nothing_one_bad_line_among_good_ones():
    good = [f"md5 {i:032x}" for i in range(50)]
    good.insert(30, "md5 not-a-hash")
    with pytest.raises(ImportFormatError) as info:
        parse_hash_list("\n".join(good).encode(), "te")
    assert lines_of(info.value.errors) == [31]
    assert "nothing imported" in str(info.value)


def test_every_error_is_collected_not_just_the_first():
    data = f"md5 x\nsha1 {SHA1}\npdq y\nfoo {MD5}\n".encode()
    assert lines_of(errors_of(data, "te")) == [1, 3, 4]


def test_invalid_utf8_names_its_line():
    data = f"md5 {MD5}\nmd5 {MD5_B} n=\xff\n".encode("latin-1")
    [(line, message)] = errors_of(data, "te")
    assert (line, message) == (2, "invalid UTF-8 at byte 40 of the line")
    assert lines_of(errors_of(b"md5," + MD5.encode() + b"\n\xc3(,x\n", "csv")) == [2]


def test_oversized_file_is_refused_whole():
    limits = Limits(max_bytes=100)
    data = f"md5 {MD5}\nmd5 {MD5_B}\nsha1 {SHA1}\n".encode()
    [(line, message)] = errors_of(data, "te", limits=limits)
    assert line == 0 and "limit is 100" in message
    assert len(parse_hash_list(data[:74], "te", limits=limits)) == 2


def test_oversized_line_and_field():
    limits = Limits(max_line_bytes=60, max_field_chars=10)
    data = f"md5 {MD5}\nmd5 {MD5_B} n={'x' * 30}\nmd5 {'a' * 32} n={'y' * 11}\n".encode()
    errors = errors_of(data, "te", limits=limits)
    assert lines_of(errors) == [2, 3]
    assert "line is 69 bytes; limit is 60" in errors[0][1]
    assert "11 characters; limit is 10" in errors[1][1]


def test_too_many_entries_stops_reading():
    data = "".join(f"md5 {i:032x}\n" for i in range(10)).encode()
    assert len(parse_hash_list(data, "te", limits=Limits(max_entries=10))) == 10
    assert errors_of(data, "te", limits=Limits(max_entries=9)) == [(10, "more than 9 entries")]
    sample = (FIXTURES / "ncmec-sample.xml").read_bytes()
    assert errors_of(sample, "ncmec", limits=Limits(max_entries=3)) == [(40, "more than 3 entries")]


def test_error_collection_is_capped():
    data = b"md5 x\n" * (MAX_ERRORS + 50)
    errors = errors_of(data, "te")
    assert len(errors) == MAX_ERRORS + 1
    assert errors[-1][1] == f"stopped after {MAX_ERRORS} errors"


def test_parse_rejects_unknown_format_and_non_bytes():
    with pytest.raises(InvalidInput):
        parse_hash_list(b"", "json")
    with pytest.raises(InvalidInput):
        parse_hash_list(f"md5 {MD5}", "te")  # type: ignore[arg-type]


# ---------------------------------------------------------------- XML errors and safety


def xml(body: str, head: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{head}'
            f'<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">\n'
            f"{body}</queryResult>\n").encode("utf-8")


def image(fingerprints: str, extra: str = "") -> str:
    return (f"<images>\n<image>\n<id>fake-1</id>{extra}\n"
            f"<fingerprints>\n{fingerprints}</fingerprints>\n</image>\n</images>\n")


def test_xml_doctype_with_entities_is_refused_before_expansion():
    laughs = ('<!DOCTYPE queryResult [\n<!ENTITY a "aaaaaaaaaa">\n'
              '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n')
    assert errors_of(xml("<images>&b;</images>\n", laughs), "ncmec") == [
        (2, "a DOCTYPE is not accepted in a hash list")]


def test_xml_external_entity_is_refused():
    head = '<!DOCTYPE q SYSTEM "file:///etc/passwd">\n'
    assert lines_of(errors_of(xml("", head), "ncmec")) == [2]
    assert "undefined entity" in errors_of(xml("<images>&ext;</images>\n"), "ncmec")[0][1]


def test_malformed_xml_names_its_line():
    [(line, message)] = errors_of(xml(image(f"<md5>{MD5}</md5>\n").replace("</image>", "</imag>")), "ncmec")
    assert line == 9 and message.startswith("malformed XML: mismatched tag")
    assert lines_of(errors_of(b"", "ncmec")) == [1]


def test_xml_record_without_fingerprints():
    body = "<images>\n<image>\n<id>fake-1</id>\n</image>\n<image><fingerprints/></image>\n</images>\n"
    assert errors_of(xml(body), "ncmec") == [
        (4, "<image> without fingerprints"), (7, "<image> without fingerprints")]


def test_xml_bad_fingerprint_names_the_fingerprint_line():
    body = image(f"<md5>{MD5}</md5>\n<sha1>{MD5}</sha1>\n<pdq></pdq>\n")
    errors = errors_of(xml(body), "ncmec")
    assert lines_of(errors) == [8, 9]
    assert "40 hex digits" in errors[0][1] and errors[1][1] == "empty value"


def test_xml_structure_errors():
    assert errors_of(b"<status><member id='1'/></status>", "ncmec") == [
        (1, "root element is <status>, expected <queryResult>")]
    assert errors_of(xml("<images>\n<video/>\n</images>\n"), "ncmec") == [
        (4, "unexpected <video> in <images>")]
    two_ids = image(f"<md5>{MD5}</md5>\n", extra="<id>again</id>")
    assert errors_of(xml(two_ids), "ncmec") == [(5, "<image> has more than one <id>")]
    deep = "<images><image>" + "<x>" * 20 + "</x>" * 20 + "</image></images>"
    assert errors_of(xml(deep), "ncmec")[0][1] == "elements nested deeper than 16"


def test_xml_invalid_utf8_names_its_line():
    data = xml(image(f"<md5>{MD5}</md5>\n", extra="<classification>\xe9</classification>"))
    data = data.replace("\xe9".encode(), b"\xe9")
    assert errors_of(data, "ncmec") == [(5, "invalid UTF-8")]


def test_xml_with_no_records_is_an_empty_list():
    assert parse_hash_list(xml("<paging><next/></paging>\n"), "ncmec") == []


# ---------------------------------------------------------------- export errors


@pytest.mark.parametrize("entry, error", [
    (ExportEntry("md5", "xyz"), InvalidSignal),
    (ExportEntry("photodna", MD5), InvalidSignal),
    (ExportEntry("md5", MD5, " padded"), InvalidInput),
    (ExportEntry("md5", MD5, ""), InvalidInput),
    (ExportEntry("md5", MD5, "line\nbreak"), InvalidInput),
    (ExportEntry("md5", MD5, "x" * 1025), InvalidInput),
    (ExportEntry("md5", MD5, None, {"Bad": "1"}), InvalidInput),
    (ExportEntry("md5", MD5, None, {"external_id": "1"}), InvalidInput),
    (ExportEntry("md5", MD5, None, {"k": "tab\there"}), InvalidInput),
    (ExportEntry("md5", MD5, None, {f"k{i}": "v" for i in range(33)}), InvalidInput),
])
@pytest.mark.parametrize("fmt", ("te", "csv"))
def test_export_refuses_what_import_would_not_give_back(entry, error, fmt):
    with pytest.raises(error):
        export_hash_list([entry], fmt)


def test_export_refuses_duplicates_and_unknown_format():
    with pytest.raises(InvalidInput, match="entry 2: same md5 value as an earlier entry"):
        export_hash_list([ExportEntry("md5", MD5), ExportEntry("video_md5", MD5.upper())], "te")
    with pytest.raises(InvalidInput, match="unknown hash-list format"):
        export_hash_list([], "tsv")


def test_ncmec_export_refuses_metadata_it_cannot_carry():
    with pytest.raises(InvalidInput, match="source cannot be written"):
        export_hash_list([ExportEntry("md5", MD5, "i", {"source": "x"})], "ncmec")
    with pytest.raises(InvalidInput, match="image or video"):
        export_hash_list([ExportEntry("md5", MD5, "i", {"ncmec.media": "audio"})], "ncmec")


# ---------------------------------------------------------------- detection


@pytest.mark.parametrize("data, filename, fmt", [
    (b"anything", "list.XML", "ncmec"),
    (b"md5 abc", "list.csv", "csv"),
    (b"\xef\xbb\xbf  \n<?xml version='1.0'?><queryResult/>", None, "ncmec"),
    (b"# comment, with comma\n\nmd5,abc\n", "hashes.txt", "csv"),
    (b'"type","value"\r\n', None, "csv"),
    (b"type, value\n", None, "csv"),
    (b"# x\npdq abc external_id=a,b\n", None, "te"),
    (b"md5\tabc\n", None, "te"),
    (b"d41d8cd98f00b204e9800998ecf8427e\n", None, "te"),
])
def test_detect_format(data, filename, fmt):
    assert detect_format(data, filename) == fmt


def test_detect_format_on_empty_content_is_an_error():
    with pytest.raises(ImportFormatError):
        detect_format(b"# only a comment\n\n")


@pytest.mark.parametrize("fmt", FORMATS)
def test_detection_recognises_every_golden_file(fmt):
    name, _ = GOLDEN_FILES[fmt]
    assert detect_format((FIXTURES / name).read_bytes()) == fmt
