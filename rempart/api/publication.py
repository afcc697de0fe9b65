"""The log and its reports, live: what ``rempart transparency publish DIR`` would write, served
from the database (``rempart.transparency.db.publish.Publication``, the one implementation).

Two read-only apps mounted by ``create_app``, open to anyone (a transparency log is public)::

    /log/<path>                   the publication: checkpoint, tile/..., checkpoints/N, vkey,
                                  reports/..., index.html; byte for byte the files of
                                  ``publish``, with their media types and caching
    /transparency/<path>          the same files, for people: / is the index of every day
    /transparency/witnesses       the witnesses' status page; ``witnesses.json`` as data

Not part of the API (no token, not in /openapi.json). GET and HEAD only.
"""

from __future__ import annotations

import html

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from rempart.errors import NotFound
from rempart.runtime import Runtime
from rempart.transparency.db import witnesses
from rempart.transparency.db.publish import HTML, Publication

LOG_PATH = "/log"
REPORTS_PATH = "/transparency"
#: the report pages carry their own inline styles; nothing else is loaded, nothing runs
HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                      "base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Access-Control-Allow-Origin": "*"}
STATUS_CACHE = "no-cache"


def _not_found(request: Request, exc: NotFound) -> Response:
    return Response(f"{exc}\n", status_code=404, media_type="text/plain; charset=utf-8", headers=HEADERS)


def _app(runtime: Runtime) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = runtime
    app.add_exception_handler(NotFound, _not_found)
    return app


def _serve(runtime: Runtime, path: str) -> Response:
    with runtime.db.session() as s:
        f = Publication(s, runtime.transparency).file(path)
    return Response(f.data, media_type=f.content_type,
                    headers={**HEADERS, "Cache-Control": f.cache_control})


def create_log_app(runtime: Runtime) -> FastAPI:
    """``/log/``: the published log, live."""
    app = _app(runtime)

    @app.api_route("/{path:path}", methods=["GET", "HEAD"])
    def published(path: str) -> Response:
        return _serve(runtime, path)

    return app


def create_reports_app(runtime: Runtime) -> FastAPI:
    """``/transparency/``: the daily reports and the witnesses' status, for people."""
    app = _app(runtime)

    @app.api_route("/witnesses.json", methods=["GET", "HEAD"])
    def status_json() -> JSONResponse:
        with runtime.db.session() as s:
            state = witnesses.status(s)
        return JSONResponse(state, headers={**HEADERS, "Cache-Control": STATUS_CACHE})

    @app.api_route("/witnesses", methods=["GET", "HEAD"])
    def status_page() -> Response:
        with runtime.db.session() as s:
            state = witnesses.status(s)
        return Response(render_status(runtime.transparency.origin, state), media_type=HTML,
                        headers={**HEADERS, "Cache-Control": STATUS_CACHE})

    @app.api_route("/{path:path}", methods=["GET", "HEAD"])
    def published(path: str) -> Response:
        return _serve(runtime, path)

    return app


def render_status(origin: str, state: dict) -> bytes:
    """The witnesses' status page: each witness's last answer, and which days are final."""
    e = html.escape
    rows = "\n".join(
        f"<tr><td>{e(w['name'])}</td><td><code>{e(w['url'])}</code></td><td class=n>{w['size']}</td>"
        f"<td>{'cosigned' if w['cosigned_latest'] else 'missing'}</td>"
        f"<td>{e(w['last_success_at'] or 'never')}</td><td class=n>{w['failures']}</td>"
        f"<td>{e(w['last_error'] or '')}</td></tr>" for w in state["witnesses"])
    days = "\n".join(f"<tr><td><a href=\"reports/{e(d['day'])}.html\">{e(d['day'])}</a></td>"
                     f"<td>{'final' if d['final'] else 'waiting for cosignatures'}</td></tr>"
                     for d in reversed(state["days"]))
    quorum = (f"{state['quorum']} of {state['witnesses_active']}" if state["witnesses_active"]
              else "no witness configured")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Witnesses of {e(origin)}</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{padding:.2rem .5rem;text-align:left;vertical-align:top}}
.n{{text-align:right}}code{{font-size:.85rem;word-break:break-all}}</style></head><body>
<h1>Witnesses of {e(origin)}</h1>
<p>Quorum: <strong id="quorum">{quorum}</strong>. Latest checkpoint: size {state['latest_size']},
<strong id="cosignatures">{state['latest_cosignatures']}</strong> cosignature(s); the log serves the
newest checkpoint with the quorum (size {state['quorum_size'] if state['quorum_size'] is not None else 'none yet'}).
Missing cosignatures are asked for again in the background.</p>
<table id="witnesses"><thead><tr><th>Witness</th><th>URL</th><th class=n>size</th><th>latest</th>
<th>last success (UTC)</th><th class=n>failures</th><th>last error</th></tr></thead><tbody>
{rows or '<tr><td colspan="7">none</td></tr>'}
</tbody></table>
<h2>Days</h2>
<p>A day's report is final once a checkpoint containing it carries the quorum of cosignatures.</p>
<table id="days"><tbody>
{days or '<tr><td>no day closed yet</td></tr>'}
</tbody></table>
<p><a href="./">All reports</a></p>
</body></html>
"""
    return page.encode()

