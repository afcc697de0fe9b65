"""Facts about a case that mandatory reports carry, recorded by a reviewer (audited).

``publicly_available``: whether the case's content was publicly available on the service
(CyberTipline ``publiclyAvailable``). Unrecorded, it is false (a private service). It is stored
in the case's ``detail`` (``publicly_available`` and ``publicly_available_by``: who recorded it,
when), where the CyberTipline report builder reads it. Only people who may decide the case (and
so refer it to NCMEC) record it, and only while no report of the case has been submitted: a
submitted report's facts are NCMEC's record.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, require
from rempart.errors import Conflict
from rempart.moderation.cases import load_case
from rempart.moderation.models import Referral
from rempart.store.db import utcnow


def publicly_available(case_detail: dict | None) -> bool:
    """The recorded fact (false when nobody recorded it)."""
    return bool((case_detail or {}).get("publicly_available", False))


def record_public_availability(session: Session, actor: Actor, case_id: int, available: bool) -> bool:
    """Record whether the case's content was publicly available; returns the value stored."""
    require(actor, P.CASES_DECIDE)
    case = load_case(session, actor, case_id)
    submitted = session.scalar(select(Referral.id).where(Referral.case_id == case.id,
                                                         Referral.status == "submitted"))
    if submitted is not None:
        raise Conflict(f"case {case.id} was already reported to NCMEC: its facts cannot change")
    before = publicly_available(case.detail)
    detail = dict(case.detail or {})
    detail["publicly_available"] = bool(available)
    detail["publicly_available_by"] = {"actor": actor.label, "at": utcnow().isoformat()}
    case.detail = detail  # a new dict: the JSON column sees the change
    record(session, actor, AuditEvent.CASE_FACT_RECORDED, case_id=case.id, subject=f"case:{case.id}",
           detail={"fact": "publicly_available", "before": before, "after": bool(available)})
    return bool(available)
