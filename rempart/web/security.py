"""Who is asking, what they may do, and CSRF: the console's one gate.

Sessions: the cookie ``rempart_session`` holds the token from ``rempart.people.login`` (only its
SHA-256 is stored server-side). It is HttpOnly, SameSite=Strict, scoped to the console path, and
Secure whenever the request came over https.

Access: every route declares exactly one access dependency, and handlers never test roles:

- ``needs(Permission.X)``: a live session whose actor holds X (else 401 / 403);
- ``signed_in()``: any live session (log out, change one's password, the home page);
- ``public()``: no session (the login form only).

Each carries ``.access`` (the permission, ``SIGNED_IN`` or ``PUBLIC``) for the route-table test.
A session still on its one-time password reaches nothing but the password page. A session is
only a session of the site whose audience its role may sign into (``rempart.authz.may_sign_into``,
the site's ``Audience`` in ``request.app.state.site``): an analyst's cookie means nothing to
the console, a reviewer's nothing to the portal.

CSRF: ``csrf_protect`` is a dependency of every console router (each is made by
``console_router``, so every route gets it before its own dependencies). For any method but
GET/HEAD/OPTIONS it requires the ``csrf_token`` form field (or the ``X-CSRF-Token`` header) to
equal:

- the CSRF token of the caller's live session (HMAC of the session's secret), or
- with no live session (the login form), the random value of the ``rempart_prelogin`` cookie
  (double submit; the cookie is SameSite=Strict, so another site cannot send it).

A route can only skip this by being decorated with ``DANGEROUSLY_SKIP_CSRF`` (none is today;
the route-table test lists the ones allowed, i.e. none).

Before the body: a state-changing request's form is read only after its route's access
dependency passed and, for a caller without a live session, the prelogin cookie is present (the
CSRF check could not pass without it). Every console route is a ``ConsoleRoute`` for that (see
``rempart.httpgate``), and its body is capped (``rempart.web.app.MAX_BODY`` by default).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute

from rempart.authz import Actor, Audience, Permission, may_sign_into
from rempart.errors import AuthError, PermissionDenied, shown
from rempart.httpgate import Check, gated_route
from rempart.people import SessionInfo, authenticate_session, check_csrf
from rempart.runtime import Runtime

SESSION_COOKIE = "rempart_session"
PRELOGIN_COOKIE = "rempart_prelogin"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIGNED_IN = "signed-in"
PUBLIC = "public"
_SKIP_ATTR = "_rempart_dangerously_skips_csrf"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class CsrfRejected(PermissionDenied):
    """A state-changing request without the right CSRF token."""

    type = "csrf-rejected"


class PasswordChangeRequired(AuthError):
    """The session is still on its one-time password: only the password page is open."""

    type = "password-change-required"
    status = 403


@dataclass(frozen=True)
class Viewer:
    """The person behind a request, as handlers and templates see them."""

    actor: Actor
    csrf_token: str
    session_id: int
    must_change_password: bool

    def can(self, permission: Permission) -> bool:
        return self.actor.can(permission)


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


def audience_of(request: Request) -> Audience | None:
    """The audience of the site serving ``request`` (``render.Site.audience``)."""
    site = getattr(request.app.state, "site", None)
    return site.audience if site is not None else None


def _session(request: Request) -> SessionInfo | None:
    """The live session behind the cookie, looked up once per request (None when there is none,
    or when its role may not sign into this site)."""
    if "rempart_session_info" not in request.scope:
        token = request.cookies.get(SESSION_COOKIE)
        info = None
        if token:
            try:
                with runtime_of(request).db.session() as s:
                    info = authenticate_session(s, token)
            except AuthError:
                info = None
        audience = audience_of(request)
        if info is not None and (audience is None or not may_sign_into(info.actor.role, audience)):
            info = None
        request.scope["rempart_session_info"] = info
    return request.scope["rempart_session_info"]


def _viewer(request: Request, *, allow_password_change: bool = False) -> Viewer:
    info = _session(request)
    if info is None:
        raise AuthError("please log in")
    if info.must_change_password and not allow_password_change:
        raise PasswordChangeRequired("choose a new password first")
    return Viewer(info.actor, info.csrf_token, info.session_id, info.must_change_password)


def needs(permission: Permission) -> Callable[[Request], Viewer]:
    """A dependency: a signed-in person holding ``permission``."""

    def dependency(request: Request) -> Viewer:
        viewer = _viewer(request)
        if not viewer.can(permission):
            raise PermissionDenied(f"this page needs the {shown(permission)} permission")
        return viewer

    dependency.access = permission
    return dependency


def signed_in(*, allow_password_change: bool = False) -> Callable[[Request], Viewer]:
    """A dependency: any signed-in person (pages every role has, and logging out)."""

    def dependency(request: Request) -> Viewer:
        return _viewer(request, allow_password_change=allow_password_change)

    dependency.access = SIGNED_IN
    return dependency


def public() -> Callable[[Request], Viewer | None]:
    """A dependency for the login form: no session needed; returns the viewer if there is one."""

    def dependency(request: Request) -> Viewer | None:
        info = _session(request)
        return None if info is None else Viewer(info.actor, info.csrf_token, info.session_id,
                                                info.must_change_password)

    dependency.access = PUBLIC
    return dependency


def DANGEROUSLY_SKIP_CSRF(endpoint: Callable) -> Callable:  # noqa: N802  (loud on purpose)
    """Mark an endpoint as taking state-changing requests without a CSRF token. Do not use this
    for anything a browser session can reach; the route-table test pins every use."""
    setattr(endpoint, _SKIP_ATTR, True)
    return endpoint


def skips_csrf(endpoint: Callable) -> bool:
    return bool(getattr(endpoint, _SKIP_ATTR, False))


async def csrf_protect(request: Request) -> None:
    """The console-wide CSRF check (see the module docstring). Raises ``CsrfRejected``."""
    if request.method in SAFE_METHODS or skips_csrf(request.scope.get("endpoint")):
        return
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    if not submitted:
        raise CsrfRejected("missing CSRF token: reload the page and try again")
    info = _session(request)
    if info is not None:
        token = request.cookies.get(SESSION_COOKIE)
        try:
            with runtime_of(request).db.session() as s:
                check_csrf(s, token, submitted)
        except AuthError:
            raise CsrfRejected("wrong CSRF token: reload the page and try again") from None
        return
    expected = request.cookies.get(PRELOGIN_COOKIE)
    if not expected or not hmac.compare_digest(expected, submitted):
        raise CsrfRejected("wrong CSRF token: reload the page and try again")


csrf_protect.csrf = True  # how the route-table test recognises the check


def _access_before_body(route: APIRoute) -> Check | None:
    """The check a ``ConsoleRoute`` runs before reading a state-changing request's body."""
    if route.methods and route.methods <= SAFE_METHODS:
        return None  # pages: nothing to read
    access = next((d.call for d in route.dependant.dependencies if hasattr(d.call, "access")),
                  None)
    skips = skips_csrf(route.endpoint)

    def check(request: Request) -> None:
        if request.method in SAFE_METHODS:
            return
        if access is not None:
            access(request)
        if not skips and _session(request) is None and not request.cookies.get(PRELOGIN_COOKIE):
            raise CsrfRejected("missing CSRF cookie: reload the page and try again")

    return check


ConsoleRoute = gated_route(_access_before_body)


def console_router() -> APIRouter:
    """The only way console routers are made: with ``csrf_protect`` on every route, and the
    access checked before a body is read."""
    return APIRouter(dependencies=[Depends(csrf_protect)], route_class=ConsoleRoute)


def prelogin_token(request: Request) -> str:
    """The login form's CSRF value: the prelogin cookie's, or a new one (set by the caller)."""
    return request.cookies.get(PRELOGIN_COOKIE) or secrets.token_urlsafe(32)


def _cookie_path(request: Request) -> str:
    return request.scope.get("root_path") or "/"


def set_cookie(request: Request, response: Response, name: str, value: str,
               max_age: int | None = None) -> None:
    """HttpOnly, SameSite=Strict, scoped to the console, Secure over https."""
    response.set_cookie(name, value, max_age=max_age, path=_cookie_path(request), httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path=_cookie_path(request), httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")
