"""The case page explains a stage 2 match: the matched region outlined on the blurred picture,
the signal and its evidence in the match table, in a real headless Chromium (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from bench import edits
from rempart.authz import Role
from rempart.banks import service as banks
from rempart.moderation.models import Case
from rempart.people import bootstrap_user
from rempart.scanning.service import ScanContext
from tests.served import Served
from tests.web.test_web_browser import ARGS, CHROMIUM, _log_in, sync_playwright

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="browser tests need Debian's chromium at /usr/bin/chromium"),
    pytest.mark.skipif(sync_playwright is None, reason="browser tests need the playwright package"),
]


@pytest.fixture
def orb_case(runtime):
    """A picture banked in a block list; a screenshot of a cropped copy uploaded: stage 2 alone
    matches, so it goes to review (never straight to block)."""
    bridge = edits.load(edits.IMAGES / "bridge-mods/aaa-orig.jpg")
    with runtime.db.session() as s:
        banks.create_bank(s, "known")
    runtime.bank_media("known", runtime.fingerprint(edits.encode(bridge, 92)))
    # a screenshot: the listed picture fills part of the item, so the outline is a real box
    copy = edits.screenshot(edits.crop(bridge, 0.05), np.random.default_rng(4), 0.5)
    out = runtime.scan_media(edits.encode(copy), ScanContext(account="acct-o", space="g"))
    assert out.verdict == "review" and [m.signal for m in out.result.matches] == ["orb"]
    left, top, right, bottom = out.match_json()[0]["region"]
    assert (right - left) * (bottom - top) < 0.7
    with runtime.db.session() as s:
        case = s.scalar(select(Case).order_by(Case.id.desc()).limit(1))
        return {"case": case.id, "item": out.item_id, "region": out.match_json()[0]["region"]}


def test_the_matched_region_is_outlined_on_the_blurred_picture(runtime, orb_case, tmp_path):
    with runtime.db.session() as s:
        cs = bootstrap_user(s, "stage-cs", Role.CHILD_SAFETY_MODERATOR)
    with Served(runtime) as served, sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True, args=ARGS,
            viewport={"width": 1280, "height": 800})
        try:
            page = browser.new_page()
            base = served.base
            _log_in(page, base, "stage-cs", cs.one_time_password, cs.totp_secret)
            page.goto(f"{base}/cases/{orb_case['case']}")
            page.click("form[action$='/claim'] button[type=submit]")
            page.wait_for_url(f"{base}/cases/{orb_case['case']}?done=claimed")
            media = page.locator("img[data-testid=media]")
            page.wait_for_function("document.querySelector('img[data-testid=media]').complete")
            assert "blur(" in media.evaluate("el => getComputedStyle(el).filter")
            region = page.locator("[data-testid=matched-region]")
            assert region.count() == 1
            img, box = media.bounding_box(), region.bounding_box()
            left, top, right, bottom = orb_case["region"]
            # drawn where the listed picture lies in the item, over the (still blurred) picture
            # (the stroke straddles the outline: a couple of pixels either side)
            assert abs(box["x"] - (img["x"] + left * img["width"])) <= 3
            assert abs(box["y"] - (img["y"] + top * img["height"])) <= 3
            assert abs(box["width"] - (right - left) * img["width"]) <= 5
            assert abs(box["height"] - (bottom - top) * img["height"]) <= 5
            assert region.evaluate("el => getComputedStyle(el.ownerSVGElement).filter") == "none"
            signal = page.locator("[data-testid=match-signal]").first
            assert "orb" in signal.inner_text() and "inliers" in signal.inner_text()
            page.screenshot(path=str(tmp_path / "orb-case.png"))
        finally:
            browser.close()
