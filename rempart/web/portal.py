"""The organisations' portal at ``PORTAL_PATH``: analysts (role ``analyst``) sign in with
password + TOTP as in the console (the same site factory, ``web.site``) and see their own
organisation's notices and their status, its statistics, and its webhook endpoint. Console
roles cannot sign in here, and analysts cannot sign into the console (``rempart.authz.AUDIENCE``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, Form, Request

from rempart.authz import Audience, Permission as P
from rempart.errors import InvalidInput
from rempart.hotline.orgs import (
    endpoints_of, get_org, notice_json, own_notice, own_notices, set_endpoint, stats_of,
)
from rempart.hotline.service import actor_for_org
from rempart.runtime import Runtime
from rempart.web.render import Site, page
from rempart.store.db import RowId
from rempart.web.security import Viewer, console_router, needs, runtime_of
from rempart.web.site import create_site

PORTAL_PATH = "/portal"
#: the body of a portal form (a webhook URL, a password change)
MAX_BODY = 64 * 1024
STATIC = Path(__file__).parent / "static"
SITE = Site(Audience.PORTAL, "rempart portal",
            (("Notices", "/", P.NOTICES_READ_OWN), ("Webhook", "/webhook", P.ORG_WEBHOOKS)),
            {"password": "Password changed."})
router = console_router()


def create_portal(runtime: Runtime) -> FastAPI:
    return create_site(runtime, SITE, [router], STATIC, max_body=MAX_BODY)


@router.get("/")
def portal_home(request: Request, viewer: Viewer = Depends(needs(P.NOTICES_READ_OWN))):
    org_id = actor_for_org(viewer.actor)
    with runtime_of(request).db.session() as s:
        org = get_org(s, org_id)
        notices = [notice_json(s, n) for n in own_notices(s, org_id)]
        stats = stats_of(s, org_id)
        return page(request, "portal/home.html", viewer, org=org, notices=notices, stats=stats)


@router.get("/notices/{notice_id}")
def portal_notice(request: Request, notice_id: RowId,
                  viewer: Viewer = Depends(needs(P.NOTICES_READ_OWN))):
    with runtime_of(request).db.session() as s:
        shown = notice_json(s, own_notice(s, actor_for_org(viewer.actor), notice_id))
    return page(request, "portal/notice.html", viewer, notice=shown)


@router.get("/webhook")
def portal_webhook(request: Request, viewer: Viewer = Depends(needs(P.ORG_WEBHOOKS))):
    with runtime_of(request).db.session() as s:
        endpoints = endpoints_of(s, actor_for_org(viewer.actor))
        return page(request, "portal/webhook.html", viewer, endpoints=endpoints)


@router.post("/webhook")
def portal_webhook_set(request: Request, url: str = Form(""),
                       viewer: Viewer = Depends(needs(P.ORG_WEBHOOKS))):
    with runtime_of(request).db.session() as s:
        org = get_org(s, actor_for_org(viewer.actor))
        try:
            ep, secret = set_endpoint(s, viewer.actor, org, url.strip())
        except InvalidInput as exc:
            return page(request, "portal/webhook.html", viewer, status=400, error=str(exc),
                        endpoints=endpoints_of(s, org.id))
        return page(request, "portal/webhook.html", viewer, secret=secret, created=ep,
                    endpoints=endpoints_of(s, org.id))
