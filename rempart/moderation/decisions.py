"""Deciding cases: first decision, second review, escalation to a lead.

    decide ──(no dual-review action)──────────────────────────────► FINAL (actions applied)
       └──(a dual-review action)─► PENDING_SECOND ─ agree ────────► FINAL
                                          └──── disagree ─► ESCALATED ─ lead upholds ─► FINAL
                                                                   └─ lead returns ─► RETURNED
                                                                      (case open again)

Every step needs a live claim on the case (so one person works a case at a time) and is
audited. Each step begins with ``transitions.take_case``, one conditional UPDATE of the case:
of N identical submissions sent at once exactly one goes on, the others get ``AlreadyDecided``
(409) and change nothing, so a decision, its actions, webhooks and log leaves happen once.
Statements of reasons are built when the decision is proposed, so a decision that cannot
produce one is refused at once rather than after a second review.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, require, require_person
from rempart.errors import InvalidInput, NotFound
from rempart.moderation import dual
from rempart.moderation.actions import ActionRequest, PlannedAction, apply_actions, plan, reasons_for
from rempart.moderation.cases import load_case
from rempart.moderation.claims import drop_claim
from rempart.moderation.config import ModerationConfig
from rempart.moderation.errors import AlreadyDecided
from rempart.moderation.models import Action, Case, Decision
from rempart.moderation.transitions import move, take_case
from rempart.moderation.vocab import VIOLATION_ACTIONS, CaseStatus, DecisionStatus
from rempart.store.db import utcnow

FACTS_MAX = 5000


def decide(session: Session, actor: Actor, case_id: int, *, actions: Sequence[ActionRequest],
           policy: str | None, facts: str, config: ModerationConfig,
           now: dt.datetime | None = None) -> Decision:
    """Decide an open case the actor has claimed. Needs ``CASES_DECIDE``.

    ``policy`` (a key of the taxonomy) is required for any restrictive action; ``facts`` are the
    facts and circumstances of the statement of reasons. Returns the decision: ``FINAL`` with
    its actions applied, or ``PENDING_SECOND`` when an action needs dual review.
    """
    require(actor, P.CASES_DECIDE)
    user_id = require_person(actor)
    now = now or utcnow()
    case = take_case(session, actor, load_case(session, actor, case_id), CaseStatus.OPEN, now)
    facts = (facts or "").strip()
    if len(facts) > FACTS_MAX:
        raise InvalidInput(f"facts are at most {FACTS_MAX} characters")
    planned = plan(case, list(actions))
    kinds = {p.kind for p in planned}
    violation = bool(kinds & VIOLATION_ACTIONS)
    if policy is not None:
        config.taxonomy.get(policy)  # NotFound for an unknown policy
    if violation and policy is None:
        raise InvalidInput("a decision that restricts anything names the policy violated")
    decision = Decision(case_id=case.id, reviewer_id=user_id, policy=policy, violation=violation,
                        actions=[p.to_json() for p in planned], facts=facts,
                        status=DecisionStatus.PENDING_SECOND.value, created_at=now)
    session.add(decision)
    session.flush()
    for p in planned:  # refuse now what could not be stated later
        reasons_for(session, case, decision, p, config, now.date())
    record(session, actor, AuditEvent.DECISION_PROPOSED, case_id=case.id,
           subject=f"decision:{decision.id}",
           detail={"policy": policy, "actions": [p.to_json() for p in planned]})
    if dual.needs_second_review(kinds, config.dual_review):
        case.status = CaseStatus.AWAITING_SECOND.value
        drop_claim(case)
        case.updated_at = now
        return decision
    _finalise(session, actor, case, decision, DecisionStatus.PENDING_SECOND, config, now)
    return decision


def second_review(session: Session, actor: Actor, decision_id: int, *, agrees: bool, note: str,
                  config: ModerationConfig, now: dt.datetime | None = None) -> Decision:
    """A second, different reviewer agrees (the decision becomes final) or disagrees (it goes
    to a lead). Needs ``CASES_SECOND_REVIEW`` and a claim on the case."""
    require(actor, P.CASES_SECOND_REVIEW)
    user_id = require_person(actor)
    now = now or utcnow()
    decision = _decision(session, decision_id, DecisionStatus.PENDING_SECOND)
    case = load_case(session, actor, decision.case_id)
    outcome = dual.second_opinion(decision.reviewer_id, user_id, agrees)
    take_case(session, actor, case, CaseStatus.AWAITING_SECOND, now)
    decision.second_reviewer_id, decision.second_agrees = user_id, agrees
    decision.second_note, decision.second_at = (note or "")[:FACTS_MAX], now
    record(session, actor, AuditEvent.SECOND_REVIEW_AGREED if agrees
           else AuditEvent.SECOND_REVIEW_DISAGREED, case_id=case.id,
           subject=f"decision:{decision.id}", detail={"note": decision.second_note})
    if outcome is dual.Outcome.FINAL:
        _finalise(session, actor, case, decision, DecisionStatus.PENDING_SECOND, config, now)
    else:
        move(session, decision, DecisionStatus.PENDING_SECOND.value,
             DecisionStatus.ESCALATED.value)
        case.status = CaseStatus.ESCALATED.value
        drop_claim(case)
        case.updated_at = now
    return decision


def resolve_escalation(session: Session, actor: Actor, decision_id: int, *, uphold: bool,
                       note: str, config: ModerationConfig,
                       now: dt.datetime | None = None) -> Decision:
    """A lead, not involved so far, upholds the escalated decision (applied) or returns it (the
    case opens again for a fresh decision). Needs ``ESCALATIONS_RESOLVE`` and a claim."""
    require(actor, P.ESCALATIONS_RESOLVE)
    user_id = require_person(actor)
    now = now or utcnow()
    decision = _decision(session, decision_id, DecisionStatus.ESCALATED)
    dual.check_independent(user_id, (decision.reviewer_id, decision.second_reviewer_id),
                           "an escalation")
    case = take_case(session, actor, load_case(session, actor, decision.case_id),
                     CaseStatus.ESCALATED, now)
    decision.lead_id, decision.lead_note, decision.lead_at = user_id, (note or "")[:FACTS_MAX], now
    record(session, actor, AuditEvent.ESCALATION_RESOLVED, case_id=case.id,
           subject=f"decision:{decision.id}", detail={"uphold": uphold, "note": decision.lead_note})
    if uphold:
        _finalise(session, actor, case, decision, DecisionStatus.ESCALATED, config, now)
    else:
        move(session, decision, DecisionStatus.ESCALATED.value, DecisionStatus.RETURNED.value)
        case.status = CaseStatus.OPEN.value
        drop_claim(case)
        case.updated_at = now
        record(session, actor, AuditEvent.DECISION_RETURNED, case_id=case.id,
               subject=f"decision:{decision.id}")
    return decision


def _decision(session: Session, decision_id: int, status: DecisionStatus) -> Decision:
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound("decision", decision_id)
    if decision.status != status.value:
        raise AlreadyDecided(f"decision {decision_id} is already "
                             f"{decision.status.replace('_', ' ')}")
    return decision


def _finalise(session: Session, actor: Actor, case: Case, decision: Decision,
              from_status: DecisionStatus, config: ModerationConfig, now: dt.datetime) -> None:
    move(session, decision, from_status.value, DecisionStatus.FINAL.value, final_at=now)
    apply_actions(session, actor, case, decision, config, now)
    for hook in config.on_decision:
        hook(session, case, decision, "final")
    case.status = CaseStatus.DECIDED.value
    case.open_key = None  # a new flag of this subject opens a new case from now on
    case.decided_at, case.decided_by, case.updated_at = now, decision.reviewer_id, now
    drop_claim(case)
    record(session, actor, AuditEvent.DECISION_FINAL, case_id=case.id,
           subject=f"decision:{decision.id}", detail={"violation": decision.violation})


def decisions_of_case(session: Session, actor: Actor, case_id: int) -> list[Decision]:
    load_case(session, actor, case_id)
    return list(session.scalars(select(Decision).where(Decision.case_id == case_id)
                                .order_by(Decision.id)))


def planned_actions(decision: Decision) -> list[PlannedAction]:
    return [PlannedAction.from_json(a) for a in decision.actions]


def actions_of_decision(session: Session, actor: Actor, decision_id: int) -> list[Action]:
    """The applied (or reversed) actions of a decision, each with its statement of reasons."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound("decision", decision_id)
    load_case(session, actor, decision.case_id)
    return list(session.scalars(select(Action).where(Action.decision_id == decision_id)
                                .order_by(Action.id)))
