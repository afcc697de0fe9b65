"""The console's flows through HTTP (TestClient): login and sessions, CSRF, the review loop,
the exposure budget, dual review, audit export, preferences, users, blast radius."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import pyotp
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from rempart.audit.models import AuditEntry
from rempart.moderation import add_endpoint
from rempart.moderation.models import Case, OutboxMessage
from rempart.people import bootstrap_user
from tests.web.web_helpers import WebUser, csrf_of, login, token


def _events(runtime, case_id=None) -> list[str]:
    with runtime.db.session() as s:
        q = select(AuditEntry.event).order_by(AuditEntry.id)
        if case_id is not None:
            q = q.where(AuditEntry.case_id == case_id)
        return list(s.scalars(q))


# -- login, sessions, cookies -----------------------------------------------------------------

def test_login_sets_a_strict_httponly_cookie_and_logout_ends_the_session(app, users):
    client = TestClient(app)
    login(client, users["cs"])
    cookie = next(c for c in client.cookies.jar if c.name == "rempart_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and not cookie.secure
    assert cookie.get_nonstandard_attr("SameSite").lower() == "strict"
    assert client.get("/console/", follow_redirects=False).status_code == 200
    stolen = client.cookies.get("rempart_session")
    r = client.post("/console/logout", data={"csrf_token": token(client)}, follow_redirects=False)
    assert r.status_code == 303
    replay = TestClient(app, cookies={"rempart_session": stolen})
    assert replay.get("/console/", follow_redirects=False).headers["location"] == "/console/login"


def test_cookie_is_secure_over_https(app, users):
    client = TestClient(app, base_url="https://console.example")
    page = client.get("/console/login")
    r = client.post("/console/login", data={
        "csrf_token": csrf_of(page.text), "username": users["lead"].username,
        "password": users["lead"].password, "code": pyotp.TOTP(users["lead"].totp_secret).now()},
        follow_redirects=False)
    assert "secure" in r.headers["set-cookie"].lower()
    assert "samesite=strict" in r.headers["set-cookie"].lower()


def test_wrong_code_password_or_replayed_code_fail_the_same_way(app, runtime, users):
    user = users["mod"]
    code = pyotp.TOTP(user.totp_secret).now()
    client = TestClient(app)
    for password, c in ((user.password, "000000"), ("wrong-password!", code)):
        page = client.get("/console/login")
        r = client.post("/console/login", data={"csrf_token": csrf_of(page.text),
                                                 "username": user.username, "password": password,
                                                 "code": c})
        assert r.status_code == 401 and "Wrong username, password or code." in r.text
    login(client, user, code)
    with pytest.raises(AssertionError):  # the same code twice: a replay
        login(TestClient(app), user, code)
    assert _events(runtime).count("session.login-failed") == 3


def test_a_one_time_password_must_be_changed_first(app, runtime):
    with runtime.db.session() as s:
        new = bootstrap_user(s, "newcomer", __import__("rempart.authz", fromlist=["Role"]).Role.LEAD)
        user = WebUser("newcomer", new.one_time_password, new.totp_secret, None)
    client = login(TestClient(app), user)
    r = client.get("/console/queues", follow_redirects=False)
    assert r.headers["location"] == "/console/password"
    r = client.post("/console/password", data={"csrf_token": token(client), "old": user.password,
                                               "new": "a-much-better-passphrase",
                                               "repeat": "a-much-better-passphrase"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/console/queues").status_code == 200


# -- CSRF --------------------------------------------------------------------------------------

def test_every_form_post_needs_the_sessions_csrf_token(app, runtime, clients, users, flagged):
    cs, cs2 = clients["cs"], clients["cs2"]
    path = f"/console/cases/{flagged['cs_case']}/claim"
    other = token(cs2)  # a valid token, but of another session
    for data, headers in (({}, {}), ({"csrf_token": "nope"}, {}), ({"csrf_token": other}, {}),
                          ({}, {"X-CSRF-Token": other})):
        r = cs.post(path, data=data, headers=headers, follow_redirects=False)
        assert r.status_code == 403 and "CSRF" in r.text
    with runtime.db.session() as s:
        assert s.get(Case, flagged["cs_case"]).claimed_by is None
    r = cs.post(path, headers={"X-CSRF-Token": token(cs)}, follow_redirects=False)
    assert r.status_code == 303
    with runtime.db.session() as s:
        assert s.get(Case, flagged["cs_case"]).claimed_by == users["cs"].actor.user_id


def test_the_login_form_is_csrf_protected_too(app, users):
    client = TestClient(app)
    user = users["lead"]
    r = client.post("/console/login", data={"username": user.username, "password": user.password,
                                            "code": pyotp.TOTP(user.totp_secret).now()})
    assert r.status_code == 403 and "rempart_session" not in r.headers.get("set-cookie", "")


def test_security_headers(clients):
    r = clients["cs"].get("/console/")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"


# -- the review loop ---------------------------------------------------------------------------

def _image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_review_loop_claim_blurred_reveal_decide(app, runtime, clients, users, flagged):
    with runtime.db.session() as s:
        add_endpoint(s, users["admin"].actor, "platform", "http://127.0.0.1:9/hook", "secret")
    cs = clients["cs"]
    r = cs.post("/console/cases/next", data={"csrf_token": token(cs)}, follow_redirects=False)
    case_id = int(r.headers["location"].split("/")[-1].split("?")[0])
    assert case_id == flagged["cs_case"]
    page = cs.get(f"/console/cases/{case_id}").text
    assert 'class="media shield"' in page and 'data-revealed="no"' in page
    media = f"/console/cases/{case_id}/items/{flagged['item']}/media"
    hidden = cs.get(media)
    assert hidden.headers["x-rempart-revealed"] == "0" and hidden.headers["cache-control"] == "no-store"
    assert _image(hidden.content).mode == "L"  # greyscale (and blurred) on the server already
    r = cs.post(f"/console/cases/{case_id}/items/{flagged['item']}/reveal",
                data={"csrf_token": token(cs)}, follow_redirects=False)
    assert r.status_code == 303
    shown = cs.get(media)
    assert shown.headers["x-rempart-revealed"] == "1" and _image(shown.content).mode == "RGB"
    assert 'data-revealed="yes"' in cs.get(f"/console/cases/{case_id}").text
    preview = cs.post(f"/console/cases/{case_id}/reasons", data={
        "csrf_token": token(cs), "policy": "csam", "actions": ["remove_item", "preservation_hold"],
        "facts": "matched"}).text
    assert "STATEMENT_CATEGORY_PROTECTION_OF_MINORS" in preview
    assert "restricts nothing" in preview  # a hold carries no statement
    assert _events(runtime, case_id).count("decision.proposed") == 0  # a preview saves nothing
    r = cs.post(f"/console/cases/{case_id}/decide", data={
        "csrf_token": token(cs), "policy": "csam", "actions": ["remove_item"],
        "facts": "Matched the review list at distance 0."}, follow_redirects=False)
    assert r.status_code == 303 and "done=decided" in r.headers["location"]
    events = _events(runtime, case_id)
    assert events.index("media.revealed") < events.index("decision.final")
    assert "action.applied" in events
    with runtime.db.session() as s:
        msg = s.scalar(select(OutboxMessage))
        assert json.loads(msg.body)["data"]["action"] == "remove_item"


def test_a_bad_decision_is_refused_with_a_readable_page(clients, claimed):
    cs = clients["cs"]
    r = cs.post(f"/console/cases/{claimed['cs_case']}/decide", data={
        "csrf_token": token(cs), "actions": ["remove_item"], "facts": "x"})
    assert r.status_code == 400 and "names the policy" in r.text


def test_past_the_exposure_budget_no_media_case_is_served(app, runtime, clients, flagged):
    runtime.moderation = dataclasses.replace(runtime.moderation, daily_reveal_limit=1)
    cs = clients["cs"]
    cs.post("/console/cases/next", data={"csrf_token": token(cs)})
    cs.post(f"/console/cases/{flagged['cs_case']}/items/{flagged['item']}/reveal",
            data={"csrf_token": token(cs)})
    cs.post(f"/console/cases/{flagged['cs_case']}/release", data={"csrf_token": token(cs)})
    r = cs.post("/console/cases/next", data={"csrf_token": token(cs)}, follow_redirects=False)
    # metadata-only work goes on: the report (no media) is served, not the media case
    assert r.headers["location"].startswith(f"/console/cases/{flagged['report']}?")
    assert "Budget spent" in cs.get(r.headers["location"]).text
    cs.post(f"/console/cases/{flagged['report']}/release", data={"csrf_token": token(cs)})
    mod = clients["mod"]
    mod.post(f"/console/cases/{flagged['report']}/claim", data={"csrf_token": token(mod)})
    r = cs.post("/console/cases/next", data={"csrf_token": token(cs)}, follow_redirects=False)
    assert r.status_code == 200 and 'data-testid="break"' in r.text
    r = cs.post(f"/console/cases/{flagged['cs_case2']}/claim", data={"csrf_token": token(cs)})
    assert r.status_code == 429 and "break" in r.text
    assert "Budget spent" in cs.get("/console/").text


def test_dual_review_then_second_opinion(runtime, clients, claimed):
    cs, cs2 = clients["cs"], clients["cs2"]
    case = claimed["cs_case"]
    r = cs.post(f"/console/cases/{case}/decide", data={
        "csrf_token": token(cs), "policy": "csam", "actions": ["remove_item", "bank_item"],
        "facts": "Matched a review list; banking."}, follow_redirects=False)
    assert "done=pending" in r.headers["location"]
    cs2.post(f"/console/cases/{case}/claim", data={"csrf_token": token(cs2)})
    page = cs2.get(f"/console/cases/{case}").text
    assert "Agree (apply)" in page
    with runtime.db.session() as s:
        from rempart.moderation.models import Decision
        decision = s.scalar(select(Decision.id).where(Decision.case_id == case))
    r = cs2.post(f"/console/decisions/{decision}/second", data={
        "csrf_token": token(cs2), "agrees": "yes", "note": "agree"}, follow_redirects=False)
    assert "done=agreed" in r.headers["location"]
    with runtime.db.session() as s:
        assert s.get(Case, case).status == "decided"


# -- leads and admins --------------------------------------------------------------------------

def test_audit_export_csv_and_json(runtime, clients, claimed):
    lead = clients["lead"]
    rows = list(csv.reader(io.StringIO(lead.get("/console/audit/export?format=csv").text)))
    assert rows[0] == ["id", "at", "actor", "actor_user_id", "event", "case_id", "subject", "detail"]
    assert "case.claimed" in [r[4] for r in rows[1:]]
    lines = lead.get(f"/console/audit/export?format=json&case={claimed['cs_case']}").text.splitlines()
    assert lines and all(json.loads(x)["case_id"] == claimed["cs_case"] for x in lines)
    assert _events(runtime).count("audit.exported") == 2
    page = lead.get("/console/audit?event=case.claimed").text
    assert "case.claimed" in page and "case.opened</td>" not in page


def test_preferences_change_the_blur_shown(clients, claimed):
    cs = clients["cs"]
    r = cs.post("/console/preferences", data={"csrf_token": token(cs), "blur": "40",
                                             "greyscale": "on", "thumbnails": "on"},
                follow_redirects=False)
    assert r.status_code == 303
    page = cs.get(f"/console/cases/{claimed['cs_case']}").text
    assert 'data-blur="40"' in page and 'class="media shield"' in page
    cs.post("/console/preferences", data={"csrf_token": token(cs), "blur": "40"})  # all boxes off
    page = cs.get(f"/console/cases/{claimed['cs_case']}").text
    assert 'data-testid="media"' not in page and "Previews are off" in page
    bad = cs.post("/console/preferences", data={"csrf_token": token(cs), "blur": "0"})
    assert bad.status_code == 400  # never unblurred before a reveal


def test_admin_creates_and_disables_users(runtime, clients, users):
    admin = clients["admin"]
    r = admin.post("/console/users", data={"csrf_token": token(admin), "username": "fresh-lead",
                                           "role": "lead"})
    assert r.status_code == 200 and "One-time password" in r.text
    assert "One-time password" not in admin.get("/console/users").text  # shown once only
    mod_id = users["mod"].actor.user_id
    admin.post(f"/console/users/{mod_id}/disable", data={"csrf_token": token(admin)})
    assert clients["mod"].get("/console/", follow_redirects=False).status_code == 303


def test_queues_and_exposure_for_leads(clients, claimed):
    lead = clients["lead"]
    page = lead.get("/console/queues").text
    assert "hash-review" in page and "reports" in page
    assert "cs-user" in lead.get("/console/exposure").text


def test_blast_radius_list_and_graph(runtime, clients, claimed):
    page = clients["lead"].get(f"/console/items/{claimed['item']}/blast-radius").text
    assert "<svg" in page and "acct-a" in page and "group-1" in page
    assert "blast-radius" in _events(runtime)[-1] or "investigation.blast-radius" in _events(runtime)


def test_disagreement_goes_to_a_lead_who_upholds(runtime, clients, claimed):
    from rempart.moderation.models import Decision

    cs, cs2, lead = clients["cs"], clients["cs2"], clients["lead"]
    case = claimed["cs_case"]
    cs.post(f"/console/cases/{case}/decide", data={
        "csrf_token": token(cs), "policy": "csam", "actions": ["remove_item", "ban_account"],
        "facts": "Matched a review list."})
    with runtime.db.session() as s:
        decision = s.scalar(select(Decision.id).where(Decision.case_id == case))
    cs2.post(f"/console/cases/{case}/claim", data={"csrf_token": token(cs2)})
    cs2.post(f"/console/decisions/{decision}/second", data={"csrf_token": token(cs2),
                                                            "agrees": "no", "note": "unsure"})
    assert f"/cases/{case}\"" in lead.get("/console/escalations").text
    lead.post(f"/console/cases/{case}/claim", data={"csrf_token": token(lead)})
    assert "Uphold (apply)" in lead.get(f"/console/cases/{case}").text
    r = lead.post(f"/console/decisions/{decision}/resolve", data={
        "csrf_token": token(lead), "uphold": "yes", "note": "the match is exact"},
        follow_redirects=False)
    assert "done=upheld" in r.headers["location"]
    with runtime.db.session() as s:
        assert s.get(Decision, decision).status == "final"


def test_an_appeal_is_decided_by_someone_else_and_reverses(runtime, clients, users, claimed):
    from rempart.authz import system_actor
    from rempart.moderation import file_appeal
    from rempart.moderation.models import Action, Appeal, Decision

    cs, cs2 = clients["cs"], clients["cs2"]
    cs.post(f"/console/cases/{claimed['cs_case']}/decide", data={
        "csrf_token": token(cs), "policy": "csam", "actions": ["remove_item"], "facts": "match"})
    with runtime.db.session() as s:
        decision = s.scalar(select(Decision.id).where(Decision.case_id == claimed["cs_case"]))
        appeal = file_appeal(s, system_actor("platform"), decision, appellant="acct-a",
                             statement="Not mine.", config=runtime.moderation)
        appeal_id, appeal_case = appeal.id, appeal.case_id
    assert f"/cases/{appeal_case}\"" in cs2.get("/console/appeals").text
    cs.post(f"/console/cases/{appeal_case}/claim", data={"csrf_token": token(cs)})
    r = cs.post(f"/console/appeals/{appeal_id}/decide", data={
        "csrf_token": token(cs), "overturn": "yes", "note": "mine now"})
    assert r.status_code == 403  # the original reviewer cannot decide the appeal
    cs.post(f"/console/cases/{appeal_case}/release", data={"csrf_token": token(cs)})
    cs2.post(f"/console/cases/{appeal_case}/claim", data={"csrf_token": token(cs2)})
    page = cs2.get(f"/console/cases/{appeal_case}").text
    assert "Not mine." in page and "Overturn" in page
    r = cs2.post(f"/console/appeals/{appeal_id}/decide", data={
        "csrf_token": token(cs2), "overturn": "yes", "note": "benign on a second look"},
        follow_redirects=False)
    assert "done=appeal" in r.headers["location"]
    with runtime.db.session() as s:
        assert s.get(Appeal, appeal_id).status == "overturned"
        assert {a.status for a in s.scalars(select(Action))} == {"reversed"}


def test_bulk_action_on_confirmed_entities_only(runtime, clients, claimed):
    cs = clients["cs"]
    cs.post(f"/console/cases/{claimed['cs_case']}/decide", data={
        "csrf_token": token(cs), "policy": "csam", "actions": ["remove_item"], "facts": "match"})
    page = cs.get(f"/console/items/{claimed['item']}/blast-radius").text
    assert 'value="account:acct-a"' in page
    r = cs.post(f"/console/items/{claimed['item']}/blast-radius/act", data={
        "csrf_token": token(cs), "entities": ["account:acct-b"], "policy": "csam",
        "actions": ["remove_item"], "facts": "f"})
    assert r.status_code == 400 and "shared membership alone" in r.text
    r = cs.post(f"/console/items/{claimed['item']}/blast-radius/act", data={
        "csrf_token": token(cs), "entities": ["account:acct-a", "space:group-1"],
        "policy": "csam", "actions": ["preservation_hold"], "facts": "confirmed"},
        follow_redirects=False)
    assert r.status_code == 303 and "done=bulk" in r.headers["location"]
    with runtime.db.session() as s:
        assert s.scalar(select(Case).where(Case.source == "investigation")) is not None


def test_admin_adds_a_webhook_endpoint_and_sees_the_secret_once(runtime, clients):
    admin = clients["admin"]
    r = admin.post("/console/webhooks", data={"csrf_token": token(admin), "name": "platform",
                                              "url": "https://platform.example/hooks"})
    assert r.status_code == 200 and 'data-testid="created"' in r.text
    page = admin.get("/console/webhooks").text
    assert "https://platform.example/hooks" in page and 'data-testid="created"' not in page
    bad = admin.post("/console/webhooks", data={"csrf_token": token(admin), "name": "x",
                                                "url": "ftp://nope"})
    assert bad.status_code == 400


def test_untrusted_text_is_escaped(runtime, clients):
    from rempart.authz import system_actor
    from rempart.moderation import CaseSource, FlaggedItem, NewCase, open_case

    with runtime.db.session() as s:
        case = open_case(s, system_actor("hotline"), NewCase(
            source=CaseSource.PUBLIC_REPORT, subject="report:xss",
            title='<script>alert("x")</script>', account='"><img src=x onerror=alert(1)>',
            items=(FlaggedItem(external_ref="m-1"),), has_media=False, child_safety=False),
            runtime.moderation).case.id
    page = clients["mod"].get(f"/console/cases/{case}").text
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<img src=x" not in page
