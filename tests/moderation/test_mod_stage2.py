"""The platform's confirmed items are protected by stage 2 too (issue 12): a reviewer banks a
case's item, its media is in the evidence store, so its local features are banked with its
hashes, and a cropped or turned copy is then caught by stage 2 and sent to review."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bench import edits
from rempart.banks import service as banks
from rempart.banks.entries import NewEntry
from rempart.banks.models import BankEntry
from rempart.moderation import ActionKind, ActionRequest, CaseStatus, claim, decide, second_review
from rempart.moderation.models import Case
from rempart.scanning.service import ScanContext


@pytest.fixture(scope="module")
def bridge():
    return edits.load(edits.IMAGES / "bridge-mods/aaa-orig.jpg")


def test_a_banked_case_item_catches_cropped_and_turned_copies_through_stage_2(
        runtime, people, bridge):
    cfg = runtime.moderation
    data = edits.encode(bridge, 92)
    # An outside list knows the picture by its PDQ hash only: no local features.
    with runtime.db.session() as s:
        bank = banks.create_bank(s, "outside-list", action="review")
        banks.add_entries(s, bank, [NewEntry("pdq", runtime.fingerprint(data).frames[0].pdq)])
    crop = edits.encode(edits.crop(bridge, 0.10))
    turned = edits.encode(edits.crop(edits.rotate(bridge, 4, False), 0.08))  # turned, cropped
    assert runtime.scan_media(crop).verdict == "allow"  # PDQ misses the crop

    first = runtime.scan_media(data, ScanContext(account="acct-a"))
    assert first.verdict == "review"
    with runtime.db.session() as s:
        case_id = s.scalar(select(Case.id).where(Case.source == "hash_review"))
    with runtime.db.session() as s:
        claim(s, people["cs"], case_id, cfg)
        decision = decide(s, people["cs"], case_id, actions=[ActionRequest(ActionKind.BANK_ITEM)],
                          policy="csam", facts="Confirmed.", config=cfg)
    with runtime.db.session() as s:
        claim(s, people["cs2"], case_id, cfg)
        second_review(s, people["cs2"], decision.id, agrees=True, note="", config=cfg)
    with runtime.db.session() as s:
        platform = banks.get_bank(s, cfg.platform_bank)
        types = sorted(s.scalars(select(BankEntry.signal_type)
                                 .where(BankEntry.bank_id == platform.id)))
        assert "orb" in types  # extracted from the evidence store's copy of the upload

    for copy, account in ((crop, "acct-b"), (turned, "acct-c")):
        out = runtime.scan_media(copy, ScanContext(account=account))
        assert out.verdict == "review", account  # stage 2 alone never blocks by default
        (m,) = [m for m in out.result.matches if m.bank == cfg.platform_bank]
        assert m.signal == "orb" and m.action == "review"
        assert out.match_json()[0]["inliers"] >= 24
        with runtime.db.session() as s:
            opened = s.scalar(select(Case).where(Case.account == account))
            assert opened.source == "hash_review" and opened.status == CaseStatus.OPEN.value
