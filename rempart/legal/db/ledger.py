"""An order's transparency leaf: committed now, revealed later.

At receipt every order becomes a decision leaf of kind ``authority_order`` (source
``authority_order``, no identifier, category from its offence or threat) whose salted
commitment is to the SHA-256 of the order's canonical JSON (``LegalOrder.body_sha256``): the
leaf shows that an order arrived that day and commits to which one, revealing nothing. The
opening (salt and digest) stays private (``tlog_openings``) while the order is confidential.
When its confidentiality lapses (lifted, or the order closed and not confidential), ``reveal``
publishes the opening (``openings.json`` of the log's publication) for anyone to check against
the old leaf: ``rempart verify opening INDEX --log ... --vkey ... --content order.json``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor
from rempart.legal import ListedOffence, Order, ThreatKind
from rempart.legal.db.models import LegalOrder
from rempart.store.db import utcnow
from rempart.transparency.db.service import TransparencyLog, publish_opening

CHILD = {ListedOffence.CHILD_SEXUAL_ABUSE}


def leaf_fields(order: Order) -> dict[str, str]:
    child = (order.offence is not None and order.offence.listed_offence in CHILD) or (
        order.threat is not None and order.threat.kind is ThreatKind.CHILD_AT_RISK)
    return {"kind": "authority_order", "decision": "no_action", "target": "account",
            "ground": "illegal_content", "category": "protection_of_minors" if child else "other",
            "keyword": "none", "content_type": "other", "source_type": "authority_order",
            "automated_detection": "no", "automated_decision": "not_automated",
            "time_to_action": "immediate"}


def log_order(log: TransparencyLog):
    """The ``receive_order`` hook appending the order's leaf in its transaction."""

    def hook(session: Session, row: LegalOrder, order: Order) -> int:
        return log.record_decision(session, leaf_fields(order), row.body_sha256, ("legal_order", row.id),
                                   subject="order", event=f"order:{row.id}")
    return hook


def may_reveal(row: LegalOrder) -> bool:
    """Whether the order's opening may be published: it was never confidential and has been
    answered, or its confidentiality was lifted."""
    return row.leaf_index is not None and (row.gag_lifted_at is not None or
                                           (not row.confidential and row.answered_at is not None))


def reveal(session: Session, actor: Actor, row: LegalOrder, now: dt.datetime | None = None) -> bool:
    """Publish the opening of the order's leaf once it may be (idempotent)."""
    if row.revealed_at is not None or not may_reveal(row):
        return False
    row.revealed_at = now or utcnow()
    publish_opening(session, row.leaf_index, row.revealed_at)
    record(session, actor, AuditEvent.ORDER_REVEALED, subject=f"order:{row.id}",
           detail={"leaf": row.leaf_index})
    return True
