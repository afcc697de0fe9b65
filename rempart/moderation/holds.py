"""Preservation holds and the one path that deletes a case's data, which a hold blocks.

The legal desk (a later issue) will place and end holds for law-enforcement requests; today a
decision's ``preservation_hold`` action places one. While any hold on a case is active,
``delete_case_data`` refuses with ``HoldActive``. Both first hold the case's row
(``transitions.lock_case``), so a deletion can never slip between a hold's placing and its
commit: one of the two waits for the other and then sees it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, require
from rempart.errors import NotFound
from rempart.moderation.errors import HoldActive
from rempart.moderation.models import CaseItem, Hold
from rempart.moderation.transitions import lock_case
from rempart.scanning.models import ItemSignal
from rempart.store.db import utcnow


def place_hold(session: Session, actor: Actor, case_id: int, reason: str, *,
               decision_id: int | None = None, now: dt.datetime | None = None) -> Hold:
    """Record a hold (called by the decision path; the legal desk will add its own entry)."""
    if not lock_case(session, case_id, now or utcnow()):
        raise NotFound("case", case_id)
    hold = Hold(case_id=case_id, decision_id=decision_id, reason=reason, placed_by=actor.label,
                placed_at=now or utcnow())
    session.add(hold)
    session.flush()
    record(session, actor, AuditEvent.HOLD_PLACED, case_id=case_id, subject=f"hold:{hold.id}",
           detail={"reason": reason})
    return hold


def active_holds(session: Session, case_id: int) -> list[Hold]:
    return list(session.scalars(select(Hold).where(Hold.case_id == case_id,
                                                   Hold.released_at.is_(None))))


def release_hold(session: Session, actor: Actor, hold_id: int, reason: str) -> Hold:
    """End a hold (idempotent: releasing a released hold changes nothing and is not audited
    again, even when two releases race)."""
    require(actor, P.HOLDS_RELEASE)
    hold = session.get(Hold, hold_id)
    if hold is None:
        raise NotFound("hold", hold_id)
    released = session.execute(
        update(Hold).where(Hold.id == hold_id, Hold.released_at.is_(None))
        .values(released_at=utcnow(), released_by=actor.label)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(hold)
    if released == 1:
        record(session, actor, AuditEvent.HOLD_RELEASED, case_id=hold.case_id,
               subject=f"hold:{hold.id}", detail={"reason": reason})
    return hold


def check_deletable(session: Session, case_id: int) -> None:
    """Raise ``HoldActive`` while a hold covers the case. Every deletion path calls this."""
    holds = active_holds(session, case_id)
    if holds:
        raise HoldActive(f"case {case_id} is under preservation hold "
                         f"{', '.join(str(h.id) for h in holds)}")


def delete_case_data(session: Session, actor: Actor, case_id: int, store=None) -> int:
    """Retention: delete the stored fingerprints of the case's items and, given the evidence
    ``store`` (a ``media.MediaStore``), their media (the ledger keeps the item rows and
    verdicts). Refused under a preservation hold. Returns the number of signals deleted.
    """
    require(actor, P.CASE_DATA_DELETE)
    if not lock_case(session, case_id, utcnow()):
        raise NotFound("case", case_id)
    check_deletable(session, case_id)
    item_ids = [i for i in session.scalars(select(CaseItem.item_id).where(
        CaseItem.case_id == case_id, CaseItem.item_id.is_not(None)))]
    media = 0
    if store is not None and item_ids:
        for sha in session.scalars(select(ItemSignal.value).where(
                ItemSignal.item_id.in_(item_ids), ItemSignal.signal_type == "sha256")):
            media += bool(store.delete(sha))
    n = session.execute(delete(ItemSignal).where(ItemSignal.item_id.in_(item_ids))).rowcount if item_ids else 0
    record(session, actor, AuditEvent.CASE_DATA_DELETED, case_id=case_id,
           detail={"signals": n, "media": media})
    return n
