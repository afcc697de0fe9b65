"""The hook that puts reviewers' final decisions and reversals into the transparency log.

Leaves per decision: ``log_fields.decision_leaves`` (a space or account leaf once, content leaves
once per item). Their ground, category and keyword are those of the decision's stored statements
of reasons (``rempart.transparency.dsa.leaf_classification``), so the report publishes what the
statements say; a decision without one (an overturned block) keeps the hash lists' terms.
A decision on a hash-match case whose closest match is on an entry a hash-sharing exchange
shared has ``source_type shared_list_<kind>`` (``hash_match_source_type``), as its block had.
``time_to_action`` = ``bucket_time_to_action(learned, effective)``:

- ``effective``: when the decision took effect — ``Decision.final_at`` ("final"), or
  ``Decision.reversed_at`` ("reversed": an appeal overturned it);
- ``learned``: when the platform learned of what the decision acts on — for a content leaf, when
  that item was flagged into the case (``CaseItem.added_at``: the scan match, notice or report
  that brought it to moderation; not ``ScannedItem.scanned_at``, which for a notice about an old
  upload is the upload, long before anyone flagged it); for a space or account leaf, when the
  case was opened (``Case.created_at``: its subject's first flag); for a reversal, when the
  appeal was filed (the appeal case's ``created_at``).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.moderation.log_fields import CSAM_FIELDS, ONCE, content_type, decision_leaves
from rempart.moderation.models import Action, Case, CaseItem, Decision
from rempart.scanning.models import ItemMatch, ItemSignal, ScannedItem
from rempart.transparency import bucket_time_to_action, hash_match_source_type, leaf_classification

#: record(session, fields, content_sha256, (kind, id), event=...) -> leaf index, e.g.
#: ``rempart.transparency.db.service.TransparencyLog.record_decision``
Record = Callable[..., int]


def log_decision_hook(record: Record) -> Callable[[Session, Case, Decision, str], None]:
    """A ``ModerationConfig.on_decision`` hook: the decision's leaves (see the module docstring).

    ``event`` is "final" (a decision took effect) or "reversed" (an appeal overturned it).
    Items without stored media signals (a notice about a URL, say) get no leaf here; a case
    without any gets none, not even for a space or account it banned. Each leaf names its event
    (``final`` or ``reversed``, then ``<decision id>:<target or item>``), which the log writes at
    most once: a hook that runs twice for one decision logs it once.
    """

    def hook(session: Session, case: Case, decision: Decision, event: str) -> None:
        # An appeal is a case of its own; the content is in the case the decision was about.
        decided = case if decision.case_id == case.id else session.get(Case, decision.case_id)
        reversed_ = event == "reversed"
        plan = decision_leaves(decided.source, (a["kind"] for a in decision.actions or ()),
                               decision.violation, reversal=reversed_, appeal=reversed_,
                               classification=_classification(session, decision))
        if not plan:
            return
        items = _logged_items(session, decided)
        if not items:
            return
        shared = _shared_source_type(session, decided)
        effective = decision.reversed_at if reversed_ else decision.final_at
        for scope, fields in plan:
            if shared and fields.get("source_type") == "own_initiative_hash_match":
                fields = {**fields, "source_type": shared}
            for ci, content_type, sha in items[:1] if scope == ONCE else items:
                if reversed_:
                    learned = case.created_at
                elif scope == ONCE:
                    learned = decided.created_at
                else:
                    learned = ci.added_at or decided.created_at
                tta = bucket_time_to_action(learned, effective or learned)
                ref = f"{decision.id}:{fields['target'] if scope == ONCE else ci.item_id}"
                record(session, {**fields, "content_type": content_type, "time_to_action": tta}, sha,
                       ("decision", ref), event=f"{event}:{ref}")

    return hook


def _shared_source_type(session: Session, case: Case) -> str | None:
    """``shared_list_<kind>`` when the closest counted match of the case's items is on an entry a
    hash-sharing exchange shared (its provenance in the ledger row), else None."""
    ids = [ci.item_id for ci in case.items if ci.item_id is not None]
    if not ids:
        return None
    matches = session.scalars(select(ItemMatch).where(ItemMatch.item_id.in_(ids), ItemMatch.status == "counted"))
    best = min(matches, key=lambda m: (m.distance, m.entry_id), default=None)
    kind = ((best.detail or {}).get("exchange") or {}).get("kind") if best is not None else None
    return hash_match_source_type(kind) if kind else None


def _classification(session: Session, decision: Decision) -> dict[str, str]:
    """What the decision found, in the log's words: from its first stored statement."""
    statements = session.scalars(select(Action.statement).where(Action.decision_id == decision.id)
                                 .order_by(Action.id))
    stated = next((s for s in statements if s), None)
    return leaf_classification(stated) if stated else dict(CSAM_FIELDS)


def _logged_items(session: Session, case: Case) -> list[tuple[CaseItem, str, str]]:
    """(case item, leaf content type, original SHA-256) of the case's items with stored media."""
    out = []
    for ci in case.items:
        if ci.item_id is None:
            continue
        kind = session.scalar(select(ScannedItem.kind).where(ScannedItem.id == ci.item_id))
        sha = session.scalar(select(ItemSignal.value).where(
            ItemSignal.item_id == ci.item_id, ItemSignal.signal_type == "sha256",
            ItemSignal.variant == "original").limit(1))
        if sha is not None:
            out.append((ci, content_type(kind), sha))
    return out



