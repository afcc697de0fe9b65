"""NCMEC hash-sharing XML (the ``entries`` answer of the v2 API), read and written.

Pure module used by ``rempart.banks.formats`` (format name "ncmec"); it knows the XML shape,
``formats`` validates values and collects errors through a ``Sink``.

Shape read (namespace ignored; elements not named here, e.g. ``feedback`` or ``paging``, ignored)::

    <queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">
      <images count="2" maxTimestamp="2017-10-24T15:10:00Z">
        <image>                                      one record per image
          <member id="42">Example Member</member>    optional
          <timestamp>2017-10-24T15:00:00Z</timestamp> optional
          <id>image1</id>                            optional entry id
          <classification>A1</classification>       optional
          <fingerprints>                             required, at least one child
            <md5>...</md5> <sha1>...</sha1> <sha256>...</sha256> <pdq>...</pdq>
            <pdna>...</pdna>                         PhotoDNA: skipped and counted
          </fingerprints>
        </image>
        <deletedImage>...</deletedImage>            skipped and counted as "deleted"
      </images>
      <videos ...> <video>...</video> <deletedVideo>...</deletedVideo> </videos>
    </queryResult>

Each usable fingerprint becomes one entry: type = the tag (md5, sha1, sha256, pdq), line = the
fingerprint element's line, external id = ``<id>``, metadata ``ncmec.media`` ("image"/"video"),
and where present ``ncmec.member_id`` (``member/@id``), ``ncmec.member`` (its text),
``ncmec.timestamp``, ``ncmec.classification``. Other fingerprint tags (``tmk-pdqf``,
``videntifier``, ...) are skipped and counted under their tag. Text is stripped of surrounding
whitespace.

Safety: the document must be UTF-8 (any declared encoding is overridden); a DOCTYPE, entity
declaration or external entity reference is refused before anything is expanded; nesting is
capped at ``MAX_DEPTH``; only the record being read is kept, and it may hold at most
``max_elements`` elements (its children, the fingerprints and whatever they contain) and
``max_text`` characters of text per element: a record of millions of children is an error at the
first one too many, not gigabytes of nodes. Size and entry caps are applied by the caller.

Written form (``write``): exactly the shape above with two-space indentation, LF line ends, the
XML declaration ``<?xml version="1.0" encoding="UTF-8" standalone="yes"?>``, the v2 namespace,
``<images>`` then ``<videos>`` (each only if non-empty, ``count`` = records, ``maxTimestamp`` =
greatest ``ncmec.timestamp`` if any). Consecutive entries with the same external id and metadata
and distinct types share one record, so parsing the output gives back the entries: images first,
then videos, each in their original order. An entry without ``ncmec.media`` is written as an
image. Metadata keys other than the ``ncmec.*`` ones above cannot be written (``InvalidInput``).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Protocol
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from rempart.errors import InvalidInput

NAMESPACE = "https://hashsharing.ncmec.org/hashsharing/v2"
MAX_DEPTH = 16
MAX_RECORD_ELEMENTS = 256
MAX_TEXT = 64 * 1024
FINGERPRINT_TYPES = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "pdq": "pdq"}
META_KEYS = ("ncmec.media", "ncmec.member_id", "ncmec.member", "ncmec.timestamp",
             "ncmec.classification")
_SECTIONS = {"images": "image", "videos": "video"}
_SINGLE_CHILDREN = ("member", "timestamp", "id", "classification", "fingerprints")


class Sink(Protocol):
    """Receives what the reader finds; any of these may raise to stop reading."""

    def add(self, line: int, type_name: str, value: str,
            external_id: str | None, metadata: Mapping[str, str]) -> None: ...

    def error(self, line: int, message: str) -> None: ...

    def skip(self, reason: str) -> None: ...


class _Fatal(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class _Node:
    __slots__ = ("tag", "attrs", "line", "text", "text_size", "children")

    def __init__(self, tag: str, attrs: dict[str, str], line: int) -> None:
        self.tag, self.attrs, self.line = tag, attrs, line
        self.text: list[str] = []
        self.text_size = 0
        self.children: list[_Node] = []

    def content(self) -> str:
        return "".join(self.text).strip()


def read(data: bytes, sink: Sink, *, max_elements: int = MAX_RECORD_ELEMENTS,
         max_text: int = MAX_TEXT) -> None:
    """Read an NCMEC entries document, passing entries, errors and skips to ``sink``."""
    reader = StreamReader(sink, max_elements=max_elements, max_text=max_text)
    reader.feed(data)
    reader.feed(b"")


class StreamReader:
    """``read`` in pieces: ``feed`` each chunk of the document, then ``feed(b"")`` to end it.
    Only the record being read is kept; after an error the remaining chunks are ignored."""

    def __init__(self, sink: Sink, *, max_elements: int = MAX_RECORD_ELEMENTS,
                 max_text: int = MAX_TEXT) -> None:
        self.sink = sink
        self._reader = _Reader(sink, max_elements, max_text)
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._lines = 0  # newlines in the chunks already fed
        self._done = False

    def feed(self, chunk: bytes) -> None:
        if self._done:
            return
        final = not chunk
        try:
            self._utf8.decode(chunk, final)
        except UnicodeDecodeError as e:
            self._done = True
            self.sink.error(self._lines + chunk.count(b"\n", 0, max(e.start, 0)) + 1,
                            "invalid UTF-8")
            return
        self._lines += chunk.count(b"\n")
        try:
            self._reader.parser.Parse(chunk, final)
        except _Fatal as e:
            self._done = True
            self.sink.error(e.line, str(e))
        except expat.ExpatError as e:
            self._done = True
            self.sink.error(e.lineno, f"malformed XML: {expat.ErrorString(e.code)} "
                                      f"at column {e.offset + 1}")
        if final:
            self._done = True


class _Reader:
    """Streams the document; keeps only the record being read in memory."""

    def __init__(self, sink: Sink, max_elements: int, max_text: int) -> None:
        self.sink = sink
        self.max_elements, self.max_text = max_elements, max_text
        self.record_elements = 0  # elements inside the record being read
        self.stack: list[_Node] = []
        self.parser = expat.ParserCreate("utf-8", "}")
        p = self.parser
        p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        p.StartDoctypeDeclHandler = self._refuse("a DOCTYPE")
        p.EntityDeclHandler = self._refuse("an entity declaration")
        p.ExternalEntityRefHandler = self._refuse("an external entity")
        p.StartElementHandler = self._start
        p.EndElementHandler = self._end
        p.CharacterDataHandler = self._text
        p.buffer_text = True

    def parse(self, data: bytes) -> None:
        self.parser.Parse(data, True)

    def _refuse(self, what: str):
        def handler(*_args: object) -> None:
            raise _Fatal(self.parser.CurrentLineNumber, f"{what} is not accepted in a hash list")
        return handler

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        node = _Node(name.rpartition("}")[2], attrs, self.parser.CurrentLineNumber)
        depth = len(self.stack) + 1
        if depth > MAX_DEPTH:
            raise _Fatal(node.line, f"elements nested deeper than {MAX_DEPTH}")
        if depth == 1 and node.tag != "queryResult":
            raise _Fatal(node.line, f"root element is <{node.tag}>, expected <queryResult>")
        if depth == 3:
            self.record_elements = 0
        if depth >= 4 and self._in_section():
            self.record_elements += 1
            if self.record_elements > self.max_elements:
                raise _Fatal(node.line, f"<{self.stack[2].tag}> holds more than "
                                        f"{self.max_elements} elements")
            self.stack[-1].children.append(node)  # inside a record: keep the subtree
        self.stack.append(node)

    def _in_section(self) -> bool:
        return len(self.stack) >= 2 and self.stack[1].tag in _SECTIONS

    def _text(self, data: str) -> None:
        if len(self.stack) >= 3 and self._in_section():
            node = self.stack[-1]
            node.text_size += len(data)
            if node.text_size > self.max_text:
                raise _Fatal(self.parser.CurrentLineNumber,
                             f"<{node.tag}> holds more than {self.max_text} characters of text")
            node.text.append(data)

    def _end(self, _name: str) -> None:
        node = self.stack.pop()
        if len(self.stack) == 2 and self._in_section():
            _record(node, _SECTIONS[self.stack[1].tag], self.sink)


def _record(node: _Node, media: str, sink: Sink) -> None:
    """Turn one record element into entries (or an error or a skip)."""
    if node.tag == "deleted" + media.capitalize():
        sink.skip("deleted")
        return
    if node.tag != media:
        sink.error(node.line, f"unexpected <{node.tag}> in <{media}s>")
        return
    children: dict[str, _Node] = {}
    for child in node.children:
        if child.tag in _SINGLE_CHILDREN:
            if child.tag in children:
                sink.error(child.line, f"<{media}> has more than one <{child.tag}>")
                return
            children[child.tag] = child
    fingerprints = children.get("fingerprints")
    if fingerprints is None or not fingerprints.children:
        sink.error(node.line, f"<{media}> without fingerprints")
        return
    metadata = _metadata(media, children)
    id_node = children.get("id")
    external_id = id_node.content() if id_node is not None else None
    for fp in fingerprints.children:
        type_name = FINGERPRINT_TYPES.get(fp.tag)
        if type_name is None:
            sink.skip(fp.tag)
            continue
        sink.add(fp.line, type_name, fp.content(), external_id, metadata)


def _metadata(media: str, children: dict[str, _Node]) -> dict[str, str]:
    meta = {"ncmec.media": media}
    member = children.get("member")
    if member is not None:
        if member.attrs.get("id", "").strip():
            meta["ncmec.member_id"] = member.attrs["id"].strip()
        if member.content():
            meta["ncmec.member"] = member.content()
    for tag in ("timestamp", "classification"):
        if tag in children and children[tag].content():
            meta["ncmec." + tag] = children[tag].content()
    return meta


# ---------------------------------------------------------------- writing


Row = tuple[str, str, "str | None", dict[str, str]]


def write(rows: list[Row]) -> bytes:
    """Write validated (type, value, external id, metadata) rows as an entries document."""
    return b"".join(write_stream(lambda: rows))


def write_stream(rows: Callable[[], Iterable[Row]]) -> Iterator[bytes]:
    """``write`` in pieces (one per record), reading ``rows()`` three times: once to count each
    section's records and find its ``maxTimestamp``, once per section to write it."""
    counts = {"image": 0, "video": 0}
    stamps: dict[str, list[str]] = {"image": [], "video": []}
    for media, record in _records(rows(), None):
        counts[media] += 1
        if "ncmec.timestamp" in record[0][3]:
            stamp = record[0][3]["ncmec.timestamp"]
            stamps[media] = [max(stamps[media] + [stamp])]
    yield ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           f"<queryResult xmlns={quoteattr(NAMESPACE)}>\n").encode("utf-8")
    for media in ("image", "video"):
        if not counts[media]:
            continue
        attrs = f' count="{counts[media]}"' + (
            f" maxTimestamp={quoteattr(stamps[media][0])}" if stamps[media] else "")
        yield f"  <{media}s{attrs}>\n".encode("utf-8")
        for _, record in _records(rows(), media):
            yield ("\n".join(_record_lines(media, record)) + "\n").encode("utf-8")
        yield f"  </{media}s>\n".encode("utf-8")
    yield b"</queryResult>\n"


