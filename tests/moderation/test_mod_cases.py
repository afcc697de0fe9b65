"""Cases opened by the after-scan hook, extended per account, routed and ordered."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from rempart.audit.models import AuditEntry
from rempart.authz import system_actor
from rempart.errors import PermissionDenied
from rempart.moderation import (
    CaseSource, CaseStatus, FlaggedItem, NewCase, list_cases, open_case,
)
from rempart.moderation.models import Case, CaseItem
from tests.moderation.mod_helpers import set_config, upload


def _cases(runtime):
    with runtime.db.session() as s:
        return list(s.scalars(select(Case).order_by(Case.id)))


def test_review_and_block_verdicts_open_cases_allow_does_not(banked):
    assert upload(banked, 101, "acct-a").verdict == "review"
    assert upload(banked, 201, "acct-b").verdict == "block"
    assert upload(banked, 999, "acct-c").verdict == "allow"
    cases = _cases(banked)
    assert [(c.source, c.account, c.queue.name if False else c.queue_id) for c in cases][0][:2] == (
        "hash_review", "acct-a")
    with banked.db.session() as s:
        by_source = {c.source: c for c in s.scalars(select(Case))}
        assert set(by_source) == {"hash_review", "hash_block"}
        assert by_source["hash_review"].queue.name == "hash-review"
        assert by_source["hash_block"].queue.name == "hash-block"
        assert by_source["hash_review"].metadata_decidable and by_source["hash_review"].has_media
        assert by_source["hash_review"].items[0].best_bank == "review-list"
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.event == "case.opened")) == 2


def test_one_case_per_account_gathers_its_flagged_media(banked):
    upload(banked, 101, "acct-a")
    upload(banked, 102, "acct-a", edit="resized")
    upload(banked, 101, "acct-b")
    cases = _cases(banked)
    assert len(cases) == 2
    with banked.db.session() as s:
        a = s.scalar(select(Case).where(Case.account == "acct-a"))
        assert len(a.items) == 2 and a.open_key is not None
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.event == "case.extended")) == 1


def test_without_grouping_each_item_is_its_own_case(banked):
    set_config(banked, group_by_account=False)
    upload(banked, 101, "acct-a")
    upload(banked, 102, "acct-a")
    assert len(_cases(banked)) == 2


def test_the_case_commits_with_the_scan_or_not_at_all(banked, monkeypatch):
    from rempart.moderation import cases as cases_mod

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(cases_mod, "open_case", boom)
    with pytest.raises(RuntimeError):
        upload(banked, 101, "acct-a")
    with banked.db.session() as s:
        from rempart.scanning.models import ScannedItem
        assert s.scalar(select(func.count()).select_from(ScannedItem)) == 0
    assert _cases(banked) == []


def test_generic_sources_route_and_order_by_priority(runtime, people, cfg):
    sysactor = system_actor("hotline")
    now = dt.datetime(2026, 3, 1, 12)
    with runtime.db.session() as s:
        for i, source in enumerate([CaseSource.PUBLIC_REPORT, CaseSource.HASH_REVIEW,
                                    CaseSource.TRUSTED_FLAGGER, CaseSource.EMERGENCY]):
            open_case(s, sysactor, NewCase(source=source, subject=f"notice:{i}",
                                           items=(FlaggedItem(external_ref=f"url-{i}"),),
                                           child_safety=True), cfg, now=now)
    with runtime.db.session() as s:
        order = [c.source for c in list_cases(s, people["lead"], cfg)]
        assert order == ["emergency", "trusted_flagger", "hash_review", "public_report"]
        urgent = [c for c in list_cases(s, people["lead"], cfg, queue="urgent")]
        assert {c.source for c in urgent} == {"emergency", "trusted_flagger"}
        assert urgent[0].due_at - urgent[0].created_at == dt.timedelta(hours=1)
        with pytest.raises(PermissionDenied):
            open_case(s, people["cs"], NewCase(source=CaseSource.PUBLIC_REPORT, subject="x"), cfg)


def test_a_decided_subject_opens_a_new_case_next_time(banked, people, cfg):
    from rempart.moderation import ActionKind, ActionRequest, claim, decide

    upload(banked, 101, "acct-a")
    with banked.db.session() as s:
        case = s.scalar(select(Case))
        claim(s, people["cs"], case.id, cfg)
        decide(s, people["cs"], case.id, actions=[ActionRequest(ActionKind.REMOVE_ITEM)],
               policy="csam", facts="Matched a review list; confirmed.", config=cfg)
    upload(banked, 101, "acct-a")
    cases = _cases(banked)
    assert [c.status for c in cases] == [CaseStatus.DECIDED.value, CaseStatus.OPEN.value]
    with banked.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CaseItem)) == 2


def test_banking_an_item_later_opens_review_cases_for_its_past_uploads(runtime):
    with runtime.db.session() as s:
        from rempart.banks import service as banks
        banks.create_bank(s, "late-list", action="block")
    assert upload(runtime, 301, "acct-early", space="g1").verdict == "allow"
    assert upload(runtime, 301, "acct-early2", space="g2", edit="resized").verdict == "allow"
    assert _cases(runtime) == []
    from tests.factories import image_bytes
    outcome = runtime.bank_media("late-list", runtime.fingerprint(image_bytes(301)))
    assert len(outcome.retro) == 2
    cases = _cases(runtime)
    assert sorted(c.account for c in cases) == ["acct-early", "acct-early2"]
    assert {c.source for c in cases} == {"hash_review"}
    with runtime.db.session() as s:
        c = s.scalar(select(Case).where(Case.account == "acct-early"))
        assert c.items[0].verdict == "retro" and c.detail == {"found_by": "retro"}
