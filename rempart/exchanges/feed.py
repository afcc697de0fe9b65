"""The feed this rempart shares with its partners (``GET /v1/exchange/feed``; the wire format is
drawn in ``rempart.exchanges.protocols.feed``).

A partner is named with the banks it may read (the sharing rule) and gets a key, printed once:
the database keeps its SHA-256 (to recognise it) and the key encrypted with the key in
``$REMPART_HOME/keys`` (to sign each page with it). A page is read from the bank change feed
(``bank_changes``) after the partner's checkpoint, so whatever changed in a shared bank (an entry
added, disabled, enabled, removed) reaches the partner in order, once. Entries that came from
another exchange are not passed on (their sharing terms are the upstream's); video (vpdq)
entries are not in the feed. A bulk import (one change naming a range of entries) into a bank
not shared is passed over without reading its entries; one into a shared bank is read a window
of ids at a time (``rempart.banks.changes.range_rows``). On PostgreSQL the restart point
handed back (``settled``) stays before the changes of the last ``SETTLE_SECONDS`` (a concurrent
transaction may still commit a lower sequence number there): those changes are served at once,
and again at the next sync, which applies them again to no effect, so none is missed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from rempart.banks import service as banks
from rempart.banks import changes
from rempart.banks.models import Bank, BankEntry
from rempart.banks.replica import GAP_WATCH_SECONDS
from rempart.errors import AuthError, Conflict, InvalidInput, NotFound, shown
from rempart.exchanges import credentials
from rempart.exchanges.apply import from_exchange
from rempart.exchanges.models import ExchangePartner
from rempart.exchanges.protocols.feed import KEY_PREFIX, MAX_LIMIT, feed_body, signature
from rempart.exchanges.vocab import NAME
from rempart.store.db import utcnow

#: on PostgreSQL, how long a change may wait to commit after taking its sequence number (as
#: the matcher replicas assume: ``rempart.banks.replica``)
SETTLE_SECONDS = GAP_WATCH_SECONDS


#: what a page says of an entry
_ITEM_COLUMNS = (BankEntry.id, BankEntry.bank_id, BankEntry.signal_type, BankEntry.value,
                 BankEntry.disabled_at, BankEntry.disabled_until, BankEntry.removed_at)


@dataclass(frozen=True)
class Partner:
    id: int
    name: str
    banks: tuple[str, ...]
    key: str


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_partner(session: Session, home: Path, name: str, bank_names: list[str]) -> tuple[ExchangePartner, str]:
    """Name a partner and the banks it may read; returns it and its key (shown once)."""
    if not NAME.match(name or ""):
        raise InvalidInput(f"invalid partner name {shown(name)}: lowercase letters, digits and _ . : -")
    if not bank_names:
        raise InvalidInput("name at least one bank to share (--bank)")
    for b in bank_names:
        banks.get_bank(session, b)
    if session.scalar(select(ExchangePartner.id).where(ExchangePartner.name == name)) is not None:
        raise Conflict(f"partner {shown(name)} already exists")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    partner = ExchangePartner(name=name, key_hash=_hash(key), key_enc=credentials.encrypt(home, key),
                              banks=sorted(set(bank_names)))
    session.add(partner)
    session.flush()
    return partner, key


def list_partners(session: Session) -> list[ExchangePartner]:
    return list(session.scalars(select(ExchangePartner).order_by(ExchangePartner.name)))


def revoke_partner(session: Session, name: str) -> ExchangePartner:
    partner = session.scalar(select(ExchangePartner).where(ExchangePartner.name == name))
    if partner is None:
        raise NotFound("partner", name)
    partner.revoked_at = partner.revoked_at or utcnow()
    return partner


def authenticate_partner(session: Session, home: Path, key: str | None) -> Partner:
    if not key or not key.startswith(KEY_PREFIX):
        raise AuthError("a partner key is needed (Authorization: Bearer rpx_...)")
    row = session.scalar(select(ExchangePartner).where(ExchangePartner.key_hash == _hash(key)))
    if row is None or row.revoked_at is not None:
        raise AuthError("unknown or revoked partner key")
    stored = credentials.decrypt(home, row.key_enc)
    if not hmac.compare_digest(stored, key):
        raise AuthError("unknown or revoked partner key")
    row.last_seen_at = utcnow()
    return Partner(row.id, row.name, tuple(row.banks or ()), stored)


def feed_page(session: Session, partner: Partner, after: int, limit: int,
              after_entry: int | None = None) -> tuple[bytes, str]:
    """The page after ``after`` for ``partner``: its exact bytes and their signature.
    ``after_entry``: go on inside the range change numbered ``after + 1`` after that entry
    (None: a consumer that does not know ranges; a range is then served whole)."""
    if after < 0 or not 1 <= limit <= MAX_LIMIT or (after_entry or 0) < 0:
        raise InvalidInput(f"after and after_entry must be >= 0 and limit between 1 and {MAX_LIMIT}")
    conn = session.connection()
    rows = changes.read(conn, after=after, limit=limit + 1, kind="entry")
    # what a partner may read: an entry of a bank it shares (told from the entry's or its
    # range's bank id, never in the queries: a condition on the bank, before PostgreSQL has
    # statistics for an import's rows, had it read the whole bank for every page), not a video,
    # not what came from an exchange (compared exactly)
    shared = set(session.scalars(select(Bank.id).where(Bank.name.in_(sorted(partner.banks)))))
    passable = and_(BankEntry.signal_type != "vpdq", ~from_exchange())
    # a range is read only if its first entry may be (its bank, writer and type are all its
    # entries'), then its own entries, a window of ids at a time
    bank_of = changes.range_banks(conn, [c for c in rows[:limit] if c.is_range], where=passable)
    budget, served = limit, []  # (seq, entry id) in feed order
    next_seq, next_entry, stopped = after, 0, False
    for change in rows[:limit]:
        if budget <= 0:
            break
        if not change.is_range:
            served.append((change.seq, change.ref_id))
            budget -= 1
            next_seq = change.seq
            continue
        # a range of a bank not shared is passed over unread (its entries take no room)
        ids: list[int] = []
        if bank_of.get(change.seq) in shared:
            start = (after_entry or 0) if change.seq == after + 1 else 0
            found, _ = changes.range_rows(conn, change, (BankEntry.id, BankEntry.bank_id), start,
                                          None if after_entry is None else budget + 1,
                                          where=passable, bank_id=bank_of[change.seq])
            ids = [r[0] for r in found]
        if after_entry is not None and len(ids) > budget:  # the page stops inside the range
            served += [(change.seq, i) for i in ids[:budget]]
            next_seq, next_entry, stopped = change.seq - 1, ids[budget - 1], True
            break
        served += [(change.seq, i) for i in ids]
        budget -= max(1, len(ids))
        next_seq = change.seq
    more = stopped or budget <= 0 or len(rows) > limit
    settled = next_seq
    if session.get_bind().dialect.name == "postgresql":
        # PostgreSQL hands out sequence numbers at insert time, so a transaction can commit a
        # lower number after this page: the restart point stays before the changes of the last
        # SETTLE_SECONDS, which are served again next time (applying them again changes nothing)
        cutoff = utcnow() - dt.timedelta(seconds=SETTLE_SECONDS)
        held = after
        for change in rows:
            if change.seq > next_seq or change.at > cutoff:
                break
            held = change.seq
        settled = held
    ids = sorted({ref for _, ref in served})
    now = utcnow()
    entries: dict[int, tuple] = {}
    # the columns a page needs, as plain rows (ORM objects, their metadata decoded, were most
    # of a page's time)
    for i in range(0, len(ids), 500):
        for entry in conn.execute(
                select(*_ITEM_COLUMNS, Bank.name).join(Bank, Bank.id == BankEntry.bank_id)
                .where(BankEntry.id.in_(ids[i:i + 500]), passable)):
            if entry.bank_id in shared:
                entries[entry.id] = (entry, entry.name)
    items, seen = [], set()
    for _seq, ref in reversed(served):  # each entry once, at its latest change, in seq order
        if ref in entries and ref not in seen:
            seen.add(ref)
            entry, bank_name = entries[ref]
            active = entry.removed_at is None and (
                entry.disabled_at is None or (entry.disabled_until is not None and entry.disabled_until <= now))
            items.append({"id": f"{bank_name}/{entry.id}", "bank": bank_name,
                          "op": "add" if active else "delete", "signal_type": entry.signal_type,
                          "value": entry.value, "labels": [f"bank:{bank_name}"]})
    items.reverse()
    body = feed_body(partner.name, after, next_seq, more, items, settled,
                     after_entry=after_entry or 0, next_entry=next_entry)
    return body, signature(partner.key, body)
