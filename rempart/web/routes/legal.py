"""The Legal desk (role ``legal``): orders and their clocks with warnings, clarification
requests (Form 3 reasons, pausing the clock), answers as signed packages to download,
emergency requests with their callback and two-person approval. Moderators see none of it."""

from __future__ import annotations

from fastapi import Depends, Form, Request
from fastapi.responses import FileResponse

from rempart.audit import AuditEvent, record
from rempart.authz import Permission as P
from rempart.errors import InvalidInput, NotFound
from rempart.legal import EventKind, Form3Reason
from rempart.legal.db import answer, emergency, ledger, orders, stats, tipline, views
from rempart.store.db import RowId
from rempart.web.render import page, redirect
from rempart.web.security import Viewer, console_router, needs, runtime_of

router = console_router()
#: events the desk records from the order's page (answers go through /answer)
DESK_EVENTS = {EventKind.CLARIFICATION_RECEIVED, EventKind.NON_EXECUTION_NOTIFIED, EventKind.EXTENDED,
               EventKind.PRODUCTION_CONFIRMED, EventKind.PRESERVATION_ENDED, EventKind.WITHDRAWN,
               EventKind.DECLINED, EventKind.ENFORCING_AUTHORITY_CLEARED, EventKind.REFUSED}


@router.get("/legal")
def legal_desk(request: Request, viewer: Viewer = Depends(needs(P.LEGAL_DESK))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        rows = [views.summary(s, o) for o in orders.list_orders(s, viewer.actor)]
        return page(request, "legal/desk.html", viewer, rows=rows, vkey=rt.legal.vkey(),
                    answers=stats.desk_stats(s), reports=tipline.reports(rt.db),
                    pending=len(tipline.pending(rt.db)), tipline_url=rt.legal.config.cybertipline_url)


@router.post("/legal/tipline/send")
def legal_tipline_send(request: Request, viewer: Viewer = Depends(needs(P.LEGAL_DESK))):
    """Send (or resume) the pending CyberTipline reports now."""
    rt = runtime_of(request)
    tipline.send_pending(rt.db, rt.legal.config, rt.legal.media_file, rt.transparency)
    return redirect(request, "/legal", done="legal-tipline")


@router.post("/legal/tipline/{tipline_id}/reconcile")
def legal_tipline_reconcile(request: Request, tipline_id: RowId, how: str = Form(""),
                            ncmec_report_id: str = Form("", max_length=40), note: str = Form("", max_length=2000),
                            viewer: Viewer = Depends(needs(P.LEGAL_DESK))):
    """Settle a report that waits for a person (a lost /submit, or a retracted report)."""
    rt = runtime_of(request)
    tipline.reconcile(rt.db, viewer.actor, tipline_id, how, report_id=ncmec_report_id or None, note=note,
                      config=rt.legal.config, media_file=rt.legal.media_file, log=rt.transparency)
    return redirect(request, "/legal", done="legal-reconciled")


def _order_page(request: Request, viewer: Viewer, order_id: int, *, status: int = 200, error: str | None = None):
    rt = runtime_of(request)
    with rt.db.session() as s:
        row = orders.get_order(s, viewer.actor, order_id)
        shown = views.detail(s, row, internal=True, attachments_dir=rt.legal.attachments_dir)
        return page(request, "legal/order.html", viewer, status=status, error=error, o=shown,
                    reasons=list(Form3Reason), events=sorted(e.value for e in DESK_EVENTS))


@router.get("/legal/orders/{order_id}")
def legal_order(request: Request, order_id: RowId, viewer: Viewer = Depends(needs(P.LEGAL_DESK))):
    with runtime_of(request).db.session() as s:
        record(s, viewer.actor, AuditEvent.ORDER_VIEWED, subject=f"order:{order_id}")
    return _order_page(request, viewer, order_id)


def _act(request: Request, viewer: Viewer, order_id: int, action, done: str):
    rt = runtime_of(request)
    try:
        with rt.db.session() as s:
            action(s, rt, orders.get_order(s, viewer.actor, order_id))
    except InvalidInput as exc:
        return _order_page(request, viewer, order_id, status=400, error=str(exc))
    except NotFound:
        raise
    except Exception as exc:  # a Conflict (clock rules, readiness): shown on the page
        if getattr(exc, "safe_to_show", False):
            return _order_page(request, viewer, order_id, status=getattr(exc, "status", 409), error=str(exc))
        raise
    return redirect(request, f"/legal/orders/{order_id}", done=done)


def _reasons(values: list[str]) -> list[Form3Reason]:
    try:
        return [Form3Reason(v) for v in values]
    except ValueError:
        raise InvalidInput("unknown Form 3 reason") from None


@router.post("/legal/orders/{order_id}/clarify")
def legal_clarify(request: Request, order_id: RowId, reasons: list[str] = Form([]), note: str = Form(""),
                  viewer: Viewer = Depends(needs(P.LEGAL_DESK))):
    """Form 3: ask the authority for clarification (the clock pauses) or report non-execution."""
    def act(s, rt, row):
        picked = _reasons(reasons)
        if not picked:
            raise InvalidInput("pick at least one Form 3 reason")
        kind = EventKind.CLARIFICATION_REQUESTED if set(picked) <= {
            Form3Reason.INCOMPLETE, Form3Reason.MANIFEST_ERRORS, Form3Reason.INSUFFICIENT_INFORMATION
        } else EventKind.NON_EXECUTION_NOTIFIED
        orders.add_event(s, viewer.actor, row, kind, reasons=picked, note=note.strip())
    return _act(request, viewer, order_id, act, "legal-clarify")


@router.post("/legal/orders/{order_id}/event")
def legal_event(request: Request, order_id: RowId, event: str = Form(...), note: str = Form(""),
                viewer: Viewer = Depends(needs(P.LEGAL_DESK))):
    def act(s, rt, row):
        try:
            kind = EventKind(event)
        except ValueError:
            kind = None
        if kind not in DESK_EVENTS:
            raise InvalidInput("not an event the desk records here")
        orders.add_event(s, viewer.actor, row, kind, note=note.strip())
        ledger.reveal(s, viewer.actor, row)
    return _act(request, viewer, order_id, act, "legal-event")


@router.post("/legal/orders/{order_id}/answer")
def legal_answer(request: Request, order_id: RowId, viewer: Viewer = Depends(needs(P.LEGAL_DESK))):
    """Collect, package and sign the next delivery (download it from the order's page)."""
    def act(s, rt, row):
        rt.legal.produce(s, viewer.actor, row)
        ledger.reveal(s, viewer.actor, row)
    return _act(request, viewer, order_id, act, "legal-answered")


@router.post("/legal/orders/{order_id}/callback")
def legal_callback(request: Request, order_id: RowId, contact: str = Form(...), outcome: str = Form(...),
                   note: str = Form(""), viewer: Viewer = Depends(needs(P.LEGAL_DESK))):
    def act(s, rt, row):
        if outcome not in ("confirmed", "not-confirmed"):
            raise InvalidInput("outcome: confirmed or not-confirmed")
        emergency.record_callback(s, viewer.actor, row, contact, outcome == "confirmed", note.strip())
    return _act(request, viewer, order_id, act, "legal-callback")


@router.post("/legal/orders/{order_id}/approve")
def legal_approve(request: Request, order_id: RowId, viewer: Viewer = Depends(needs(P.LEGAL_APPROVE))):
    return _act(request, viewer, order_id, lambda s, rt, row: emergency.approve(s, viewer.actor, row),
                "legal-approved")


@router.post("/legal/orders/{order_id}/lift")
def legal_lift(request: Request, order_id: RowId, viewer: Viewer = Depends(needs(P.LEGAL_DESK))):
    """The authority lifted "do not inform the user": notifications resume, the leaf is revealed."""
    def act(s, rt, row):
        orders.lift_confidentiality(s, viewer.actor, row)
        ledger.reveal(s, viewer.actor, row)
    return _act(request, viewer, order_id, act, "legal-lifted")


@router.get("/legal/orders/{order_id}/deliveries/{number}")
def legal_download(request: Request, order_id: RowId, number: RowId, viewer: Viewer = Depends(needs(P.LEGAL_DESK))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        row = orders.get_order(s, viewer.actor, order_id)
        d = next((x for x in answer.deliveries_of(s, row.id) if x.number == number), None)
        if d is None or not d.path.endswith(".zip"):
            raise NotFound("delivery", number)
        record(s, viewer.actor, AuditEvent.PACKAGE_DOWNLOADED, subject=f"order:{row.id}",
               detail={"delivery": number})
        path, name = d.path, f"{row.reference}-delivery-{number}.zip"
    return FileResponse(path, media_type="application/zip", filename=name)


