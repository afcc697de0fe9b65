"""The public pages (form, on-device hashes, status), the organisations' portal and the leads'
organisations page, through the real apps (no browser: see test_hotline_browser)."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import func, select

from rempart.api.app import create_app
from rempart.authz import Role
from rempart.hotline.models import Notice
from rempart.hotline.orgs import add_analyst, get_org
from rempart.moderation.vocab import ActionKind
from tests.hotline.hotline_helpers import auth, decide_notice, notice, org, posted, reviewer, tune
from tests.web.web_helpers import csrf_of, login, make_users
from fastapi.testclient import TestClient

CHALLENGE = re.compile(r'name="challenge" value="([^"]+)"')
CODE = re.compile(r'id="receipt-code">([^<]+)<')


@pytest.fixture
def app(runtime):
    posted(runtime, 40, "acct-1", "m-1")
    tune(runtime, form_min_seconds=0)
    return create_app(runtime, outbox_worker=False)


def form_fields(page: str) -> dict:
    return {"csrf_token": csrf_of(page), "challenge": CHALLENGE.search(page).group(1)}


def report(client, **fields):
    page = client.get("/report/").text
    data = {**form_fields(page), "category": "csam", "account": "acct-1", "space": "group-1",
            "message": "m-1", "explanation": "seen in a group", "good_faith": "yes", **fields}
    return client.post("/report/", data=data)


def n_notices(runtime) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(Notice))


def test_an_anonymous_report_is_received_and_followed_with_its_code(runtime, app):
    with TestClient(app) as client:
        r = report(client)
        assert r.status_code == 201, r.text
        code = CODE.search(r.text).group(1)
        with runtime.db.session() as s:
            n = s.scalars(select(Notice)).one()
            assert (n.source_kind, n.channel, n.org_id, n.contact) == ("public", "form", None, None)
            assert n.receipt_sha256 and code not in str(n.__dict__)  # only its digest is kept
        status = client.post("/report/status", data={
            "csrf_token": csrf_of(client.get("/report/status").text), "code": code})
        assert "received" in status.text
        decide_notice(runtime, n.id, reviewer(runtime).actor, [ActionKind.REMOVE_ITEM])
        status = client.post("/report/status", data={
            "csrf_token": csrf_of(client.get("/report/status").text), "code": code})
        assert 'class="status-actioned"' in status.text
        wrong = client.post("/report/status", data={
            "csrf_token": csrf_of(client.get("/report/status").text), "code": code + "x"})
        assert wrong.status_code == 404


def test_anonymous_only_for_child_sexual_abuse(runtime, app):
    with TestClient(app) as client:
        r = report(client, category="spam")
        assert r.status_code == 422 and "DSA Art. 16(2)" in r.text
        assert report(client, category="spam", name="A Person", email="a@example.org"
                      ).status_code == 201
    assert n_notices(runtime) == 1


def test_the_form_refuses_robots_replays_floods_and_unknown_locations(runtime, app):
    with TestClient(app) as client:
        tune(runtime, form_min_seconds=3600)
        assert report(client).status_code == 422  # sent faster than a person could
        tune(runtime, form_min_seconds=0, public_reports_per_hour=2)
        page = client.get("/report/").text
        data = {**form_fields(page), "category": "csam", "account": "acct-1", "space": "group-1",
                "good_faith": "yes"}
        assert client.post("/report/", data=data).status_code == 201
        assert client.post("/report/", data=data).status_code == 409  # the same form again
        assert report(client, message="nope").status_code == 422  # no such message
        assert report(client, challenge="v1.1.2.3").status_code == 422  # not served here
        assert report(client, good_faith="").status_code == 422
        assert report(client).status_code == 201
        assert report(client).status_code == 429  # the source's hourly rate
        no_csrf = client.post("/report/", data={"category": "csam"})
        assert no_csrf.status_code == 403
    assert n_notices(runtime) == 2


def test_on_device_hashes_arrive_as_a_pending_notice(runtime, app):
    with TestClient(app) as client:
        page = client.get("/report/hash")
        assert "media-src blob:" in page.headers["content-security-policy"]
        assert "worker-src 'self'" in page.headers["content-security-policy"]
        assert '<input type="file" id="files"' in page.text
        form = page.text.split('<form', 1)[1].split("</form>")[0]
        assert 'type="file"' not in form  # the picture cannot be part of what is sent
        hashes = '[{"type": "md5", "value": "' + "a" * 32 + '"}]'
        r = client.post("/report/hash", data={**form_fields(page.text), "hashes": hashes,
                                              "good_faith": "yes"})
        assert r.status_code == 201, r.text
        bad = client.post("/report/hash", data={**form_fields(client.get("/report/hash").text),
                                                "hashes": '[{"type": "md5", "value": "xyz"}]',
                                                "good_faith": "yes"})
        assert bad.status_code == 422 and "report.hashes[0].value" in bad.text
        assert client.get("/report/engine/ondevice.js").status_code == 200
    with runtime.db.session() as s:
        n = s.scalars(select(Notice)).one()
        assert (n.channel, n.source_kind) == ("on_device", "on_device")
        assert [h.status for h in n.hashes] == ["pending"]


def portal_login(client, username, password, secret):
    page = client.get("/portal/login")
    return client.post("/portal/login", data={
        "csrf_token": csrf_of(page.text), "username": username, "password": password,
        "code": pyotp.TOTP(secret).now()}, follow_redirects=False)


def test_the_portal_shows_an_analyst_their_own_organisation_only(runtime, app):
    a_id, key_a = org(runtime, "Org A")
    b_id, key_b = org(runtime, "Org B", "ngo")
    with runtime.db.session() as s:
        new = add_analyst(s, get_org(s, a_id), "ana")
        new.user.must_change_password = False
        password, secret = new.one_time_password, new.totp_secret
    with TestClient(app) as client:
        mine = client.post("/v1/notices", headers=auth(key_a),
                           json={"notices": [notice(reference="MINE-1")]}).json()
        theirs = client.post("/v1/notices", headers=auth(key_b),
                             json={"notices": [notice(reference="THEIRS-1")]}).json()
        assert portal_login(client, "ana", password, secret).status_code == 303
        home = client.get("/portal/")
        assert "MINE-1" in home.text and "THEIRS-1" not in home.text
        assert client.get(f"/portal/notices/{mine['notices'][0]['id']}").status_code == 200
        assert client.get(f"/portal/notices/{theirs['notices'][0]['id']}").status_code == 404
        # the analyst's session means nothing to the console, and the console refuses them
        assert client.get("/console/", follow_redirects=False).status_code == 303
        page = client.get("/console/login")
        r = client.post("/console/login", data={
            "csrf_token": csrf_of(page.text), "username": "ana", "password": password,
            "code": pyotp.TOTP(secret).now()}, follow_redirects=False)
        assert r.status_code == 401
        # their webhook endpoint
        page = client.get("/portal/webhook")
        r = client.post("/portal/webhook", data={"csrf_token": csrf_of(page.text),
                                                 "url": "http://127.0.0.1:9/hook"})
        assert r.status_code == 200 and 'id="secret"' in r.text


def test_console_people_cannot_use_the_portal(runtime, app):
    users = make_users(runtime, {"lead": Role.LEAD})
    with TestClient(app) as client:
        r = portal_login(client, users["lead"].username, users["lead"].password,
                         users["lead"].totp_secret)
        assert r.status_code == 401
        login(client, users["lead"])  # the console takes them
        assert client.get("/portal/", follow_redirects=False).status_code == 303  # to its login


def test_leads_see_organisations_and_suspend_one(runtime, app):
    a_id, key = org(runtime, "Org A", "trusted-flagger")
    for i in range(6):
        posted(runtime, 60 + i, f"acct-x{i}", f"mx-{i}")
    users = make_users(runtime, {"lead": Role.LEAD, "mod": Role.MODERATOR})
    rev = reviewer(runtime)
    with TestClient(app) as client:
        ids = [n["id"] for n in client.post("/v1/notices", headers=auth(key), json={"notices": [
            notice(f"acct-x{i}", f"mx-{i}") for i in range(6)]}).json()["notices"]]
        for nid in ids:
            decide_notice(runtime, nid, rev.actor, [ActionKind.DISMISS])
        login(client, users["lead"])
        page = client.get("/console/organisations")
        assert "Org A" in page.text and "many unfounded" in page.text
        r = client.post(f"/console/organisations/{a_id}/suspend",
                        data={"csrf_token": csrf_of(page.text), "reason": "unfounded notices"},
                        follow_redirects=False)
        assert r.status_code == 303
        refused = client.post("/v1/notices", headers=auth(key), json={"notices": [notice(
            "acct-x0", "mx-0")]})
        assert refused.status_code == 403
    with TestClient(app) as client:
        login(client, users["mod"])
        assert client.get("/console/organisations").status_code == 403


def test_a_notice_case_shows_in_the_console_with_its_pending_fingerprints(runtime, app):
    from rempart.signals import fingerprint
    from tests.factories import image_bytes
    _, key = org(runtime)
    users = make_users(runtime, {"cs": Role.CHILD_SAFETY_MODERATOR})
    fp = fingerprint(image_bytes(40))
    with TestClient(app) as client:
        nid = client.post("/v1/notices", headers=auth(key), json={"notices": [
            notice(hashes=[{"type": "pdq", "value": fp.pdq().pdq}])]}).json()["notices"][0]["id"]
        with runtime.db.session() as s:
            case_id = s.get(Notice, nid).case_id
        login(client, users["cs"])
        page = client.get(f"/console/cases/{case_id}")
        assert page.status_code == 200
        assert f"notice:{nid}:hash:" in page.text  # the pending fingerprint, not yet a bank entry
        assert "matches 1 item(s) above" in page.text and "stand-in test notice" in page.text
