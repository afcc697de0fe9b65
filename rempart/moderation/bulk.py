"""Bulk actions from a blast radius: only on entities a reviewer confirmed, each its own case.

Each confirmation names one account or space of the radius of a *confirmed* item (its case has a
final violation decision), the policy, the actions and the facts. Each becomes a case of its own
(source ``investigation``, holding that entity's matching items), claimed by the actor and
decided with its own statement of reasons; dual review applies as for any decision. An entity
outside the radius is refused: shared membership alone never triggers action. An entity is
acted on once per item: a repeated or concurrent confirmation of it is refused
(``AlreadyDecided``), however the requests interleave (see ``_acted_on``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, require
from rempart.errors import Conflict, InvalidInput, shown
from rempart.moderation.actions import ActionRequest
from rempart.moderation.cases import FlaggedItem, NewCase, open_case_as_part_of
from rempart.moderation.config import ModerationConfig
from rempart.moderation.decisions import decide
from rempart.moderation.errors import AlreadyDecided
from rempart.moderation.investigate import blast_radius
from rempart.moderation.models import Case, Decision
from rempart.moderation.priority import MatchSignal
from rempart.moderation.queues import claim
from rempart.moderation.vocab import ACTION_TARGET, ActionKind, CaseSource, CaseStatus, TargetType
from rempart.signals import DEFAULT_THRESHOLD


#: what may be done in bulk to confirmed entities of a blast radius
BULK_ACTIONS = (ActionKind.REMOVE_ITEM, ActionKind.BAN_ACCOUNT, ActionKind.BAN_SPACE,
                ActionKind.PRESERVATION_HOLD)
_ENTITY_TARGETS = {"account": TargetType.ACCOUNT, "space": TargetType.SPACE}


def actions_for_entity(entity_kind: str, kinds: Iterable[ActionKind]) -> tuple[ActionRequest, ...]:
    """Of the bulk actions chosen once for several entities, those that fit one entity: account
    actions for an account, space actions for a space, the others for both."""
    own = _ENTITY_TARGETS.get(entity_kind)
    return tuple(ActionRequest(k) for k in kinds
                 if ACTION_TARGET[k] not in _ENTITY_TARGETS.values() or ACTION_TARGET[k] is own)


@dataclass(frozen=True)
class Confirmation:
    """A reviewer's explicit confirmation of one entity of the radius."""

    entity_kind: str  # account | space
    entity: str
    policy: str
    actions: tuple[ActionRequest, ...]
    facts: str


def bulk_act(session: Session, actor: Actor, item_id: int, confirmations: Sequence[Confirmation],
             config: ModerationConfig, *, threshold: int = DEFAULT_THRESHOLD,
             now: dt.datetime | None = None) -> list[Decision]:
    """Act on confirmed entities of ``item_id``'s blast radius. Needs ``BULK_ACTION``.

    All or nothing: one entity outside the radius, or one invalid decision, and nothing is done.
    """
    require(actor, P.BULK_ACTION)
    if not confirmations:
        raise InvalidInput("confirm at least one entity")
    radius = blast_radius(session, actor, item_id, threshold=threshold)
    if not radius.confirmed:
        raise Conflict(f"item {item_id} is not confirmed: decide its case first")
    seen = set()
    for c in confirmations:
        if c.entity_kind not in ("account", "space"):
            raise InvalidInput("an entity is an account or a space")
        if radius.entity(c.entity_kind, c.entity) is None:
            raise InvalidInput(f"{c.entity_kind} {shown(c.entity)} is not in the blast radius of item "
                               f"{item_id}: shared membership alone never triggers action")
        if (c.entity_kind, c.entity) in seen:
            raise InvalidInput(f"{c.entity_kind} {shown(c.entity)} confirmed twice")
        for a in c.actions:
            if a.kind not in BULK_ACTIONS:
                raise InvalidInput(f"{a.kind.value} is not a bulk action")
            if not actions_for_entity(c.entity_kind, [a.kind]):
                raise InvalidInput(f"{a.kind.value} does not apply to {c.entity_kind} {shown(c.entity)}")
        seen.add((c.entity_kind, c.entity))
    decisions = []
    for c in confirmations:
        e = radius.entity(c.entity_kind, c.entity)
        opened = open_case_as_part_of(session, actor, NewCase(
            source=CaseSource.INVESTIGATION,
            subject=f"investigation:{c.entity_kind}:{c.entity}:item:{item_id}",
            title=f"{c.entity_kind.capitalize()} {c.entity} (blast radius of item {item_id})",
            account=c.entity if c.entity_kind == "account" else None,
            space=c.entity if c.entity_kind == "space" else None,
            items=tuple(FlaggedItem(item_id=i, verdict="",
                                    matches=(MatchSignal("blast-radius", radius.matches[i]),))
                        for i in e.item_ids),
            has_media=True, metadata_decidable=True, child_safety=True,
            detail={"source_item": item_id, "threshold": threshold}), config, now=now)
        if opened.created and _acted_on(session, opened.case):
            raise AlreadyDecided(f"{c.entity_kind} {c.entity} was already acted on for item "
                                 f"{item_id}")
        claim(session, actor, opened.case.id, config, now=now)
        decisions.append(decide(session, actor, opened.case.id, actions=c.actions,
                                policy=c.policy, facts=c.facts, config=config, now=now))
    record(session, actor, AuditEvent.BULK_ACTION, subject=f"item:{item_id}",
           detail={"entities": [f"{c.entity_kind}:{c.entity}" for c in confirmations],
                   "decisions": [d.id for d in decisions]})
    return decisions


def _acted_on(session: Session, case: Case) -> bool:
    """Whether an earlier case of the same subject was decided. Asked after ``open_case`` made
    this one: its unique ``open_key`` made any concurrent confirmation of the subject wait for
    this transaction or this one for it (PostgreSQL: the unique index; SQLite: the write lock),
    so a decision committed by the other is seen here."""
    return session.scalar(select(Case.id).where(
        Case.subject == case.subject, Case.id != case.id,
        Case.status == CaseStatus.DECIDED.value).limit(1)) is not None
