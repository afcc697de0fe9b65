"""What the desk's and the portal's pages show of an order (plain dicts; pages only render)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session

from rempart.legal.db import answer, emergency, orders
from rempart.legal.db.models import Agency, LegalOrder
from rempart.legal.orders import order_to_json
from rempart.store.db import utcnow


def summary(session: Session, row: LegalOrder, now: dt.datetime | None = None) -> dict:
    now = now or utcnow()
    state = orders.refresh(session, row, now)
    warn = [w for w in state.warn_at if w <= now]
    return {"id": row.id, "reference": row.reference, "type": row.kind, "clock": row.clock_kind,
            "agency": session.get(Agency, row.agency_id).name, "status": state.status.value,
            "sla": state.sla.value, "received_at": row.received_at, "deadline": state.deadline,
            "warning": bool(warn) and not state.closed, "paused": state.paused_since is not None,
            "confidential": row.confidential and row.gag_lifted_at is None,
            "deliveries": len(answer.deliveries_of(session, row.id)), "state": state}


def detail(session: Session, row: LegalOrder, *, internal: bool, attachments_dir: Path | None = None,
           now: dt.datetime | None = None) -> dict:
    """An order's page: the officer's (``internal`` False) shows no holds, approvals or callbacks."""
    out = summary(session, row, now)
    state = out["state"]
    out.update(order=order_to_json(orders.loaded(row)), history=state.history,
               reply_due=state.clarification_reply_due, hold_until=state.hold_until,
               hold_required=state.hold_required,
               delivered=answer.deliveries_of(session, row.id))
    if internal:
        ready = emergency.readiness(session, row)
        agency = session.get(Agency, row.agency_id)
        out.update(holds=orders.holds_of(session, row), approvals=ready.approvals, callbacks=ready.callbacks,
                   missing=ready.missing if row.kind == "emergency_request" else [],
                   contacts=emergency.registered_contacts(agency), leaf_index=row.leaf_index,
                   revealed_at=row.revealed_at, coverage=orders.target_coverage(session, orders.loaded(row)),
                   attachments=_attachments(attachments_dir, row))
    return out


def _attachments(base: Path | None, row: LegalOrder) -> list[str]:
    folder = base / str(row.id) if base is not None else None
    return sorted(p.name for p in folder.iterdir()) if folder is not None and folder.is_dir() else []