def _records(rows: Iterable[Row], only: str | None) -> Iterator[tuple[str, list[Row]]]:
    """(media, rows of one record): consecutive rows with the same external id and metadata
    and distinct types share a record; with ``only``, the records of that media alone."""
    last: list[Row] | None = None
    last_media = ""
    for row in rows:
        t, _, ext, meta = row
        if t not in FINGERPRINT_TYPES:
            raise InvalidInput(f"signal type '{t}' has no NCMEC fingerprint tag")
        extra = sorted(set(meta) - set(META_KEYS))
        if extra:
            raise InvalidInput(f"metadata {', '.join(extra)} cannot be written in ncmec format")
        media = meta.get("ncmec.media", "image")
        if media not in ("image", "video"):
            raise InvalidInput(f"ncmec.media must be image or video, not '{media[:40]}'")
        if last is not None and _same_record(last[0], row) and t not in {r[0] for r in last}:
            last.append(row)
            continue
        if last is not None and (only is None or last_media == only):
            yield last_media, last
        last, last_media = [row], media
    if last is not None and (only is None or last_media == only):
        yield last_media, last


def _same_record(a: Row, b: Row) -> bool:
    norm = lambda m: {**m, "ncmec.media": m.get("ncmec.media", "image")}  # noqa: E731
    return a[2] == b[2] and norm(a[3]) == norm(b[3])


def _record_lines(media: str, record: list[Row]) -> list[str]:
    meta, ext = record[0][3], record[0][2]
    lines = [f"    <{media}>"]
    if "ncmec.member_id" in meta or "ncmec.member" in meta:
        id_attr = f" id={quoteattr(meta['ncmec.member_id'])}" if "ncmec.member_id" in meta else ""
        name = meta.get("ncmec.member")
        lines.append(f"      <member{id_attr}>{escape(name)}</member>" if name
                     else f"      <member{id_attr}/>")
    if "ncmec.timestamp" in meta:
        lines.append(f"      <timestamp>{escape(meta['ncmec.timestamp'])}</timestamp>")
    if ext is not None:
        lines.append(f"      <id>{escape(ext)}</id>")
    if "ncmec.classification" in meta:
        lines.append(f"      <classification>{escape(meta['ncmec.classification'])}</classification>")
    lines.append("      <fingerprints>")
    lines += [f"        <{t}>{v}</{t}>" for t, v, _, _ in record]
    lines += ["      </fingerprints>", f"    </{media}>"]
    return lines
