"""``rempart serve`` on ``/``: a page that leads to everything the server serves, not a 404."""

from __future__ import annotations

import re

from rempart.api.routes.home import LINKS


def test_the_root_page_links_to_the_console_the_docs_and_the_api(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src" not in r.headers["content-security-policy"]  # no script at all
    hrefs = re.findall(r'href="([^"]+)"', r.text)
    assert {"/console/login", "/docs", "/openapi.json"} <= set(hrefs)
    assert [h for h in hrefs if not h.endswith(".css")] == [href for _, href, _ in LINKS]
    for href in hrefs:  # every link leads somewhere that answers
        assert client.get(href).status_code == 200, href
    login = client.get("/console/login")
    assert 'name="password"' in login.text and 'name="code"' in login.text
