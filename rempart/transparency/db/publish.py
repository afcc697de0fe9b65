"""What the log publishes, path by path: one implementation for ``rempart transparency publish DIR``
(static hosting) and for ``rempart serve`` (``/log/`` and ``/transparency/``, live).

Layout (each path with its media type and HTTP caching, ``Publication.file``)::

    checkpoint                    the checkpoint the log serves (C2SP tlog-checkpoint): the newest
                                  one carrying the witness quorum's cosignatures, with them (see
                                  ``witnesses.served_checkpoint``); mutable, cached 5 s
    tile/<L>/<N>[.p/<W>]          hash tiles (C2SP tlog-tiles), for every signed tree size
    tile/entries/<N>[.p/<W>]      entry bundles: the leaves themselves. Full tiles and bundles are
                                  immutable (cached a year); partial ones are only needed until
                                  the tile fills (cached a minute)
    checkpoints/<size>            every checkpoint the log ever signed, log signature only (immutable)
    vkey                          the log's verifier key, one line
    reports/index.json            {"origin", "reports": [{"day", "leaf_index", "decisions",
                                  "banned_items", "banned_spaces"}]}  (from each report leaf's counts)
    reports/<day>.json            the daily report (see ``reports``)
    reports/<day>.html            the same as a page with charts
    reports/<day>.sor.json        the day's DSA statements of reasons
    index.html                    every day, with its page, JSON and statements of reasons
    openings.json                 {"origin", "openings": [{"leaf_index", "salt", "content_sha256",
                                  "subject", "published_at"}]}: the openings deliberately revealed
                                  (law-enforcement orders committed in confidence, revealed when
                                  their confidentiality lapsed); check one with
                                  ``rempart verify opening``

A day's report files exist once a signed checkpoint contains its report leaf. Tiles exist for
every signed checkpoint's size, so each checkpoint ever handed out (in a report, a receipt) stays
provable. ``publish`` writes the same bytes ``file`` serves; immutable files are never rewritten
with other bytes, and a republish only adds what is new. Openings, salts, item references and
scan data never leave the database (but the openings revealed on purpose): publication reads only ``tlog_leaves``, ``tlog_hashes``,
``tlog_checkpoints``, ``tlog_reports`` and the witnesses' cosignatures.
"""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.errors import Conflict, InvalidInput, InvariantViolation, NotFound, shown
from rempart.transparency.checkpoint import parse_checkpoint
from rempart.transparency.db import log_store, witnesses
from rempart.transparency.db.html import DayPoint, render_html
from rempart.transparency.db.models import LogCheckpoint, LogLeaf, LogReport
from rempart.transparency.db.service import TransparencyLog, published_openings
from rempart.transparency.leaves import parse_day_leaf, parse_report_leaf
from rempart.transparency.note import parse_note
from rempart.transparency.reports import enforcement, report_document, report_summary, statements_for
from rempart.transparency.tiledlog import _write_atomic, write_checkpoint, write_tiles
from rempart.transparency.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    format_entry_bundle,
    parse_tile_path,
    read_tile_data,
    tile_width,
)

HISTORY_DAYS = 30
#: HTTP caching per kind of file (C2SP tlog-tiles: the checkpoint a few seconds, tiles long)
IMMUTABLE = "public, max-age=31536000, immutable"
CHECKPOINT_CACHE = "public, max-age=5"
PARTIAL_CACHE = "public, max-age=60"
INDEX_CACHE = "public, max-age=60"
REPORT_CACHE = "public, max-age=86400"
TEXT = "text/plain; charset=utf-8"
BINARY = "application/octet-stream"
JSON = "application/json"
HTML = "text/html; charset=utf-8"
_REPORT_PATH = re.compile(r"reports/(\d{4}-\d{2}-\d{2})\.(json|html|sor\.json)")
_ARCHIVE_PATH = re.compile(r"checkpoints/(0|[1-9]\d{0,18})")


@dataclass(frozen=True)
class PublishedFile:
    data: bytes
    content_type: str
    cache_control: str


@dataclass(frozen=True)
class Day:
    """One closed day, from its report row and report leaf."""

    day: str
    leaf_index: int
    first: int | None
    last: int | None
    decisions: int
    banned_items: int
    banned_spaces: int

    def index_entry(self) -> dict:
        return {"day": self.day, "leaf_index": self.leaf_index, "decisions": self.decisions,
                "banned_items": self.banned_items, "banned_spaces": self.banned_spaces}


