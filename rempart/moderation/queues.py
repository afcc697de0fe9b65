"""Queues: listing, claiming (never two reviewers on one case), serving the next case, and the
lead's statistics and breach warnings.

The claim is one conditional UPDATE: it sets the claimant only where the case is claimable and
unclaimed (or its claim expired, or it is the actor's own). The database applies it atomically
(PostgreSQL re-checks the condition after a concurrent writer commits; SQLite serialises
writers), so of two reviewers exactly one gets the case and the other a ``ClaimConflict``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, require, require_person
from rempart.errors import NotFound
from rempart.moderation.cases import ensure_queues, load_case
from rempart.moderation.clocks import SlaState, sla_state
from rempart.moderation.config import ModerationConfig
from rempart.moderation.errors import ClaimConflict, ExposureLimitReached, NotClaimed
from rempart.moderation.models import Case, Decision, Queue
from rempart.moderation.vocab import CLAIMABLE, CaseStatus, DecisionStatus
from rempart.moderation.wellness import exposure_of
from rempart.store.db import utcnow

SERVE_CANDIDATES = 20


def visible_queues(session: Session, actor: Actor, config: ModerationConfig) -> list[Queue]:
    require(actor, P.CASES_READ)
    queues = ensure_queues(session, config)
    return [q for q in queues if not q.child_safety or actor.can(P.CASES_CHILD_SAFETY)]


def _visible_queue_ids(session: Session, actor: Actor, config: ModerationConfig) -> list[int]:
    return [q.id for q in visible_queues(session, actor, config)]


def list_cases(session: Session, actor: Actor, config: ModerationConfig, *,
               queue: str | None = None, statuses: tuple[CaseStatus, ...] | None = None,
               limit: int = 100, offset: int = 0) -> list[Case]:
    """Cases the actor may see, in serving order (priority, deadline, age). Undecided by default."""
    ids = _visible_queue_ids(session, actor, config)
    statuses = statuses or CLAIMABLE
    q = (select(Case).where(Case.queue_id.in_(ids), Case.status.in_([s.value for s in statuses]))
         .order_by(Case.priority, Case.due_at, Case.created_at, Case.id).limit(limit).offset(offset))
    if queue is not None:
        q = q.join(Queue).where(Queue.name == queue)
    return list(session.scalars(q))


def my_claims(session: Session, actor: Actor, *, now: dt.datetime | None = None) -> list[Case]:
    """The cases the actor holds a live claim on, most urgent first."""
    user_id = require_person(actor)
    now = now or utcnow()
    return list(session.scalars(select(Case).where(Case.claimed_by == user_id,
                                                   Case.claim_expires_at > now)
                                .order_by(Case.priority, Case.due_at, Case.id)))


def _claim_condition(actor_id: int, now: dt.datetime):
    return or_(Case.claimed_by.is_(None), Case.claim_expires_at <= now, Case.claimed_by == actor_id)


def _may_work(session: Session, actor: Actor, case: Case) -> str | None:
    """Why ``actor`` may not claim ``case`` in its current state, or None."""
    if case.status == CaseStatus.OPEN.value:
        return None
    if case.status == CaseStatus.AWAITING_SECOND.value:
        if not actor.can(P.CASES_SECOND_REVIEW):
            return "needs a second reviewer"
        pending = _pending_decision(session, case.id, DecisionStatus.PENDING_SECOND)
        if pending is not None and pending.reviewer_id == actor.user_id:
            return "awaits a second reviewer other than its first"
        return None
    if case.status == CaseStatus.ESCALATED.value:
        return None if actor.can(P.ESCALATIONS_RESOLVE) else "is escalated to a lead"
    return f"is {case.status}"


def _pending_decision(session: Session, case_id: int, status: DecisionStatus) -> Decision | None:
    return session.scalar(select(Decision).where(Decision.case_id == case_id,
                                                 Decision.status == status.value)
                          .order_by(Decision.id.desc()))


def claim(session: Session, actor: Actor, case_id: int, config: ModerationConfig, *,
          now: dt.datetime | None = None) -> Case:
    """Claim (or renew one's claim on) a case for ``config.claim_ttl``. Needs ``CASES_CLAIM``.

    Raises ``ClaimConflict`` when someone else holds a live claim or the state forbids it, and
    ``ExposureLimitReached`` for a media case once the actor's reveal budget is spent.
    """
    require(actor, P.CASES_CLAIM)
    user_id = require_person(actor)
    now = now or utcnow()
    case = load_case(session, actor, case_id)
    why = _may_work(session, actor, case)
    if why:
        raise ClaimConflict(f"case {case_id} {why}")
    if case.has_media and actor.can(P.MEDIA_REVEAL):
        exp = exposure_of(session, user_id, config, now)
        if exp.exhausted:
            raise ExposureLimitReached(exp.reveals_today, exp.limit)
    n = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.status == case.status, _claim_condition(user_id, now))
        .values(claimed_by=user_id, claimed_at=now, claim_expires_at=now + config.claim_ttl)
        .execution_options(synchronize_session=False)
    ).rowcount
    if n != 1:
        raise ClaimConflict(f"case {case_id} is claimed by another reviewer")
    session.refresh(case)
    record(session, actor, AuditEvent.CASE_CLAIMED, case_id=case_id,
           detail={"expires_at": case.claim_expires_at.isoformat()})
    return case


def release(session: Session, actor: Actor, case_id: int) -> None:
    """Give a claimed case back to its queue (only the claimant can)."""
    user_id = require_person(actor)
    n = session.execute(update(Case).where(Case.id == case_id, Case.claimed_by == user_id)
                        .values(claimed_by=None, claimed_at=None, claim_expires_at=None)
                        .execution_options(synchronize_session=False)).rowcount
    if n != 1:
        raise NotClaimed(f"case {case_id} is not claimed by {actor.label}")
    record(session, actor, AuditEvent.CLAIM_RELEASED, case_id=case_id)


def next_case(session: Session, actor: Actor, config: ModerationConfig, *,
              queue: str | None = None, now: dt.datetime | None = None) -> Case | None:
    """Claim and return the most urgent case the actor may work, or None.

    Skips cases claimed by others, second reviews of the actor's own decisions, escalations
    (unless a lead), child-safety queues without that permission, and media cases once the
    actor's exposure budget is spent (those who cannot reveal never spend it).
    """
    require(actor, P.CASES_CLAIM)
    user_id = require_person(actor)
    now = now or utcnow()
    statuses = [CaseStatus.OPEN.value, CaseStatus.AWAITING_SECOND.value]
    if actor.can(P.ESCALATIONS_RESOLVE):
        statuses.append(CaseStatus.ESCALATED.value)
    q = (select(Case.id).where(Case.queue_id.in_(_visible_queue_ids(session, actor, config)),
                               Case.status.in_(statuses), _claim_condition(user_id, now))
         .order_by(Case.priority, Case.due_at, Case.created_at, Case.id))
    if queue is not None:
        q = q.join(Queue).where(Queue.name == queue)
    if actor.can(P.MEDIA_REVEAL) and exposure_of(session, user_id, config, now).exhausted:
        q = q.where(Case.has_media.is_(False))
    for offset in range(0, 10 * SERVE_CANDIDATES, SERVE_CANDIDATES):
        ids = list(session.scalars(q.limit(SERVE_CANDIDATES).offset(offset)))
        for case_id in ids:
            try:
                with session.begin_nested():
                    return claim(session, actor, case_id, config, now=now)
            except (ClaimConflict, ExposureLimitReached):
                continue
        if len(ids) < SERVE_CANDIDATES:
            break
    return None


# -- leads: statistics and warnings ----------------------------------------------------------

@dataclass(frozen=True)
class QueueStats:
    queue: str
    child_safety: bool
    sla_seconds: int
    backlog: int  # undecided cases
    claimed: int  # of which under a live claim
    awaiting_second: int
    escalated: int
    oldest_age_seconds: float | None
    warning: int  # undecided, inside the warning window
    breached: int  # undecided past the deadline
    decided_late: int  # decided after the deadline (all time)
    decided: int


def queue_stats(session: Session, actor: Actor, config: ModerationConfig, *,
                now: dt.datetime | None = None) -> list[QueueStats]:
    """Per queue: backlog, claims, ages, warnings and breaches. Needs ``QUEUES_STATS``."""
    require(actor, P.QUEUES_STATS)
    now = now or utcnow()
    out = []
    undecided = Case.status != CaseStatus.DECIDED.value
    for queue in ensure_queues(session, config):
        def count(*cond):
            return session.scalar(select(func.count()).select_from(Case)
                                  .where(Case.queue_id == queue.id, *cond)) or 0
        oldest = session.scalar(select(func.min(Case.created_at))
                                .where(Case.queue_id == queue.id, undecided))
        out.append(QueueStats(
            queue=queue.name, child_safety=queue.child_safety, sla_seconds=queue.sla_seconds,
            backlog=count(undecided),
            claimed=count(undecided, Case.claimed_by.is_not(None), Case.claim_expires_at > now),
            awaiting_second=count(Case.status == CaseStatus.AWAITING_SECOND.value),
            escalated=count(Case.status == CaseStatus.ESCALATED.value),
            oldest_age_seconds=(now - oldest).total_seconds() if oldest else None,
            warning=count(undecided, Case.warn_at <= now, Case.due_at >= now),
            breached=count(undecided, Case.due_at < now),
            decided_late=count(Case.status == CaseStatus.DECIDED.value,
                               Case.decided_at > Case.due_at),
            decided=count(Case.status == CaseStatus.DECIDED.value),
        ))
    return out


@dataclass(frozen=True)
class SlaWarning:
    case_id: int
    queue: str
    state: SlaState
    due_at: dt.datetime
    seconds_left: float  # negative once breached


def sla_warnings(session: Session, actor: Actor, config: ModerationConfig, *,
                 now: dt.datetime | None = None) -> list[SlaWarning]:
    """Undecided cases the actor may see that are in their warning window or past due,
    most urgent first."""
    require(actor, P.CASES_READ)
    now = now or utcnow()
    ids = _visible_queue_ids(session, actor, config)
    rows = session.execute(
        select(Case, Queue.name).join(Queue)
        .where(Case.queue_id.in_(ids), Case.status != CaseStatus.DECIDED.value,
               Case.warn_at <= now)
        .order_by(Case.due_at))
    return [SlaWarning(c.id, name, sla_state(due_at=c.due_at, warn_at=c.warn_at, now=now),
                       c.due_at, (c.due_at - now).total_seconds()) for c, name in rows]


def case_sla(case: Case, now: dt.datetime | None = None) -> SlaState:
    return sla_state(due_at=case.due_at, warn_at=case.warn_at, now=now or utcnow(),
                     decided_at=case.decided_at)


def get_queue(session: Session, name: str) -> Queue:
    q = session.scalar(select(Queue).where(Queue.name == name))
    if q is None:
        raise NotFound("queue", name)
    return q
