"""Voluntary emergency disclosure requests: two people approve, one calls the agency back.

Forged emergency requests from compromised police mailboxes are a known attack, so before the
desk discloses anything for an ``emergency_request``:

- someone on the legal team calls the agency's *registered* contact (never one from the request)
  and records the outcome (``record_callback``: who, which contact, confirmed or not);
- two different people of the legal team approve (``approve``); one person approving twice
  counts once (a unique constraint, not a check that a race could pass).

``readiness`` says what is still missing; ``answer.produce`` refuses until nothing is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, require, require_person
from rempart.errors import Conflict, InvalidInput
from rempart.legal.db.models import Agency, Approval, Callback, LegalOrder
from rempart.store.db import utcnow

APPROVALS_NEEDED = 2


@dataclass(frozen=True)
class Readiness:
    approvals: tuple[Approval, ...]
    callbacks: tuple[Callback, ...]

    @property
    def callback_confirmed(self) -> bool:
        return any(c.confirmed for c in self.callbacks) and not any(not c.confirmed for c in self.callbacks)

    @property
    def missing(self) -> list[str]:
        out = []
        if not self.callback_confirmed:
            out.append("a confirmed callback to the agency's registered contact"
                       + (" (a callback failed: the request may be forged)"
                          if any(not c.confirmed for c in self.callbacks) else ""))
        if len(self.approvals) < APPROVALS_NEEDED:
            out.append(f"{APPROVALS_NEEDED - len(self.approvals)} more approval(s) by a different person")
        return out


def readiness(session: Session, row: LegalOrder) -> Readiness:
    return Readiness(
        tuple(session.scalars(select(Approval).where(Approval.order_id == row.id).order_by(Approval.id))),
        tuple(session.scalars(select(Callback).where(Callback.order_id == row.id).order_by(Callback.id))))


def registered_contacts(agency: Agency) -> list[str]:
    return [c for c in (agency.contact_phone, agency.contact_email) if c]


def record_callback(session: Session, actor: Actor, row: LegalOrder, contact: str, confirmed: bool,
                    note: str = "", now: dt.datetime | None = None) -> Callback:
    """Record the out-of-band check: ``contact`` must be one the agency registered."""
    require(actor, P.LEGAL_DESK)
    user_id = require_person(actor)
    agency = session.get(Agency, row.agency_id)
    if contact not in registered_contacts(agency):
        raise InvalidInput("call the agency's registered contact "
                           f"({', '.join(registered_contacts(agency))}), never one given in the request")
    cb = Callback(order_id=row.id, user_id=user_id, actor=actor.label, contact=contact,
                  confirmed=confirmed, note=note[:2000], at=now or utcnow())
    session.add(cb)
    session.flush()
    record(session, actor, AuditEvent.CALLBACK_RECORDED, subject=f"order:{row.id}",
           detail={"confirmed": confirmed}, at=cb.at)
    return cb


def approve(session: Session, actor: Actor, row: LegalOrder, now: dt.datetime | None = None) -> Approval:
    """One person's approval of disclosing for an emergency request (once per person)."""
    require(actor, P.LEGAL_APPROVE)
    user_id = require_person(actor)
    if row.kind != "emergency_request":
        raise InvalidInput("only voluntary emergency requests need approvals")
    approval = Approval(order_id=row.id, user_id=user_id, actor=actor.label, at=now or utcnow())
    try:
        with session.begin_nested():
            session.add(approval)
            session.flush()
    except IntegrityError:
        raise Conflict("you already approved this request: a second person must approve") from None
    record(session, actor, AuditEvent.EMERGENCY_APPROVED, subject=f"order:{row.id}", at=approval.at)
    return approval
