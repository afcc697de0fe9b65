"""The Legal desk and the officers' portal in a real headless Chromium (Debian's) against a
real server (uvicorn): an officer sends orders, the legal team verifies an emergency request
(callback, two approvals), answers it with a signed package downloaded from the desk (which
verifies offline), asks for clarification on another (the clock pauses, the officer sees it);
a moderator sees none of the desk."""

from __future__ import annotations

import json

import httpx
import pytest

from rempart.authz import Role
from rempart.legal import verify_package
from rempart.store.db import utcnow
from tests.legal.desk_helpers import agency_with_officer, emergency_request, epoc, items_of
from tests.served import Served
from tests.web.test_web_browser import ARGS, CHROMIUM, _log_in, sync_playwright
from tests.web.web_helpers import make_users

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="browser tests need /usr/bin/chromium"),
    pytest.mark.skipif(sync_playwright is None, reason="browser tests need playwright"),
]


@pytest.fixture
def browser():
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


def test_the_desk_and_the_portal_in_a_browser(runtime, browser, tmp_path):
    _, _, key, officer = agency_with_officer(runtime)
    items_of(runtime, "u-123")
    people = make_users(runtime, {"ana": Role.LEGAL, "ben": Role.LEGAL, "mod": Role.CHILD_SAFETY_MODERATOR})
    now = utcnow()
    with Served(runtime, outbox_worker=False) as served:
        api = httpx.Client(base_url=served.root, headers={"Authorization": f"Bearer {key}"})
        emr = api.post("/v1/legal/orders", json={"order": emergency_request(now)})
        assert emr.status_code == 201, emr.text
        emr_id = emr.json()["id"]

        # the officer: the portal, a malformed order refused with its fields named, a good one
        op = browser.new_context(accept_downloads=True).new_page()
        portal = served.root + "/officers"
        _log_in(op, portal, officer.user.username, officer.one_time_password, officer.totp_secret)
        assert "PAR-EMR-1" in op.inner_text("#orders")
        op.goto(portal + "/orders/new")
        op.fill("textarea[name=body]", json.dumps(epoc(now) | {"targets": []}))
        op.click("#order-form button[type=submit]")
        assert "targets" in op.inner_text("#error")
        op.fill("textarea[name=body]", json.dumps(epoc(now)))
        op.click("#order-form button[type=submit]")
        op.wait_for_url("**/orders/*?done=sent")
        epoc_id = int(op.url.split("/orders/")[1].split("?")[0])

        # a moderator sees none of the desk
        mp = browser.new_page()
        _log_in(mp, served.base, people["mod"].username, people["mod"].password, people["mod"].totp_secret)
        assert "Legal desk" not in mp.inner_text("header nav")
        mp.goto(served.base + "/legal")
        assert "Not allowed" in mp.content()
        mp.goto(f"{served.base}/legal/orders/{emr_id}")
        assert "PAR-EMR-1" not in mp.content()

        # the legal team: callback and two approvals, then the signed package
        ap = browser.new_context(accept_downloads=True).new_page()
        _log_in(ap, served.base, people["ana"].username, people["ana"].password, people["ana"].totp_secret)
        ap.click("header nav >> text=Legal desk")
        assert "PAR-EMR-1" in ap.inner_text("#orders") and "PAR-2026-0042" in ap.inner_text("#orders")
        ap.click(f"#orders a[href$='/legal/orders/{emr_id}']")
        ap.click("#answer-form button")  # refused: nothing verified yet
        assert "callback" in ap.inner_text("p.error")
        ap.select_option("#callback-form select[name=contact]", "+33100000000")
        ap.fill("#callback-form input[name=note]", "duty officer confirmed the request")
        ap.click("#callback-form button")
        ap.click("#approve-form button")
        assert "1 more approval" in ap.inner_text("#missing")
        bp = browser.new_page()
        _log_in(bp, served.base, people["ben"].username, people["ben"].password, people["ben"].totp_secret)
        bp.goto(f"{served.base}/legal/orders/{emr_id}")
        bp.click("#approve-form button")
        verified = bp.inner_text("#verification")
        assert "ana-user" in verified and "+33100000000" in verified and "confirmed" in verified
        assert "ben-user" in verified
        ap.goto(f"{served.base}/legal/orders/{emr_id}")
        ap.click("#answer-form button")
        ap.wait_for_url("**done=legal-answered")
        assert "answered" in ap.inner_text("#clock")
        with ap.expect_download() as info:
            ap.click("#deliveries >> text=Download signed package")
        path = tmp_path / "package.zip"
        info.value.save_as(path)
        assert verify_package(path, runtime.legal.vkey()).ok
        # the officer receives the same signed package from the portal
        op.goto(f"{portal}/orders/{emr_id}")
        with op.expect_download() as info:
            op.click("#deliveries >> text=Download signed package")
        info.value.save_as(tmp_path / "officer.zip")
        assert (tmp_path / "officer.zip").read_bytes() == path.read_bytes()

        # Form 3 on the production order: the clock pauses, the officer sees why
        ap.goto(f"{served.base}/legal/orders/{epoc_id}")
        ap.check("#clarify-form input[value=incomplete]")
        ap.fill("#clarify-form input[name=note]", "which time zone is the range in?")
        ap.click("#clarify-form button")
        assert "paused" in ap.inner_text("#clock")
        op.goto(f"{portal}/orders/{epoc_id}")
        assert "paused" in op.inner_text("#clock") and "incomplete" in op.inner_text("#history")
        op.goto(portal + "/")
        assert "waiting for your clarification" in op.inner_text("#orders")
        op.goto(f"{portal}/orders/{epoc_id}")
        op.fill("#clarification-form textarea", "UTC, as the order says.")
        op.click("#clarification-form button")
        op.wait_for_url("**done=clarified")
        assert "open" in op.inner_text("#clock") and "clarification received" in op.inner_text("#history")
        ap.goto(f"{served.base}/legal/orders/{epoc_id}")
        assert "UTC, as the order says." not in ap.inner_text("#clock")
        assert "clarification received" in ap.inner_text("#history")
        assert "UTC, as the order says." in ap.inner_text("#history")
        # another agency's officer cannot open it
        assert op.goto(f"{portal}/orders/999").status == 404


