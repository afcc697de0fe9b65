"""``GET /``: where someone who opens the server's address lands, with a link to each thing it
serves (it is not part of the API, so not in /openapi.json). Add a link here when ``serve``
gains a public page."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from rempart.api.deps import ApiRoute
from rempart.web import MOUNT_PATH

router = APIRouter(route_class=ApiRoute)

#: (title, href, what it is for)
LINKS = (
    ("Review console", f"{MOUNT_PATH}/login",
     "Moderators, leads and admins log in here (accounts come from `rempart user add`)."),
    ("API documentation", "/docs",
     "The HTTP API for platforms and curators: scanning uploads, banks, tokens, appeals."),
    ("OpenAPI description", "/openapi.json", "The API's machine-readable description, to generate clients."),
    ("Transparency reports", "/transparency/",
     "Every day's enforcement report, its data and statements of reasons, verifiable by anyone."),
    ("Transparency log", "/log/",
     "The log itself (C2SP tlog-tiles under /log/): checkpoint, tiles, entries, verifier key."),
    ("Witnesses", "/transparency/witnesses",
     "Which witnesses cosigned the log's latest checkpoint, and which days' reports are final."),
    ("Health", "/readyz", "Whether this node can reach its database, and its matcher's size."),
)

#: the page is static: no script, no frame, styles from the console only
HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'self'; base-uri 'none'; "
                                      "frame-ancestors 'none'; form-action 'none'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _page() -> str:
    items = "\n".join(
        f'  <li><a href="{escape(href)}">{escape(title)}</a><br><span class="small">'
        f"{escape(text)}</span></li>" for title, href, text in LINKS)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rempart</title>
<link rel="stylesheet" href="{MOUNT_PATH}/static/console.css">
</head>
<body>
<header class="top"><span class="brand">rempart</span></header>
<main class="narrow">
<h1>rempart</h1>
<p>Known abuse material banned by its fingerprint at upload, moderated by people who are
protected, and daily transparency reports anyone can verify.</p>
<ul class="stack">
{items}
</ul>
</main>
</body>
</html>
"""


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home() -> HTMLResponse:
    return HTMLResponse(_page(), headers=HEADERS)
