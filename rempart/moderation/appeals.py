"""Appeals (DSA Art. 20): filed within six months of a decision, decided by someone who took no
part in it; overturning reverses the decision's actions and takes banked entries out again.

An appeal opens a case of its own (source ``appeal``, routed to the appeals queue), so it is
claimed, clocked and audited like any other case. A decision has at most one open appeal (a
partial unique index), and an appeal is decided once (``transitions``), so appeals sent or
decided twice at the same moment reverse nothing twice.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, require, require_person
from rempart.errors import Conflict, InvalidInput, NotFound
from rempart.moderation import dual
from rempart.moderation.actions import reverse_actions
from rempart.moderation.cases import NewCase, load_case, open_case
from rempart.moderation.claims import drop_claim
from rempart.moderation.clocks import appeal_deadline, appeal_open
from rempart.moderation.config import ModerationConfig
from rempart.moderation.errors import AlreadyDecided, AppealWindowClosed
from rempart.moderation.models import Appeal, Case, Decision
from rempart.moderation.transitions import move, take_case
from rempart.moderation.vocab import CaseSource, CaseStatus, DecisionStatus
from rempart.store.db import utcnow

STATEMENT_MAX = 5000


def file_appeal(session: Session, actor: Actor, decision_id: int, *, appellant: str,
                statement: str, config: ModerationConfig,
                now: dt.datetime | None = None) -> Appeal:
    """Record an affected user's appeal (via the platform). Needs ``APPEALS_FILE``.

    Only a final violation decision can be appealed, by the account it concerned, within six
    months (``AppealWindowClosed`` after), and once (``Conflict`` for a second open appeal).
    """
    require(actor, P.APPEALS_FILE)
    now = now or utcnow()
    decision = session.get(Decision, decision_id)
    if decision is None or decision.status != DecisionStatus.FINAL.value or not decision.violation:
        raise NotFound("appealable decision", decision_id)
    case = session.get(Case, decision.case_id)
    if case.account is None or appellant != case.account:
        raise InvalidInput("only the affected account can appeal this decision")
    if not appeal_open(decision.final_at, now):
        raise AppealWindowClosed(f"the appeal window closed on {appeal_deadline(decision.final_at):%Y-%m-%d}")
    if len(statement or "") > STATEMENT_MAX:
        raise InvalidInput(f"an appeal statement is at most {STATEMENT_MAX} characters")
    if session.scalar(select(Appeal.id).where(Appeal.decision_id == decision_id,
                                              Appeal.status == "open")):
        raise _open_appeal(decision_id)
    opened = open_case(session, actor, NewCase(
        source=CaseSource.APPEAL, subject=f"appeal:decision:{decision_id}",
        title=f"Appeal of decision {decision_id}", account=case.account, space=case.space,
        has_media=False, metadata_decidable=True, child_safety=case.queue.child_safety,
        parent_case_id=case.id, detail={"decision_id": decision_id}), config, now=now)
    appeal = Appeal(decision_id=decision_id, case_id=opened.case.id, appellant=appellant,
                    statement=(statement or "").strip(), filed_at=now)
    session.add(appeal)
    try:
        session.flush()
    except IntegrityError:  # a concurrent request filed it first (one open appeal per decision)
        raise _open_appeal(decision_id) from None
    record(session, actor, AuditEvent.APPEAL_FILED, case_id=opened.case.id,
           subject=f"appeal:{appeal.id}", detail={"decision_id": decision_id})
    return appeal


def decide_appeal(session: Session, actor: Actor, appeal_id: int, *, overturn: bool, note: str,
                  config: ModerationConfig, now: dt.datetime | None = None) -> Appeal:
    """Uphold or overturn. Needs ``APPEALS_DECIDE``, a claim on the appeal's case, and no part in
    the original decision (first or second reviewer, or lead)."""
    require(actor, P.APPEALS_DECIDE)
    user_id = require_person(actor)
    now = now or utcnow()
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound("appeal", appeal_id)
    if appeal.status != "open":
        raise AlreadyDecided(f"appeal {appeal_id} is already {appeal.status}")
    decision = session.get(Decision, appeal.decision_id)
    dual.check_independent(user_id, (decision.reviewer_id, decision.second_reviewer_id,
                                     decision.lead_id), "an appeal")
    case = load_case(session, actor, appeal.case_id)
    if not (note or "").strip():
        raise InvalidInput("an appeal decision states its reasons")
    take_case(session, actor, case, CaseStatus.OPEN, now)
    move(session, appeal, "open", "overturned" if overturn else "upheld", decided_by=user_id,
         decided_at=now, note=note.strip()[:STATEMENT_MAX])
    if overturn:
        move(session, decision, DecisionStatus.FINAL.value, DecisionStatus.REVERSED.value,
             reversed_at=now)
        reverse_actions(session, actor, decision, now)
        for hook in config.on_decision:
            hook(session, case, decision, "reversed")
    case.status, case.open_key = CaseStatus.DECIDED.value, None
    case.decided_at, case.decided_by, case.updated_at = now, user_id, now
    drop_claim(case)
    record(session, actor, AuditEvent.APPEAL_DECIDED, case_id=case.id,
           subject=f"appeal:{appeal.id}", detail={"overturn": overturn, "decision_id": decision.id})
    return appeal


def _open_appeal(decision_id: int) -> Conflict:
    return Conflict(f"decision {decision_id} already has an open appeal")


def appeals_of_decision(session: Session, actor: Actor, decision_id: int) -> list[Appeal]:
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound("decision", decision_id)
    load_case(session, actor, decision.case_id)
    return list(session.scalars(select(Appeal).where(Appeal.decision_id == decision_id)
                                .order_by(Appeal.id)))
