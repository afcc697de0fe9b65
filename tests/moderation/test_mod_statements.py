"""Statements of reasons are built once (``rempart.transparency.dsa.build_statement``): the one
stored with an action, the one in its webhook, the one the console previews and the one the
daily report publishes for its leaf say the same things, and all pass the Transparency
Database's schema."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from rempart.authz import Role
from rempart.demo import run_demo
from rempart.moderation import (
    DEFAULT_TAXONOMY, ActionKind, ActionRequest, CaseSource, add_endpoint, claim, decide,
    preview_decision,
)
from rempart.moderation.log_fields import ACTION_EFFECTS, decision_leaves
from rempart.moderation.models import Action, Case, OutboxMessage
from rempart.moderation.policy import ReasonsInput, statement_of_reasons
from rempart.people import actor_of, bootstrap_user
from rempart.transparency import (
    Decision, leaf_classification, make_puid, parse_decision_leaf, statement_problems,
)
from rempart.transparency import statement_of_reasons as published_statement
from rempart.transparency.db import log_store
from rempart.transparency.db.models import LogOpening
from rempart.transparency.db.publish import publish
from rempart.transparency.dsa import LEAF_KEYWORD
from tests.moderation.mod_helpers import upload

#: what a leaf can say, and so what the stored and the published statement must agree on
CLOSED = ("decision_visibility", "decision_visibility_other", "decision_provision",
          "decision_account", "decision_monetary", "decision_ground", "category", "content_type",
          "source_type", "automated_detection", "automated_decision", "territorial_scope")
DAY = dt.date(2026, 11, 29)


def _closed(sor: dict) -> dict:
    return {k: sor.get(k) for k in CLOSED}


def _published_for(stored: dict, source: CaseSource, action: ActionKind) -> list[dict]:
    """The published statements of the leaves a decision with this one action writes."""
    out = []
    for _, fields in decision_leaves(source.value, [action.value], True,
                                     classification=leaf_classification(stored)):
        leaf = Decision(**fields, day=DAY.isoformat(), content_type="image",
                        time_to_action="under_1h", region="EU", commitment=bytes(32))
        out.append(published_statement(leaf, 41, "rempart.local/log"))
    return out


def test_the_grooming_keyword_is_spelled_as_the_database_spells_it():
    sor = statement_of_reasons(ReasonsInput(ActionKind.REMOVE_ITEM, DEFAULT_TAXONOMY.get("grooming"),
                                            CaseSource.TRUSTED_FLAGGER, "facts", ("image",),
                                            puid="p-1"))
    assert sor["category_specification"] == ["KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS"]


@pytest.mark.parametrize("policy", [p.key for p in DEFAULT_TAXONOMY.policies])
def test_stored_and_published_statements_agree(policy):
    for action in ACTION_EFFECTS:
        for source in CaseSource:
            _agree(policy, action, source)


def _agree(policy: str, action: ActionKind, source: CaseSource) -> None:
    stored = statement_of_reasons(ReasonsInput(
        action, DEFAULT_TAXONOMY.get(policy), source, "Facts of the case.", ("image",),
        content_date=DAY, application_date=DAY, puid="rempart-case-1-x",
        end_date=DAY + dt.timedelta(days=30) if action is ActionKind.RESTRICT_ACCOUNT else None))
    assert statement_problems(stored) == []
    published = _published_for(stored, source, action)
    if source is CaseSource.HASH_BLOCK and ACTION_EFFECTS[action][0] == "content":
        assert published == []  # confirming a block: the block's own leaf stands
        return
    [pub] = published
    assert statement_problems(pub) == []
    assert _closed(pub) == _closed(stored)
    keywords = stored.get("category_specification", [])
    if all(k in LEAF_KEYWORD for k in keywords):
        assert pub.get("category_specification") == stored.get("category_specification")
    else:  # a keyword the log has no word for is not published (never replaced by another)
        assert "category_specification" not in pub


@pytest.mark.parametrize(("policy", "leaf"), [
    ("grooming", ("illegal_content", "protection_of_minors", "grooming_sexual_enticement_of_minors")),
    ("spam", ("incompatible_content", "other", "none")),
    ("csam", ("illegal_content", "protection_of_minors", "child_sexual_abuse_material")),
])
def test_a_decisions_leaf_says_what_its_statement_says(banked, people, cfg, policy, leaf):
    upload(banked, 101, "acct-g")
    with banked.db.session() as s:
        case = s.scalars(select(Case).where(Case.source == "hash_review")).one()
        claim(s, people["cs"], case.id, cfg)
        d = decide(s, people["cs"], case.id, actions=[ActionRequest(ActionKind.REMOVE_ITEM)],
                   policy=policy, facts="Reviewed.", config=cfg)
        stored = s.scalars(select(Action.statement).where(Action.decision_id == d.id)).one()
        entries = log_store.read_entries(s, 0, log_store.tree_size(s))
    [d] = [parse_decision_leaf(e) for e in entries if e.startswith(b"rempart/decision/")
           and parse_decision_leaf(e).kind == "moderation_decision"]
    assert (d.ground, d.category, d.keyword) == leaf
    pub = published_statement(d, 0, banked.transparency.origin)
    assert _closed(pub) == _closed(stored)
    assert pub.get("category_specification") == stored.get("category_specification")


def test_every_statement_the_demo_produces_passes_the_schema(runtime, tmp_path):
    with runtime.db.session() as s:
        admin = actor_of(bootstrap_user(s, "platform-admin", Role.ADMIN).user)
        add_endpoint(s, admin, "platform", "http://127.0.0.1:9/hook", "secret")
    run_demo(runtime, uploads=120, log=lambda m: None)
    with runtime.db.session() as s:
        actions = [a for a in s.scalars(select(Action)) if a.statement]
        hooks = {m.action_id: json.loads(m.body)["data"] for m in s.scalars(select(OutboxMessage))}
        publish(s, runtime.transparency, tmp_path / "pub")
        openings = {o.leaf_index: o.ref_id for o in s.scalars(
            select(LogOpening).where(LogOpening.ref_kind == "decision"))}
        reviewer = actor_of(bootstrap_user(s, "checker", Role.CHILD_SAFETY_MODERATOR).user)
        open_case = next(c for c in s.scalars(select(Case).where(
            Case.status == "open", Case.source == "hash_review").order_by(Case.id))
            if len(c.items) == 1)  # one item: one removal statement, one ban statement
        previewed = preview_decision(
            s, reviewer, open_case.id, policy="csam", facts="Checked against the list.",
            actions=[ActionRequest(ActionKind.REMOVE_ITEM), ActionRequest(ActionKind.BAN_ACCOUNT),
                     ActionRequest(ActionKind.PRESERVATION_HOLD)], config=runtime.moderation)
    # every day's report: a demo run across midnight UTC logs on two days
    published = [st for report in sorted((tmp_path / "pub" / "reports").glob("*.sor.json"))
                 for st in json.loads(report.read_text())["statements"]]
    previews = [p.statement for p in previewed if p.statement]
    assert actions and hooks and published and len(previews) == 2
    for sor in [a.statement for a in actions] + [h["statement_of_reasons"] for h in hooks.values()
                                                 if h.get("statement_of_reasons")] + published + previews:
        assert statement_problems(sor) == [], sor
    # the webhook carries the stored statement, byte for byte
    for a in actions:
        if a.id in hooks:
            assert hooks[a.id]["statement_of_reasons"] == a.statement
    # each reviewer's leaf publishes what the stored statement of its action says
    by_puid = {p["puid"]: p for p in published}
    stored = {(a.decision_id, a.target): a.statement for a in actions}
    compared = 0
    for index, ref in openings.items():
        decision_id, _, target = ref.partition(":")
        pub = by_puid.get(make_puid(runtime.transparency.origin, index))
        mine = [st for (d, t), st in stored.items() if str(d) == decision_id
                and (t == target or target in ("account", "space"))]
        if pub is None or not mine:
            continue
        assert any(_closed(pub) == _closed(st) for st in mine)
        compared += 1
    assert compared > 0
