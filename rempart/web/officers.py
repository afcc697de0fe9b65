"""The officers' portal at ``OFFICERS_PATH``: law-enforcement officers (role ``officer``) sign
in with password + TOTP as every person (the same site factory, ``web.site``) and see their own
agency's orders, their status, deadline, history and deliveries, and the platform's evidence
verifier key; they may send an order (the JSON of ``POST /v1/legal/orders``) from a form.
Console roles and analysts cannot sign in here (``rempart.authz.AUDIENCE``)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import FileResponse

from rempart.authz import Audience, Permission as P
from rempart.audit import AuditEvent, record
from rempart.errors import InvalidInput, NotFound
from rempart.legal.db import answer, orders, views
from rempart.legal.db.agencies import officer_agency
from rempart.runtime import Runtime
from rempart.store.db import RowId
from rempart.web.render import Site, page, redirect
from rempart.web.security import Viewer, console_router, needs, runtime_of
from rempart.web.site import create_site

OFFICERS_PATH = "/officers"
MAX_BODY = 128 * 1024
STATIC = Path(__file__).parent / "static"
SITE = Site(Audience.OFFICERS, "rempart officers' portal",
            (("Orders", "/", P.ORDERS_READ_OWN), ("Send an order", "/orders/new", P.ORDERS_SUBMIT)),
            {"password": "Password changed.", "sent": "Order received: its clock has started.",
             "clarified": "Clarification sent: the clock runs again."})
router = console_router()


def create_officers_portal(runtime: Runtime) -> FastAPI:
    return create_site(runtime, SITE, [router], STATIC, max_body=MAX_BODY)


@router.get("/")
def officers_home(request: Request, viewer: Viewer = Depends(needs(P.ORDERS_READ_OWN))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        agency = officer_agency(s, viewer.actor)
        rows = [views.summary(s, o) for o in orders.list_orders(s, viewer.actor)]
        return page(request, "officers/home.html", viewer, agency=agency, rows=rows, vkey=rt.legal.vkey())


@router.get("/orders/new")
def officers_new(request: Request, viewer: Viewer = Depends(needs(P.ORDERS_SUBMIT))):
    return page(request, "officers/new.html", viewer, body="")


@router.post("/orders")
def officers_send(request: Request, body: str = Form(""), viewer: Viewer = Depends(needs(P.ORDERS_SUBMIT))):
    rt = runtime_of(request)
    try:
        data = json.loads(body)
    except ValueError:
        return page(request, "officers/new.html", viewer, status=400, body=body,
                    error="the order is not JSON", errors=[])
    try:
        with rt.db.session() as s:
            row = rt.legal.receive(s, viewer.actor, data, [])
            order_id = row.id
    except InvalidInput as exc:
        return page(request, "officers/new.html", viewer, status=exc.status, body=body, error=str(exc),
                    errors=getattr(exc, "errors", []))
    return redirect(request, f"/orders/{order_id}", done="sent")


@router.post("/orders/{order_id}/clarification")
def officers_clarify(request: Request, order_id: RowId, text: str = Form(""),
                     viewer: Viewer = Depends(needs(P.ORDERS_SUBMIT))):
    """Answer the platform's request for clarification (Form 3): the clock resumes."""
    rt = runtime_of(request)
    try:
        with rt.db.session() as s:
            orders.answer_clarification(s, viewer.actor, orders.get_order(s, viewer.actor, order_id), text)
    except InvalidInput as exc:
        with rt.db.session() as s:
            shown = views.detail(s, orders.get_order(s, viewer.actor, order_id), internal=False)
            return page(request, "officers/order.html", viewer, o=shown, status=exc.status, error=str(exc))
    except Exception as exc:  # the clock's rules (no clarification was asked): shown on the page
        if not getattr(exc, "safe_to_show", False) or isinstance(exc, NotFound):
            raise
        with rt.db.session() as s:
            shown = views.detail(s, orders.get_order(s, viewer.actor, order_id), internal=False)
            return page(request, "officers/order.html", viewer, o=shown, status=409, error=str(exc))
    return redirect(request, f"/orders/{order_id}", done="clarified")


@router.get("/orders/{order_id}/deliveries/{number}")
def officers_download(request: Request, order_id: RowId, number: RowId,
                      viewer: Viewer = Depends(needs(P.ORDERS_READ_OWN))):
    """A signed delivery answering one of the agency's orders (the desk's own copy)."""
    with runtime_of(request).db.session() as s:
        row = orders.get_order(s, viewer.actor, order_id)
        d = next((x for x in answer.deliveries_of(s, row.id) if x.number == number), None)
        if d is None or not d.path.endswith(".zip") or not Path(d.path).is_file():
            raise NotFound("delivery", number)
        record(s, viewer.actor, AuditEvent.PACKAGE_DOWNLOADED, subject=f"order:{row.id}",
               detail={"delivery": number, "by": "officer"})
        path, name = d.path, f"{row.reference}-delivery-{number}.zip"
    return FileResponse(path, media_type="application/zip", filename=name)


@router.get("/orders/{order_id}")
def officers_order(request: Request, order_id: RowId, viewer: Viewer = Depends(needs(P.ORDERS_READ_OWN))):
    with runtime_of(request).db.session() as s:
        shown = views.detail(s, orders.get_order(s, viewer.actor, order_id), internal=False)
        return page(request, "officers/order.html", viewer, o=shown)
