"""Rendering pages: the Jinja2 environment, the navigation each permission opens, and the fixed
notices that redirects can show (codes, never free text from the URL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from rempart.authz import Audience, Permission as P
from rempart.store.db import utcnow
from rempart.web.security import CSRF_FIELD, Viewer

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

#: (label, path, permission or None for everyone signed in)
NAV = (
    ("Home", "/", None),
    ("Queues", "/queues", P.QUEUES_STATS),
    ("My queue", "/cases", P.CASES_READ),
    ("Escalations", "/escalations", P.ESCALATIONS_RESOLVE),
    ("Appeals", "/appeals", P.APPEALS_DECIDE),
    ("Exposure", "/exposure", P.EXPOSURE_READ),
    ("Audit log", "/audit", P.AUDIT_READ),
    ("Organisations", "/organisations", P.ORGS_STATS),
    ("Legal desk", "/legal", P.LEGAL_DESK),
    ("Users", "/users", P.USERS_ADMIN),
    ("Webhooks", "/webhooks", P.WEBHOOKS_ADMIN),
    ("Preferences", "/preferences", P.PREFERENCES_WRITE),
)

#: what ``?done=<code>`` shows after a redirect
NOTICES = {
    "claimed": "Case claimed.",
    "released": "Claim released: the case is back in its queue.",
    "revealed": "Item revealed (audited and counted against today's exposure budget).",
    "fact-recorded": "Recorded (audited): NCMEC reports of this case carry it.",
    "decided": "Decision recorded and its actions applied.",
    "pending": "Decision recorded: it waits for a second reviewer.",
    "agreed": "Second review recorded: the decision is final.",
    "disagreed": "Second review recorded: escalated to a lead.",
    "upheld": "Escalation resolved: the decision is applied.",
    "returned": "Escalation resolved: the case is open again.",
    "appeal": "Appeal decided.",
    "prefs": "Preferences saved.",
    "password": "Password changed.",
    "disabled": "User disabled and signed out everywhere.",
    "bulk": "Actions taken on the confirmed entities (each its own case).",
    "empty": "Nothing to serve in your queues right now.",
    "suspended": "Organisation suspended: its notices are refused until it is reinstated.",
    "reinstated": "Organisation reinstated.",
    "legal-clarify": "Form 3 recorded (a request for clarification pauses the clock).",
    "legal-event": "Event recorded on the order's clock.",
    "legal-answered": "Signed package written: download it below.",
    "legal-callback": "Callback recorded.",
    "legal-approved": "Approval recorded.",
    "legal-lifted": "Confidentiality lifted: notifications to the user resume.",
    "legal-tipline": "Pending CyberTipline reports sent (see their status below).",
    "legal-reconciled": "Reconciled (audited): the report went on from there (see its status and any error below).",
}


@dataclass(frozen=True)
class Site:
    """One signed-in site (the review console, the organisations' portal): who may sign into
    it, its name, its navigation and the notices its redirects can show. ``web.site`` builds
    the app around it; ``page`` renders with it."""

    audience: Audience
    title: str
    nav: tuple[tuple[str, str, P | None], ...]
    notices: Mapping[str, str] = field(default_factory=dict)


CONSOLE = Site(Audience.CONSOLE, "rempart console", NAV, NOTICES)


def site_of(request: Request) -> Site:
    return request.app.state.site


def base_path(request: Request) -> str:
    """Where the console is mounted (``/console``): every link is built from it."""
    return request.scope.get("root_path") or ""


def ago(when: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """A short relative age ("5 min", "3 h", "2 d"); never an absolute time to compare."""
    if when is None:
        return "—"
    seconds = ((now or utcnow()) - when).total_seconds()
    sign = "" if seconds >= 0 else "in "
    s = abs(seconds)
    text = (f"{int(s)} s" if s < 60 else f"{int(s // 60)} min" if s < 3600
            else f"{s / 3600:.1f} h" if s < 86400 else f"{s / 86400:.1f} d")
    return sign + text


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return ago(utcnow() - dt.timedelta(seconds=seconds))


TEMPLATES.env.filters["ago"] = ago
TEMPLATES.env.filters["duration"] = duration


def page(request: Request, template: str, viewer: Viewer | None, *, status: int = 200,
         **context) -> HTMLResponse:
    """Render ``template`` with what every page needs (viewer, CSRF field, links, notice)."""
    base = base_path(request)
    site = site_of(request)
    nav = [] if viewer is None or viewer.must_change_password else [
        (label, base + path) for label, path, perm in site.nav if perm is None or viewer.can(perm)]
    done = request.query_params.get("done")
    ctx = {"request": request, "viewer": viewer, "base": base, "nav": nav,
           "site_title": site.title, "csrf_field": CSRF_FIELD,
           "csrf_token": viewer.csrf_token if viewer else "",
           "notice": site.notices.get(done or ""), "P": P, "now": utcnow()}
    ctx.update(context)
    response = TEMPLATES.TemplateResponse(request, template, ctx, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect(request: Request, path: str, done: str | None = None) -> RedirectResponse:
    """303 to a console path (``path`` starts with ``/``), with an optional notice code."""
    url = base_path(request) + path
    if done:
        url += ("&" if "?" in url else "?") + f"done={done}"
    return RedirectResponse(url, status_code=303)
