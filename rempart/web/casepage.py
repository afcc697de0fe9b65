"""What the case page shows, gathered from the moderation services (a thin view: no rules here).

The decision form offers the actions that fit the case (``moderation.allowed_actions``: those the
decision's own planner accepts), and the statement-of-reasons preview is the moderation
package's (``moderation.preview_decision``): what would be stored, PUID and all.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.authz import Permission as P
from rempart.hotline.orgs import notices_of_case
from rempart.moderation import (
    ActionKind, CaseStatus, CaseView, DisplaySettings, ModerationConfig, PreviewedAction,
    allowed_actions, case_view, display_settings, my_exposure,
)
from rempart.moderation.facts import publicly_available
from rempart.moderation.models import Appeal, Decision
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


def default_facts(view: CaseView) -> str:
    """A starting point for the facts, from the evidence only (the reviewer edits it)."""
    parts = []
    for item in view.items:
        for m in item.matches[:1]:
            if m.signal == "orb":  # no distance: say what the local features found
                parts.append(f"item {item.item_id}: orb match in list {m.bank} ({m.why})")
            else:
                parts.append(f"item {item.item_id}: {m.signal} match in list {m.bank} at "
                             f"distance {m.distance}")
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
    actions = allowed_actions(case)
    return {
        "view": view, "case": case, "items": shown, "mine": mine,
        "claimed_by": names.get(case.claimed_by), "names": names,
        "exposure": my_exposure(s, viewer.actor, config) if reveals else None,
        "actions": actions, "labels": ACTION_LABELS,
        "presets": [(k, label, pol, [a.value for a in acts]) for k, label, pol, acts in PRESETS
                    if all(a in actions for a in acts)],
        "policies": taxonomy, "facts": default_facts(view), "pending": pending,
        "appeal": appeal, "appealed": appealed, "open": case.status == CaseStatus.OPEN.value,
        "claimable": case.status != CaseStatus.DECIDED.value and not mine,
        "claim_left": (case.claim_expires_at - now) if mine else None,
        "notices": notices_of_case(s, case.id),
        "public_fact": publicly_available(case.detail),
        "public_fact_by": (case.detail or {}).get("publicly_available_by"),
    }


def preview_rows(previewed: list[PreviewedAction]) -> list[dict]:
    """The preview fragment's rows: one per planned action, with its statement, or why it has
    none ("none") or cannot have one yet ("error")."""
    rows = []
    for p in previewed:
        a = p.action
        row = {"action": a.kind.value, "target": f"{a.target_type.value} {a.target}"}
        if p.error:
            row["error"] = p.error
        elif p.statement is None:
            row["none"] = "restricts nothing: no statement"
        else:
            row["fields"] = p.statement
        rows.append(row)
    return rows
