"""What goes into the log, and when a day closes (DB-backed).

Decision leaves. ``record_decision(session, fields, content_sha256, ref)`` appends one decision
leaf (``leaves.format_decision_leaf``) in the caller's transaction and returns its index. The
content is represented by a salted commitment (``leaves.make_commitment``) with a fresh 32-byte
salt per leaf; the opening (salt, content SHA-256, and ``ref``: what the decision was about) is
kept only in the private ``tlog_openings`` table. ``unlink_opening`` deletes it for good.
An ``event`` names what a leaf records (``decision:<id>:<target>``, ``block:<item>``): each
event becomes at most one leaf, however often it is recorded (a retried hook, a race), checked
under the log's append lock and enforced by a unique index.
Automatic blocks are logged by ``TransparencyLog.after_scan``, a ``scanning.service.AfterScan``
hook: one leaf per scan whose verdict is ``block``, nothing for ``review`` or ``allow``.

Days. Every leaf's ``day`` is a UTC day. Reports need each day's decisions contiguous and
followed by the day's report leaf, so:

- the first decision of a later day first closes the open day(s) (``closed_by`` "rollover");
- a decision made after its own day was closed is counted in the next open day;
- ``close_day(D)`` closes D and every earlier open day, then signs a checkpoint; it refuses a
  day already closed and a day after today.

From the first closed day on, every day gets a report (empty ones too), each naming the
previous report, so a verifier can tell a dropped day from a quiet one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rempart.errors import Conflict, InvalidInput, InvariantViolation, NotFound, shown
from rempart.store.db import utcnow
from rempart.transparency.db import log_store
from rempart.transparency.checkpoint import Checkpoint, parse_checkpoint, sign_checkpoint
from rempart.transparency.dsa import HASH_LIST_CLASSIFICATION
from rempart.transparency.keys import DEFAULT_ORIGIN, HomeKeySigner
from rempart.transparency.leaves import (
    VOCABULARY,
    Decision,
    Notice,
    Report,
    format_decision_leaf,
    format_notice_leaf,
    format_report_leaf,
    hash_match_source_type,
    make_commitment,
    recount,
    recount_notices,
    split_day,
)
from rempart.transparency.merkle import stored_hash_count
from rempart.transparency.db.models import LogHash, LogLeaf, LogOpening, LogReport
from rempart.transparency.note import parse_note

#: the leaf fields of an automatic block at upload (plus content_type, day, region, commitment):
#: it acts on the content, and takes effect at upload, before anyone could see it ("immediate")
BLOCK_FIELDS = {
    "kind": "hash_match_block", "decision": "upload_blocked", "target": "content",
    **HASH_LIST_CLASSIFICATION, "source_type": "own_initiative_hash_match",
    "automated_detection": "yes", "automated_decision": "fully", "time_to_action": "immediate",
}  # fmt: skip

Ref = tuple[str, object]


def block_source_type(matches) -> str:
    """An automatic block's ``source_type`` (``hash_match_source_type``): by the provenance of
    its closest counted match, which ``rempart.exchanges`` writes into the match's ledger row."""
    return hash_match_source_type(closest_exchange_kind(matches))


def closest_exchange_kind(matches) -> str | None:
    """The exchange kind of the closest counted match of ledger rows (``ItemMatch``), if any."""
    counted = sorted((m for m in matches if m.status == "counted"), key=lambda m: (m.distance, m.entry_id))
    if not counted:
        return None
    return ((counted[0].detail or {}).get("exchange") or {}).get("kind")


@dataclass(frozen=True)
class ClosedDay:
    day: str
    leaf_index: int
    decisions: int
    notices: int = 0


def day_of(at: dt.datetime) -> dt.date:
    """The UTC day of a naive-UTC or aware datetime."""
    if at.tzinfo is not None:
        at = at.astimezone(dt.timezone.utc)
    return at.date()


def _sha256_bytes(content_sha256: bytes | str) -> bytes:
    if isinstance(content_sha256, str):
        try:
            raw = bytes.fromhex(content_sha256)
        except ValueError:
            raw = b""
    else:
        raw = bytes(content_sha256)
    if len(raw) != 32:
        raise InvalidInput("content_sha256 must be 32 bytes or 64 hex digits")
    return raw


