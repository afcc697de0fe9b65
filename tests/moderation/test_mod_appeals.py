"""Appeals (DSA Art. 20): window, independence, reversal and unbanking."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from rempart.authz import system_actor
from rempart.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from rempart.moderation import (
    ActionKind, ActionRequest, AppealWindowClosed, DecisionStatus, add_endpoint, claim, decide,
    decide_appeal, file_appeal, release, second_review,
)
from rempart.moderation.models import Action, Case, Decision, OutboxMessage
from tests.moderation.mod_helpers import upload

PLATFORM = system_actor("platform")


@pytest.fixture
def banked_decision(banked, people, cfg):
    """acct-a's item banked (cs decided, cs2 agreed) and removed."""
    with banked.db.session() as s:
        add_endpoint(s, people["admin"], "platform", "http://127.0.0.1:9/hook", secret="x")
    upload(banked, 101, "acct-a")
    with banked.db.session() as s:
        case_id = s.scalar(select(Case.id))
        claim(s, people["cs"], case_id, cfg)
        did = decide(s, people["cs"], case_id, config=cfg, policy="csam", facts="confirmed",
                     actions=[ActionRequest(ActionKind.BANK_ITEM),
                              ActionRequest(ActionKind.REMOVE_ITEM)]).id
    with banked.db.session() as s:
        claim(s, people["cs2"], case_id, cfg)
        second_review(s, people["cs2"], did, agrees=True, note="", config=cfg)
    assert upload(banked, 101, "acct-q").verdict == "block"
    return did


def _file(rt, did, cfg, now=None, appellant="acct-a"):
    with rt.db.session() as s:
        a = file_appeal(s, PLATFORM, did, appellant=appellant, statement="It was a mistake.",
                        config=cfg, now=now)
        return a.id, a.case_id


def test_overturning_reverses_actions_and_unbanks(banked, people, cfg, banked_decision):
    appeal_id, case_id = _file(banked, banked_decision, cfg)
    with banked.db.session() as s:
        assert s.get(Case, case_id).queue.name == "appeals"
    for who in ("cs", "cs2"):  # involved in the decision
        with banked.db.session() as s:
            claim(s, people[who], case_id, cfg)
            with pytest.raises(PermissionDenied):
                decide_appeal(s, people[who], appeal_id, overturn=True, note="x", config=cfg)
            release(s, people[who], case_id)
    with banked.db.session() as s:
        claim(s, people["cs3"], case_id, cfg)
        decide_appeal(s, people["cs3"], appeal_id, overturn=True, note="benign lookalike",
                      config=cfg)
    with banked.db.session() as s:
        assert s.get(Decision, banked_decision).status == DecisionStatus.REVERSED.value
        assert {a.status for a in s.scalars(select(Action))} == {"reversed"}
        events = sorted(m.event for m in s.scalars(select(OutboxMessage)))
        assert events == ["remove_item", "restore_item"]
        keys = {m.idempotency_key for m in s.scalars(select(OutboxMessage))}
        assert any(k.endswith("-reversal") for k in keys)
    # the entries the decision added are out of the bank: back to the review list's verdict
    assert upload(banked, 101, "acct-r").verdict == "review"


def test_upheld_appeal_changes_nothing(banked, people, cfg, banked_decision):
    appeal_id, case_id = _file(banked, banked_decision, cfg)
    with banked.db.session() as s:
        claim(s, people["lead"], case_id, cfg)
        decide_appeal(s, people["lead"], appeal_id, overturn=False, note="confirmed", config=cfg)
    with banked.db.session() as s:
        assert s.get(Decision, banked_decision).status == DecisionStatus.FINAL.value
        with pytest.raises(Conflict):
            decide_appeal(s, people["lead"], appeal_id, overturn=True, note="x", config=cfg)
    assert upload(banked, 101, "acct-r").verdict == "block"


def test_appeal_window_and_appellant(banked, cfg, banked_decision):
    with banked.db.session() as s:
        final_at = s.get(Decision, banked_decision).final_at
    with pytest.raises(AppealWindowClosed):
        _file(banked, banked_decision, cfg, now=final_at + dt.timedelta(days=185))
    with pytest.raises(InvalidInput):
        _file(banked, banked_decision, cfg, appellant="acct-other")
    _file(banked, banked_decision, cfg, now=final_at + dt.timedelta(days=180))
    with pytest.raises(Conflict):
        _file(banked, banked_decision, cfg)


def test_only_final_violation_decisions_can_be_appealed(banked, people, cfg):
    upload(banked, 101, "acct-a")
    with banked.db.session() as s:
        case_id = s.scalar(select(Case.id))
        claim(s, people["cs"], case_id, cfg)
        did = decide(s, people["cs"], case_id, actions=[ActionRequest(ActionKind.DISMISS)],
                     policy=None, facts="", config=cfg).id
    with pytest.raises(NotFound):
        _file(banked, did, cfg)
    with banked.db.session() as s, pytest.raises(PermissionDenied):
        file_appeal(s, people["cs"], did, appellant="acct-a", statement="", config=cfg)


def _log_leaves(rt) -> list:
    from rempart.transparency.db import log_store
    from rempart.transparency.leaves import parse_decision_leaf

    with rt.db.session() as s:
        size = log_store.tree_size(s)
        return [parse_decision_leaf(e) for e in log_store.read_entries(s, 0, size)
                if e.startswith(b"rempart/decision/")]


def test_final_decisions_and_reversals_land_in_the_transparency_log(banked, people, cfg,
                                                                    banked_decision):
    decided = [(d.kind, d.decision, d.automated_decision) for d in _log_leaves(banked)]
    # the banked item's re-upload was blocked automatically; the reviewers' decision is a leaf
    assert ("moderation_decision", "content_removed", "not_automated") in decided
    assert ("hash_match_block", "upload_blocked", "fully") in decided
    appeal_id, case_id = _file(banked, banked_decision, cfg)
    with banked.db.session() as s:
        claim(s, people["cs3"], case_id, cfg)
        decide_appeal(s, people["cs3"], appeal_id, overturn=True, note="benign lookalike",
                      config=cfg)
    after = [(d.kind, d.decision, d.source_type) for d in _log_leaves(banked)]
    assert after[-1] == ("appeal_decision", "reinstated", "own_initiative_hash_match")
    assert len(after) == len(decided) + 1
