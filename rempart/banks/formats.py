"""Import and export of hash lists: ThreatExchange text, CSV and NCMEC hash-sharing XML.

Pure module: bytes in, validated entries out (and back). Every value goes through
``rempart.signals.types.validate_signal``; types are written with their canonical names.

Common rules (all three formats)
--------------------------------
* Import is all-or-nothing: every problem is collected as ``(line, message)`` and raised together
  as ``ImportFormatError``; nothing is returned then. Line numbers start at 1; line 0 means the
  file as a whole (too big, undetectable). At most ``MAX_ERRORS`` problems are collected.
* Duplicates: a second entry with the same canonical ``(signal_type, value)`` is dropped, keeping
  the first one (its line, external id and metadata); the number dropped is reported as
  ``skipped["duplicate"]`` by ``parse_hash_list_with_skips``.
* Type names are case-insensitive and a few ThreatExchange spellings are accepted on import
  (``_TYPE_ALIASES``: python-threatexchange's ``video_md5``, ThreatExchange indicator types
  ``HASH_MD5``, ``HASH_VIDEO_MD5``, ``HASH_PDQ``, ``HASH_SHA1``, ``HASH_SHA256``).
* External ids and metadata values are text: 1..``max_field_chars`` characters, no control
  characters, no surrounding whitespace (import strips it, export refuses it). Metadata keys match
  ``[a-z0-9][a-z0-9_.-]{0,63}``; ``type, value, external_id, signal_type, signal, signal_str,
  hash, id`` are reserved.
* Text formats (te, csv) are UTF-8; one UTF-8 BOM at the start is ignored; lines end in LF or
  CRLF; a line may not hold control characters other than TAB; lines and fields are capped.
* Every entry has at most ``max_metadata`` metadata fields and one external id: a te line with
  more ``key=value`` fields, a csv row with more columns, is an error at its line; an ncmec record
  may hold at most ``max_record_elements`` elements (``rempart.banks.ncmec_xml``). Lines are read
  one at a time from the bytes, so nothing grows with the number of lines but the entries.
* Export validates everything and refuses duplicates, so ``parse(export(x)) == x`` (line numbers
  aside, and for ncmec in the order described in ``rempart.banks.ncmec_xml``).
* Streaming (``stream_hash_list``, for lists of millions): the same grammar and checks, read from
  a binary file in chunks and handed out in batches, so memory does not grow with the file;
  duplicates are then left to the caller (the bank service drops them in the database), and the
  errors are raised together after the last batch (the caller discards what it wrote). A te
  chunk whose lines are all canonical ``type value`` pairs is checked with array operations
  and handed out as tuples (``stream_rows``): no Python object per entry.

Format "te": ThreatExchange / HMA text
-------------------------------------
One entry per line, as python-threatexchange's file exchange and ``threatexchange hash`` write it,
``<signal_type> <value>``, optionally followed by rempart's ``key=value`` fields::

    line    = *WS ( "#" *CHAR / entry ) *WS
    entry   = type 1*WS value *(1*WS field) [1*WS "#" *CHAR]     ; trailing comment
    field   = key "=" pct-text                                     ; key "external_id" or metadata
    WS      = SP / HTAB

``pct-text`` is percent-encoded UTF-8 (``%41`` or raw ``A`` both read as ``A``; a ``%`` not
followed by two hex digits is an error). Blank lines and ``#`` lines are ignored. Export writes
``type SP value``, then ``external_id=`` if any, then metadata keys in sorted order, each value
percent-encoded with ``_TE_SAFE`` left raw, one SP between fields, LF after each line::

    # a comment
    pdq f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22 external_id=case-17 source=ngo%20a
    md5 d41d8cd98f00b204e9800998ecf8427e

With ``default_type="md5"`` each line holds no type: ``<value> *(field)`` (plain hash lists).

Format "csv": RFC 4180
----------------------
Comma-separated, fields optionally in double quotes with ``""`` for a quote; a quoted field may
not span lines; a quote inside an unquoted field or text after a closing quote is an error.
Without a header each row is ``type,value[,external_id]`` (more columns are an error). The first
non-blank row is a header when it names a type column (``type``/``signal_type``) and a value
column (``value``/``signal``/``signal_str``/``hash``); then ``external_id``/``id`` is the external
id, every other column is a metadata key (so ThreatExchange's ``dataset --csv`` output imports),
and every row must have as many columns as the header; an empty cell means "absent".
Export always writes the header ``type,value,external_id`` plus the sorted union of metadata keys,
quotes a field only when it holds ``,`` or ``"``, and ends every row with CRLF. A cell that a
spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``) is written as text
with an apostrophe in front, and so is one starting with an apostrophe; import removes that
apostrophe (``rempart.spreadsheet``)::

    type,value,external_id,source\r\n
    md5,d41d8cd98f00b204e9800998ecf8427e,"a,b",ngo\r\n
    md5,9e107d9d372bb6826bd81d3542a419d6,'-17,'=cmd\r\n

Format "ncmec": see ``rempart.banks.ncmec_xml``.
"""

