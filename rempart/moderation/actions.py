"""Applying and reversing a decision's actions.

Each action is one row with its own statement of reasons and idempotency key (``action_key``:
the case, kind and target, so it is applied once however often it is reached). Its effect:
platform actions (remove, restrict, ban, overturn a block) become signed webhooks via the
outbox; ``bank_item`` puts the item's hashes (from the scan ledger) into the platform's own bank
through ``rempart.banks.service``, so the next scan of a re-upload is blocked (with the local
features of its media when the evidence store still holds it: an edited copy goes to review); a hold is
recorded; a referral is recorded for the mandatory-reporting desk; ``dismiss`` does nothing.
Reversal (an appeal upheld) sends the opposite webhook and takes banked entries out again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor
from rempart.banks import service as banks
from rempart.banks.entries import ConfirmedItem, entries_for
from rempart.errors import Conflict, InvalidInput, InvariantViolation
from rempart.moderation import outbox
from rempart.moderation.config import ModerationConfig
from rempart.moderation.holds import place_hold
from rempart.moderation.gags import WITHHELD, gagged
from rempart.moderation.log_fields import content_type
from rempart.moderation.models import Action, Case, Decision, Referral
from rempart.moderation.policy import NON_RESTRICTIVE, ReasonsInput, statement_of_reasons
from rempart.moderation.vocab import (
    ACTION_TARGET, PLATFORM_ACTIONS, ActionKind, CaseSource, TargetType,
)
from rempart.scanning.models import ItemSignal, ScannedItem
from rempart.signals import FrameHash, fingerprint


@dataclass(frozen=True)
class ActionRequest:
    """An action a reviewer asks for. ``target`` defaults to what the case is about: every item
    of the case for item actions (a ledger item id, or ``ref:<external reference>`` for items
    known only by reference, e.g. a notice's URL), the case's account / space otherwise."""

    kind: ActionKind
    target: str | None = None
    end_date: dt.date | None = None  # restrict_account only


@dataclass(frozen=True)
class PlannedAction:
    kind: ActionKind
    target_type: TargetType
    target: str
    end_date: dt.date | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind.value, "target_type": self.target_type.value,
                "target": self.target, "end_date": self.end_date.isoformat() if self.end_date else None}

    @classmethod
    def from_json(cls, d: dict) -> "PlannedAction":
        return cls(ActionKind(d["kind"]), TargetType(d["target_type"]), d["target"],
                   dt.date.fromisoformat(d["end_date"]) if d.get("end_date") else None)


def plan(case: Case, requests: list[ActionRequest]) -> list[PlannedAction]:
    """Expand requests into one action per target; targets must belong to the case."""
    if not requests:
        raise InvalidInput("a decision needs at least one action (dismiss, if nothing else)")
    kinds = [r.kind for r in requests]
    if ActionKind.DISMISS in kinds and len(kinds) > 1:
        raise InvalidInput("dismiss excludes every other action")
    if ActionKind.OVERTURN_BLOCK in kinds and case.source != CaseSource.HASH_BLOCK.value:
        raise InvalidInput("only an automatic block can be overturned")
    items = [str(i.item_id) if i.item_id is not None else f"ref:{i.external_ref}"
             for i in case.items]
    out: list[PlannedAction] = []
    for r in requests:
        ttype = ACTION_TARGET[r.kind]
        if r.kind is ActionKind.RESTRICT_ACCOUNT and r.end_date is None:
            raise InvalidInput("restrict_account needs an end date")
        if ttype is TargetType.ITEM:
            targets = [r.target] if r.target else items
            if not targets or any(t not in items for t in targets):
                raise InvalidInput(f"{r.kind.value}: target must be an item of the case")
            if r.kind is ActionKind.BANK_ITEM and any(t.startswith("ref:") for t in targets):
                raise InvalidInput("only scanned items can be banked (an external reference "
                                   "has no fingerprint)")
        elif ttype is TargetType.ACCOUNT:
            targets = [r.target or case.account]
            if targets[0] is None or (r.target and r.target != case.account):
                raise InvalidInput(f"{r.kind.value}: the case has no such account")
        elif ttype is TargetType.SPACE:
            targets = [r.target or case.space]
            if targets[0] is None or (r.target and r.target != case.space):
                raise InvalidInput(f"{r.kind.value}: the case has no such space")
        else:
            targets = [str(case.id)]
        out += [PlannedAction(r.kind, ttype, t, r.end_date) for t in targets]
    if len({(p.kind, p.target) for p in out}) != len(out):
        raise InvalidInput("the same action on the same target twice")
    return out


class Proposed(Protocol):
    """What a statement needs of a decision: a ``Decision`` row, or a proposal being previewed."""

    policy: str | None
    facts: str


def reasons_for(session: Session, case: Case, decision: Proposed, p: PlannedAction,
                config: ModerationConfig, today: dt.date) -> dict:
    """The statement of reasons of one planned action ({} for non-restrictive actions): the one
    the console previews (``rempart.moderation.preview``), the one checked when the decision is
    proposed and the one stored with the action, and sent in its webhook, when it takes effect.

    Its PUID is the action's key (``action_key``: case, kind, digest of the target), never a
    user's identifier: the same in the preview as in the stored action, and unique.
    """
    if p.kind in NON_RESTRICTIVE:
        return {}
    if decision.policy is None:
        raise InvalidInput(f"{p.kind.value} needs a policy")
    return statement_of_reasons(ReasonsInput(
        action=p.kind, policy=config.taxonomy.get(decision.policy),
        source=CaseSource(case.source), facts=decision.facts,
        content_types=_content_types(session, case, p), content_date=case.created_at.date(),
        application_date=today, end_date=p.end_date, puid=action_key(case.id, p),
        region=config.region))


def _content_types(session: Session, case: Case, p: PlannedAction) -> tuple[str, ...]:
    """The log's content types of what ``p`` acts on: its item, or every item of the case (an
    item known only by reference is "other")."""
    if p.target_type is TargetType.ITEM:
        ids = [None if p.target.startswith("ref:") else int(p.target)]
    else:
        ids = [i.item_id for i in case.items]
    known = [i for i in ids if i is not None]
    rows = session.execute(select(ScannedItem.id, ScannedItem.kind)
                           .where(ScannedItem.id.in_(known))) if known else ()
    kinds = {item_id: kind for item_id, kind in rows}
    return tuple(sorted({content_type(kinds.get(i)) for i in ids}))


def action_key(case_id: int, p: PlannedAction) -> str:
    """An action's idempotency key, in ``mod_actions`` (unique) and on every webhook announcing
    it: what the action is (case, kind, target), never an id the attempt created, so a retry or
    a race that reaches the same action twice meets the same key and cannot act twice. The
    target (a platform identifier of any length) enters as a digest."""
    target = hashlib.sha256(f"{p.target_type.value}:{p.target}".encode()).hexdigest()[:24]
    return f"rempart-{case_id}-{p.kind.value}-{target}"


def apply_actions(session: Session, actor: Actor, case: Case, decision: Decision,
                  config: ModerationConfig, now: dt.datetime) -> list[Action]:
    """Apply every planned action of a decision that has become final."""
    done = []
    for raw in decision.actions:
        p = PlannedAction.from_json(raw)
        key = action_key(case.id, p)
        if session.scalar(select(Action.id).where(Action.idempotency_key == key)):
            raise InvariantViolation(f"{p.kind.value} on {p.target_type.value} {p.target} of "
                                     f"case {case.id} was already applied")
        row = Action(decision_id=decision.id, case_id=case.id, kind=p.kind.value,
                     target_type=p.target_type.value, target=p.target, idempotency_key=key,
                     statement=reasons_for(session, case, decision, p, config, now.date()),
                     result={}, created_at=now)
        session.add(row)
        session.flush()
        row.result = _effect(session, actor, case, decision, row, p, config, now)
        record(session, actor, AuditEvent.ACTION_APPLIED, case_id=case.id,
               subject=f"action:{row.id}", detail={"kind": p.kind.value, "target": p.target})
        done.append(row)
    return done


def _payload(case: Case, row: Action, p: PlannedAction) -> dict:
    return {"action": p.kind.value, "target_type": p.target_type.value, "target": p.target,
            "case": case.id, "decision": row.decision_id, "action_id": row.id,
            "end_date": p.end_date.isoformat() if p.end_date else None,
            "platform_item": None,
            "statement_of_reasons": row.statement}


def _effect(session: Session, actor: Actor, case: Case, decision: Decision, row: Action,
            p: PlannedAction, config: ModerationConfig, now: dt.datetime) -> dict:
    if p.kind in PLATFORM_ACTIONS:
        payload = _payload(case, row, p)
        if p.target_type is TargetType.ITEM and p.target.startswith("ref:"):
            payload["platform_item"] = {"ref": p.target[4:]}
        elif p.target_type is TargetType.ITEM:
            item = session.get(ScannedItem, int(p.target))
            payload["platform_item"] = {"item": item.id, "account": item.account,
                                        "space": item.space, "message": item.message}
        # "do not inform the user": the one place a user notification is produced checks it
        accounts = {case.account, (payload["platform_item"] or {}).get("account")}
        if p.target_type is TargetType.ACCOUNT:
            accounts.add(p.target)
        withheld = bool(payload["statement_of_reasons"]) and gagged(session, accounts)
        payload["notify_user"] = not withheld
        if withheld:
            payload["statement_of_reasons"] = None
            record(session, actor, AuditEvent.NOTIFICATION_WITHHELD, case_id=case.id,
                   subject=f"action:{row.id}")
        n = outbox.enqueue(session, p.kind.value, row.idempotency_key, payload,
                           action_id=row.id, now=now)
        return {"webhooks": n, **({"notification": WITHHELD} if withheld else {})}
    if p.kind is ActionKind.BANK_ITEM:
        return {"bank_entry_ids": bank_item(session, int(p.target), config, actor)}
    if p.kind is ActionKind.PRESERVATION_HOLD:
        hold = place_hold(session, actor, case.id, decision.facts or "decision",
                          decision_id=decision.id, now=now)
        return {"hold_id": hold.id}
    if p.kind is ActionKind.REFER_NCMEC:
        ref = Referral(case_id=case.id, decision_id=decision.id, created_at=now)
        session.add(ref)
        session.flush()
        record(session, actor, AuditEvent.REFERRAL_RECORDED, case_id=case.id,
               subject=f"referral:{ref.id}")
        return {"referral_id": ref.id}
    return {}


def bank_item(session: Session, item_id: int, config: ModerationConfig, actor: Actor) -> list[int]:
    """Put a ledger item's hashes into the platform's own bank; the ids of entries added (not
    those already there, which a reversal must leave alone)."""
    bank = banks.ensure_bank(session, config.platform_bank, source="local",
                             legal_basis="Items confirmed by the platform's reviewers",
                             action="block")
    item = session.get(ScannedItem, item_id)
    rows = list(session.scalars(select(ItemSignal).where(ItemSignal.item_id == item_id)))
    entries, _ = entries_for(_with_media(_item_from_ledger(item, rows), config))
    if not entries:
        raise Conflict(f"item {item_id} has no stored fingerprint to bank")
    result = banks.add_entries(session, bank, entries, added_by=actor.label)
    return [e.id for e in result.added]


def _item_from_ledger(item: ScannedItem, rows: list[ItemSignal]) -> ConfirmedItem:
    """The ledger's record of an item, as the confirmed item that banking takes (what it banks
    is ``rempart.banks.entries``' rule, the same as for media banked by a curator)."""
    originals = [r for r in rows if r.signal_type == "pdq" and r.variant.split("@")[0] == "original"]
    # A stored hash without a quality came from a platform's precomputed signal: trusted as good
    # for a picture (as scanning treats it), unknown (0) for a video frame.
    unknown = 0 if item.kind == "video" else 100
    frames = tuple(FrameHash(r.t, r.value, r.quality if r.quality is not None else unknown)
                   for r in originals)
    # The stage 1 "peeled" hash was stored with the scan (variant "peel", else "box").
    peeled = next((FrameHash(r.t, r.value, r.quality if r.quality is not None else unknown)
                   for name in ("peel", "box") for r in rows
                   if r.signal_type == "pdq" and r.variant == name), None)
    return ConfirmedItem(item.kind, {r.signal_type: r.value for r in rows if r.signal_type != "pdq"},
                         frames, external_id=f"item-{item.id}", metadata={"item": str(item.id)},
                         peeled=peeled)