# --- the log's state ----------------------------------------------------------------------


def last_report(session: Session) -> LogReport | None:
    return session.scalars(select(LogReport).order_by(LogReport.leaf_index.desc()).limit(1)).first()


def _pending_day(session: Session, after: int | None) -> dt.date | None:
    """Day of the decisions appended since the last report (they all share one), if any."""
    q = select(LogLeaf.day).order_by(LogLeaf.idx).limit(1)
    if after is not None:
        q = q.where(LogLeaf.idx > after)
    day = session.scalars(q).first()
    return dt.date.fromisoformat(day) if day else None


#: what a report's ``answers`` lines come from: (session, day) -> {(order, agency): (n, median, p95)}
Answers = Callable[[Session, dt.date], dict] | None


def _append_report(session: Session, head, day: dt.date, previous: int | None, closed_by: str,
                   answers: Answers = None) -> ClosedDay:
    start = 0 if previous is None else previous + 1
    entries = log_store.read_entries(session, start, head.size)
    decisions, notices = split_day(entries)
    first, last = (start, head.size - 1) if entries else (None, None)
    report = Report(day.isoformat(), first, last, previous, recount(decisions),
                    recount_notices(notices), answers(session, day) if answers else {})
    idx = log_store.append(session, head, format_report_leaf(report), "report", report.day)
    session.add(LogReport(day=report.day, leaf_index=idx, first=first, last=last, previous=previous,
                          closed_by=closed_by))
    session.flush()
    return ClosedDay(report.day, idx, len(decisions), len(notices))


def _close_through(session: Session, head, through: dt.date, closed_by: str,
                   answers: Answers = None) -> list[ClosedDay]:
    """Close every open day up to and including ``through`` (none if nothing is open)."""
    last = last_report(session)
    previous = last.leaf_index if last else None
    pending = _pending_day(session, previous)
    if last is not None:
        start = dt.date.fromisoformat(last.day) + dt.timedelta(days=1)
    elif pending is not None:
        start = pending
    else:
        return []
    if pending is not None and pending > through and start <= through:
        raise Conflict(f"decisions of {pending} are already in the log; {through} can no longer be closed")
    closed = []
    day = start
    while day <= through:
        c = _append_report(session, head, day, previous, closed_by, answers)
        closed.append(c)
        previous = c.leaf_index
        day += dt.timedelta(days=1)
    return closed


def _leaf_day(session: Session, head, wanted: dt.date, answers: Answers = None) -> dt.date:
    """The day a decision made on ``wanted`` is counted in, closing earlier open days first."""
    last = last_report(session)
    day = wanted
    if last is not None:
        day = max(day, dt.date.fromisoformat(last.day) + dt.timedelta(days=1))
    pending = _pending_day(session, last.leaf_index if last else None)
    if pending is not None:
        day = max(day, pending)
    _close_through(session, head, day - dt.timedelta(days=1), "rollover", answers)
    return day


# --- decisions ----------------------------------------------------------------------------


def record_decision(session: Session, fields: Mapping[str, str], content_sha256: bytes | str, ref: Ref, *,
                    at: dt.datetime | None = None, region: str = "EU", subject: str = "content",
                    event: str | None = None, answers: Answers = None) -> int:
    """Append a decision leaf about the content with SHA-256 ``content_sha256``; return its index.

    ``fields`` are the leaf's vocabulary fields (``leaves.Decision``) without ``commitment``;
    ``day`` and ``region`` may be left out (defaults: the UTC day of ``at``/now, ``region``).
    ``ref`` = (kind, id) names what the decision is about (``("scanned_item", 42)``, a case, a
    notice); it is stored privately with the opening, never in the leaf. ``event`` (at most 100
    characters, private) names the event the leaf records: when it was logged already, nothing
    is appended and the index of its leaf is returned.
    """
    return _record(session, Decision, format_decision_leaf, "decision", fields, content_sha256,
                   ref, at=at, region=region, subject=subject, event=event, answers=answers)