from __future__ import annotations

import io
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from rempart.banks import ncmec_xml
from rempart.errors import ImportFormatError, InvalidInput, InvalidSignal, shown
from rempart.spreadsheet import cell_text, text_cell
from rempart.signals.types import signal_type, validate_signal

FORMATS = ("te", "csv", "ncmec")
MAX_ERRORS = 1000

_TYPE_ALIASES = {
    "video_md5": "md5", "hash_md5": "md5", "hash_video_md5": "md5",
    "hash_sha1": "sha1",
    "video_sha256": "sha256", "hash_sha256": "sha256", "hash_video_sha256": "sha256",
    "hash_pdq": "pdq",
}
_TYPE_COLUMNS = ("type", "signal_type")
_VALUE_COLUMNS = ("value", "signal", "signal_str", "hash")
_ID_COLUMNS = ("external_id", "id")
RESERVED_KEYS = frozenset(_TYPE_COLUMNS + _VALUE_COLUMNS + _ID_COLUMNS)
_KEY = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BAD_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_WS = re.compile(r"[ \t]+")
_PCT_TEXT = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")
_TE_SAFE = "!$&'()*+,/:;=?@-._~"
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Limits:
    """Caps applied on import (export writes what import accepts)."""

    max_bytes: int = 256 * 1024 * 1024
    max_entries: int = 5_000_000
    max_line_bytes: int = 16 * 1024
    max_field_chars: int = 1024
    max_metadata: int = 32
    max_record_elements: int = ncmec_xml.MAX_RECORD_ELEMENTS


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class ParsedEntry:
    """One imported entry; ``line`` is where it was read (XML: the fingerprint element's line)."""

    line: int
    signal_type: str
    value: str
    external_id: str | None
    metadata: dict[str, str]


#: an entry as a tuple, the cheap form of a ``ParsedEntry`` for lists of millions:
#: (line, signal_type, value, external_id, metadata), metadata None when there is none
Row = tuple[int, str, str, "str | None", "dict[str, str] | None"]


def _entry(item: ParsedEntry | Row) -> ParsedEntry:
    return item if isinstance(item, ParsedEntry) else ParsedEntry(*item[:4], item[4] or {})


def _row(item: ParsedEntry | Row) -> Row:
    return (item if not isinstance(item, ParsedEntry) else
            (item.line, item.signal_type, item.value, item.external_id, item.metadata or None))


@dataclass(frozen=True)
class ExportEntry:
    """One entry to export; ``signal_type`` and ``value`` are normalised on export."""

    signal_type: str
    value: str
    external_id: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


class _Bad(Exception):
    """A problem with one line or element; becomes an (line, message) pair."""


class _Stop(Exception):
    """Stop reading: too many errors or entries (already recorded)."""