def _with_media(item: ConfirmedItem, config: ModerationConfig) -> ConfirmedItem:
    """The ledger's item with what its media gives (stage 2's local features), when the media is
    still in the evidence store (kept for every block or review verdict) and decodes."""
    sha256 = item.exact.get("sha256")
    data = config.media(sha256) if config.media is not None and sha256 else None
    if data is None or item.kind != "image":
        return item
    try:
        fp = fingerprint(data, bank=True)
    except InvalidInput:  # it decoded at upload; a newer limit may refuse it: hashes only
        return item
    return item.with_media(fp)


def reverse_actions(session: Session, actor: Actor, decision: Decision,
                    now: dt.datetime) -> list[Action]:
    """Undo a decision's applied actions (an appeal upheld). Holds stay (the legal desk ends
    them); a referral already made cannot be unmade and is recorded as such."""
    case = session.get(Case, decision.case_id)
    rows = list(session.scalars(select(Action).where(Action.decision_id == decision.id,
                                                     Action.status == "applied")))
    for row in rows:
        kind = ActionKind(row.kind)
        if kind in PLATFORM_ACTIONS:
            outbox.enqueue(session, PLATFORM_ACTIONS[kind], row.idempotency_key + "-reversal",
                           {"reverses": row.idempotency_key, "target_type": row.target_type,
                            "target": row.target, "case": case.id, "action_id": row.id},
                           action_id=row.id, now=now)
        elif kind is ActionKind.BANK_ITEM:
            for entry_id in (row.result or {}).get("bank_entry_ids", []):
                banks.remove_entry(session, entry_id, reason=f"appeal upheld: decision {decision.id}")
        row.status, row.reversed_at = "reversed", now
        record(session, actor, AuditEvent.ACTION_REVERSED, case_id=case.id,
               subject=f"action:{row.id}", detail={"kind": row.kind})
    return rows
