"""Opinions back to the exchanges, and provenance of matches on their entries.

``feedback_hook`` is a ``ModerationConfig.on_decision`` hook: when a reviewer's decision on a
case takes effect ("final"), every counted match of the case's items against an entry that a
live upstream record of an exchange vouches for queues that exchange an opinion, in the
decision's transaction: ``confirmed`` for a violation, ``false_positive`` otherwise. The queue
row's key is what the opinion is about (case, exchange, upstream id, opinion), so a hook that
runs twice queues it once. Only kinds whose protocol takes feedback queue anything
(``vocab.FEEDBACK_KINDS``: ThreatExchange reactions, NCMEC feedback, StopNCII feedback).

``deliver_feedback`` sends what is queued (``rempart exchange sync`` and the worker in
``rempart serve``): sent, or retried at the next round, or ``failed`` after ``MAX_ATTEMPTS``.

``provenance_hook`` is an ``AfterScan`` hook: it writes each match's provenance (exchange, its
kind, upstream ids, labels) into the match's ledger row (``item_matches.detail["exchange"]``),
which the scan answer, the case page and the transparency leaf read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.banks.models import BankEntry
from rempart.errors import RempartError
from rempart.exchanges import credentials
from rempart.exchanges.models import Exchange, ExchangeEntry, ExchangeFeedback
from rempart.exchanges.service import wire_for
from rempart.exchanges.transport import RetryPolicy, Transport
from rempart.exchanges.vocab import FEEDBACK_KINDS
from rempart.moderation.models import Case, CaseItem, Decision
from rempart.scanning.models import ItemMatch
from rempart.store.db import Database, insert_missing, utcnow

MAX_ATTEMPTS = 5
PROVENANCE_KEY = "exchange"


def provenance(session: Session, entry_ids: Iterable[int]) -> dict[int, dict]:
    """entry id -> {"exchange", "kind", "upstream_ids", "labels"} for entries a live upstream
    record vouches for (the first exchange by name when several do)."""
    ids = sorted(set(entry_ids))
    out: dict[int, dict] = {}
    if not ids:
        return out
    rows = session.execute(
        select(ExchangeEntry.entry_id, ExchangeEntry.upstream_id, ExchangeEntry.labels, Exchange.name, Exchange.kind)
        .join(Exchange, Exchange.id == ExchangeEntry.exchange_id)
        .where(ExchangeEntry.entry_id.in_(ids), ExchangeEntry.live.is_(True))
        .order_by(Exchange.name, ExchangeEntry.upstream_id))
    for entry_id, upstream_id, labels, name, kind in rows:
        p = out.setdefault(entry_id, {"exchange": name, "kind": kind, "upstream_ids": [], "labels": []})
        if p["exchange"] == name:
            p["upstream_ids"].append(upstream_id)
            p["labels"] = sorted(set(p["labels"]) | set(labels or ()))
    return out


def provenance_hook(session: Session, item, result) -> None:
    """The ``AfterScan`` hook (see the module doc)."""
    found = provenance(session, (m.entry_id for m in item.matches))
    for m in item.matches:
        if m.entry_id in found:
            m.detail = {**(m.detail or {}), PROVENANCE_KEY: found[m.entry_id]}


def retro_provenance_hook(session: Session, matches) -> None:
    """The after-retro hook: the same provenance on matches a retro-scan found."""
    ids = [m.item_id for m in matches]
    if not ids:
        return
    rows = list(session.scalars(select(ItemMatch).where(ItemMatch.item_id.in_(sorted(set(ids))))))
    found = provenance(session, (r.entry_id for r in rows))
    for r in rows:
        if r.entry_id in found and PROVENANCE_KEY not in (r.detail or {}):
            r.detail = {**(r.detail or {}), PROVENANCE_KEY: found[r.entry_id]}


def feedback_hook() -> Callable[[Session, Case, Decision, str], None]:
    def hook(session: Session, case: Case, decision: Decision, event: str) -> None:
        if event != "final" or decision.case_id != case.id:
            return
        opinion = "confirmed" if decision.violation else "false_positive"
        queue_feedback(session, case.id, _case_entries(session, case.id), opinion)

    return hook


def _case_entries(session: Session, case_id: int) -> list[int]:
    return list(session.scalars(
        select(ItemMatch.entry_id).join(CaseItem, CaseItem.item_id == ItemMatch.item_id)
        .where(CaseItem.case_id == case_id, ItemMatch.status == "counted")))


def queue_feedback(session: Session, case_id: int | None, entry_ids: Iterable[int], opinion: str) -> int:
    """Queue ``opinion`` for every exchange record vouching for ``entry_ids``; returns how many
    rows this call queued."""
    ids = sorted(set(entry_ids))
    if not ids:
        return 0
    rows = session.execute(
        select(ExchangeEntry.exchange_id, ExchangeEntry.upstream_id, ExchangeEntry.entry_id)
        .join(Exchange, Exchange.id == ExchangeEntry.exchange_id)
        .where(ExchangeEntry.entry_id.in_(ids), ExchangeEntry.live.is_(True),
               Exchange.kind.in_(FEEDBACK_KINDS))).all()
    before = session.scalar(select(ExchangeFeedback.id).order_by(ExchangeFeedback.id.desc()).limit(1)) or 0
    for exchange_id, upstream_id, entry_id in rows:
        insert_missing(session, ExchangeFeedback,
                       key=f"{case_id or '-'}:{exchange_id}:{upstream_id}:{opinion}"[:400],
                       exchange_id=exchange_id, upstream_id=upstream_id, entry_id=entry_id,
                       opinion=opinion, case_id=case_id, created_at=utcnow(), state="queued",
                       attempts=0)
    return len(session.scalars(select(ExchangeFeedback.id).where(ExchangeFeedback.id > before)).all())


@dataclass
class Delivered:
    sent: int = 0
    failed: int = 0
    waiting: int = 0


def deliver_feedback(db: Database, home: Path, read_secret: Callable[[str], str | None] | None = None,
                     policy: RetryPolicy = RetryPolicy(attempts=2, backoff=0.5, max_wait=5.0),
                     limit: int = 200) -> Delivered:
    """Send queued opinions (see the module doc)."""
    from_env = read_secret or (lambda _name: None)
    out = Delivered()
    with db.session() as s:
        todo = [(f.id, f.exchange_id, f.upstream_id, f.opinion, f.entry_id) for f in s.scalars(
            select(ExchangeFeedback).where(ExchangeFeedback.state == "queued").order_by(ExchangeFeedback.id)
            .limit(limit))]
    for fid, exchange_id, upstream_id, opinion, entry_id in todo:
        error = None
        try:
            with db.session() as s:
                ex = s.get(Exchange, exchange_id)
                credential = credentials.resolve(home, ex.credential_ref, ex.credential_enc, from_env)
                extra = s.scalar(select(ExchangeEntry.extra).where(
                    ExchangeEntry.exchange_id == exchange_id, ExchangeEntry.upstream_id == upstream_id,
                    ExchangeEntry.entry_id == entry_id)) or {}
                signal_type = s.get(BankEntry, entry_id).signal_type
                wire = wire_for(ex, credential)
                url, kind = ex.url, ex.kind
            with Transport(url, kind, credential, policy=policy) as http:
                request = wire.feedback(upstream_id, extra, opinion, signal_type)
                ask = getattr(wire, "reasons", None)
                if request is None and opinion == "false_positive" and ask and ask(signal_type):
                    # NCMEC: a negative opinion names a reason; its first one, as offered
                    offered = http.fetch(ask(signal_type), wire.parse_reasons)
                    request = wire.feedback(upstream_id, extra, opinion, signal_type,
                                            offered[0] if offered else None)
                if request is not None:
                    http.send(request)
        except RempartError as exc:
            error = str(exc)[:500]
        with db.session() as s:
            f = s.get(ExchangeFeedback, fid)
            f.attempts += 1
            if error is None:
                f.state, f.sent_at, f.last_error = ("sent" if request is not None else "unsupported"), utcnow(), None
                out.sent += 1
            else:
                f.last_error = error
                if f.attempts >= MAX_ATTEMPTS:
                    f.state = "failed"
                    out.failed += 1
                else:
                    out.waiting += 1
    return out