def test_a_reviewer_records_public_availability_on_the_case_page(runtime, browser):
    """The case page's control (people who may refer to NCMEC): recorded, audited, shown;
    the legal team, who decides no case, is refused."""
    from sqlalchemy import select

    from rempart.audit.models import AuditEntry
    from rempart.banks import service as banks
    from rempart.moderation.models import Case
    from tests.factories import image_bytes
    from tests.web.web_helpers import upload

    with runtime.db.session() as s:
        banks.create_bank(s, "review-list", action="review")
    runtime.bank_media("review-list", runtime.fingerprint(image_bytes(101)))
    upload(runtime, 101, "acct-a", space="group-7")
    with runtime.db.session() as s:
        case_id = s.scalar(select(Case.id).where(Case.source == "hash_review"))
    people = make_users(runtime, {"cs": Role.CHILD_SAFETY_MODERATOR, "ana": Role.LEGAL})
    with Served(runtime, outbox_worker=False) as served:
        p = browser.new_page()
        _log_in(p, served.base, people["cs"].username, people["cs"].password, people["cs"].totp_secret)
        p.goto(f"{served.base}/cases/{case_id}")
        form = "[data-testid=public-fact]"
        assert p.input_value(f"{form} select") == "no"  # false until someone records it
        p.select_option(f"{form} select", "yes")
        p.click(f"{form} button")
        p.wait_for_url("**done=fact-recorded")
        assert p.input_value(f"{form} select") == "yes"
        assert "Recorded by" in p.inner_text(form)
        # the legal team cannot record it (no case decisions): refused, nothing changes
        lp = browser.new_page()
        _log_in(lp, served.base, people["ana"].username, people["ana"].password, people["ana"].totp_secret)
        r = lp.request.post(f"{served.base}/cases/{case_id}/publicly-available",
                            form={"publicly_available": "no"})
        assert r.status in (403, 404)
    with runtime.db.session() as s:
        assert s.get(Case, case_id).detail["publicly_available"] is True
        (e,) = s.scalars(select(AuditEntry).where(AuditEntry.event == "case.fact-recorded"))
        assert e.detail["after"] is True and e.case_id == case_id


def test_the_desk_reconciles_a_lost_submit_in_a_browser(runtime, browser):
    """A /submit whose answer was lost waits on the desk; the legal team says what NCMEC told
    them (a wrong id is refused, nothing changes), and the report is completed under NCMEC's
    id: one report at NCMEC, audited."""
    import dataclasses

    from sqlalchemy import select

    from rempart.audit.models import AuditEntry
    from rempart.legal.cybertipline.testserver import CyberTiplineTestServer
    from rempart.legal.db.models import TiplineReport
    from tests.legal.test_legal_tipline import refer

    refer(runtime)
    people = make_users(runtime, {"ana": Role.LEGAL})
    with CyberTiplineTestServer(stall=0.3) as server, Served(runtime, outbox_worker=False) as served:
        runtime.legal.config = dataclasses.replace(
            runtime.legal.config, cybertipline_url=server.url, cybertipline_username="usr123",
            cybertipline_password="pswd123", cybertipline_attempts=1, reporter_email="legal@platform.example")
        server.inject("submit", "lost_ack")
        ap = browser.new_page()
        _log_in(ap, served.base, people["ana"].username, people["ana"].password, people["ana"].totp_secret)
        ap.goto(served.base + "/legal")
        ap.click("#tipline-form button")
        ap.wait_for_url("**done=legal-tipline")
        assert "uncertain" in ap.inner_text("#tipline")
        (orphan,) = server.reports
        with runtime.db.session() as s:
            row_id = s.scalar(select(TiplineReport.id))
        form = f"#reconcile-{row_id}"
        ap.select_option(f"{form} select[name=how]", "continue")
        ap.fill(f"{form} input[name=ncmec_report_id]", "999")
        ap.fill(f"{form} input[name=note]", "NCMEC ESP support, ticket 77")
        ap.click(f"{form} button")
        assert "knows no report 999" in ap.content()
        ap.goto(served.base + "/legal")
        assert "uncertain" in ap.inner_text("#tipline")
        ap.select_option(f"{form} select[name=how]", "continue")
        ap.fill(f"{form} input[name=ncmec_report_id]", orphan)
        ap.fill(f"{form} input[name=note]", "NCMEC ESP support, ticket 77")
        ap.click(f"{form} button")
        ap.wait_for_url("**done=legal-reconciled")
        assert "finished" in ap.inner_text("#tipline") and orphan in ap.inner_text("#tipline")
        assert ap.locator(form).count() == 0
        assert server.calls.count("submit") == 1 and [r.report_id for r in server.finished_reports()] == [orphan]
    with runtime.db.session() as s:
        (e,) = s.scalars(select(AuditEntry).where(AuditEntry.event == "legal.tipline-reconciled"))
        assert e.detail["report_id"] == orphan and e.actor.endswith(people["ana"].username)
