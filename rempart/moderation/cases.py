"""Cases: opening and extending them, reading them, and the after-scan hook.

A case gathers everything about one subject. For hash matches with ``group_by_account`` the
subject is the uploading account (one person's flagged media, one decision), else the item.
A later flagged item of the same subject joins the live case instead of opening another one;
``Case.open_key`` (unique) makes that hold under concurrent scans too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, require, system_actor
from rempart.errors import InvalidInput, NotFound, PermissionDenied
from rempart.matching.matcher import MatchResult
from rempart.moderation.config import ModerationConfig, QueueSpec
from rempart.moderation.models import Case, CaseItem, Queue
from rempart.moderation.priority import MatchSignal, best_match, priority
from rempart.moderation.vocab import CaseSource, CaseStatus
from rempart.scanning.models import ScannedItem
from rempart.scanning.retro import RetroMatch
from rempart.store.db import utcnow

SUBJECT_MAX = 250


@dataclass(frozen=True)
class FlaggedItem:
    """One item to put in a case: a ledger item, or an external reference (notices)."""

    item_id: int | None = None
    external_ref: str | None = None
    verdict: str = ""
    matches: tuple[MatchSignal, ...] = ()

    def __post_init__(self) -> None:
        if (self.item_id is None) == (self.external_ref is None):
            raise InvalidInput("a flagged item is a ledger item id or an external reference")


@dataclass(frozen=True)
class NewCase:
    """What any source (hash match, notice, request, appeal...) hands to ``open_case``."""

    source: CaseSource
    subject: str
    title: str = ""
    account: str | None = None
    space: str | None = None
    items: tuple[FlaggedItem, ...] = ()
    has_media: bool = True
    metadata_decidable: bool = False
    child_safety: bool = True
    bank: str | None = None  # for routing rules that name a list
    parent_case_id: int | None = None
    detail: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.subject or len(self.subject) > SUBJECT_MAX:
            raise InvalidInput(f"a case subject is 1-{SUBJECT_MAX} characters")


@dataclass(frozen=True)
class Opened:
    case: Case
    created: bool
    added_items: int


def queue_row(session: Session, spec: QueueSpec) -> Queue:
    """The database row of a configured queue, created on first use."""
    row = session.scalar(select(Queue).where(Queue.name == spec.name))
    if row is not None:
        return row
    row = Queue(name=spec.name, description=spec.description,
                sla_seconds=int(spec.sla.target.total_seconds()),
                warn_fraction=spec.sla.warn_fraction, child_safety=spec.child_safety)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # created by a concurrent transaction
        row = session.scalar(select(Queue).where(Queue.name == spec.name))
        if row is None:
            raise
    return row


def ensure_queues(session: Session, config: ModerationConfig) -> list[Queue]:
    return [queue_row(session, q) for q in config.queues]


def open_case(session: Session, actor: Actor, new: NewCase, config: ModerationConfig, *,
              now: dt.datetime | None = None) -> Opened:
    """Open a case for ``new.subject``, or add the new items to its live case. Needs
    ``CASES_OPEN``. Priority is the most urgent of the case's evidence; the deadline stays that
    of the first item (the clock started when the subject was first flagged)."""
    require(actor, P.CASES_OPEN)
    return open_case_as_part_of(session, actor, new, config, now=now)


def open_case_as_part_of(session: Session, actor: Actor, new: NewCase, config: ModerationConfig,
                         *, now: dt.datetime | None = None) -> Opened:
    """``open_case`` without its permission check, for services that already checked a
    permission implying it (a bulk action opens one case per confirmed entity)."""
    now = now or utcnow()
    spec = config.route(new.source, new.bank, new.child_safety)
    prio = priority(new.source, best_match([m for i in new.items for m in i.matches],
                                           config.list_ranks), config.list_ranks)
    case = _live_case(session, new.subject)
    created = False
    if case is None:
        queue = queue_row(session, spec)
        case = Case(queue_id=queue.id, source=new.source.value, status=CaseStatus.OPEN.value,
                    subject=new.subject, open_key=new.subject, account=new.account,
                    space=new.space, title=new.title[:300] or new.subject, priority=prio,
                    has_media=new.has_media, metadata_decidable=new.metadata_decidable,
                    parent_case_id=new.parent_case_id, detail=dict(new.detail),
                    created_at=now, updated_at=now, due_at=spec.sla.due(now),
                    warn_at=spec.sla.warn_at(now))
        try:
            with session.begin_nested():
                session.add(case)
                session.flush()
            created = True
        except IntegrityError:  # a concurrent transaction opened it first: extend that one
            case = _live_case(session, new.subject)
            if case is None:
                raise
    if not created:
        case.priority = min(case.priority, prio)
        case.has_media = case.has_media or new.has_media
        case.updated_at = now
    added = _add_items(session, case, new.items, now)
    record(session, actor, AuditEvent.CASE_OPENED if created else AuditEvent.CASE_EXTENDED,
           case_id=case.id, subject=new.subject,
           detail={"source": new.source.value, "items": added, "queue": spec.name})
    return Opened(case, created, added)


def _live_case(session: Session, subject: str) -> Case | None:
    return session.scalar(select(Case).where(Case.open_key == subject))


def _add_items(session: Session, case: Case, items: Sequence[FlaggedItem],
               now: dt.datetime) -> int:
    have_items = {i.item_id for i in case.items if i.item_id is not None}
    have_refs = {i.external_ref for i in case.items if i.external_ref is not None}
    added = 0
    for it in items:
        if (it.item_id is not None and it.item_id in have_items) or (
                it.external_ref is not None and it.external_ref in have_refs):
            continue
        best = best_match(list(it.matches))
        case.items.append(CaseItem(item_id=it.item_id, external_ref=it.external_ref,
                                   verdict=it.verdict, best_bank=best.bank if best else None,
                                   best_distance=best.distance if best else None, added_at=now))
        have_items.add(it.item_id)
        have_refs.add(it.external_ref)
        added += 1
    session.flush()
    return added


def hash_case_for(item: ScannedItem, result: MatchResult, config: ModerationConfig) -> NewCase | None:
    """The case a scan verdict calls for: ``review`` and ``block`` verdicts, else None."""
    if item.verdict == "review":
        source = CaseSource.HASH_REVIEW
    elif item.verdict == "block":
        source = CaseSource.HASH_BLOCK
    else:
        return None
    matches = tuple(MatchSignal(m.bank, m.distance) for m in result.matches)
    best = best_match(list(matches), config.list_ranks)
    if config.group_by_account and item.account:
        subject, title = f"{source.value}:account:{item.account}", f"Account {item.account}"
    else:
        subject, title = f"{source.value}:item:{item.id}", f"Item {item.id}"
    return NewCase(source=source, subject=subject, title=title, account=item.account,
                   space=item.space, bank=best.bank if best else None,
                   items=(FlaggedItem(item_id=item.id, verdict=item.verdict, matches=matches),),
                   has_media=True, metadata_decidable=True, child_safety=True)


def after_scan_hook(config: ModerationConfig | Callable[[], ModerationConfig]):
    """The ``AfterScan`` hook that opens or extends a case for each review or block verdict, in
    the scan's own transaction (the case exists exactly when the scan is recorded). ``config``
    may be a callable, read at every scan (the runtime passes ``lambda: runtime.moderation``)."""
    actor = system_actor("scan")
    current = config if callable(config) else (lambda: config)

    def hook(session: Session, item: ScannedItem, result: MatchResult) -> None:
        cfg = current()
        new = hash_case_for(item, result, cfg)
        if new is not None:
            open_case(session, actor, new, cfg)

    return hook


def retro_case_for(match: RetroMatch, config: ModerationConfig) -> NewCase:
    """A past upload that matches a newly banked entry was allowed and may still be online: it
    goes to review (with the account's other review items when grouping by account)."""
    source = CaseSource.HASH_REVIEW
    if config.group_by_account and match.account:
        subject, title = f"{source.value}:account:{match.account}", f"Account {match.account}"
    else:
        subject, title = f"{source.value}:item:{match.item_id}", f"Item {match.item_id}"
    signal = MatchSignal(match.bank, match.distance)
    return NewCase(source=source, subject=subject, title=title, account=match.account,
                   space=match.space, bank=match.bank, has_media=True, metadata_decidable=True,
                   items=(FlaggedItem(item_id=match.item_id, verdict="retro", matches=(signal,)),),
                   detail={"found_by": "retro"})


def after_retro_hook(config: ModerationConfig | Callable[[], ModerationConfig]):
    """The hook that opens or extends review cases for retro-scan matches, in the retro-scan's
    transaction. Signature: hook(session, matches)."""
    actor = system_actor("retro-scan")
    current = config if callable(config) else (lambda: config)

    def hook(session: Session, matches: Sequence[RetroMatch]) -> None:
        cfg = current()
        for m in matches:
            open_case(session, actor, retro_case_for(m, cfg), cfg)

    return hook


# -- reading --------------------------------------------------------------------------------

def can_see(actor: Actor, case: Case) -> bool:
    """Whether ``actor`` may see this case at all (child-safety queues need their permission)."""
    if not actor.can(P.CASES_READ):
        return False
    return not case.queue.child_safety or actor.can(P.CASES_CHILD_SAFETY)


def load_case(session: Session, actor: Actor, case_id: int) -> Case:
    """The case, if ``actor`` may see it (``NotFound`` / ``PermissionDenied`` otherwise). To
    change it on a condition, see ``transitions.take_case``."""
    require(actor, P.CASES_READ)
    case = session.scalar(select(Case).where(Case.id == case_id))
    if case is None:
        raise NotFound("case", case_id)
    if not can_see(actor, case):
        raise PermissionDenied(f"{actor.label} may not see child-safety cases")
    return case


def get_case(session: Session, actor: Actor, case_id: int) -> Case:
    """``load_case`` for display: the view is audited."""
    case = load_case(session, actor, case_id)
    record(session, actor, AuditEvent.CASE_VIEWED, case_id=case.id)
    return case
