"""One's own wellness preferences; for admins, users and the platform's webhook endpoints."""

from __future__ import annotations

from fastapi import Depends, Form, Request
from sqlalchemy import select

from rempart.authz import PERSON_ROLES, Audience, Permission as P, may_sign_into
from rempart.moderation import (
    MAX_BLUR, MIN_BLUR, add_endpoint, get_prefs, my_exposure, outbox_status, set_prefs,
)
from rempart.moderation.models import WebhookEndpoint
from rempart.people import create_user, disable_user, list_users, parse_role
from rempart.store.db import MAX_INT, RowId
from rempart.web.render import page, redirect
from rempart.web.security import Viewer, console_router, needs, runtime_of

router = console_router()


@router.get("/preferences")
def preferences(request: Request, viewer: Viewer = Depends(needs(P.PREFERENCES_WRITE))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        prefs = get_prefs(s, viewer.actor)
        exposure = (my_exposure(s, viewer.actor, rt.moderation)
                    if viewer.can(P.MEDIA_REVEAL) else None)
        return page(request, "preferences.html", viewer, prefs=prefs, exposure=exposure,
                    min_blur=MIN_BLUR, max_blur=MAX_BLUR)


@router.post("/preferences")
def preferences_save(request: Request, blur: int = Form(..., ge=0, le=MAX_INT), greyscale: str = Form(""),
                     thumbnails: str = Form(""), frame_strip: str = Form(""),
                     viewer: Viewer = Depends(needs(P.PREFERENCES_WRITE))):
    # an unchecked box is simply absent from the form: absent means off
    with runtime_of(request).db.session() as s:
        set_prefs(s, viewer.actor, blur=blur, greyscale=greyscale == "on",
                  thumbnails=thumbnails == "on", frame_strip=frame_strip == "on")
    return redirect(request, "/preferences", done="prefs")


@router.get("/users")
def users(request: Request, viewer: Viewer = Depends(needs(P.USERS_ADMIN))):
    with runtime_of(request).db.session() as s:
        rows = list_users(s)
        return page(request, "users.html", viewer, users=rows,
                    roles=[r.value for r in PERSON_ROLES
                           if may_sign_into(r, Audience.CONSOLE)])


@router.post("/users")
def users_create(request: Request, username: str = Form(...), role: str = Form(...),
                 viewer: Viewer = Depends(needs(P.USERS_ADMIN))):
    with runtime_of(request).db.session() as s:
        new = create_user(s, viewer.actor, username, parse_role(role))
        rows = list_users(s)
        # the one-time password and TOTP secret are shown on this response only, never again
        return page(request, "users.html", viewer, users=rows, created=new,
                    roles=[r.value for r in PERSON_ROLES
                           if may_sign_into(r, Audience.CONSOLE)])


@router.post("/users/{user_id}/disable")
def users_disable(request: Request, user_id: RowId, viewer: Viewer = Depends(needs(P.USERS_ADMIN))):
    with runtime_of(request).db.session() as s:
        disable_user(s, viewer.actor, user_id)
    return redirect(request, "/users", done="disabled")


def _webhooks_page(request: Request, viewer: Viewer, s, **extra):
    endpoints = list(s.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.name)))
    return page(request, "webhooks.html", viewer, endpoints=endpoints,
                outbox=outbox_status(s, viewer.actor), **extra)


@router.get("/webhooks")
def webhooks(request: Request, viewer: Viewer = Depends(needs(P.WEBHOOKS_ADMIN))):
    with runtime_of(request).db.session() as s:
        return _webhooks_page(request, viewer, s)


@router.post("/webhooks")
def webhooks_add(request: Request, name: str = Form(..., max_length=100),
                 url: str = Form(..., max_length=500),
                 viewer: Viewer = Depends(needs(P.WEBHOOKS_ADMIN))):
    with runtime_of(request).db.session() as s:
        _ep, secret = add_endpoint(s, viewer.actor, name, url)
        # the signing secret is shown on this response only
        return _webhooks_page(request, viewer, s, created=(name, secret))
