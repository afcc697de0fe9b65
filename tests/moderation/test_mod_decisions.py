"""Decisions, actions and dual review, down to the bank and the outbox."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from rempart.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from rempart.moderation import (
    ActionKind, ActionRequest, CaseStatus, actions_of_decision, my_claims, DecisionStatus, NotClaimed, add_endpoint, claim,
    decide, resolve_escalation, second_review,
)
from rempart.moderation.models import Action, Case, Decision, Hold, OutboxMessage, Referral
from tests.moderation.mod_helpers import upload

FACTS = "Matched a review list at distance 0; confirmed from metadata."


@pytest.fixture
def endpoint(banked, people):
    with banked.db.session() as s:
        add_endpoint(s, people["admin"], "platform", "http://127.0.0.1:9/hook", secret="s3cret")


@pytest.fixture
def review_case(banked):
    upload(banked, 101, "acct-a", space="group-7")
    with banked.db.session() as s:
        return s.scalar(select(Case.id).where(Case.source == "hash_review"))


def _decide(rt, actor, case_id, kinds, cfg, policy="csam", **kw):
    with rt.db.session() as s:
        claim(s, actor, case_id, cfg)
        d = decide(s, actor, case_id, actions=[k if isinstance(k, ActionRequest)
                                               else ActionRequest(k) for k in kinds],
                   policy=policy, facts=FACTS, config=cfg, **kw)
        return d.id, d.status


def test_remove_item_is_final_and_reaches_the_outbox(banked, people, cfg, endpoint, review_case):
    did, status = _decide(banked, people["cs"], review_case, [ActionKind.REMOVE_ITEM], cfg)
    assert status == DecisionStatus.FINAL.value
    with banked.db.session() as s:
        case = s.get(Case, review_case)
        assert case.status == CaseStatus.DECIDED.value and case.decided_at is not None
        assert case.claimed_by is None and case.open_key is None
        (action,) = actions_of_decision(s, people["lead"], did)
        assert action.kind == "remove_item" and action.statement["category"] == \
            "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
        assert action.statement["automated_detection"] == "Yes"
        (msg,) = s.scalars(select(OutboxMessage))
        assert msg.idempotency_key == action.idempotency_key and msg.status == "pending"
        assert '"account":"acct-a"' in msg.body and '"space":"group-7"' in msg.body


def test_deciding_needs_a_live_claim(banked, people, cfg, review_case):
    with banked.db.session() as s, pytest.raises(NotClaimed):
        decide(s, people["cs"], review_case, actions=[ActionRequest(ActionKind.DISMISS)],
               policy=None, facts="", config=cfg)
    t0 = dt.datetime.utcnow()
    with banked.db.session() as s:
        claim(s, people["cs"], review_case, cfg, now=t0)
        assert [c.id for c in my_claims(s, people["cs"], now=t0)] == [review_case]
        assert my_claims(s, people["cs"], now=t0 + cfg.claim_ttl) == []
    with banked.db.session() as s, pytest.raises(NotClaimed):
        decide(s, people["cs"], review_case, actions=[ActionRequest(ActionKind.DISMISS)],
               policy=None, facts="", config=cfg, now=t0 + cfg.claim_ttl)


@pytest.mark.parametrize("actions,policy,error", [
    ([], "csam", InvalidInput),
    ([ActionKind.REMOVE_ITEM], None, InvalidInput),  # a restriction names its policy
    ([ActionKind.REMOVE_ITEM], "nope", NotFound),
    ([ActionKind.DISMISS, ActionKind.REMOVE_ITEM], "csam", InvalidInput),
    ([ActionKind.OVERTURN_BLOCK], None, InvalidInput),  # not a block case
    ([ActionKind.RESTRICT_ACCOUNT], "csam", InvalidInput),  # needs an end date
    ([ActionRequest(ActionKind.REMOVE_ITEM, target="999999")], "csam", InvalidInput),
    ([ActionRequest(ActionKind.BAN_ACCOUNT, target="someone-else")], "csam", InvalidInput),
])
def test_invalid_decisions_are_refused(banked, people, cfg, review_case, actions, policy, error):
    with pytest.raises(error):
        _decide(banked, people["cs"], review_case, actions, cfg, policy=policy)
    with banked.db.session() as s:
        assert s.scalar(select(Decision.id)) is None


def test_dismiss_has_no_statement_and_no_webhook(banked, people, cfg, endpoint, review_case):
    _decide(banked, people["cs"], review_case, [ActionKind.DISMISS], cfg, policy=None)
    with banked.db.session() as s:
        (action,) = s.scalars(select(Action))
        assert action.statement == {} and s.scalar(select(OutboxMessage.id)) is None
        assert not s.scalar(select(Decision)).violation


def test_bank_item_needs_a_second_reviewer_then_blocks_reuploads(banked, people, cfg,
                                                                  review_case):
    did, status = _decide(banked, people["cs"], review_case, [ActionKind.BANK_ITEM], cfg)
    assert status == DecisionStatus.PENDING_SECOND.value
    assert upload(banked, 101, "acct-z").verdict == "review"  # nothing banked yet
    with banked.db.session() as s:
        assert s.get(Case, review_case).status == CaseStatus.AWAITING_SECOND.value
        # the first reviewer can neither claim it for the second review nor review it
        with pytest.raises(Conflict):
            claim(s, people["cs"], review_case, cfg)
    with banked.db.session() as s, pytest.raises(PermissionDenied):
        second_review(s, people["cs"], did, agrees=True, note="", config=cfg)
    with banked.db.session() as s:
        claim(s, people["cs2"], review_case, cfg)
        d = second_review(s, people["cs2"], did, agrees=True, note="agree", config=cfg)
        assert d.status == DecisionStatus.FINAL.value
    with banked.db.session() as s:
        (action,) = s.scalars(select(Action))
        assert action.result["bank_entry_ids"]
    assert upload(banked, 101, "acct-y").verdict == "block"
    assert upload(banked, 101, "acct-x", edit="recompressed").verdict == "block"


def test_disagreement_escalates_to_an_uninvolved_lead(banked, people, cfg, endpoint,
                                                      review_case):
    did, _ = _decide(banked, people["cs"], review_case,
                     [ActionKind.REMOVE_ITEM, ActionKind.BAN_ACCOUNT], cfg)
    with banked.db.session() as s:
        claim(s, people["cs2"], review_case, cfg)
        second_review(s, people["cs2"], did, agrees=False, note="not sure", config=cfg)
    with banked.db.session() as s:
        assert s.get(Case, review_case).status == CaseStatus.ESCALATED.value
        with pytest.raises(Conflict):  # reviewers cannot take escalations
            claim(s, people["cs3"], review_case, cfg)
    with banked.db.session() as s:
        claim(s, people["lead"], review_case, cfg)
        with pytest.raises(PermissionDenied):
            resolve_escalation(s, people["cs3"], did, uphold=True, note="", config=cfg)
    with banked.db.session() as s:
        d = resolve_escalation(s, people["lead"], did, uphold=True, note="clear match", config=cfg)
        assert d.status == DecisionStatus.FINAL.value
    with banked.db.session() as s:
        kinds = sorted(a.kind for a in s.scalars(select(Action)))
        assert kinds == ["ban_account", "remove_item"]
        assert len(list(s.scalars(select(OutboxMessage)))) == 2


def test_a_lead_can_return_an_escalated_decision(banked, people, cfg, review_case):
    did, _ = _decide(banked, people["cs"], review_case, [ActionKind.BANK_ITEM], cfg)
    with banked.db.session() as s:
        claim(s, people["cs2"], review_case, cfg)
        second_review(s, people["cs2"], did, agrees=False, note="benign", config=cfg)
    with banked.db.session() as s:
        claim(s, people["lead"], review_case, cfg)
        resolve_escalation(s, people["lead"], did, uphold=False, note="decide again", config=cfg)
    with banked.db.session() as s:
        assert s.get(Case, review_case).status == CaseStatus.OPEN.value
        assert s.get(Decision, did).status == DecisionStatus.RETURNED.value
        assert s.scalar(select(Action.id)) is None
    _decide(banked, people["cs3"], review_case, [ActionKind.DISMISS], cfg, policy=None)


def test_hold_and_referral_are_recorded(banked, people, cfg, review_case):
    did, _ = _decide(banked, people["cs"], review_case,
                     [ActionKind.PRESERVATION_HOLD, ActionKind.REFER_NCMEC], cfg)
    with banked.db.session() as s:
        claim(s, people["cs2"], review_case, cfg)
        second_review(s, people["cs2"], did, agrees=True, note="", config=cfg)
    with banked.db.session() as s:
        assert s.scalar(select(Hold)).case_id == review_case
        assert s.scalar(select(Referral)).status == "pending_submission"


def test_overturning_a_block_needs_two_reviewers(banked, people, cfg, endpoint):
    upload(banked, 201, "acct-b")
    with banked.db.session() as s:
        case_id = s.scalar(select(Case.id).where(Case.source == "hash_block"))
    did, status = _decide(banked, people["cs"], case_id, [ActionKind.OVERTURN_BLOCK], cfg,
                          policy=None)
    assert status == DecisionStatus.PENDING_SECOND.value
    with banked.db.session() as s:
        claim(s, people["lead"], case_id, cfg)
        second_review(s, people["lead"], did, agrees=True, note="", config=cfg)
    with banked.db.session() as s:
        (msg,) = s.scalars(select(OutboxMessage))
        assert msg.event == "overturn_block"
        assert not s.get(Decision, did).violation


def test_notice_items_known_by_reference_can_be_removed_not_banked(runtime, people, cfg):
    from rempart.authz import system_actor
    from rempart.moderation import CaseSource, FlaggedItem, NewCase, open_case

    with runtime.db.session() as s:
        add_endpoint(s, people["admin"], "platform", "http://127.0.0.1:9/hook", secret="x")
        case = open_case(s, system_actor("hotline"), NewCase(
            source=CaseSource.TRUSTED_FLAGGER, subject="notice:n-1", account="acct-n",
            items=(FlaggedItem(external_ref="https://platform.example/p/1"),)), cfg).case
    with pytest.raises(InvalidInput, match="banked"):
        _decide(runtime, people["cs"], case.id, [ActionKind.BANK_ITEM], cfg)
    with runtime.db.session() as s:
        claim(s, people["cs"], case.id, cfg)
        decide(s, people["cs"], case.id, actions=[ActionRequest(ActionKind.REMOVE_ITEM)],
               policy="csam", facts=FACTS, config=cfg)
    with runtime.db.session() as s:
        (msg,) = s.scalars(select(OutboxMessage))
        assert '"ref":"https://platform.example/p/1"' in msg.body
        (action,) = s.scalars(select(Action))
        assert action.statement["source_type"] == "SOURCE_TRUSTED_FLAGGER"


def test_a_second_application_of_the_same_actions_is_refused(banked, people, cfg, endpoint,
                                                            review_case):
    """Action and webhook keys name the action (case, kind, target), not the attempt: a second
    decision applied to the same case (a retry, a race) can never act twice."""
    from rempart.errors import InvariantViolation
    from rempart.moderation.actions import apply_actions

    did, _ = _decide(banked, people["cs"], review_case, [ActionKind.REMOVE_ITEM], cfg)
    with banked.db.session() as s:
        first = s.get(Decision, did)
        again = Decision(case_id=review_case, reviewer_id=first.reviewer_id, policy="csam",
                         violation=True, actions=list(first.actions), facts=FACTS,
                         status=DecisionStatus.FINAL.value)
        s.add(again)
        s.flush()
        with pytest.raises(InvariantViolation, match="already"):
            apply_actions(s, people["cs"], s.get(Case, review_case), again, cfg,
                          dt.datetime.utcnow())
        s.rollback()
    with banked.db.session() as s:
        (action,) = s.scalars(select(Action))
        (msg,) = s.scalars(select(OutboxMessage))
        assert msg.idempotency_key == action.idempotency_key


def test_a_repeated_second_review_is_a_conflict(banked, people, cfg, review_case):
    did, status = _decide(banked, people["cs"], review_case, [ActionKind.BAN_ACCOUNT], cfg)
    assert status == DecisionStatus.PENDING_SECOND.value
    with banked.db.session() as s:
        claim(s, people["cs2"], review_case, cfg)
        second_review(s, people["cs2"], did, agrees=True, note="", config=cfg)
    with banked.db.session() as s, pytest.raises(Conflict, match="already"):
        second_review(s, people["cs2"], did, agrees=True, note="", config=cfg)
