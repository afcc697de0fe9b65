"""Leads' view of the organisations that send notices: per-organisation statistics, which ones
send many unfounded notices (DSA Art. 22(6)), and suspending or reinstating one."""

from __future__ import annotations

from fastapi import Depends, Form, Request

from rempart.authz import Permission as P
from rempart.errors import InvalidInput
from rempart.hotline.orgs import all_stats, get_org, reinstate, suspend
from rempart.web.render import page, redirect
from rempart.store.db import RowId
from rempart.web.security import Viewer, console_router, needs, runtime_of

router = console_router()


@router.get("/organisations")
def organisations(request: Request, viewer: Viewer = Depends(needs(P.ORGS_STATS))):
    with runtime_of(request).db.session() as s:
        rows = all_stats(s, viewer.actor)
        return page(request, "organisations.html", viewer, rows=rows)


@router.post("/organisations/{org_id}/suspend")
def organisation_suspend(request: Request, org_id: RowId, reason: str = Form(""),
                         viewer: Viewer = Depends(needs(P.ORGS_SUSPEND))):
    with runtime_of(request).db.session() as s:
        try:
            suspend(s, viewer.actor, get_org(s, org_id), reason)
        except InvalidInput as exc:
            return page(request, "organisations.html", viewer, status=400, error=str(exc),
                        rows=all_stats(s, viewer.actor))
    return redirect(request, "/organisations", done="suspended")


@router.post("/organisations/{org_id}/reinstate")
def organisation_reinstate(request: Request, org_id: RowId,
                           viewer: Viewer = Depends(needs(P.ORGS_SUSPEND))):
    with runtime_of(request).db.session() as s:
        reinstate(s, viewer.actor, get_org(s, org_id))
    return redirect(request, "/organisations", done="reinstated")
