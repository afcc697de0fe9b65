"""Logging in (password + TOTP), logging out, and changing one's password: every site's
(``web.site``), each signing in only the roles of its audience."""

from __future__ import annotations

from fastapi import Depends, Form, Request

from rempart.errors import AuthError, InvalidInput
from rempart.people import SESSION_TTL, attempt_login, change_password, logout
from rempart.web.render import page, redirect
from rempart.web.security import (
    PRELOGIN_COOKIE, SESSION_COOKIE, Viewer, audience_of, clear_cookie, console_router,
    prelogin_token, public, runtime_of, set_cookie, signed_in,
)

router = console_router()


@router.get("/login")
def login_form(request: Request, viewer: Viewer | None = Depends(public())):
    if viewer is not None:
        return redirect(request, "/")
    token = prelogin_token(request)
    response = page(request, "login.html", None, prelogin=token)
    set_cookie(request, response, PRELOGIN_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
def login_submit(request: Request, username: str = Form(""), password: str = Form(""),
                 code: str = Form(""), _v: Viewer | None = Depends(public())):
    runtime = runtime_of(request)
    try:
        result = attempt_login(runtime.db, username, password, code,
                               audience=audience_of(request))
    except AuthError:
        # audited (and counted towards the lockout) by the service; no hint which factor failed
        token = prelogin_token(request)
        return page(request, "login.html", None, status=401, prelogin=token, username=username,
                    error="Wrong username, password or code.")
    response = redirect(request, "/password" if result.must_change_password else "/")
    set_cookie(request, response, SESSION_COOKIE, result.token,
               max_age=int(SESSION_TTL.total_seconds()))
    clear_cookie(request, response, PRELOGIN_COOKIE)
    return response


@router.post("/logout")
def logout_submit(request: Request, _v: Viewer = Depends(signed_in(allow_password_change=True))):
    with runtime_of(request).db.session() as s:
        logout(s, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(request, "/login")
    clear_cookie(request, response, SESSION_COOKIE)
    return response


@router.get("/password")
def password_form(request: Request,
                  viewer: Viewer = Depends(signed_in(allow_password_change=True))):
    return page(request, "password.html", viewer)


@router.post("/password")
def password_submit(request: Request, old: str = Form(""), new: str = Form(""),
                    repeat: str = Form(""),
                    viewer: Viewer = Depends(signed_in(allow_password_change=True))):
    try:
        if new != repeat:
            raise InvalidInput("the two new passwords differ")
        with runtime_of(request).db.session() as s:
            change_password(s, viewer.actor, old, new, keep_session=viewer.session_id)
    except (AuthError, InvalidInput) as exc:
        return page(request, "password.html", viewer, status=400, error=str(exc))
    return redirect(request, "/", done="password")
