"""The moderation package decides what a reviewer is offered and shown before deciding; what the
preview shows is what the decision stores (``rempart.moderation.preview``), and bulk actions
are the package's rule too."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from rempart.authz import system_actor
from rempart.errors import InvalidInput
from rempart.moderation import (
    BULK_ACTIONS, ActionKind, ActionRequest, CaseSource, Confirmation, FlaggedItem, NewCase,
    actions_for_entity, allowed_actions, bulk_act, claim, decide, open_case, preview_decision,
)
from rempart.moderation.actions import plan
from rempart.moderation.models import Action, Case
from tests.moderation.mod_helpers import upload

FACTS = "Matched the review list at distance 0."


def _case(rt, account: str) -> int:
    with rt.db.session() as s:
        return s.scalar(select(Case.id).where(Case.account == account))


def test_the_preview_is_what_the_decision_stores(banked, people, cfg):
    upload(banked, 101, "acct-a")
    upload(banked, 102, "acct-a")  # one case, two items
    case_id = _case(banked, "acct-a")
    requests = [ActionRequest(ActionKind.REMOVE_ITEM),
                ActionRequest(ActionKind.RESTRICT_ACCOUNT, end_date=dt.date(2031, 1, 1)),
                ActionRequest(ActionKind.PRESERVATION_HOLD)]
    with banked.db.session() as s:
        claim(s, people["cs"], case_id, cfg)
        previewed = preview_decision(s, people["cs"], case_id, actions=requests, policy="csam",
                                     facts=f"  {FACTS} ", config=cfg)
        d = decide(s, people["cs"], case_id, actions=requests, policy="csam", facts=FACTS, config=cfg)
        assert d.status == "final"
        stored = list(s.scalars(select(Action).where(Action.decision_id == d.id).order_by(Action.id)))
    assert [(p.action.kind.value, p.action.target) for p in previewed] == \
        [(a.kind, a.target) for a in stored]
    assert [p.statement for p in previewed] == [a.statement or None for a in stored]
    assert len({a.statement["puid"] for a in stored if a.statement}) == 3  # two items, one account
    assert all("acct-a" not in a.statement["puid"] for a in stored if a.statement)


def test_the_preview_refuses_what_deciding_refuses_and_saves_nothing(banked, people, cfg):
    upload(banked, 101, "acct-a")
    case_id = _case(banked, "acct-a")
    with banked.db.session() as s:
        with pytest.raises(InvalidInput, match="dismiss excludes"):
            preview_decision(s, people["cs"], case_id, policy="csam", facts=FACTS, config=cfg,
                             actions=[ActionRequest(ActionKind.DISMISS),
                                      ActionRequest(ActionKind.REMOVE_ITEM)])
        [p] = preview_decision(s, people["cs"], case_id, policy=None, facts=FACTS, config=cfg,
                               actions=[ActionRequest(ActionKind.REMOVE_ITEM)])
        assert p.statement is None and "needs a policy" in p.error
        [p] = preview_decision(s, people["cs"], case_id, policy="csam", facts=" ", config=cfg,
                               actions=[ActionRequest(ActionKind.REMOVE_ITEM)])
        assert "facts" in p.error
    with banked.db.session() as s:
        assert s.scalars(select(Action)).all() == []


def test_the_actions_offered_are_those_the_planner_accepts(runtime, people, cfg):
    with runtime.db.session() as s:
        notice = open_case(s, system_actor("hotline"), NewCase(
            source=CaseSource.TRUSTED_FLAGGER, subject="notice:n-1", account="acct-n",
            items=(FlaggedItem(external_ref="https://platform.example/p/1"),)), cfg).case
        offered = allowed_actions(notice)
        for kind in ActionKind:
            request = ActionRequest(kind, end_date=dt.date(2031, 1, 1))
            if kind in offered:
                plan(notice, [request])
            else:
                with pytest.raises(InvalidInput):
                    plan(notice, [request])
    # an item known only by reference can be removed, not banked; no space, no automatic block
    assert ActionKind.REMOVE_ITEM in offered and ActionKind.BANK_ITEM not in offered
    assert ActionKind.BAN_SPACE not in offered and ActionKind.OVERTURN_BLOCK not in offered


def test_bulk_actions_are_the_packages_rule(banked, people, cfg):
    assert actions_for_entity("account", BULK_ACTIONS) == tuple(
        ActionRequest(k) for k in (ActionKind.REMOVE_ITEM, ActionKind.BAN_ACCOUNT,
                                   ActionKind.PRESERVATION_HOLD))
    assert ActionRequest(ActionKind.BAN_SPACE) in actions_for_entity("space", BULK_ACTIONS)
    src = upload(banked, 101, "acct-a", space="group-1").item_id
    upload(banked, 101, "acct-b", space="group-2", edit="resized")
    with banked.db.session() as s:
        claim(s, people["cs"], _case(banked, "acct-a"), cfg)
        decide(s, people["cs"], _case(banked, "acct-a"), actions=[ActionRequest(ActionKind.REMOVE_ITEM)],
               policy="csam", facts=FACTS, config=cfg)
    for kind, why in ((ActionKind.BANK_ITEM, "not a bulk action"),
                      (ActionKind.BAN_SPACE, "does not apply to account")):
        with banked.db.session() as s, pytest.raises(InvalidInput, match=why):
            bulk_act(s, people["cs"], src, [Confirmation("account", "acct-b", "csam",
                                                         (ActionRequest(kind),), "Shared it.")], cfg)
