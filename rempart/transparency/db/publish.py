"""``rempart transparency publish DIR``: everything a verifier needs, and nothing private.

Layout of DIR (serve it with any static web server)::

    checkpoint                    the latest signed checkpoint (C2SP tlog-checkpoint)
    tile/<L>/<N>[.p/<W>]          hash tiles (C2SP tlog-tiles), for every signed tree size
    tile/entries/<N>[.p/<W>]      entry bundles: the leaves themselves
    checkpoints/<size>            every checkpoint the log ever signed (immutable)
    vkey                          the log's verifier key, one line
    reports/index.json            {"origin", "reports": [{"day", "leaf_index", "decisions",
                                  "banned_items", "banned_spaces"}]}  (from each report leaf's counts)
    reports/<day>.json            the daily report (see ``reports``)
    reports/<day>.html            the same as a page with charts
    reports/<day>.sor.json        the day's DSA statements of reasons
    index.html                    links to every report

Tiles are written for every signed checkpoint's size, so each checkpoint ever handed out (in a
report, a receipt) stays provable. Immutable files are never rewritten with other bytes; a
republish only adds what is new. Openings, salts, item references and scan data never leave the
database: publication reads only ``tlog_leaves``, ``tlog_hashes``, ``tlog_checkpoints`` and
``tlog_reports``.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.errors import Conflict, InvariantViolation, shown
from rempart.transparency.db import log_store
from rempart.transparency.checkpoint import parse_checkpoint
from rempart.transparency.leaves import parse_day_leaf, parse_report_leaf
from rempart.transparency.db.models import LogReport
from rempart.transparency.note import parse_note
from rempart.transparency.db.html import DayPoint, render_html
from rempart.transparency.reports import enforcement, report_document, report_summary, statements_for
from rempart.transparency.db.service import TransparencyLog
from rempart.transparency.tiledlog import _write_atomic, write_checkpoint, write_tiles

HISTORY_DAYS = 30


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
    """Sign the current checkpoint if needed and write the log, its reports and its key to ``directory``."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    already = _published_size(root, log.origin)
    latest = log.sign_checkpoint(session)
    size = log_store.tree_size(session)
    out = Published(root, size)
    entries, hashes = log_store.LeafSequence(session, size), log_store.DbHashReader(session)
    prev = 0
    for cp_size, signed in log_store.all_checkpoints(session):
        if cp_size > already:
            out.tiles += len(write_tiles(root, entries, hashes, prev, cp_size))
        _write_once(root / "checkpoints" / str(cp_size), signed)
        prev = cp_size
    write_checkpoint(root, latest)
    _write_atomic(root / "vkey", (log.vkey() + "\n").encode())
    _publish_reports(session, log.origin, root, out)
    return out


def _publish_reports(session: Session, origin: str, root: Path, out: Published) -> None:
    rows = session.scalars(select(LogReport).order_by(LogReport.leaf_index)).all()
    folder = root / "reports"
    folder.mkdir(exist_ok=True)
    history: list[DayPoint] = []
    index = []
    for row in rows:
        total = 0 if row.first is None else row.last - row.first + 1
        report = parse_report_leaf(log_store.read_entries(session, row.leaf_index, row.leaf_index + 1)[0])
        banned = enforcement(report.counts)["banned"]
        history = (history + [DayPoint(row.day, total, banned["content"], banned["space"])])[-HISTORY_DAYS:]
        index.append({"day": row.day, "leaf_index": row.leaf_index, "decisions": total,
                      "banned_items": banned["content"], "banned_spaces": banned["space"]})
        target = folder / f"{row.day}.json"
        if target.exists():
            continue
        checkpoint = log_store.checkpoint_covering(session, row.leaf_index)
        if checkpoint is None:
            continue  # not signed yet: published with the next checkpoint
        leaves = [] if row.first is None else log_store.read_entries(session, row.first, row.last + 1)
        decisions = [parse_day_leaf(x) for x in leaves]
        summary = report_summary(origin, row.leaf_index, report, decisions)
        sor = statements_for(origin, report.first or 0, decisions)
        _write_atomic(folder / f"{row.day}.sor.json", _json(sor))
        _write_atomic(folder / f"{row.day}.html", render_html(summary, history).encode())
        _write_atomic(target, _json(report_document(summary, checkpoint)))
        out.reports.append(row.day)
    _write_atomic(folder / "index.json", _json({"origin": origin, "reports": index}))
    links = "\n".join(f'<li><a href="reports/{html.escape(r["day"])}.html">{html.escape(r["day"])}</a> '
                      f'({r["decisions"]} decisions)</li>' for r in reversed(index))
    page = (f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(origin)}</title>"
            f"<h1>Transparency log {html.escape(origin)}</h1><p>Verifier key: <code>vkey</code>; "
            f"latest checkpoint: <code>checkpoint</code>.</p><ul>\n{links}\n</ul></html>\n")
    _write_atomic(root / "index.html", page.encode())


def _json(obj: dict) -> bytes:
    return (json.dumps(obj, indent=1, ensure_ascii=True) + "\n").encode()