class Publication:
    """The published files of ``log``, read from ``session`` when asked."""

    def __init__(self, session: Session, log: TransparencyLog) -> None:
        self.session = session
        self.log = log
        self._days: list[Day] | None = None

    # -- the log (C2SP) ------------------------------------------------------------------------

    def checkpoint(self) -> bytes:
        signed = witnesses.served_checkpoint(self.session)
        if signed is None:
            raise NotFound("published file", "checkpoint")
        return signed

    def tile(self, path: str) -> PublishedFile:
        """A hash tile or entry bundle that some signed checkpoint's tree needs."""
        try:
            tile = parse_tile_path(path)
        except InvalidInput:
            raise NotFound("published file", path) from None
        level = max(tile.level, 0)
        # the signed sizes whose tree has this tile at this width
        lo = (tile.index * TILE_WIDTH + tile.width) << (TILE_HEIGHT * level)
        hi = lo + (1 << (TILE_HEIGHT * level)) if tile.width < TILE_WIDTH else None
        q = select(LogCheckpoint.size).where(LogCheckpoint.size >= lo)
        if hi is not None:
            q = q.where(LogCheckpoint.size < hi)
        size = self.session.scalar(q.limit(1))
        if size is None or tile_width(tile.level, tile.index, size) != tile.width:
            raise NotFound("published file", path)
        if tile.is_bundle:
            start = tile.index * TILE_WIDTH
            data = format_entry_bundle(log_store.read_entries(self.session, start, start + tile.width))
        else:
            data = read_tile_data(tile, log_store.DbHashReader(self.session))
        return PublishedFile(data, BINARY, IMMUTABLE if tile.width == TILE_WIDTH else PARTIAL_CACHE)

    # -- reports -------------------------------------------------------------------------------

    def days(self) -> list[Day]:
        """Every closed day, oldest first (one query for the rows, one for their report leaves)."""
        if self._days is None:
            rows = self.session.scalars(select(LogReport).order_by(LogReport.leaf_index)).all()
            leaves = dict(self.session.execute(select(LogLeaf.idx, LogLeaf.data).where(LogLeaf.kind == "report")).all())
            self._days = []
            for row in rows:
                banned = enforcement(parse_report_leaf(bytes(leaves[row.leaf_index])).counts)["banned"]
                total = 0 if row.first is None else row.last - row.first + 1
                self._days.append(Day(row.day, row.leaf_index, row.first, row.last, total,
                                      banned["content"], banned["space"]))
        return self._days

    def report_files(self, position: int) -> dict[str, bytes] | None:
        """The JSON, page and statements of reasons of ``days()[position]``; None until a signed
        checkpoint contains its report leaf."""
        days = self.days()
        d = days[position]
        checkpoint = log_store.checkpoint_covering(self.session, d.leaf_index)
        if checkpoint is None:
            return None
        report = parse_report_leaf(log_store.read_entries(self.session, d.leaf_index, d.leaf_index + 1)[0])
        leaves = [] if d.first is None else log_store.read_entries(self.session, d.first, d.last + 1)
        decisions = [parse_day_leaf(x) for x in leaves]
        summary = report_summary(self.log.origin, d.leaf_index, report, decisions)
        history = [DayPoint(x.day, x.decisions, x.banned_items, x.banned_spaces)
                   for x in days[max(0, position + 1 - HISTORY_DAYS) : position + 1]]
        return {
            f"reports/{d.day}.json": _json(report_document(summary, checkpoint)),
            f"reports/{d.day}.html": render_html(summary, history).encode(),
            f"reports/{d.day}.sor.json": _json(statements_for(self.log.origin, report.first or 0, decisions)),
        }

    def openings(self) -> bytes:
        return _json({"origin": self.log.origin, "openings": [
            {"leaf_index": o.leaf_index, "salt": base64.b64encode(o.salt).decode(),
             "content_sha256": o.content_sha256, "subject": o.subject,
             "published_at": o.published_at.isoformat(timespec="seconds") + "Z"}
            for o in published_openings(self.session)]})

    def report_index(self) -> bytes:
        return _json({"origin": self.log.origin, "reports": [d.index_entry() for d in self.days()]})

    def index_page(self) -> bytes:
        """Every day, newest first, with its page, its JSON and its statements of reasons."""
        origin = html.escape(self.log.origin)
        rows = "\n".join(
            f'<tr><td><a href="reports/{d.day}.html">{d.day}</a></td><td class="n">{d.decisions}</td>'
            f'<td class="n">{d.banned_items}</td><td class="n">{d.banned_spaces}</td>'
            f'<td><a href="reports/{d.day}.json">JSON</a> · '
            f'<a href="reports/{d.day}.sor.json">statements of reasons</a></td></tr>'
            for d in reversed(self.days()))
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Transparency log {origin}</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{padding:.2rem .5rem;text-align:left}}.n{{text-align:right}}
code{{font-size:.85rem;word-break:break-all}}</style></head><body>
<h1>Transparency log {origin}</h1>
<p>One report per UTC day of enforcement, each a leaf of an append-only Merkle log that anyone
can verify. Verifier key: <a href="vkey">vkey</a>; latest checkpoint: <a href="checkpoint">checkpoint</a>;
all reports as data: <a href="reports/index.json">reports/index.json</a>.</p>
<table id="days"><thead><tr><th>Day</th><th class="n">decisions</th><th class="n">items banned</th>
<th class="n">spaces banned</th><th>data</th></tr></thead>
<tbody>
{rows or '<tr><td colspan="5">no day closed yet</td></tr>'}
</tbody></table>
<pre>rempart verify report DAY --log &lt;this site&gt; --vkey &lt;the log's verifier key&gt; [--witness WITNESS_VKEY ...]</pre>
</body></html>
"""
        return page.encode()

    # -- every path ----------------------------------------------------------------------------

    def file(self, path: str) -> PublishedFile:
        """The file published at ``path`` (``NotFound`` for any other path)."""
        if path == "checkpoint":
            return PublishedFile(self.checkpoint(), TEXT, CHECKPOINT_CACHE)
        if path.startswith("tile/"):
            return self.tile(path)
        if path == "vkey":
            return PublishedFile((self.log.vkey() + "\n").encode(), TEXT, INDEX_CACHE)
        if path in ("index.html", ""):
            return PublishedFile(self.index_page(), HTML, INDEX_CACHE)
        if path == "reports/index.json":
            return PublishedFile(self.report_index(), JSON, INDEX_CACHE)
        if path == "openings.json":
            return PublishedFile(self.openings(), JSON, INDEX_CACHE)
        found = _ARCHIVE_PATH.fullmatch(path)
        if found:
            row = self.session.get(LogCheckpoint, int(found.group(1)))
            if row is not None:
                return PublishedFile(bytes(row.signed), TEXT, IMMUTABLE)
        found = _REPORT_PATH.fullmatch(path)
        if found:
            position = next((i for i, d in enumerate(self.days()) if d.day == found.group(1)), None)
            files = None if position is None else self.report_files(position)
            if files is not None:
                kind = HTML if path.endswith(".html") else JSON
                return PublishedFile(files[path], kind, REPORT_CACHE)
        raise NotFound("published file", path)


# --- static publication -------------------------------------------------------------------------


@dataclass
class Published:
    directory: Path
    size: int
    tiles: int = 0
    reports: list[str] = field(default_factory=list)


def _published_size(directory: Path, origin: str) -> int:
    path = directory / "checkpoint"
    if not path.exists():
        return 0
    cp = parse_checkpoint(parse_note(path.read_bytes())[0])
    if cp.origin != origin:
        raise Conflict(f"{directory} holds the log {shown(cp.origin)}, not {shown(origin)}")
    return cp.size


def _write_once(path: Path, data: bytes) -> bool:
    if path.exists():
        if path.read_bytes() != data:
            raise InvariantViolation(f"{path} exists with different bytes: publication would rewrite history")
        return False
    _write_atomic(path, data)
    return True


def publish(session: Session, log: TransparencyLog, directory: str | Path) -> Published:
    """Sign the current checkpoint if needed and write the publication to ``directory``: the
    same bytes ``Publication.file`` serves, path for path."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    already = _published_size(root, log.origin)
    log.sign_checkpoint(session)
    pub = Publication(session, log)
    size = log_store.tree_size(session)
    out = Published(root, size)
    entries, hashes = log_store.LeafSequence(session, size), log_store.DbHashReader(session)
    prev = 0
    for cp_size, signed in log_store.all_checkpoints(session):
        if cp_size > already:
            out.tiles += len(write_tiles(root, entries, hashes, prev, cp_size))
        _write_once(root / "checkpoints" / str(cp_size), signed)
        prev = cp_size
    write_checkpoint(root, pub.checkpoint())
    _write_atomic(root / "vkey", pub.file("vkey").data)
    (root / "reports").mkdir(exist_ok=True)
    for position, d in enumerate(pub.days()):
        if (root / "reports" / f"{d.day}.json").exists():
            continue
        files = pub.report_files(position)
        if files is None:
            continue  # not signed yet: published with the next checkpoint
        for suffix in ("sor.json", "html", "json"):  # the JSON last: it marks the day as written
            rel = f"reports/{d.day}.{suffix}"
            _write_atomic(root / rel, files[rel])
        out.reports.append(d.day)
    _write_atomic(root / "reports" / "index.json", pub.report_index())
    _write_atomic(root / "openings.json", pub.openings())
    _write_atomic(root / "index.html", pub.index_page())
    return out


def _json(obj: dict) -> bytes:
    return (json.dumps(obj, indent=1, ensure_ascii=True) + "\n").encode()

