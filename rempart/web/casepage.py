"""What the case page shows, gathered from the moderation services (a thin view: no rules here).

The decision form offers only actions that fit the case (an automatic block can be overturned,
account actions need an account, space actions a space); the services check again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.authz import Permission as P
from rempart.errors import InvalidInput
from rempart.moderation import (
    ActionKind, CaseSource, CaseStatus, CaseView, DisplaySettings, ModerationConfig,
    case_view, display_settings, my_exposure,
)
from rempart.moderation.models import Appeal, Case, Decision
from rempart.scanning.models import ScannedItem
from rempart.moderation.policy import NON_RESTRICTIVE, ReasonsInput, statement_of_reasons
from rempart.people.models import ConsoleUser
from rempart.store.db import utcnow
from rempart.web.security import Viewer

ACTION_LABELS = {
    ActionKind.REMOVE_ITEM: "Remove item(s)",
    ActionKind.RESTRICT_ACCOUNT: "Restrict account (until a date)",
    ActionKind.BAN_ACCOUNT: "Ban account",
    ActionKind.BAN_SPACE: "Ban space",
    ActionKind.BANK_ITEM: "Bank item(s) (block re-uploads)",
    ActionKind.PRESERVATION_HOLD: "Preservation hold",
    ActionKind.REFER_NCMEC: "Refer to NCMEC",
    ActionKind.OVERTURN_BLOCK: "Overturn the automatic block",
    ActionKind.DISMISS: "Dismiss (no violation)",
}

#: keyboard presets for the decision form: key -> (label, policy, actions)
PRESETS = (
    ("1", "Dismiss: no violation", "", (ActionKind.DISMISS,)),
    ("2", "Remove item (CSAM)", "csam", (ActionKind.REMOVE_ITEM,)),
    ("3", "Remove + bank item (CSAM, dual review)", "csam",
     (ActionKind.REMOVE_ITEM, ActionKind.BANK_ITEM)),
    ("4", "Remove + ban account (CSAM, dual review)", "csam",
     (ActionKind.REMOVE_ITEM, ActionKind.BAN_ACCOUNT)),
    ("5", "Overturn the automatic block (dual review)", "", (ActionKind.OVERTURN_BLOCK,)),
)


@dataclass(frozen=True)
class ShownItem:
    item_id: int
    kind: str | None
    display: DisplaySettings | None  # None: this viewer never sees media


def available_actions(view: CaseView) -> list[ActionKind]:
    case = view.case
    out = []
    for kind in ActionKind:
        if kind is ActionKind.OVERTURN_BLOCK and case.source != CaseSource.HASH_BLOCK.value:
            continue
        if kind in (ActionKind.RESTRICT_ACCOUNT, ActionKind.BAN_ACCOUNT) and not case.account:
            continue
        if kind is ActionKind.BAN_SPACE and not case.space:
            continue
        if kind in (ActionKind.REMOVE_ITEM, ActionKind.BANK_ITEM) and not view.items:
            continue
        out.append(kind)
    return out


def default_facts(view: CaseView) -> str:
    """A starting point for the facts, from the evidence only (the reviewer edits it)."""
    parts = []
    for item in view.items:
        for m in item.matches[:1]:
            parts.append(f"item {item.item_id}: {m.signal} match in list {m.bank} at distance "
                         f"{m.distance}")
    return ("; ".join(parts) + ".") if parts else ""


def case_context(s: Session, viewer: Viewer, case_id: int, config: ModerationConfig) -> dict:
    """Everything the case page template needs (the view itself is audited by the service)."""
    view = case_view(s, viewer.actor, case_id)
    case = view.case
    now = utcnow()
    mine = case.claimed_by == viewer.actor.user_id and case.claim_expires_at is not None \
        and case.claim_expires_at > now
    reveals = viewer.can(P.MEDIA_REVEAL)
    shown = [ShownItem(i.item_id, i.kind,
                       display_settings(s, viewer.actor, case.id, i.item_id) if reveals else None)
             for i in view.items]
    names = {u.id: u.username for u in s.scalars(select(ConsoleUser))}
    pending = next((d for d in reversed(view.decisions)
                    if d.status in ("pending_second", "escalated")), None)
    appeal = s.scalar(select(Appeal).where(Appeal.case_id == case.id))
    appealed = s.get(Decision, appeal.decision_id) if appeal else None
    taxonomy = sorted(config.taxonomy.policies, key=lambda p: (not p.child_safety, p.key))
    return {
        "view": view, "case": case, "items": shown, "mine": mine,
        "claimed_by": names.get(case.claimed_by), "names": names,
        "exposure": my_exposure(s, viewer.actor, config) if reveals else None,
        "actions": available_actions(view), "labels": ACTION_LABELS,
        "presets": [(k, label, pol, [a.value for a in acts]) for k, label, pol, acts in PRESETS
                    if all(a in available_actions(view) for a in acts)],
        "policies": taxonomy, "facts": default_facts(view), "pending": pending,
        "appeal": appeal, "appealed": appealed, "open": case.status == CaseStatus.OPEN.value,
        "claimable": case.status != CaseStatus.DECIDED.value and not mine,
        "claim_left": (case.claim_expires_at - now) if mine else None,
    }


def content_kinds(s: Session, case: Case) -> tuple[str, ...]:
    ids = [i.item_id for i in case.items if i.item_id is not None]
    if not ids:
        return ()
    kinds = s.scalars(select(ScannedItem.kind).where(ScannedItem.id.in_(ids)))
    return tuple(sorted({k for k in kinds if k}))


def reasons_preview(case: Case, content: tuple[str, ...], config: ModerationConfig,
                    policy_key: str, kinds: list[ActionKind], facts: str,
                    end_date: dt.date | None) -> list[dict]:
    """The statement of reasons each chosen action would carry (a preview; nothing saved).

    Returns one {"action", "fields" | "none" | "error"} per action.
    """
    out = []
    policy = config.taxonomy.get(policy_key) if policy_key else None
    for kind in kinds:
        if kind in NON_RESTRICTIVE:
            out.append({"action": kind.value, "none": "restricts nothing: no statement"})
            continue
        if policy is None:
            out.append({"action": kind.value, "error": "choose the policy violated"})
            continue
        try:
            fields = statement_of_reasons(ReasonsInput(
                action=kind, policy=policy, source=CaseSource(case.source), facts=facts,
                content_kinds=content,
                automated_detection=case.source in (CaseSource.HASH_BLOCK.value,
                                                         CaseSource.HASH_REVIEW.value),
                content_date=case.created_at.date(), application_date=utcnow().date(),
                end_date=end_date, puid=f"{kind.value}"))
        except InvalidInput as exc:
            out.append({"action": kind.value, "error": str(exc)})
            continue
        out.append({"action": kind.value, "fields": fields})
    return out
