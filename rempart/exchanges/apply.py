"""Applying upstream records to a bank, a batch at a time, in the caller's transaction.

``apply_batch`` is the one path every exchange takes (and a bulk importer can take): a batch of
``Upstream`` records (upstream id, op, hashes, labels) becomes bank entries through
``rempart.banks.service`` and rows of ``exchange_entries`` that remember which upstream record
each entry came from:

- add / update: the record's hashes are validated first; one bad hash and the whole record is
  refused with its reason (``Rejected``), nothing of it applied. Its entries are added (or found,
  or restored) in the bank, its labels replace the old ones, hashes it no longer has are
  dropped, and an entry this exchange had withdrawn matches again;
- delete (withdrawn upstream): the record's entries stop matching (disabled, with the reason
  "withdrawn upstream by <exchange>"; the row and its history stay), unless another live
  upstream record or a person (an entry not banked by an exchange) still vouches for the entry.
  An entry a reviewer disabled is left as the reviewer left it.

In a batch, the last record of an upstream id wins. Everything recorded here goes through the
bank change feed, so a withdrawn entry stops matching at the next scan in every process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from rempart.banks import service as banks
from rempart.banks.models import Bank, BankEntry
from rempart.errors import InvalidInput
from rempart.exchanges.models import Exchange, ExchangeEntry
from rempart.exchanges.protocols import Rejected, Upstream
from rempart.signals import validate_signal
from rempart.store.db import utcnow

WITHDRAWN = "withdrawn upstream by "
CHUNK = 500


@dataclass
class Applied:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    #: bank entries added or made to match again (their changes are in the bank feed, for the
    #: retro-scan: ``rempart.exchanges.service``)
    new_entries: int = 0


#: what every entry an exchange added says it was added by, before the exchange's name
ADDED_BY_PREFIX = "exchange:"


def added_by(exchange: Exchange) -> str:
    return f"{ADDED_BY_PREFIX}{exchange.name}"


def from_exchange():
    """The SQL test "this bank entry was added by an exchange", the prefix compared exactly
    (SQLite's LIKE, behind ``startswith``, ignores case: a person named "Exchange:x" is a person)."""
    return func.substr(BankEntry.added_by, 1, len(ADDED_BY_PREFIX)) == ADDED_BY_PREFIX


def apply_batch(session: Session, exchange: Exchange, bank: Bank,
                records: Sequence[Upstream]) -> Applied:
    """Apply ``records`` (see the module doc); returns what changed and what was refused."""
    out = Applied()
    latest: dict[str, tuple[Upstream, tuple[tuple[str, str], ...]]] = {}
    for r in records:
        if r.op not in ("add", "update", "delete"):
            out.rejected.append(Rejected(r.upstream_id, f"unknown op {r.op[:20]}"))
            continue
        try:
            hashes = tuple(sorted({validate_signal(t, v) for t, v in r.hashes}))
        except InvalidInput as exc:
            out.rejected.append(Rejected(r.upstream_id, str(exc)[:300]))
            latest.pop(r.upstream_id, None)
            continue
        if r.op != "delete" and not hashes:
            out.rejected.append(Rejected(r.upstream_id, "no hash to bank"))
            continue
        latest[r.upstream_id] = (r, hashes)
    if not latest:
        return out

    mappings = _mappings(session, exchange.id, list(latest))
    wanted = {h for r, hs in latest.values() if r.op != "delete" for h in hs}
    ensured = banks.ensure_entries(session, bank, wanted, metadata={"exchange": exchange.name},
                                   added_by=added_by(exchange))
    out.new_entries += len(ensured.added)
    inserts: list[dict] = []
    updates: list[dict] = []
    dropped: dict[int, int] = {}  # mapping id -> entry id
    enable: set[int] = set()
    now = utcnow()
    for upstream_id, (r, hashes) in latest.items():
        old = {m.entry_id: m for m in mappings.get(upstream_id, ())}
        was_live = any(m.live for m in old.values())
        keep: set[int] = set()
        changed = False
        if r.op != "delete":
            for h in hashes:
                entry_id = ensured.ids[h]
                keep.add(entry_id)
                m = old.get(entry_id)
                values = {"labels": list(r.labels), "extra": dict(r.extra), "live": True, "updated_at": now}
                if m is None:
                    inserts.append({"exchange_id": exchange.id, "upstream_id": upstream_id,
                                    "entry_id": entry_id, **values})
                    changed = True
                elif not m.live or list(m.labels or ()) != values["labels"] or dict(m.extra or {}) != values["extra"]:
                    updates.append({"id": m.id, **values})
                    changed = True
                at, reason = ensured.disabled.get(entry_id, (None, ""))
                if at is not None and reason.startswith(WITHDRAWN):
                    enable.add(entry_id)
            changed |= any(m.live and m.entry_id not in keep for m in old.values())
            if not was_live:
                out.added += 1
            elif changed:  # the same record sent again (an overlapping page) changes nothing
                out.updated += 1
        elif was_live:
            out.deleted += 1
        for entry_id, m in old.items():
            if entry_id not in keep and m.live:
                dropped[m.id] = entry_id
    for i in range(0, len(inserts), CHUNK):
        session.execute(ExchangeEntry.__table__.insert(), inserts[i:i + CHUNK])
    if updates:
        session.execute(update(ExchangeEntry), updates)
    if dropped:
        ids = sorted(dropped)
        for i in range(0, len(ids), CHUNK):
            session.execute(update(ExchangeEntry).where(ExchangeEntry.id.in_(ids[i:i + CHUNK]))
                            .values(live=False, updated_at=now).execution_options(synchronize_session=False))
    for entry_id in sorted(enable):
        banks.enable_entry(session, entry_id)
        out.new_entries += 1
    _withdraw(session, exchange, set(dropped.values()))
    return out


def _mappings(session: Session, exchange_id: int, ids: list[str]) -> dict[str, list]:
    out: dict[str, list] = {}
    for i in range(0, len(ids), CHUNK):
        for m in session.execute(
                select(ExchangeEntry.id, ExchangeEntry.upstream_id, ExchangeEntry.entry_id, ExchangeEntry.live,
                       ExchangeEntry.labels, ExchangeEntry.extra)
                .where(ExchangeEntry.exchange_id == exchange_id,
                       ExchangeEntry.upstream_id.in_(ids[i:i + CHUNK]))):
            out.setdefault(m.upstream_id, []).append(m)
    return out


def _withdraw(session: Session, exchange: Exchange, entry_ids: set[int]) -> None:
    """Disable the entries nothing vouches for any more (see the module doc), in bulk."""
    ids = sorted(entry_ids)
    orphans: list[int] = []
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        still = set(session.scalars(select(ExchangeEntry.entry_id).where(
            ExchangeEntry.entry_id.in_(chunk), ExchangeEntry.live.is_(True))))
        orphans += [e for e in chunk if e not in still]
    # an entry a person banked (or a reviewer already disabled) is left as it is
    banks.disable_entries(session, orphans, reason=WITHDRAWN + exchange.name,
                          where=from_exchange())


def live_counts(session: Session) -> dict[int, tuple[int, int]]:
    """exchange id -> (live upstream records, withdrawn ones)."""
    n = func.count(func.distinct(ExchangeEntry.upstream_id))
    live = dict(session.execute(select(ExchangeEntry.exchange_id, n)
                                .where(ExchangeEntry.live.is_(True)).group_by(ExchangeEntry.exchange_id)).all())
    total = dict(session.execute(select(ExchangeEntry.exchange_id, n).group_by(ExchangeEntry.exchange_id)).all())
    return {ex: (live.get(ex, 0), t - live.get(ex, 0)) for ex, t in total.items()}
