"""The hotline end to end in a real headless Chromium and a real server (uvicorn):

- an NGO's batch through the API, a reviewer actions it in the console, the NGO's webhook
  receives the signed outcome and the portal shows it;
- an anonymous report through the form, with JavaScript switched off;
- a picture hashed on the device at /report/hash: the hashes that arrive are Python's for the same
  file, and no request the page makes carries the picture.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import select

from rempart.authz import Actor, Role
from rempart.hotline.models import Notice
from rempart.hotline.orgs import get_org, set_endpoint
from rempart.signals import fingerprint
from tests.hotline.hotline_helpers import notice, org, posted, tune
from tests.served import Served
from tests.web.test_web_browser import ARGS, CHROMIUM, sync_playwright
from tests.web.web_helpers import csrf_of, make_users
from tests.webhook_receiver import WebhookReceiver

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="browser tests need /usr/bin/chromium"),
    pytest.mark.skipif(sync_playwright is None, reason="browser tests need playwright"),
]


@pytest.fixture
def served(runtime):
    posted(runtime, 40, "acct-1", "m-1")
    posted(runtime, 41, "acct-2", "m-2")
    tune(runtime, form_min_seconds=0)
    with Served(runtime) as s:
        yield s


@pytest.fixture
def browser():
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


def test_an_ngo_batch_is_actioned_in_the_console_and_the_ngo_hears_back(runtime, served):
    org_id, key = org(runtime, "Child NGO", "ngo")
    with runtime.db.session() as s:
        _, secret = set_endpoint(s, Actor(None, "t", Role.ADMIN), get_org(s, org_id), "http://x/")
    users = make_users(runtime, {"cs": Role.CHILD_SAFETY_MODERATOR})
    with WebhookReceiver(secret) as hook:
        with runtime.db.session() as s:
            from rempart.moderation.models import WebhookEndpoint
            s.scalars(select(WebhookEndpoint)).one().url = hook.url
        api = httpx.Client(base_url=served.root, headers={"Authorization": f"Bearer {key}",
                                                          "Idempotency-Key": "batch-1"})
        body = {"notices": [notice("acct-1", "m-1", reference="NGO-1"),
                            notice("acct-2", "m-2", reference="NGO-2")]}
        first = api.post("/v1/notices", json=body)
        assert first.status_code == 201, first.text
        assert api.post("/v1/notices", json=body).json() == first.json()  # a retry
        ids = [n["id"] for n in first.json()["notices"]]
        with runtime.db.session() as s:
            case_id = s.get(Notice, ids[0]).case_id
            assert s.get(Notice, ids[0]).status == "received"
        # the reviewer, in the console over HTTP: log in, claim, decide
        cs = httpx.Client(base_url=served.root, follow_redirects=False)
        page = cs.get("/console/login")
        cs.post("/console/login", data={"csrf_token": csrf_of(page.text),
                                        "username": users["cs"].username,
                                        "password": users["cs"].password,
                                        "code": pyotp.TOTP(users["cs"].totp_secret).now()})
        token = csrf_of(cs.get("/console/password").text)
        assert cs.post(f"/console/cases/{case_id}/claim", data={"csrf_token": token}
                       ).status_code == 303
        assert api.get(f"/v1/notices/{ids[0]}").json()["status"] == "in_review"
        r = cs.post(f"/console/cases/{case_id}/decide", data={
            "csrf_token": token, "policy": "csam", "actions": ["remove_item"],
            "facts": "Reported by an NGO; confirmed."})
        assert r.status_code == 303 and "done=decided" in r.headers["location"]
        deadline = __import__("time").monotonic() + 20
        while not hook.received and __import__("time").monotonic() < deadline:
            __import__("time").sleep(0.2)
        assert hook.received, "the outcome webhook did not arrive"
        data = hook.received[0]["data"]
        assert (data["notice"], data["reference"], data["status"]) == (ids[0], "NGO-1", "actioned")
        assert data["removed_at"] and hook.rejected == 0
        assert api.get(f"/v1/notices/{ids[1]}").json()["status"] == "received"  # its own case


def test_an_anonymous_report_through_the_form_without_javascript(runtime, served, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(served.root + "/report/")
    page.select_option("select[name=category]", "csam")
    page.fill("input[name=account]", "acct-1")
    page.fill("input[name=message]", "m-1")
    page.fill("textarea[name=explanation]", "seen in a public group")
    page.check("input[name=good_faith]")
    page.click("button[type=submit]")
    code = page.text_content("#receipt-code").strip()
    assert code.startswith("rc_")
    page.goto(served.root + "/report/status")
    page.fill("input[name=code]", code)
    page.click("button[type=submit]")
    assert "received" in page.text_content("#status")
    context.close()
    with runtime.db.session() as s:
        n = s.scalars(select(Notice)).one()
        assert (n.channel, n.contact, n.locations[0].item_id is not None) == ("form", None, True)


def test_a_picture_is_hashed_on_device_and_never_sent(runtime, served, browser, testdata):
    picture = Path(testdata) / "images" / "pdq" / "misc" / "c.png"
    data = picture.read_bytes()
    context = browser.new_context()
    requests = []
    context.on("request", lambda r: requests.append(r))
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(e))
    page.goto(served.root + "/report/hash")
    page.set_input_files("#files", str(picture))
    page.wait_for_selector("#send button:enabled", timeout=60_000)
    page.check("input[name=good_faith]")
    page.click("#send button")
    code = page.text_content("#receipt-code").strip()
    context.close()
    assert code and not errors
    fp = fingerprint(data)
    with runtime.db.session() as s:
        n = s.scalars(select(Notice)).one()
        sent = {(h.signal_type, h.value) for h in n.hashes}
    assert sent == {("md5", fp.md5), ("pdq", fp.pdq().pdq)}  # Python's hashes of the same file
    posts = [r for r in requests if r.method != "GET"]
    assert [r.url for r in posts] == [served.root + "/report/hash"]
    for r in requests:
        body = r.post_data_buffer or b""
        assert len(body) < 4096 and data[:64] not in body and data[-64:] not in body, r.url
        assert r.url.startswith((served.root, "blob:" + served.root)), r.url
    form = json.loads(dict(__import__("urllib.parse").parse.parse_qsl(
        posts[0].post_data))["hashes"])
    assert {(h["type"], h["value"]) for h in form} == sent