def record_notice(session: Session, fields: Mapping[str, str], content_sha256: bytes | str, ref: Ref, *,
                  at: dt.datetime | None = None, region: str = "EU", event: str | None = None,
                  answers: Answers = None) -> int:
    """Append a notice leaf (``leaves.Notice``: a notice received, or its outcome) committing to
    ``content_sha256`` (the digest of the notice as received); as ``record_decision``."""
    return _record(session, Notice, format_notice_leaf, "notice", fields, content_sha256, ref,
                   at=at, region=region, subject="notice", event=event, answers=answers)


def _record(session: Session, leaf_type, formatter, leaf_kind: str, fields: Mapping[str, str],
            content_sha256: bytes | str, ref: Ref, *, at: dt.datetime | None, region: str,
            subject: str, event: str | None, answers: Answers = None) -> int:
    values = dict(fields)
    if "commitment" in values:
        raise InvalidInput("the commitment is made here, with a fresh salt; do not pass one")
    kind, ref_id = ref
    if not isinstance(kind, str) or not kind or len(kind) > 32 or len(str(ref_id)) > 64:
        raise InvalidInput("ref must be (kind, id) with a kind of 1 to 32 characters")
    if event is not None and not 0 < len(event) <= 100:
        raise InvalidInput("an event name is 1 to 100 characters")
    digest = _sha256_bytes(content_sha256)
    if set(values) - {"day", "region"} - {f for f in leaf_type.__dataclass_fields__}:
        extra = sorted(set(values) - set(leaf_type.__dataclass_fields__))
        raise InvalidInput(f"fields not allowed in a log leaf: {', '.join(extra)}")
    head = log_store.lock_head(session)
    if event is not None and (done := log_store.leaf_of_event(session, event)) is not None:
        return done
    wanted = dt.date.fromisoformat(values.pop("day")) if "day" in values else day_of(at or utcnow())
    day = _leaf_day(session, head, wanted, answers)
    salt = os.urandom(32)
    values.setdefault("region", region)
    values.update(day=day.isoformat(), commitment=make_commitment(salt, digest))
    leaf = Decision.from_fields(values) if leaf_type is Decision else leaf_type(**values)
    idx = log_store.append(session, head, formatter(leaf), leaf_kind, leaf.day, event)
    session.add(LogOpening(leaf_index=idx, salt=salt, content_sha256=digest.hex(), subject=subject,
                           ref_kind=kind, ref_id=str(ref_id)))
    session.flush()
    return idx


def opening(session: Session, index: int) -> LogOpening:
    """PRIVATE: the opening of decision leaf ``index`` (NotFound if none, or unlinked)."""
    row = session.get(LogOpening, index)
    if row is None:
        raise NotFound("opening of log leaf", index)
    return row


def publish_opening(session: Session, index: int, at: dt.datetime | None = None) -> bool:
    """Reveal the opening of leaf ``index`` for good (``openings.json``): for what was committed
    in confidence and may now be known (a law-enforcement order whose confidentiality lapsed).
    Idempotent; returns whether it was newly published."""
    row = opening(session, index)
    if row.published_at is not None:
        return False
    row.published_at = at or utcnow()
    session.flush()
    return True


def published_openings(session: Session) -> list[LogOpening]:
    return list(session.scalars(select(LogOpening).where(LogOpening.published_at.is_not(None))
                                .order_by(LogOpening.leaf_index)))


def unlink_opening(session: Session, index: int) -> None:
    """Delete the opening of leaf ``index`` for good: the public leaf no longer links to anything."""
    session.delete(opening(session, index))
    session.flush()


def signals_digest(signals: list[tuple[str, str]]) -> bytes:
    """SHA-256 standing in for the content when only signals were submitted (no file).

    SHA-256 over the sorted lines ``<signal type> <value>\\n`` of the original signals.
    """
    return hashlib.sha256("".join(f"{t} {v}\n" for t, v in sorted(set(signals))).encode()).digest()


# --- the service object the runtime holds ------------------------------------------------


