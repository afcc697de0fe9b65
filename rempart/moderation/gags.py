""""Do not inform the user": confidentiality that an authority's order imposes on a platform
account, enforced where notifications to users are produced.

While a gag on an account is active, the webhooks announcing actions that touch the account
carry no statement of reasons and ``"notify_user": false`` (the platform applies the action and
tells the user nothing), and the withheld statement stays stored with the action. When the
last gag on the account is lifted, one ``notification_released`` webhook per withheld action
carries its statement, so the platform can inform the user then.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor
from rempart.moderation import outbox
from rempart.moderation.models import Action, Case, Gag
from rempart.scanning.models import ScannedItem
from rempart.store.db import utcnow

WITHHELD = "withheld"  # ``Action.result["notification"]`` while a gag held the statement back


def place_gag(session: Session, actor: Actor, account: str, source: str,
              now: dt.datetime | None = None) -> Gag:
    gag = Gag(account=account, source=source, placed_at=now or utcnow())
    session.add(gag)
    session.flush()
    record(session, actor, AuditEvent.GAG_PLACED, subject=f"gag:{gag.id}", detail={"source": source})
    return gag


def gagged(session: Session, accounts: set[str | None]) -> bool:
    """Whether any of ``accounts`` is under an active gag (the check every notification makes)."""
    wanted = sorted(a for a in accounts if a)
    if not wanted:
        return False
    return session.scalar(select(Gag.id).where(Gag.account.in_(wanted), Gag.lifted_at.is_(None))
                          .limit(1)) is not None


def lift_gags(session: Session, actor: Actor, source: str, now: dt.datetime | None = None) -> list[str]:
    """Lift the gags ``source`` placed; returns the accounts no longer under any gag."""
    now = now or utcnow()
    rows = list(session.scalars(select(Gag).where(Gag.source == source, Gag.lifted_at.is_(None))))
    freed = []
    for gag in rows:
        done = session.execute(update(Gag).where(Gag.id == gag.id, Gag.lifted_at.is_(None))
                               .values(lifted_at=now).execution_options(synchronize_session=False)).rowcount
        if done:
            record(session, actor, AuditEvent.GAG_LIFTED, subject=f"gag:{gag.id}", detail={"source": source})
            if not gagged(session, {gag.account}):
                freed.append(gag.account)
    return freed


def withheld_actions(session: Session) -> list[Action]:
    """Actions whose user notification a gag held back and that were not released since."""
    return [a for a in session.scalars(select(Action).order_by(Action.id))
            if (a.result or {}).get("notification") == WITHHELD]


def _accounts_of(session: Session, action: Action) -> set[str]:
    case = session.get(Case, action.case_id)
    out = {case.account} if case is not None and case.account else set()
    if action.target_type == "account":
        out.add(action.target)
    elif action.target_type == "item" and action.target.isdigit():
        item = session.get(ScannedItem, int(action.target))
        if item is not None and item.account:
            out.add(item.account)
    return out


def release_withheld(session: Session, now: dt.datetime | None = None) -> int:
    """Send the notifications held back for accounts no longer under any gag: one
    ``notification_released`` webhook per action, carrying its statement of reasons."""
    now = now or utcnow()
    n = 0
    for action in withheld_actions(session):
        accounts = _accounts_of(session, action)
        if gagged(session, accounts):
            continue
        outbox.enqueue(session, "notification_released", action.idempotency_key + "-released",
                       {"action_id": action.id, "action": action.kind, "target_type": action.target_type,
                        "target": action.target, "case": action.case_id, "notify_user": True,
                        "statement_of_reasons": action.statement}, action_id=action.id, now=now)
        action.result = {**action.result, "notification": "released"}
        n += 1
    return n
