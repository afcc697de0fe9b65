"""The public report pages (see the package docstring). Nobody signs in here: every POST still
carries the CSRF double-submit value of the ``rempart_prelogin`` cookie (``security.csrf_protect``)
and a challenge (``rempart.hotline.public``); the pages only render and translate."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import Depends, FastAPI, Form, Request
from fastapi.staticfiles import StaticFiles

from rempart.authz import Audience
from rempart.errors import Conflict, InvalidInput, NotFound
from rempart.hotline import Channel
from rempart.hotline.orgs import notice_json
from rempart.hotline.public import Gate, load_or_create_key, read_report, submit_report
from rempart.hotline.service import notice_by_code
from rempart.runtime import Runtime
from rempart.web.render import Site, page
from rempart.web.security import (
    PRELOGIN_COOKIE, PUBLIC, console_router, prelogin_token, runtime_of, set_cookie,
)
from rempart.web.site import create_site

PUBLIC_PATH = "/report"
#: the body of a public form (a report, or up to 50 hashes from the on-device page)
MAX_BODY = 64 * 1024
ENGINE = Path(__file__).resolve().parent.parent.parent / "hotline" / "static"
STATIC = Path(__file__).resolve().parent.parent / "static"  # the console's: styles, page scripts
#: the on-device engine runs pictures in a worker and videos through <video> on blob: URLs
CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src blob:; worker-src 'self'; "
       "script-src 'self'; style-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SITE = Site(Audience.PORTAL, "Report to rempart", ())
router = console_router()


def anyone():
    def dependency(request: Request) -> None:
        return None

    dependency.access = PUBLIC
    return dependency


def create_public(runtime: Runtime) -> FastAPI:
    app = create_site(runtime, SITE, [router], STATIC, csp=CSP, sign_in=False, max_body=MAX_BODY)
    app.state.gate = Gate(load_or_create_key(runtime.settings.home))
    app.mount("/engine", StaticFiles(directory=ENGINE), name="engine")
    return app


def _form(request: Request, template: str, *, status: int = 200, **context):
    runtime = runtime_of(request)
    token = prelogin_token(request)
    policies = runtime.moderation.taxonomy.policies
    response = page(request, template, None, status=status, prelogin=token,
                    challenge=request.app.state.gate.challenge(), policies=policies,
                    link_format=runtime.settings.hotline.message_link.template, **context)
    set_cookie(request, response, PRELOGIN_COOKIE, token, max_age=3600)
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/")
def report_form(request: Request, _=Depends(anyone())):
    return _form(request, "public/report.html")


@router.post("/")
def report_submit(request: Request, category: str = Form(""), link: str = Form(""),
                  account: str = Form(""), space: str = Form(""), message: str = Form(""),
                  explanation: str = Form(""), good_faith: str = Form(""), name: str = Form(""),
                  email: str = Form(""), challenge: str = Form(""), _=Depends(anyone())):
    runtime = runtime_of(request)
    fields = {"category": category, "link": link.strip(), "account": account.strip(),
              "space": space.strip(), "message": message.strip(), "explanation": explanation,
              "good_faith": good_faith, "name": name, "email": email}
    try:
        notice = read_report(runtime.hotline, fields)
        accepted = submit_report(runtime.hotline, request.app.state.gate, notice, Channel.FORM,
                                 challenge, _client(request))
    except (InvalidInput, Conflict) as exc:
        return _form(request, "public/report.html", status=exc.status, error=str(exc),
                     values=fields)
    return page(request, "public/received.html", None, status=201, accepted=accepted)


@router.get("/hash")
def hash_form(request: Request, _=Depends(anyone())):
    return _form(request, "public/hash.html")


@router.post("/hash")
def hash_submit(request: Request, hashes: str = Form(""), category: str = Form("csam"),
                good_faith: str = Form(""), challenge: str = Form(""), _=Depends(anyone())):
    runtime = runtime_of(request)
    try:
        try:
            chosen = json.loads(hashes or "[]")
        except ValueError:
            raise InvalidInput("hashes: not the list the page computes") from None
        notice = read_report(runtime.hotline, {
            "category": category, "good_faith": good_faith,
            "explanation": "Pictures of me, hashed on my own device"}, hashes=chosen)
        accepted = submit_report(runtime.hotline, request.app.state.gate, notice,
                                 Channel.ON_DEVICE, challenge, _client(request))
    except (InvalidInput, Conflict) as exc:
        return _form(request, "public/hash.html", status=exc.status, error=str(exc))
    return page(request, "public/received.html", None, status=201, accepted=accepted)


@router.get("/status")
def status_form(request: Request, _=Depends(anyone())):
    return _form(request, "public/status.html")


@router.post("/status")
def status_show(request: Request, code: str = Form(""), _=Depends(anyone())):
    try:
        with runtime_of(request).db.session() as s:
            shown = notice_json(s, notice_by_code(s, code))
    except NotFound:
        return _form(request, "public/status.html", status=404,
                     error="No report has this receipt code.")
    return page(request, "public/status.html", None, shown=shown)
