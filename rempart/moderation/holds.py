"""Preservation holds and the paths that delete data, which a hold blocks.

A hold covers a case (a decision's ``preservation_hold`` action, a CyberTipline report's year)
or every item of a platform account (a law-enforcement preservation order, ``place_account_hold``).
The deletion paths are three: ``delete_case_data`` (a case's data), ``delete_account_data``
(the platform relays a user's deletion of their account's items) and ``retention_sweep`` (the
retention job: fingerprints and media older than the retention period). Each refuses, or
skips, what an active hold covers. A hold with ``expires_at`` ends by itself:
``expire_holds`` releases it once the time has passed and audits it (``hold.expired``).

Case holds first hold the case's row (``transitions.lock_case``), so a deletion can never slip
between a hold's placing and its commit. An account's deletion takes the same care by
re-reading the account's holds in the deleting transaction, after the rows to delete are
selected, and by deleting nothing if one appeared.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, require
from rempart.errors import NotFound
from rempart.moderation.errors import HoldActive
from rempart.moderation.models import Case, CaseItem, Hold
from rempart.moderation.transitions import lock_case
from rempart.scanning.models import ItemSignal, ScannedItem
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


def place_account_hold(session: Session, actor: Actor, account: str, reason: str, *,
                       expires_at: dt.datetime | None, now: dt.datetime | None = None) -> Hold:
    """A hold on every item of ``account`` (a preservation order); ``expires_at`` None holds
    until released."""
    if not account:
        raise NotFound("account", account)
    hold = Hold(case_id=None, account=account, reason=reason, placed_by=actor.label,
                placed_at=now or utcnow(), expires_at=expires_at)
    session.add(hold)
    session.flush()
    record(session, actor, AuditEvent.HOLD_PLACED, subject=f"hold:{hold.id}",
           detail={"reason": reason, "scope": "account",
                   "expires_at": expires_at.isoformat() if expires_at else None})
    return hold


def set_hold_expiry(session: Session, actor: Actor, hold_id: int, expires_at: dt.datetime | None) -> None:
    """Move an active hold's automatic end (an extended or confirmed preservation order)."""
    hold = session.get(Hold, hold_id)
    if hold is None or hold.released_at is not None or hold.expires_at == expires_at:
        return
    hold.expires_at = expires_at
    record(session, actor, AuditEvent.HOLD_PLACED, case_id=hold.case_id, subject=f"hold:{hold.id}",
           detail={"reason": "expiry moved", "expires_at": expires_at.isoformat() if expires_at else None})


def end_hold(session: Session, actor: Actor, hold_id: int, reason: str) -> bool:
    """Release a hold as part of a service that checked its own permission (the legal desk
    ending a preservation order); idempotent, audited once."""
    released = session.execute(
        update(Hold).where(Hold.id == hold_id, Hold.released_at.is_(None))
        .values(released_at=utcnow(), released_by=actor.label)
        .execution_options(synchronize_session=False)).rowcount
    if released == 1:
        record(session, actor, AuditEvent.HOLD_RELEASED, subject=f"hold:{hold_id}",
               detail={"reason": reason})
    return released == 1


def expire_holds(session: Session, now: dt.datetime | None = None) -> int:
    """Release every hold whose ``expires_at`` has passed, audited as ``system:hold-expiry``
    (each once, even when two sweeps race). Returns how many ended."""
    now = now or utcnow()
    n = 0
    for hold_id, case_id in session.execute(select(Hold.id, Hold.case_id).where(
            Hold.released_at.is_(None), Hold.expires_at.is_not(None), Hold.expires_at <= now)).all():
        done = session.execute(
            update(Hold).where(Hold.id == hold_id, Hold.released_at.is_(None))
            .values(released_at=now, released_by="system:hold-expiry")
            .execution_options(synchronize_session=False)).rowcount
        if done == 1:
            n += 1
            record(session, None, AuditEvent.HOLD_EXPIRED, case_id=case_id, subject=f"hold:{hold_id}",
                   actor_label="system:hold-expiry", at=now)
    return n


def active_holds(session: Session, case_id: int) -> list[Hold]:
    """The active holds on a case: its own, and those on its account."""
    account = session.scalar(select(Case.account).where(Case.id == case_id))
    cond = Hold.case_id == case_id
    if account:
        cond = or_(cond, Hold.account == account)
    return list(session.scalars(select(Hold).where(cond, Hold.released_at.is_(None))))


def held_accounts(session: Session, accounts: set[str] | None = None) -> set[str]:
    """The accounts under an active hold (of those given, or all)."""
    q = select(Hold.account).where(Hold.account.is_not(None), Hold.released_at.is_(None))
    if accounts is not None:
        q = q.where(Hold.account.in_(sorted(accounts)))
    return set(session.scalars(q))


def held_items(session: Session, item_ids: list[int]) -> set[int]:
    """Which of ``item_ids`` an active hold covers (through a held case or a held account)."""
    if not item_ids:
        return set()
    by_case = set(session.scalars(select(CaseItem.item_id).join(Hold, Hold.case_id == CaseItem.case_id)
                                  .where(CaseItem.item_id.in_(item_ids), Hold.released_at.is_(None))))
    accounts = held_accounts(session)
    by_account = set(session.scalars(select(ScannedItem.id).where(
        ScannedItem.id.in_(item_ids), ScannedItem.account.in_(sorted(accounts))))) if accounts else set()
    return by_case | by_account


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


def _delete_items(session: Session, item_ids: list[int], store) -> tuple[int, int]:
    media = 0
    if store is not None and item_ids:
        for sha in session.scalars(select(ItemSignal.value).where(
                ItemSignal.item_id.in_(item_ids), ItemSignal.signal_type == "sha256")):
            media += bool(store.delete(sha))
    n = session.execute(delete(ItemSignal).where(ItemSignal.item_id.in_(item_ids))).rowcount if item_ids else 0
    return n, media


def delete_account_data(session: Session, actor: Actor, account: str, store=None) -> int:
    """A user deleted their account's content (the platform relays it): delete the stored
    fingerprints and media of the account's items. Refused (``HoldActive``) while a hold covers
    the account or any of its items; nothing is deleted then. Returns the signals deleted."""
    require(actor, P.CASE_DATA_DELETE)
    item_ids = list(session.scalars(select(ScannedItem.id).where(ScannedItem.account == account)))
    if held_accounts(session, {account}) or held_items(session, item_ids):
        raise HoldActive(f"the account's data are under a preservation hold: nothing was deleted")
    n, media = _delete_items(session, item_ids, store)
    record(session, actor, AuditEvent.ACCOUNT_DATA_DELETED,
           detail={"items": len(item_ids), "signals": n, "media": media})
    return n


def retention_sweep(session: Session, actor: Actor, older_than: dt.datetime, store=None) -> dict:
    """The retention job: delete fingerprints and media of items scanned before ``older_than``,
    skipping every item an active hold covers. Returns {"deleted", "held"} item counts."""
    require(actor, P.CASE_DATA_DELETE)
    expire_holds(session)
    candidates = list(session.scalars(select(ScannedItem.id).where(
        ScannedItem.scanned_at < older_than,
        ScannedItem.id.in_(select(ItemSignal.item_id)))))
    held = held_items(session, candidates)
    doomed = [i for i in candidates if i not in held]
    n, media = _delete_items(session, doomed, store)
    record(session, actor, AuditEvent.RETENTION_SWEPT,
           detail={"items": len(doomed), "held": len(held), "signals": n, "media": media,
                   "older_than": older_than.isoformat()})
    return {"deleted": len(doomed), "held": len(held)}
