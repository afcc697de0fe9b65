"""What happened to a notice: the decision on its case becomes its outcome.

``outcome_hook`` is a ``ModerationConfig.on_decision`` hook: when a decision on a case takes
effect, in the decision's own transaction, every notice of that case still waiting gets its
outcome (one conditional UPDATE each: a hook that runs twice changes nothing the second time):

- ``actioned``: the decision restricted something (removed, banned, banked); ``removed_at`` is
  when it took effect, ``banked`` whether the item's fingerprints were banked, ``referred``
  whether it was referred to NCMEC;
- ``forwarded``: referred to the authorities, nothing removed;
- ``no_action``: dismissed.

Each outcome is a notice leaf in the transparency log (``event outcome``, with the time from
receipt to outcome) and a signed webhook to the organisation's own endpoint (the outbox).
Fingerprints sent with the notice are confirmed (actioned: they enter the hotline bank through
``rempart.banks``, so every matcher replica has them at its next sync) or rejected; a confirmed
fingerprint's retro-scan runs after the decision commits (``retro_confirmed``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import system_actor
from rempart.banks import service as banks
from rempart.banks.entries import NewEntry
from rempart.hotline.config import HotlineConfig
from rempart.hotline.models import Notice, NoticeHash
from rempart.hotline.vocab import HashStatus, Status
from rempart.moderation import outbox
from rempart.moderation.log_fields import ACTION_EFFECTS
from rempart.moderation.models import Case, Decision
from rempart.moderation.vocab import ActionKind
from rempart.store.db import Database, utcnow
from rempart.transparency import bucket_time_to_action
from rempart.transparency.dsa import LEAF_CATEGORY

ACTOR = system_actor("hotline")
#: record_notice(session, fields, content_sha256, (kind, id), event=...) -> leaf index
RecordNotice = Callable[..., int]


def outcome_of(action_kinds: set[str]) -> tuple[Status, bool, bool, bool]:
    """(status, removed, banked, referred) of a decision with these actions (pure)."""
    kinds = {ActionKind(k) for k in action_kinds}
    removed = bool(kinds & set(ACTION_EFFECTS))
    banked = ActionKind.BANK_ITEM in kinds
    referred = ActionKind.REFER_NCMEC in kinds
    if removed:
        return Status.ACTIONED, removed, banked, referred
    if referred:
        return Status.FORWARDED, False, False, True
    return Status.NO_ACTION, False, False, False


def outcome_hook(record_notice: RecordNotice, config: Callable[[], HotlineConfig],
                 category_of: Callable[[str], str]):
    """The hook (see the module docstring). ``category_of(policy key)`` is the DSA category."""

    def hook(session: Session, case: Case, decision: Decision, event: str) -> None:
        if event != "final":
            return
        notices = list(session.scalars(select(Notice).where(Notice.case_id == case.id,
                                                            Notice.status == Status.RECEIVED.value)))
        if not notices:
            return
        status, removed, banked, referred = outcome_of({a["kind"] for a in decision.actions or ()})
        when = decision.final_at or utcnow()
        for notice in notices:
            changed = session.execute(
                update(Notice).where(Notice.id == notice.id, Notice.status == Status.RECEIVED.value)
                .values(status=status.value, decided_at=when, removed_at=when if removed else None,
                        banked=banked, referred=referred)
                .execution_options(synchronize_session=False)).rowcount
            if changed != 1:
                continue
            session.refresh(notice)
            _log(session, record_notice, notice, status, when, category_of)
            _hashes(session, notice, status is Status.ACTIONED, config())
            record(session, ACTOR, AuditEvent.NOTICE_OUTCOME, case_id=case.id,
                   subject=f"notice:{notice.id}", detail={"status": status.value})
            if notice.org_id is not None:
                outbox.enqueue(session, "notice.outcome", f"notice-{notice.id}-outcome",
                               webhook_payload(notice), org_id=notice.org_id, now=when)

    return hook


def webhook_payload(notice: Notice) -> dict:
    iso = lambda t: t.isoformat() if t else None  # noqa: E731
    return {"notice": notice.id, "reference": notice.reference, "status": notice.status,
            "received_at": iso(notice.received_at), "decided_at": iso(notice.decided_at),
            "removed_at": iso(notice.removed_at), "banked": notice.banked,
            "referred": notice.referred}


def _log(session: Session, record_notice: RecordNotice, notice: Notice, status: Status,
         when: dt.datetime, category_of: Callable[[str], str]) -> None:
    outcome = {Status.ACTIONED: "actioned", Status.FORWARDED: "forwarded",
               Status.NO_ACTION: "no_action"}[status]
    notice.outcome_leaf = record_notice(
        session, {"event": "outcome", "source": notice.source_kind,
                  "category": LEAF_CATEGORY.get(category_of(notice.category), "other"),
                  "outcome": outcome,
                  "time_to_action": bucket_time_to_action(notice.received_at, when)},
        notice.digest, ("notice", notice.id), event=f"notice:{notice.id}:outcome")


def _hashes(session: Session, notice: Notice, confirm: bool, config: HotlineConfig) -> None:
    pending = [h for h in notice.hashes if h.status == HashStatus.PENDING.value]
    if not pending:
        return
    if not confirm:
        for h in pending:
            h.status = HashStatus.REJECTED.value
        record(session, ACTOR, AuditEvent.HASHES_REJECTED, subject=f"notice:{notice.id}",
               detail={"n": len(pending)})
        return
    bank = banks.ensure_bank(session, config.bank, source="hotline", action="block",
                             legal_basis="Fingerprints from notices, confirmed by a reviewer")
    result = banks.add_entries(session, bank, [
        NewEntry(h.signal_type, h.value, external_id=f"notice-{notice.id}",
                 metadata={"notice": str(notice.id)}) for h in pending], added_by="hotline")
    ids = [e.id for e in result.added]
    for h in pending:
        h.status, h.entry_ids = HashStatus.CONFIRMED.value, ids
    record(session, ACTOR, AuditEvent.HASHES_CONFIRMED, subject=f"notice:{notice.id}",
           detail={"entries": ids})


def retro_confirmed(db: Database, retro: Callable[[list[int]], object]) -> int:
    """Run the retro-scan of confirmed fingerprints not yet retro-scanned: each is claimed by one
    conditional UPDATE (one worker scans it), then ``retro(entry_ids)`` (the runtime's: sync the
    replica, scan the ledger, open cases). How many fingerprints it took."""
    with db.session() as s:
        due = list(s.scalars(select(NoticeHash.id).where(
            NoticeHash.status == HashStatus.CONFIRMED.value, NoticeHash.retro_at.is_(None))
            .limit(500)))
    entry_ids: set[int] = set()
    taken = 0
    for hid in due:
        with db.session() as s:
            got = s.execute(update(NoticeHash).where(NoticeHash.id == hid,
                                                     NoticeHash.retro_at.is_(None))
                            .values(retro_at=utcnow())
                            .execution_options(synchronize_session=False)).rowcount
            if got == 1:
                taken += 1
                entry_ids.update(s.get(NoticeHash, hid).entry_ids or ())
    if entry_ids:
        retro(sorted(entry_ids))
    return taken
