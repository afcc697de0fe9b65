"""Moving cases, decisions and appeals from one state to the next, exactly once.

A rule such as "the case is still open and I hold its claim, so I decide it" is only true if
the check and the write are one step in the database. Each function here is one conditional
``UPDATE ... WHERE <the state the step starts from>`` that goes on only when it changed exactly
one row:

- PostgreSQL: a concurrent UPDATE of the same row waits until the first transaction ends, then
  re-checks its WHERE against the committed row, and changes nothing;
- SQLite, which has no row locks: the UPDATE takes the database's single write lock, so its
  WHERE sees the latest committed state and no other writer commits until this one ends.

Either way the transaction whose UPDATE changed the row holds it until it commits, so what it
reads and writes after ``take_case`` is one transition; every concurrent attempt (a double click,
a retry, a colleague) gets ``AlreadyDecided`` or ``NotClaimed`` and changes nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.orm import Session

from rempart.authz import Actor, require_person
from rempart.moderation.errors import AlreadyDecided, NotClaimed
from rempart.moderation.models import Appeal, Case, Decision
from rempart.moderation.vocab import CaseStatus

_LABELS = {CaseStatus.OPEN.value: "open again", CaseStatus.AWAITING_SECOND.value:
           "awaiting a second review", CaseStatus.ESCALATED.value: "escalated to a lead"}


def take_case(session: Session, actor: Actor, case: Case, status: CaseStatus,
              now: dt.datetime) -> Case:
    """Begin ``actor``'s step on ``case`` (a decision, a second review, a lead's ruling, an
    appeal decision): one UPDATE that touches the case only while it is still in ``status`` and
    under the actor's live claim. Returns the case, fresh; raises ``AlreadyDecided`` when the
    case has moved on, ``NotClaimed`` when the actor holds no live claim on it."""
    user_id = require_person(actor)
    session.flush()
    changed = session.execute(
        update(Case)
        .where(Case.id == case.id, Case.status == status.value, Case.claimed_by == user_id,
               Case.claim_expires_at > now)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(case)
    if changed == 1:
        return case
    if case.status == CaseStatus.DECIDED.value:
        raise AlreadyDecided(f"case {case.id} is already decided")
    if case.status != status.value:
        raise AlreadyDecided(f"case {case.id} was already decided: it is "
                             f"{_LABELS.get(case.status, case.status)} now")
    raise NotClaimed(f"claim case {case.id} first (or renew an expired claim)")


def lock_case(session: Session, case_id: int, now: dt.datetime) -> bool:
    """Hold the case's row until the transaction ends (an UPDATE of ``updated_at``), for steps
    that must not interleave with a decision on it: placing a hold vs deleting its data. False
    when there is no such case."""
    return session.execute(update(Case).where(Case.id == case_id).values(updated_at=now)
                           .execution_options(synchronize_session=False)).rowcount == 1


def move(session: Session, row: Decision | Appeal, from_status: str, to_status: str,
         **values) -> None:
    """Set ``row``'s status from ``from_status`` to ``to_status`` (with ``values``) in one
    conditional UPDATE; ``AlreadyDecided`` when it is no longer ``from_status``."""
    model = type(row)
    session.flush()
    changed = session.execute(
        update(model)
        .where(model.id == row.id, model.status == from_status)
        .values(status=to_status, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(row)
    if changed != 1:
        what = "appeal" if model is Appeal else "decision"
        raise AlreadyDecided(f"{what} {row.id} is already {row.status.replace('_', ' ')}")
