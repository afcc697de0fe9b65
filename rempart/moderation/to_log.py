"""The hook that puts reviewers' final decisions and reversals into the transparency log."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.moderation.log_fields import decision_fields
from rempart.moderation.models import Case, Decision
from rempart.scanning.models import ItemSignal, ScannedItem

#: record(session, fields, content_sha256, (kind, id)) -> leaf index, e.g.
#: ``rempart.transparency.db.service.TransparencyLog.record_decision``
Record = Callable[..., int]


def log_decision_hook(record: Record) -> Callable[[Session, Case, Decision, str], None]:
    """A ``ModerationConfig.on_decision`` hook: one leaf per content item of the case.

    ``event`` is "final" (a decision took effect) or "reversed" (an appeal overturned it).
    Items without stored media signals (a notice about a URL, say) get no leaf here.
    """

    def hook(session: Session, case: Case, decision: Decision, event: str) -> None:
        # An appeal is a case of its own; the content is in the case the decision was about.
        decided = case if decision.case_id == case.id else session.get(Case, decision.case_id)
        fields = decision_fields(decided.source, (a["kind"] for a in decision.actions or ()),
                                 decision.violation, reversal=event == "reversed",
                                 appeal=event == "reversed")
        if fields is None:
            return
        for ci in decided.items:
            if ci.item_id is None:
                continue
            kind = session.scalar(select(ScannedItem.kind).where(ScannedItem.id == ci.item_id))
            sha = session.scalar(select(ItemSignal.value).where(
                ItemSignal.item_id == ci.item_id, ItemSignal.signal_type == "sha256",
                ItemSignal.variant == "original").limit(1))
            if sha is None:
                continue
            content_type = kind if kind in ("image", "video") else "other"
            record(session, {**fields, "content_type": content_type}, sha,
                   ("decision", f"{decision.id}:{ci.item_id}"))

    return hook