def canonical_type(name: str) -> str:
    """Return the canonical signal type for ``name`` (case and aliases allowed) or raise ``InvalidSignal``."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidSignal("empty signal type")
    key = name.strip().lower()
    return signal_type(_TYPE_ALIASES.get(key, key)).name


def _clean_text(value: str, what: str, limits: Limits) -> str:
    """Check an external id or metadata value (already stripped); raise ``_Bad`` if unfit."""
    if not value:
        raise _Bad(f"empty {what}")
    if len(value) > limits.max_field_chars:
        raise _Bad(f"{what} is {len(value)} characters; limit is {limits.max_field_chars}")
    bad = _BAD_CHARS.search(value)
    if bad:
        raise _Bad(f"{what} holds control character U+{ord(bad.group()):04X}")
    return value


def _check_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise _Bad(f"bad metadata key {shown(key[:40])}: expected [a-z0-9][a-z0-9_.-]{{0,63}}")
    if key in RESERVED_KEYS:
        raise _Bad(f"metadata key {shown(key)} is reserved")
    return key


class _Collector:
    """Validates and deduplicates entries, collects errors; implements ``ncmec_xml.Sink``."""

    def __init__(self, limits: Limits, dedup: bool = True) -> None:
        self.limits = limits
        self.entries: list[ParsedEntry] = []
        self.errors: list[tuple[int, str]] = []
        self.skipped: dict[str, int] = {}
        self.count = 0  # entries accepted so far (also those already handed out in batches)
        self._dedup = dedup
        self._seen: set[tuple[str, str]] = set()

    def error(self, line: int, message: str) -> None:
        self.errors.append((line, message))
        if len(self.errors) >= MAX_ERRORS:
            self.errors.append((line, f"stopped after {MAX_ERRORS} errors"))
            raise _Stop

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def add(self, line: int, type_name: str, value: str,
            external_id: str | None, metadata: Mapping[str, str]) -> None:
        try:
            entry = self._validate(line, type_name, value, external_id, metadata)
        except (_Bad, InvalidSignal) as e:
            self.error(line, str(e))
            return
        self.add_valid(entry)

    def add_plain(self, rows: list[Row]) -> None:
        """Keep plain rows (``(line, type, value, None, None)``, canonical and checked)."""
        if self._dedup or self.count + len(rows) > self.limits.max_entries:
            for line, t, v, _, _ in rows:  # one at a time: duplicates, or the cap's line
                self.add_valid(ParsedEntry(line, t, v, None, {}))
            return
        self.count += len(rows)
        self.entries += rows

    def add_valid(self, entry: ParsedEntry) -> None:
        """Keep an entry already validated (canonical type and value, checked fields)."""
        key = (entry.signal_type, entry.value)
        if self._dedup and key in self._seen:
            self.skip("duplicate")
            return
        if self.count >= self.limits.max_entries:
            self.error(entry.line, f"more than {self.limits.max_entries} entries")
            raise _Stop
        if self._dedup:
            self._seen.add(key)
        self.count += 1
        self.entries.append(entry)

    def _validate(self, line: int, type_name: str, value: str,
                  external_id: str | None, metadata: Mapping[str, str]) -> ParsedEntry:
        if not type_name.strip():
            raise _Bad("empty signal type")
        if not value.strip():
            raise _Bad("empty value")
        t, v = validate_signal(canonical_type(type_name), value)
        if len(metadata) > self.limits.max_metadata:
            raise _Bad(f"{len(metadata)} metadata fields; limit is {self.limits.max_metadata}")
        meta = {_check_key(k): _clean_text(m.strip(), f"metadata {shown(k)}", self.limits)
                for k, m in metadata.items()}
        ext = None
        if external_id is not None and external_id.strip():
            ext = _clean_text(external_id.strip(), "external id", self.limits)
        return ParsedEntry(line, t, v, ext, meta)


# ---------------------------------------------------------------- entry points


def parse_hash_list(data: bytes, fmt: str, *, default_type: str | None = None,
                    limits: Limits = DEFAULT_LIMITS) -> list[ParsedEntry]:
    """Parse a whole hash list in format ``fmt`` (one of ``FORMATS``).

    Returns the deduplicated entries in file order, or raises ``ImportFormatError`` listing every
    problem (nothing is imported then). ``default_type`` applies to "te" only (lines without a
    type); ``InvalidInput`` for an unknown ``fmt`` or non-bytes ``data``.
    """
    return parse_hash_list_with_skips(data, fmt, default_type=default_type, limits=limits)[0]


def parse_hash_list_with_skips(
    data: bytes, fmt: str, *, default_type: str | None = None, limits: Limits = DEFAULT_LIMITS,
) -> tuple[list[ParsedEntry], dict[str, int]]:
    """Like ``parse_hash_list``, also returning what was skipped without being an error.

    ``skipped`` maps a reason to a count: ``"duplicate"`` (same type and value as an earlier
    entry), and for ncmec ``"deleted"`` (deletedImage/deletedVideo records) and the tag of each
    fingerprint rempart cannot use (``"pdna"`` for PhotoDNA, ``"tmk-pdqf"``, ...).
    """
    _check_fmt(fmt)
    if not isinstance(data, (bytes, bytearray)):
        raise InvalidInput("a hash list must be given as bytes")
    if len(data) > limits.max_bytes:
        raise ImportFormatError([(0, f"file is {len(data)} bytes; limit is {limits.max_bytes}")])
    col = _Collector(limits)
    for _ in _read(io.BytesIO(bytes(data)), fmt, col, default_type, batch=0):
        pass
    if col.errors:
        raise ImportFormatError(col.errors)
    return [_entry(e) for e in col.entries], col.skipped


#: caps of a streamed import: memory does not grow with the file, so only sanity bounds remain
STREAM_LIMITS = Limits(max_bytes=64 * 1024**3, max_entries=200_000_000)
STREAM_BATCH = 20_000
_CHUNK = 1 << 20


class StreamedImport:
    """What ``stream_hash_list`` read: counts of entries, skips and bytes, filled as it goes."""

    def __init__(self) -> None:
        self.entries = 0
        self.bytes_read = 0
        self.skipped: dict[str, int] = {}


def stream_hash_list(source: BinaryIO, fmt: str, *, default_type: str | None = None,
                     limits: Limits = STREAM_LIMITS, batch: int = STREAM_BATCH,
                     stats: StreamedImport | None = None) -> Iterator[list[ParsedEntry]]:
    """Read a hash list from a binary file in chunks; yield lists of at most ``batch`` valid
    entries in file order (duplicates included: see the module doc).

    After the last batch, ``ImportFormatError`` lists every problem if there was any; once a
    problem is found no further batch is yielded (reading goes on to report the others).
    ``stats`` (optional) is updated as reading goes, for a progress bar.
    """
    for rows in stream_rows(source, fmt, default_type=default_type, limits=limits, batch=batch,
                            stats=stats):
        yield [_entry(r) for r in rows]


def stream_rows(source: BinaryIO, fmt: str, *, default_type: str | None = None,
                limits: Limits = STREAM_LIMITS, batch: int = STREAM_BATCH,
                stats: StreamedImport | None = None) -> Iterator[list[Row]]:
    """``stream_hash_list`` with each entry as a ``Row`` tuple: the bulk import's path (a te
    list of plain lines is read without one Python object per entry)."""
    _check_fmt(fmt)
    if batch < 1:
        raise InvalidInput("batch must be at least 1")
    stats = stats if stats is not None else StreamedImport()
    col = _Collector(limits, dedup=False)
    for entries in _read(_Counting(source, stats, limits, col), fmt, col, default_type, batch):
        stats.entries = col.count
        stats.skipped = dict(col.skipped)
        if not col.errors:
            yield [_row(e) for e in entries]
    stats.entries, stats.skipped = col.count, dict(col.skipped)
    if col.errors:
        raise ImportFormatError(col.errors)


class _Counting:
    """A binary reader that counts bytes and stops past ``limits.max_bytes`` (a line-0 error)."""

    def __init__(self, source: BinaryIO, stats: StreamedImport, limits: Limits,
                 col: _Collector) -> None:
        self.source, self.stats, self.limits, self.col = source, stats, limits, col

    def _count(self, data: bytes) -> bytes:
        self.stats.bytes_read += len(data)
        if self.stats.bytes_read > self.limits.max_bytes:
            self.col.error(0, f"file is more than {self.limits.max_bytes} bytes; "
                              f"limit is {self.limits.max_bytes}")
            raise _Stop
        return data

    def read(self, n: int) -> bytes:
        return self._count(self.source.read(n))

    def readline(self, n: int) -> bytes:
        return self._count(self.source.readline(n))


def _read(source, fmt: str, col: _Collector, default_type: str | None,
          batch: int) -> Iterator[list[ParsedEntry]]:
    """Parse ``source`` (``read``/``readline``) into ``col``; with ``batch`` > 0, hand out and
    clear ``col.entries`` whenever it holds ``batch`` entries, and at the end."""
    if default_type is not None and fmt != "te":
        raise InvalidInput("default_type applies to the te format only")
    if default_type is not None:
        default_type = canonical_type(default_type)

    def ready(final: bool = False) -> Iterator[list[ParsedEntry]]:
        while batch and len(col.entries) >= batch:  # a te chunk may hold several batches
            out, col.entries = col.entries[:batch], col.entries[batch:]
            yield out
        if batch and col.entries and final:
            out, col.entries = col.entries, []
            yield out

    try:
        if fmt == "ncmec":
            reader = ncmec_xml.StreamReader(col, max_elements=col.limits.max_record_elements,
                                            max_text=col.limits.max_line_bytes)
            while True:
                chunk = source.read(_CHUNK)
                reader.feed(chunk)
                yield from ready()
                if not chunk:
                    break
        elif fmt == "csv":
            for _ in _read_csv(_lines(source, col), col):
                yield from ready()
        else:
            for _ in _te_chunks(source, col, default_type):
                yield from ready()
    except _Stop:
        pass
    yield from ready(final=True)


def detect_format(data: bytes, filename: str | None = None) -> str:
    """Guess the format of a hash list; returns one of ``FORMATS``.

    A ``filename`` ending in ``.xml`` or ``.csv`` decides. Otherwise the content does: first
    non-blank byte ``<`` -> ncmec; first line that is neither blank nor a ``#`` comment holding a
    comma before any space or tab -> csv; any other line -> te. Raises ``ImportFormatError`` (line
    0) when there is no such line.
    """
    name = (filename or "").lower()
    if name.endswith(".xml"):
        return "ncmec"
    if name.endswith(".csv"):
        return "csv"
    head = data[: 64 * 1024]
    if head.startswith(_BOM):
        head = head[len(_BOM):]
    if head.lstrip().startswith(b"<"):
        return "ncmec"
    for raw in head.split(b"\n"):
        line = raw.strip()
        if not line or line.startswith(b"#"):
            continue
        comma = line.find(b",")
        blank = min((i for i in (line.find(b" "), line.find(b"\t")) if i >= 0), default=-1)
        return "csv" if comma >= 0 and (blank < 0 or comma < blank) else "te"
    raise ImportFormatError([(0, "cannot detect the format: no entry found")])


def export_hash_list(entries: Iterable[ExportEntry], fmt: str) -> bytes:
    """Write ``entries`` in format ``fmt``, byte for byte as the module docstring shows.

    Types and values are normalised; ``InvalidSignal``/``InvalidInput`` for a bad value, an
    unfit external id or metadata, or a duplicate (type, value) (which import would drop).
    """
    _check_fmt(fmt)
    rows = list(_validated_rows(entries))
    if fmt == "te":
        return "".join(_te_row(*r) for r in rows).encode("utf-8")
    if fmt == "csv":
        return _csv_export(rows).encode("utf-8")
    return ncmec_xml.write(rows)


def export_hash_list_stream(entries: Callable[[], Iterable[ExportEntry]], fmt: str,
                            piece: int = 1 << 20) -> Iterator[bytes]:
    """``export_hash_list`` in pieces of about ``piece`` bytes, for lists of millions.

    ``entries`` is called once per pass (csv reads them twice: the header names every metadata
    key; ncmec three times: counts, images, videos), each time giving the same entries, which
    must be unique by (type, value) (a bank's are): duplicates are not looked for here. The
    pieces joined are exactly ``export_hash_list``'s bytes; a bad entry raises part way.
    """
    _check_fmt(fmt)
    if fmt == "ncmec":
        yield from _chunked(ncmec_xml.write_stream(lambda: _validated_rows(entries(), False)),
                            piece)
        return
    if fmt == "csv":
        keys = sorted({k for e in entries() for k in e.metadata})
        head = [_csv_line(["type", "value", "external_id", *keys])]
        lines = (_csv_line([t, v, ext or "", *(meta.get(k, "") for k in keys)])
                 for t, v, ext, meta in _validated_rows(entries(), False))
        yield from _chunked((s.encode("utf-8") for s in _chain(head, lines)), piece)
        return
    yield from _chunked((_te_row(*r).encode("utf-8") for r in _validated_rows(entries(), False)),
                        piece)


def _chain(*parts: Iterable[str]) -> Iterator[str]:
    for part in parts:
        yield from part


def _chunked(parts: Iterable[bytes], piece: int) -> Iterator[bytes]:
    buf: list[bytes] = []
    size = 0
    for p in parts:
        buf.append(p)
        size += len(p)
        if size >= piece:
            yield b"".join(buf)
            buf, size = [], 0
    if buf:
        yield b"".join(buf)


def _check_fmt(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown hash-list format {shown(fmt)}; known: {', '.join(FORMATS)}")


def _validated_rows(entries: Iterable[ExportEntry], unique: bool = True
                    ) -> Iterator[tuple[str, str, str | None, dict[str, str]]]:
    """Each entry checked and normalised; with ``unique``, a repeated (type, value) is refused
    (that remembers every pair: the streaming export leaves it to its caller)."""
    seen: set[tuple[str, str]] = set()
    for n, e in enumerate(entries, 1):
        try:
            t, v = validate_signal(canonical_type(e.signal_type), e.value)
        except InvalidSignal as err:
            raise InvalidSignal(f"entry {n}: {err}") from None
        if unique:
            if (t, v) in seen:
                raise InvalidInput(f"entry {n}: same {t} value as an earlier entry")  # no hash in logs
            seen.add((t, v))
        if len(e.metadata) > DEFAULT_LIMITS.max_metadata:
            raise InvalidInput(f"entry {n}: more than {DEFAULT_LIMITS.max_metadata} metadata fields")
        try:
            ext = None if e.external_id is None else _exact_text(e.external_id, "external id")
            meta = {_check_key(k): _exact_text(m, f"metadata {shown(k)}")
                    for k, m in e.metadata.items()}
        except _Bad as err:
            raise InvalidInput(f"entry {n}: {err}") from None
        yield (t, v, ext, meta)


def _exact_text(value: str, what: str) -> str:
    if not isinstance(value, str) or value != value.strip():
        raise _Bad(f"{what} must be text without surrounding whitespace")
    return _clean_text(value, what, DEFAULT_LIMITS)


# ---------------------------------------------------------------- lines (te, csv)


def _lines(source, col: _Collector) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) for each decodable, non-blank line; report the others.

    One line at a time from ``source`` (``readline``), never more than the line cap in memory;
    the newline after the last line ends it, it does not start another."""
    cap = col.limits.max_line_bytes
    line_no = 0
    first = True
    while True:
        raw = source.readline(cap + 2)  # the line, its CR LF, and one byte to see it is too long
        if not raw:
            return
        line_no += 1
        if first:
            first = False
            if raw.startswith(_BOM):
                raw = raw[len(_BOM):]
        size, tail = len(raw), raw[-2:]
        while not tail.endswith(b"\n"):  # too long (or the last line): read on to its end
            more = source.readline(cap + 2)
            if not more:
                break
            size, tail = size + len(more), (tail + more)[-2:]
            if size <= cap + 2:
                raw += more
        end = size - (1 if tail.endswith(b"\n") else 0)
        if end and (tail[:end - size] if end < size else tail).endswith(b"\r"):
            end -= 1  # the CR of a CRLF (or a CR ending the last line)
        if end > cap:
            col.error(line_no, f"line is {end} bytes; limit is {cap}")
            continue
        text = _line_text(line_no, raw[:end], col)
        if text is not None:
            yield line_no, text


def _line_text(line_no: int, raw: bytes, col: _Collector) -> str | None:
    """The text of one line (its LF and CR already cut, within the cap), or None when it is
    blank or bad (reported)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        col.error(line_no, f"invalid UTF-8 at byte {e.start + 1} of the line")
        return None
    bad = _LINE_BAD_CHARS.search(text)
    if bad:
        col.error(line_no, f"control character U+{ord(bad.group()):04X} at column {bad.start() + 1}")
        return None
    return text if text.strip(" \t") else None


#: bytes read at a time by the te reader (a few hundred lines: memory stays one batch)
_TE_CHUNK = 1 << 16


def _te_chunks(source, col: _Collector, default_type: str | None) -> Iterator[None]:
    """Read te lines from ``source`` into ``col`` a chunk at a time (the rules of ``_lines``);
    yields after each chunk. A plain ``type value`` line is taken straight from its bytes (it
    is ASCII without control characters: the checks of ``_lines`` hold), any other line goes
    through ``_line_text`` and ``_read_te_line``."""
    cap = col.limits.max_line_bytes
    plain = None if default_type else _TE_PLAIN_BYTES.fullmatch
    line_no = 0
    rest = b""
    long_size, long_cr = -1, False  # an over-long line being skipped: bytes so far, ends in CR
    started = False

    def general(n: int, raw: bytes) -> None:
        text = _line_text(n, raw, col)
        if text is not None:
            try:
                _read_te_line(n, text, col, default_type)
            except _Bad as e:
                col.error(n, str(e))

    while True:
        chunk = source.read(_TE_CHUNK)
        eof = not chunk
        if long_size >= 0:  # skip to the end of the over-long line, then report its size
            nl = chunk.find(b"\n")
            if nl < 0 and not eof:
                long_size += len(chunk)
                long_cr = chunk.endswith(b"\r")
                continue
            end = long_size + (nl if nl >= 0 else 0)
            cr = chunk[nl - 1:nl] == b"\r" if nl > 0 else long_cr
            col.error(line_no, f"line is {end - cr} bytes; limit is {cap}")
            long_size, chunk = -1, chunk[nl + 1:] if nl >= 0 else b""
        data = rest + chunk if rest else chunk
        if not started:
            if len(data) < len(_BOM) and not eof:
                rest = data
                continue
            started = True
            if data.startswith(_BOM):
                data = data[len(_BOM):]
        if not eof:
            cut = data.rfind(b"\n")
            lines, rest = (data[:cut].split(b"\n") if cut >= 0 else []), data[cut + 1:]
        else:  # end of file: the last line needs no newline (and one does not start another)
            lines, rest = data.split(b"\n"), b""
            if not lines[-1]:
                lines.pop()
        region = data[:cut] if not eof else data[:-1] if data.endswith(b"\n") else data
        fast = _plain_chunk(region, line_no, len(lines)) \
            if plain is not None and lines else None
        if fast is not None:
            col.add_plain(fast)
            line_no += len(lines)
            lines = []
        for raw in lines:
            line_no += 1
            if raw.endswith(b"\r"):
                raw = raw[:-1]  # the CR of a CRLF
            if len(raw) > cap:
                col.error(line_no, f"line is {len(raw)} bytes; limit is {cap}")
                continue
            m = plain(raw) if plain is not None else None
            if m is not None and len(m[2]) == _DIGITS_BYTES[m[1]]:
                col.add_plain([(line_no, _TYPE_NAMES[m[1]], m[2].decode("ascii"), None, None)])
            else:
                general(line_no, raw)
        if len(rest) > cap + 1:  # no newline within the cap: an over-long line, skipped
            line_no += 1
            long_size, long_cr, rest = len(rest), rest.endswith(b"\r"), b""
        yield
        if eof:
            return


# ---------------------------------------------------------------- te


#: a te line that is one canonical ``type value`` pair and nothing else (most lines of a big
#: list): read without the general path; any other line takes it (same result either way)
_TE_PLAIN = re.compile(r"[ \t]*(pdq|sha256|md5|sha1)[ \t]+([0-9a-f]{32,64})[ \t]*")
_DIGITS = {"pdq": 64, "sha256": 64, "md5": 32, "sha1": 40}
_TE_PLAIN_BYTES = re.compile(_TE_PLAIN.pattern.encode())
_HEX = np.zeros(256, bool)
_HEX[np.frombuffer(b"0123456789abcdef", np.uint8)] = True
#: the exact canonical lines ``type SP value`` (CR LF too) read by ``_plain_chunk``, and their
#: prefixes as byte arrays
_PLAIN_SHAPES = [(name, np.frombuffer(name.encode() + b" ", np.uint8), n)
                 for name, n in _DIGITS.items()]


def _plain_chunk(region: bytes, line_no: int, n_lines: int) -> list[Row] | None:
    """Rows for ``n_lines`` lines (``region``, LF-separated) when every one is exactly
    ``type SP value`` (canonical type, lowercase hex of its length; a CR may end it), checked
    with array operations; None when any line is not (the lines are then read one by one)."""
    a = np.frombuffer(region, np.uint8)
    nl = np.flatnonzero(a == 10)
    if nl.shape[0] != n_lines - 1:
        return None
    starts = np.empty(n_lines, np.int64)
    starts[0], starts[1:] = 0, nl + 1
    ends = np.empty(n_lines, np.int64)
    ends[:-1], ends[-1] = nl, a.shape[0]
    cr = np.zeros(n_lines, bool)
    nonempty = ends > starts
    cr[nonempty] = a[ends[nonempty] - 1] == 13
    ends = ends - cr
    lengths = ends - starts
    kind = np.full(n_lines, -1, np.int8)
    for k, (_, prefix, digits) in enumerate(_PLAIN_SHAPES):
        cand = np.flatnonzero(lengths == prefix.shape[0] + digits)
        if not cand.shape[0]:
            continue
        s0 = starts[cand]
        ok = (a[s0[:, None] + np.arange(prefix.shape[0])] == prefix).all(1)
        ok &= _HEX[a[s0[:, None] + np.arange(prefix.shape[0], prefix.shape[0] + digits)]].all(1)
        kind[cand[ok]] = k
    if (kind < 0).any():
        return None
    text = region.decode("ascii")
    offsets = np.array([p.shape[0] for _, p, _ in _PLAIN_SHAPES])[kind]
    values = [text[b:e] for b, e in zip((starts + offsets).tolist(), ends.tolist())]
    names = [name for name, _, _ in _PLAIN_SHAPES]
    types = [names[k] for k in kind.tolist()] if (kind != kind[0]).any() else \
        [names[kind[0]]] * n_lines
    return list(zip(range(line_no + 1, line_no + n_lines + 1), types, values,
                    [None] * n_lines, [None] * n_lines))
_DIGITS_BYTES = {k.encode(): n for k, n in _DIGITS.items()}
_TYPE_NAMES = {k.encode(): k for k in _DIGITS}


def _read_te_line(line_no: int, text: str, col: _Collector, default_type: str | None) -> None:
    plain = None if default_type else _TE_PLAIN.fullmatch(text)
    if plain is not None and len(plain.group(2)) == _DIGITS[plain.group(1)]:
        col.add_valid(ParsedEntry(line_no, plain.group(1), plain.group(2), None, {}))
        return
    tokens = _WS.split(text.strip(" \t"))
    if tokens[0].startswith("#"):
        return
    for i, tok in enumerate(tokens):
        if i and tok.startswith("#"):
            del tokens[i:]  # trailing comment
            break
    head = 1 if default_type else 2
    if len(tokens) < head:
        raise _Bad("expected '<signal_type> <value>', found one field")
    if len(tokens) - head > 1 + col.limits.max_metadata:
        raise _Bad(f"{len(tokens) - head} fields after the value; limit is "
                   f"{1 + col.limits.max_metadata} (an external id and the metadata)")
    type_name, value = (default_type, tokens[0]) if default_type else (tokens[0], tokens[1])
    external_id, metadata = None, {}
    for tok in tokens[head:]:
        key, eq, raw = tok.partition("=")
        if not eq:
            raise _Bad(f"expected key=value after the value, got {shown(tok[:20])}")
        if key in metadata or (key == "external_id" and external_id is not None):
            raise _Bad(f"field {shown(key)} given twice")
        decoded = _pct_decode(raw, key)
        if key != "external_id":
            metadata[_check_key(key)] = decoded
        elif decoded.strip():
            external_id = decoded
        else:
            raise _Bad("empty external_id")
    col.add(line_no, type_name, value, external_id, metadata)


def _pct_decode(raw: str, key: str) -> str:
    if not _PCT_TEXT.fullmatch(raw):
        raise _Bad(f"field {shown(key)}: '%' must be followed by two hex digits")
    try:
        return urllib.parse.unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise _Bad(f"field {shown(key)}: percent-escapes are not valid UTF-8") from None


def _te_row(t: str, v: str, ext: str | None, meta: dict[str, str]) -> str:
    fields = [t, v]
    if ext is not None:
        fields.append("external_id=" + urllib.parse.quote(ext, safe=_TE_SAFE))
    fields += [f"{k}={urllib.parse.quote(meta[k], safe=_TE_SAFE)}" for k in sorted(meta)]
    return " ".join(fields) + "\n"


# ---------------------------------------------------------------- csv


def _read_csv(lines: Iterator[tuple[int, str]], col: _Collector) -> Iterator[None]:
    """Read rows into ``col``, yielding after each (so the caller can hand out batches)."""
    header: list[str] | None = None
    first = True
    for line_no, text in lines:
        try:
            cells = [cell_text(c) for c in _split_csv(text, 3 + col.limits.max_metadata)]
            if first:
                first = False
                header = _csv_header(cells)
                if header is not None:
                    continue
            _csv_row(line_no, cells, header, col)
        except _Bad as e:
            col.error(line_no, str(e))
        yield


def _csv_header(cells: list[str]) -> list[str] | None:
    """Return column roles ("type", "value", "external_id" or a metadata key), or None if data."""
    names = [c.strip().lower() for c in cells]
    if not (set(names) & set(_TYPE_COLUMNS) and set(names) & set(_VALUE_COLUMNS)):
        return None
    roles = []
    for name in names:
        role = ("type" if name in _TYPE_COLUMNS else "value" if name in _VALUE_COLUMNS
                else "external_id" if name in _ID_COLUMNS else _check_key(name))
        if role in roles:
            raise _Bad(f"header names column {shown(role)} twice")
        roles.append(role)
    return roles


def _csv_row(line_no: int, cells: list[str], header: list[str] | None, col: _Collector) -> None:
    if header is None:
        if len(cells) < 2:
            raise _Bad("expected type,value[,external_id]: only one column")
        if len(cells) > 3:
            raise _Bad(f"too many columns ({len(cells)}): expected type,value[,external_id]; "
                       "a header row can name metadata columns")
        header = ["type", "value", "external_id"][: len(cells)]
    elif len(cells) != len(header):
        raise _Bad(f"{len(cells)} columns but the header has {len(header)}")
    row = dict(zip(header, cells))
    metadata = {k: v.strip() for k, v in row.items()
                if k not in ("type", "value", "external_id") and v.strip()}
    col.add(line_no, row["type"], row["value"], row.get("external_id"), metadata)


def _split_csv(text: str, max_cells: int) -> list[str]:
    """Split one RFC 4180 record that fits on one line; raise ``_Bad`` on bad quoting or on more
    than ``max_cells`` cells (type, value, external id and the metadata)."""
    fields: list[str] = []
    i, n = 0, len(text)
    while True:
        if len(fields) >= max_cells:
            raise _Bad(f"more than {max_cells} columns")
        if i < n and text[i] == '"':
            parts, j = [], i + 1
            while True:
                k = text.find('"', j)
                if k < 0:
                    raise _Bad(f"unterminated quoted field from column {i + 1} "
                               "(a field cannot span lines)")
                parts.append(text[j:k])
                if text.startswith('""', k):
                    parts.append('"')
                    j = k + 2
                    continue
                i = k + 1
                break
            if i < n and text[i] != ",":
                raise _Bad(f"unexpected {shown(text[i])} after a closing quote at column {i + 1}")
            fields.append("".join(parts))
        else:
            k = text.find(",", i)
            end = n if k < 0 else k
            quote = text.find('"', i, end)
            if quote >= 0:
                raise _Bad(f"quote inside an unquoted field at column {quote + 1}")
            fields.append(text[i:end])
            i = end
        if i >= n:
            return fields
        i += 1  # the comma


def _csv_export(rows: list[tuple[str, str, str | None, dict[str, str]]]) -> str:
    keys = sorted({k for _, _, _, meta in rows for k in meta})
    out = [_csv_line(["type", "value", "external_id", *keys])]
    for t, v, ext, meta in rows:
        out.append(_csv_line([t, v, ext or "", *(meta.get(k, "") for k in keys)]))
    return "".join(out)


def _csv_line(cells: list[str]) -> str:
    cells = [text_cell(c) for c in cells]
    quoted = ['"' + c.replace('"', '""') + '"' if ("," in c or '"' in c) else c for c in cells]
    return ",".join(quoted) + "\r\n"
