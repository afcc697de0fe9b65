"""The console with integers past a BIGINT, and bodies past its form limit: clear error pages,
never a 500."""

from __future__ import annotations

import pytest

from tests.web.web_helpers import token

TOO_BIG = 2**63
ID_TOO_BIG = 2**31  # ids are INTEGER columns: 32 bits on PostgreSQL


@pytest.mark.parametrize("who, path", [
    ("cs", f"/console/cases/{TOO_BIG}"),
    ("cs", f"/console/cases/{ID_TOO_BIG}"),
    ("cs", f"/console/cases/1/items/{TOO_BIG}/media"),
    ("lead", f"/console/items/{TOO_BIG}/blast-radius"),
    ("lead", f"/console/audit?after={TOO_BIG}"),
    ("lead", f"/console/audit?case={TOO_BIG}"),
    ("lead", f"/console/audit?after={ID_TOO_BIG}"),
    ("lead", f"/console/audit/export?format=csv&case={TOO_BIG}"),
])
def test_pages_with_huge_integers_are_422_pages(clients, who, path):
    r = clients[who].get(path)
    assert r.status_code == 422 and "text/html" in r.headers["content-type"], r.text[:200]


@pytest.mark.parametrize("who, path, form", [
    ("cs", f"/console/cases/{TOO_BIG}/claim", {}),
    ("cs", f"/console/cases/{ID_TOO_BIG}/claim", {}),
    ("cs", f"/console/decisions/{TOO_BIG}/second", {"agrees": "yes"}),
    ("cs", f"/console/appeals/{TOO_BIG}/decide", {"overturn": "no"}),
    ("lead", f"/console/decisions/{TOO_BIG}/resolve", {"uphold": "yes"}),
    ("admin", f"/console/users/{TOO_BIG}/disable", {}),
    ("admin", "/console/preferences", {"blur": str(TOO_BIG)}),
])
def test_posts_with_huge_integers_are_422_pages(clients, who, path, form):
    client = clients[who]
    r = client.post(path, data={**form, "csrf_token": token(client)}, follow_redirects=False)
    assert r.status_code == 422 and "text/html" in r.headers["content-type"], r.text[:200]


def test_a_form_past_the_console_limit_is_a_413_page(clients):
    admin = clients["admin"]
    r = admin.post("/console/preferences", data={"blur": "16", "csrf_token": token(admin),
                                                 "greyscale": "x" * (300 * 1024)})
    assert r.status_code == 413 and "Too large" in r.text
