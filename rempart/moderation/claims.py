"""The claim on a case, as every step that needs one checks it: held by the actor, still live.

Taking and serving claims is ``rempart.moderation.queues`` (it weighs the reviewer's exposure
budget, ``wellness``); deciding, revealing, viewing media and appeals only check or drop the
claim, from here, so none of them depends on the queues.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from rempart.authz import Actor
from rempart.moderation.clocks import claim_live
from rempart.moderation.errors import NotClaimed
from rempart.moderation.models import Case


def require_claim(session: Session, actor: Actor, case: Case, now: dt.datetime) -> None:
    """Raise ``NotClaimed`` unless ``actor`` holds a live claim on ``case`` (checked in the DB)."""
    session.refresh(case)
    if case.claimed_by != actor.user_id or not claim_live(case.claimed_by, case.claim_expires_at,
                                                          now):
        raise NotClaimed(f"claim case {case.id} first (or renew an expired claim)")


def drop_claim(case: Case) -> None:
    case.claimed_by = None
    case.claimed_at = None
    case.claim_expires_at = None