class TransparencyLog(HomeKeySigner):
    """One log: its origin, region, clock, and signing key (loaded or created on first use)."""

    def __init__(self, home: Path, origin: str = DEFAULT_ORIGIN, region: str = "EU",
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        if region not in VOCABULARY["region"]:
            raise InvalidInput(
                f"log region {shown(region)} is not EU, GLOBAL or an EEA country code")
        self.home = Path(home)
        self.origin = origin
        self.region = region
        self.clock = clock
        #: where each daily report's law-enforcement answer times come from (the legal desk)
        self.answers: Answers = None

    def today(self) -> dt.date:
        return day_of(self.clock())

    def record_decision(self, session: Session, fields: Mapping[str, str], content_sha256: bytes | str,
                        ref: Ref, subject: str = "content", event: str | None = None) -> int:
        """``record_decision`` with this log's clock and region (for moderation, appeals, notices)."""
        return record_decision(session, fields, content_sha256, ref, at=self.clock(), region=self.region,
                               subject=subject, event=event, answers=self.answers)

    def record_notice(self, session: Session, fields: Mapping[str, str], content_sha256: bytes | str,
                      ref: Ref, event: str | None = None) -> int:
        """``record_notice`` with this log's clock and region (the hotline's receipts, outcomes)."""
        return record_notice(session, fields, content_sha256, ref, at=self.clock(), region=self.region,
                             event=event, answers=self.answers)

    def after_scan(self, session: Session, item, result) -> None:
        """The ``AfterScan`` hook: one decision leaf for every automatic block, nothing else."""
        if item.verdict != "block":
            return
        sha = next((s.value for s in item.signals if s.signal_type == "sha256" and s.variant == "original"), None)
        if sha is not None:
            digest, subject = sha, "content"
        else:
            signals = [(s.signal_type, s.value) for s in item.signals if s.variant == "original"]
            digest, subject = signals_digest(signals), "signals"
        content_type = item.kind if item.kind in ("image", "video") else "other"
        self.record_decision(session, {**BLOCK_FIELDS, "content_type": content_type,
                                       "source_type": block_source_type(item.matches)}, digest,
                             ("scanned_item", item.id), subject=subject, event=f"block:{item.id}")

    def close_day(self, session: Session, day: dt.date | None = None) -> list[ClosedDay]:
        """Close ``day`` (default yesterday, UTC) and every earlier open day; sign a checkpoint."""
        today = self.today()
        day = day or today - dt.timedelta(days=1)
        if day > today:
            raise InvalidInput(f"{day} has not begun yet (today is {today} UTC)")
        head = log_store.lock_head(session)
        last = last_report(session)
        if last is not None and day <= dt.date.fromisoformat(last.day):
            done = session.get(LogReport, day.isoformat())
            where = f" (report leaf {done.leaf_index}, {done.closed_by})" if done else ""
            raise Conflict(f"{day} is already closed{where}")
        pending = _pending_day(session, last.leaf_index if last else None)
        if pending is not None and pending > day:
            raise Conflict(f"decisions of {pending} are already in the log; {day} can no longer be closed")
        closed = _close_through(session, head, day, "close-day", self.answers)
        if not closed:
            closed = [_append_report(session, head, day, None, "close-day", self.answers)]
        self.sign_checkpoint(session)
        return closed

    def sign_checkpoint(self, session: Session) -> bytes:
        """Sign (or reuse) the checkpoint of the log's current size and keep it.

        Reusing takes no lock; signing takes the append lock, so the size cannot move under it.
        """
        existing = log_store.latest_checkpoint(session)
        if existing is not None and parse_checkpoint(parse_note(existing)[0]).size == log_store.tree_size(session):
            return existing
        size = log_store.lock_head(session).size
        existing = log_store.latest_checkpoint(session)
        if existing is not None and parse_checkpoint(parse_note(existing)[0]).size == size:
            return existing
        signed = sign_checkpoint(Checkpoint(self.origin, size, log_store.root(session, size)), [self.signer])
        log_store.store_checkpoint(session, signed)
        return signed

    def checkpoint_covering(self, session: Session, index: int) -> bytes:
        """A signed checkpoint containing leaf ``index`` (signing the current one if needed)."""
        if not 0 <= index < log_store.tree_size(session):
            raise NotFound("log leaf", index)
        signed = log_store.checkpoint_covering(session, index)
        return signed if signed is not None else self.sign_checkpoint(session)


def check_stored_hashes(session: Session) -> None:
    """Cheap self-check: the number of stored hashes matches the head."""
    size = log_store.tree_size(session)
    n = session.scalar(select(func.count()).select_from(LogHash))
    if n != stored_hash_count(size):
        raise InvariantViolation(f"{n} stored hashes for a log of {size} leaves")
