"""The console renders what the moderation package decides: the statement it previews is the
one the decision stores, the actions it offers are those deciding accepts, the blur it allows is
the one the service allows."""

from __future__ import annotations

import html

from sqlalchemy import select

from rempart.moderation import MAX_BLUR, MIN_BLUR
from rempart.moderation.models import Action
from tests.web.web_helpers import token


def test_the_previewed_statement_is_the_stored_one(runtime, clients, claimed):
    cs = clients["cs"]
    form = {"csrf_token": token(cs), "policy": "csam", "actions": ["remove_item"],
            "facts": "Matched the review list at distance 0."}
    preview = html.unescape(cs.post(f"/console/cases/{claimed['cs_case']}/reasons", data=form).text)
    r = cs.post(f"/console/cases/{claimed['cs_case']}/decide", data=form, follow_redirects=False)
    assert r.status_code == 303 and "done=decided" in r.headers["location"]
    with runtime.db.session() as s:
        (action,) = s.scalars(select(Action))
    for field, value in action.statement.items():
        if value is None:
            continue  # not shown, and not stored by today's builder
        shown = value if isinstance(value, str) else ", ".join(value)
        assert f"<dt>{field}</dt><dd>{shown}</dd>" in preview, field


def test_a_preview_the_decision_would_refuse_says_why(clients, claimed):
    cs = clients["cs"]
    r = cs.post(f"/console/cases/{claimed['cs_case']}/reasons", data={
        "csrf_token": token(cs), "policy": "csam", "actions": ["dismiss", "remove_item"],
        "facts": "x"})
    assert r.status_code == 200 and "dismiss excludes every other action" in r.text


def test_the_case_page_offers_only_what_deciding_accepts(clients, flagged):
    mod = clients["mod"]
    mod.post(f"/console/cases/{flagged['report']}/claim", data={"csrf_token": token(mod)})
    page = mod.get(f"/console/cases/{flagged['report']}").text
    # a report about a message known by reference: removable, not bankable; no space to ban
    assert 'value="remove_item"' in page and 'value="ban_account"' in page
    assert 'value="bank_item"' not in page and 'value="ban_space"' not in page


def test_the_blur_the_page_allows_is_the_blur_the_service_allows(clients):
    cs = clients["cs"]
    page = cs.get("/console/preferences").text
    assert f'min="{MIN_BLUR}" max="{MAX_BLUR}"' in page
    ok = cs.post("/console/preferences", data={"csrf_token": token(cs), "blur": str(MIN_BLUR)},
                 follow_redirects=False)
    assert ok.status_code == 303
    low = cs.post("/console/preferences", data={"csrf_token": token(cs), "blur": str(MIN_BLUR - 1)})
    assert low.status_code == 400
