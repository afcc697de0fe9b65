"""The audit log for leads (and admins): read with filters, export as CSV or JSON Lines.

Read-only by construction: this router has no route but GET, and the table refuses UPDATE and
DELETE at the database too. Reading and exporting are themselves audited by the service.
"""

from __future__ import annotations

import csv
import io
import json

from fastapi import Depends, Query, Request
from fastapi.responses import StreamingResponse

from rempart.audit import AuditEvent, AuditFilter, export_jsonl, read
from rempart.authz import Permission as P
from rempart.errors import InvalidInput
from rempart.spreadsheet import text_cell
from rempart.store.db import MAX_ID
from rempart.web.render import page
from rempart.web.security import Viewer, console_router, needs, runtime_of

router = console_router()
PAGE = 100
CSV_FIELDS = ("id", "at", "actor", "actor_user_id", "event", "case_id", "subject", "detail")


def _filter(case: int | None, event: str, after: int) -> AuditFilter:
    try:
        ev = AuditEvent(event) if event else None
    except ValueError:
        raise InvalidInput(f"unknown audit event '{event}'") from None
    return AuditFilter(case_id=case, event=ev, after_id=after)


@router.get("/audit")
def audit_log(request: Request, case: int | None = Query(None, ge=1, le=MAX_ID),
              event: str = Query("", max_length=48), after: int = Query(0, ge=0, le=MAX_ID),
              viewer: Viewer = Depends(needs(P.AUDIT_READ))):
    f = _filter(case, event, after)
    with runtime_of(request).db.session() as s:
        entries = read(s, viewer.actor, f, limit=PAGE)
        return page(request, "audit.html", viewer, entries=entries, case=case, event=event,
                    events=[e.value for e in AuditEvent], more=len(entries) == PAGE,
                    last=entries[-1].id if entries else after)


def _csv_cell(value) -> str:
    """A cell that a spreadsheet will not run as a formula."""
    return text_cell(json.dumps(value, sort_keys=True) if isinstance(value, dict) else (
        "" if value is None else str(value)))


@router.get("/audit/export")
def audit_export(request: Request, format: str = Query("json", pattern="^(json|csv)$"),
                 case: int | None = Query(None, ge=1, le=MAX_ID),
                 event: str = Query("", max_length=48),
                 viewer: Viewer = Depends(needs(P.AUDIT_EXPORT))):
    f = _filter(case, event, 0)
    db = runtime_of(request).db

    def lines():
        # its own transaction, open while the export streams; the export is recorded first
        with db.session() as s:
            if format == "csv":
                buf = io.StringIO()
                writer = csv.writer(buf)
                writer.writerow(CSV_FIELDS)
                for line in export_jsonl(s, viewer.actor, f):
                    entry = json.loads(line)
                    writer.writerow([_csv_cell(entry[k]) for k in CSV_FIELDS])
                    yield buf.getvalue()
                    buf.seek(0)
                    buf.truncate()
                yield buf.getvalue()
            else:
                yield from export_jsonl(s, viewer.actor, f)

    media = "text/csv" if format == "csv" else "application/x-ndjson"
    name = f"rempart-audit.{'csv' if format == 'csv' else 'jsonl'}"
    return StreamingResponse(lines(), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
