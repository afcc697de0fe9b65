"""Writing, reading and exporting the audit log.

``record`` is the only writer (insert only). Reading and exporting need ``AUDIT_READ`` /
``AUDIT_EXPORT`` and are themselves audited. Exports are JSON Lines, one entry per line, in id
order, so an export can be resumed with ``after_id``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.audit.events import AuditEvent
from rempart.audit.models import AuditEntry
from rempart.errors import InvalidInput, shown
from rempart.authz.permissions import Permission as P
from rempart.authz.principal import Actor, require
from rempart.store.db import utcnow

MAX_PAGE = 1000


def record(session: Session, actor: Actor | None, event: AuditEvent, *, case_id: int | None = None,
           subject: str = "", detail: dict | None = None, at: dt.datetime | None = None,
           actor_label: str | None = None) -> AuditEntry:
    """Append one entry (in the caller's transaction: it commits with what it describes)."""
    if not isinstance(event, AuditEvent):
        raise InvalidInput(f"not an audit event: {shown(event)}")
    entry = AuditEntry(at=at or utcnow(), event=event.value, case_id=case_id, subject=subject[:200],
                       actor=actor_label or (actor.label if actor else "system:anonymous"),
                       actor_user_id=actor.user_id if actor else None, detail=detail or {})
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilter:
    case_id: int | None = None
    actor_user_id: int | None = None
    event: AuditEvent | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    after_id: int = 0


def _query(f: AuditFilter):
    q = select(AuditEntry).where(AuditEntry.id > f.after_id).order_by(AuditEntry.id)
    if f.case_id is not None:
        q = q.where(AuditEntry.case_id == f.case_id)
    if f.actor_user_id is not None:
        q = q.where(AuditEntry.actor_user_id == f.actor_user_id)
    if f.event is not None:
        q = q.where(AuditEntry.event == f.event.value)
    if f.since is not None:
        q = q.where(AuditEntry.at >= f.since)
    if f.until is not None:
        q = q.where(AuditEntry.at < f.until)
    return q


def read(session: Session, actor: Actor, f: AuditFilter = AuditFilter(),
         limit: int = 100) -> list[AuditEntry]:
    """One page of entries matching ``f`` (oldest first). Needs ``AUDIT_READ``."""
    require(actor, P.AUDIT_READ)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    rows = list(session.scalars(_query(f).limit(limit)))
    record(session, actor, AuditEvent.AUDIT_READ, case_id=f.case_id,
           detail={"after_id": f.after_id, "returned": len(rows)})
    return rows


def entry_json(e: AuditEntry) -> dict:
    return {"id": e.id, "at": e.at.isoformat(), "actor": e.actor,
            "actor_user_id": e.actor_user_id, "event": e.event, "case_id": e.case_id,
            "subject": e.subject, "detail": e.detail or {}}


def export_jsonl(session: Session, actor: Actor, f: AuditFilter = AuditFilter()) -> Iterator[str]:
    """Every matching entry as JSON Lines (streamed in pages). Needs ``AUDIT_EXPORT``; the export
    itself is recorded before the first line is produced."""
    require(actor, P.AUDIT_EXPORT)
    record(session, actor, AuditEvent.AUDIT_EXPORTED, case_id=f.case_id,
           detail={"after_id": f.after_id})
    session.flush()
    after = f.after_id
    while True:
        page = list(session.scalars(_query(AuditFilter(**{**f.__dict__, "after_id": after}))
                                    .limit(MAX_PAGE)))
        if not page:
            return
        for e in page:
            yield json.dumps(entry_json(e), sort_keys=True) + "\n"
        after = page[-1].id
