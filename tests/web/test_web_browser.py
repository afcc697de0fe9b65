"""The whole review loop in a real headless Chromium (Playwright), against the app served by
uvicorn: log in with password + TOTP, claim a case, media blurred and greyscale until an
explicit reveal, the reveal in the audit log, a decision by keyboard, the action delivered to a
platform webhook receiver (signed) and recorded in the audit log.

Needs Debian's chromium at /usr/bin/chromium and the ``playwright`` Python package (its wheel
ships the driver; no browser download). Skipped with the reason when either is missing.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from rempart.audit.models import AuditEntry
from rempart.authz import Role
from rempart.moderation import add_endpoint
from rempart.people import actor_of, bootstrap_user
from tests.served import Served
from tests.webhook_receiver import WebhookReceiver

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SECRET = "platform-webhook-secret"
NEW_PASSWORD = "correct horse battery staple"

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="browser tests need Debian's chromium at /usr/bin/chromium "
                              "(apt-get install -y chromium)"),
    pytest.mark.skipif(sync_playwright is None,
                       reason="browser tests need the playwright package (pip install playwright; "
                              "never 'playwright install')"),
]


def Receiver() -> WebhookReceiver:
    return WebhookReceiver(SECRET)


def _log_in(page, base: str, username: str, password: str, secret: str) -> None:
    """Password + TOTP, then the forced change of a one-time password."""
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.endswith(("/password", "/")))
    if not page.url.endswith("/password"):
        return
    page.fill("input[name=old]", password)
    page.fill("input[name=new]", NEW_PASSWORD)
    page.fill("input[name=repeat]", NEW_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/?done=password")


def _audit(runtime, case_id: int) -> list[AuditEntry]:
    with runtime.db.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id)
                              .order_by(AuditEntry.id)))


def test_review_loop_in_chromium(runtime, flagged, tmp_path):
    with runtime.db.session() as s:
        cs = bootstrap_user(s, "browser-cs", Role.CHILD_SAFETY_MODERATOR)
        lead = bootstrap_user(s, "browser-lead", Role.LEAD)
        admin = actor_of(bootstrap_user(s, "browser-admin", Role.ADMIN).user)
        cs_id = cs.user.id
    with Receiver() as receiver, Served(runtime) as served, sync_playwright() as pw:
        with runtime.db.session() as s:
            add_endpoint(s, admin, "platform", receiver.url, SECRET)
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True,
            args=ARGS, viewport={"width": 1280, "height": 800})
        try:
            page = browser.new_page()
            base = served.base
            _log_in(page, base, "browser-cs", cs.one_time_password, cs.totp_secret)

            # claim the next case with the keyboard, from the queue page
            page.goto(base + "/cases")
            page.keyboard.press("n")
            page.wait_for_url(f"{base}/cases/{flagged['cs_case']}?done=claimed")
            media = page.locator("img[data-testid=media]")
            expect(media).to_have_attribute("data-revealed", "no")
            page.wait_for_function("document.querySelector('img[data-testid=media]').complete")
            style = media.evaluate("el => getComputedStyle(el).filter")
            assert "blur(24px)" in style and "grayscale(1)" in style, style
            page.screenshot(path=str(tmp_path / "case-before-reveal.png"), full_page=False)

            # reveal: an explicit, audited action
            page.keyboard.press("v")
            page.wait_for_url(f"{base}/cases/{flagged['cs_case']}?done=revealed#item-{flagged['item']}")
            expect(media).to_have_attribute("data-revealed", "yes")
            assert media.evaluate("el => getComputedStyle(el).filter") == "none"
            revealed = [e for e in _audit(runtime, flagged["cs_case"])
                        if e.event == "media.revealed"]
            assert [(e.actor_user_id, e.subject) for e in revealed] == [(cs_id, f"item:{flagged['item']}")]

            # decide with the keyboard: preset 2 (remove item, CSAM), then Ctrl+Enter
            page.keyboard.press("2")
            expect(page.locator("#reasons")).to_contain_text("STATEMENT_CATEGORY_PROTECTION_OF_MINORS")
            page.keyboard.press("Control+Enter")
            page.wait_for_url(f"{base}/cases/{flagged['cs_case']}?done=decided")
            expect(page.locator("[data-testid=case-status]")).to_have_text("decided")
            page.screenshot(path=str(tmp_path / "case-decided.png"), full_page=True)

            # the action reaches the platform, signed, through the outbox worker
            deadline = time.monotonic() + 30
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.2)
            assert receiver.rejected == 0
            [hook] = receiver.received
            assert hook["type"] == "rempart.remove_item"
            assert hook["data"]["target"] == str(flagged["item"])

            # a lead reads it all in the audit log
            page.click("header button[type=submit]")  # log out
            page.wait_for_url(base + "/login")
            _log_in(page, base, "browser-lead", lead.one_time_password, lead.totp_secret)
            page.goto(f"{base}/audit?case={flagged['cs_case']}")
            table = page.locator("[data-testid=audit]")
            for event in ("case.claimed", "media.revealed", "decision.final", "action.applied"):
                expect(table).to_contain_text(event)
            page.goto(f"{base}/audit?event=webhook.delivered")
            expect(page.locator("[data-testid=audit]")).to_contain_text("system:outbox")
        finally:
            browser.close()
    keep = os.environ.get("REMPART_SCREENSHOTS")
    if keep:  # for a person to look at the pages
        for shot in tmp_path.glob("*.png"):
            shutil.copy(shot, Path(keep) / shot.name)


def test_a_revealed_video_is_paused_and_muted_in_chromium(runtime, users, video_case, tmp_path):
    case_id, item_id = video_case
    with Served(runtime) as served, sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True,
            args=ARGS, viewport={"width": 1280, "height": 800})
        try:
            page = browser.new_page()
            cs = users["cs"]
            _log_in(page, served.base, cs.username, cs.password, cs.totp_secret)
            page.goto(f"{served.base}/cases/{case_id}")
            expect(page.locator("video")).to_have_count(0)  # nothing before the reveal
            page.keyboard.press("v")
            page.wait_for_url(f"{served.base}/cases/{case_id}?done=revealed#item-{item_id}")
            strip = page.locator("img[data-testid=frames]")
            page.wait_for_function("document.querySelector('img[data-testid=frames]').naturalWidth > 0")
            assert strip.evaluate("el => el.naturalWidth > 2 * el.naturalHeight")
            page.click("summary")
            video = page.locator("video[data-testid=media]")
            page.wait_for_timeout(500)  # would be enough for an autoplay to start
            state = video.evaluate("v => [v.muted, v.autoplay, v.paused]")
            assert state == [True, False, True]
        finally:
            browser.close()
