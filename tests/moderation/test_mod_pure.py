"""The pure moderation rules, tested directly (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from rempart.errors import AuthError, InvalidInput, NotFound, PermissionDenied
from rempart.moderation import clocks, dual, priority, signing
from rempart.moderation.config import DEFAULT_QUEUES, ModerationConfig, Route
from rempart.moderation.exposure import Exposure, day_bounds
from rempart.moderation.policy import (
    DEFAULT_TAXONOMY, NON_RESTRICTIVE, Policy, ReasonsInput, Taxonomy, statement_of_reasons,
)
from rempart.moderation.vocab import ActionKind, CaseSource

T0 = dt.datetime(2026, 3, 1, 12, 0)
MS = priority.MatchSignal


def test_priority_tiers_follow_the_issue_order():
    p = {s: priority.priority(s) for s in CaseSource}
    assert p[CaseSource.EMERGENCY] < p[CaseSource.TRUSTED_FLAGGER] < p[CaseSource.HASH_REVIEW]
    assert p[CaseSource.HASH_REVIEW] < p[CaseSource.PUBLIC_REPORT]
    # a far match in a hash list still beats any public report
    far = priority.priority(CaseSource.HASH_BLOCK, MS("x", 256), {"x": 99})
    assert far < p[CaseSource.PUBLIC_REPORT]
    assert priority.priority(CaseSource.TRUSTED_FLAGGER) < priority.priority(
        CaseSource.HASH_REVIEW, MS("x", 0), {"x": 0})


def test_hash_matches_order_by_list_rank_then_distance():
    ranks = {"ncmec": 0, "local": 10}
    near_local = priority.priority(CaseSource.HASH_REVIEW, MS("local", 0), ranks)
    far_ncmec = priority.priority(CaseSource.HASH_REVIEW, MS("ncmec", 30), ranks)
    near_ncmec = priority.priority(CaseSource.HASH_REVIEW, MS("ncmec", 2), ranks)
    assert near_ncmec < far_ncmec < near_local
    assert priority.best_match([MS("local", 0), MS("ncmec", 30)], ranks) == MS("ncmec", 30)
    with pytest.raises(InvalidInput):
        priority.priority(CaseSource.HASH_REVIEW, MS("x", 300))


def test_sla_states_and_warning_window():
    sla = clocks.Sla(dt.timedelta(hours=10), warn_fraction=0.8)
    due, warn = sla.due(T0), sla.warn_at(T0)
    assert warn == T0 + dt.timedelta(hours=8)
    state = lambda now, decided=None: clocks.sla_state(due_at=due, warn_at=warn, now=now,  # noqa
                                                       decided_at=decided)
    assert state(T0 + dt.timedelta(hours=7)) is clocks.SlaState.OK
    assert state(T0 + dt.timedelta(hours=8)) is clocks.SlaState.WARNING
    assert state(due) is clocks.SlaState.WARNING
    assert state(due + dt.timedelta(seconds=1)) is clocks.SlaState.BREACHED
    assert state(due + dt.timedelta(days=9), decided=due) is clocks.SlaState.MET
    assert state(T0, decided=due + dt.timedelta(seconds=1)) is clocks.SlaState.BREACHED
    with pytest.raises(InvalidInput):
        clocks.Sla(dt.timedelta(0))


def test_claims_expire_exactly_at_their_expiry():
    exp = T0 + dt.timedelta(minutes=20)
    assert clocks.claim_live(1, exp, exp - dt.timedelta(microseconds=1))
    assert not clocks.claim_live(1, exp, exp)
    assert not clocks.claim_live(None, exp, T0)


@pytest.mark.parametrize("start,end", [
    (dt.datetime(2026, 1, 15), dt.datetime(2026, 7, 15)),
    (dt.datetime(2026, 8, 31), dt.datetime(2027, 2, 28)),
    (dt.datetime(2027, 8, 31), dt.datetime(2028, 2, 29)),
])
def test_appeal_window_is_six_calendar_months(start, end):
    assert clocks.appeal_deadline(start) == end
    assert clocks.appeal_open(start, end)
    assert not clocks.appeal_open(start, end + dt.timedelta(seconds=1))


def test_dual_review_rules():
    assert dual.needs_second_review([ActionKind.BANK_ITEM], dual.DEFAULT_DUAL_REVIEW)
    assert not dual.needs_second_review([ActionKind.REMOVE_ITEM], dual.DEFAULT_DUAL_REVIEW)
    for kind in (ActionKind.BAN_ACCOUNT, ActionKind.BAN_SPACE, ActionKind.REFER_NCMEC,
                 ActionKind.OVERTURN_BLOCK):
        assert kind in dual.DEFAULT_DUAL_REVIEW
    assert dual.second_opinion(1, 2, True) is dual.Outcome.FINAL
    assert dual.second_opinion(1, 2, False) is dual.Outcome.ESCALATE
    with pytest.raises(PermissionDenied):
        dual.second_opinion(1, 1, True)
    with pytest.raises(PermissionDenied):
        dual.check_independent(3, (1, 3), "an appeal")


def test_exposure_budget():
    assert not Exposure(29, 40).suggest_break
    assert Exposure(30, 40).suggest_break and not Exposure(30, 40).exhausted
    assert Exposure(40, 40).exhausted and Exposure(40, 40).remaining == 0
    start, end = day_bounds(dt.datetime(2026, 3, 1, 23, 59))
    assert (start, end) == (dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 2))


def test_webhook_signature_round_trip_and_tampering():
    body = b'{"a":1}'
    sig = signing.sign("k", 1700000000, body)
    assert sig.startswith("v1=") and len(sig) == 67
    signing.verify("k", "1700000000", body, sig, now=1700000010)
    for bad in [("k2", "1700000000", body, sig), ("k", "1700000001", body, sig),
                ("k", "1700000000", b'{"a":2}', sig), ("k", "1700000000", body, sig[:-1] + "0"),
                ("k", "x", body, sig)]:
        with pytest.raises(AuthError):
            signing.verify(*bad, now=1700000010)
    with pytest.raises(AuthError):  # replay long after
        signing.verify("k", "1700000000", body, sig, now=1700000000 + 301)


def test_backoff_doubles_and_is_capped():
    assert [signing.backoff(n) for n in (1, 2, 3)] == [10.0, 20.0, 40.0]
    assert signing.backoff(50) == signing.MAX_DELAY
    with pytest.raises(InvalidInput):
        signing.backoff(0)


def _reasons(action, **kw):
    base = dict(action=action, policy=DEFAULT_TAXONOMY.get("csam"), source=CaseSource.HASH_REVIEW,
                facts="Matched a known item of a child-protection NGO list.",
                content_types=("image",), application_date=dt.date(2026, 3, 1), puid="case-1-x")
    base.update(kw)
    return statement_of_reasons(ReasonsInput(**base))


def test_statement_of_reasons_for_removing_csam():
    sor = _reasons(ActionKind.REMOVE_ITEM, puid="rempart-case-7-remove_item-item-7")
    assert sor["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert sor["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert sor["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert sor["category_specification"] == ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]
    assert sor["content_type"] == ["CONTENT_TYPE_IMAGE"]
    assert sor["automated_detection"] == "Yes"
    assert sor["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert sor["source_type"] == "SOURCE_VOLUNTARY"
    assert sor["illegal_content_legal_ground"] and sor["decision_facts"]
    assert sor["puid"] == "rempart-case-7-remove_item-item-7"
    assert sor["application_date"] == "2026-03-01"
    assert sor["territorial_scope"] and "DE" in sor["territorial_scope"]  # EU by default, never empty


def test_statement_of_reasons_for_accounts_and_sources():
    ban = _reasons(ActionKind.BAN_ACCOUNT, source=CaseSource.TRUSTED_FLAGGER)
    assert ban["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
    assert "decision_provision" not in ban  # an account decision restricts the account only
    assert ban["source_type"] == "SOURCE_TRUSTED_FLAGGER"
    with pytest.raises(InvalidInput):
        _reasons(ActionKind.RESTRICT_ACCOUNT)  # needs an end date
    r = _reasons(ActionKind.RESTRICT_ACCOUNT, end_date=dt.date(2026, 4, 1))
    assert r["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert "decision_provision" not in r  # the same fields as the published account_suspended
    assert r["end_date_account_restriction"] == "2026-04-01"
    spam = _reasons(ActionKind.REMOVE_ITEM, policy=DEFAULT_TAXONOMY.get("spam"),
                    source=CaseSource.PUBLIC_REPORT)
    assert spam["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert spam["incompatible_content_ground"] and "illegal_content_legal_ground" not in spam
    assert spam["source_type"] == "SOURCE_ARTICLE_16"
    for kind in NON_RESTRICTIVE:
        with pytest.raises(InvalidInput):
            _reasons(kind)
    with pytest.raises(InvalidInput):
        _reasons(ActionKind.REMOVE_ITEM, facts="  ")


def test_taxonomy_is_validated():
    with pytest.raises(InvalidInput):
        Taxonomy((Policy("a", "A", "STATEMENT_CATEGORY_NOPE"),))
    with pytest.raises(InvalidInput):
        Taxonomy((Policy("a", "A", "STATEMENT_CATEGORY_VIOLENCE"),) * 2)
    with pytest.raises(NotFound):
        DEFAULT_TAXONOMY.get("nope")


def test_routing_first_match_wins_and_config_is_checked():
    cfg = ModerationConfig()
    assert cfg.route(CaseSource.TRUSTED_FLAGGER).name == "urgent"
    assert cfg.route(CaseSource.HASH_REVIEW).name == "hash-review"
    assert cfg.route(CaseSource.PUBLIC_REPORT, child_safety=False).name == "reports"
    custom = ModerationConfig(routes=(Route("urgent", bank="ncmec"),) + cfg.routes)
    assert custom.route(CaseSource.HASH_BLOCK, bank="ncmec").name == "urgent"
    assert custom.route(CaseSource.HASH_BLOCK, bank="other").name == "hash-block"
    with pytest.raises(InvalidInput):
        ModerationConfig(routes=(Route("nowhere"),))
    with pytest.raises(InvalidInput):
        ModerationConfig(queues=DEFAULT_QUEUES + DEFAULT_QUEUES[:1])
