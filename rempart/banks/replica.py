"""Keeps an in-memory ``Matcher`` equal to the banks in the database: the ``Replica``.

``Replica.load`` reads every bank and entry once; ``Replica.sync`` then applies only the changes
recorded in ``bank_changes`` after the last sequence number the replica saw. Every process (API
node, CLI, scan worker) syncs its replica before it scans, so a change made anywhere counts for
the next scan.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from threading import Lock

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from rempart.banks.models import Bank, BankChange, BankEntry
from rempart.matching.matcher import BankPolicy, EntryState, Matcher
from rempart.signals import FrameHash


def bank_policy(bank: Bank) -> BankPolicy:
    return BankPolicy(bank.id, bank.name, bank.threshold, bank.action, bank.is_safelist,
                      bank.enabled)


def entry_state(entry: BankEntry) -> EntryState:
    return EntryState(
        id=entry.id,
        bank_id=entry.bank_id,
        signal_type=entry.signal_type,
        value=entry.value,
        disabled=entry.disabled_at is not None,
        disabled_until=entry.disabled_until,
        removed=entry.removed_at is not None,
        frames=tuple(FrameHash(f.t, f.pdq, f.quality) for f in entry.frames),
    )


def _entries(session: Session, ids: Iterable[int] | None = None, batch: int = 5000):
    q = select(BankEntry).options(selectinload(BankEntry.frames)).order_by(BankEntry.id)
    if ids is None:
        q = q.where(BankEntry.removed_at.is_(None))
        yield from session.scalars(q.execution_options(yield_per=batch))
        return
    ids = sorted(set(ids))
    for i in range(0, len(ids), 500):
        yield from session.scalars(q.where(BankEntry.id.in_(ids[i:i + 500])))


#: How long a gap in the sequence is watched for a late commit (a rolled-back insert leaves a
#: gap for ever; a concurrent transaction that took a lower number commits within this time).
GAP_WATCH_SECONDS = 120.0


class Replica:
    """A ``Matcher`` and its cursor in the ``bank_changes`` feed: the sequence number of the last
    change applied, and the numbers skipped that may still commit. The matcher itself stays pure
    (it knows nothing of the feed); this object is what a process keeps per database."""

    def __init__(self, matcher: Matcher | None = None, seq: int = 0) -> None:
        self.matcher = matcher if matcher is not None else Matcher()
        self.seq = seq
        #: sequence number -> monotonic time it was first seen missing
        self.gaps: dict[int, float] = {}
        #: when a change was last applied (``time.time()``; the load counts), for the metrics
        self.applied_at = time.time()
        self._lock = Lock()

    @classmethod
    def load(cls, session: Session) -> Replica:
        """A replica holding every bank and every entry that is not removed."""
        replica = cls(seq=session.scalar(select(func.coalesce(func.max(BankChange.seq), 0))) or 0)
        matcher = replica.matcher
        for bank in session.scalars(select(Bank)):
            matcher.put_bank(bank_policy(bank))
        chunk: list[EntryState] = []
        for entry in _entries(session):
            chunk.append(entry_state(entry))
            if len(chunk) >= 50_000:
                matcher.put_entries(chunk)
                chunk = []
        matcher.put_entries(chunk)
        return replica

    def sync(self, session: Session) -> int:
        """Apply the changes after ``seq``; returns how many were applied.

        PostgreSQL hands out sequence numbers at insert time, so a transaction can commit after
        one that took a higher number: the numbers skipped at a sync are remembered and read
        again later (for ``GAP_WATCH_SECONDS``).
        """
        with self._lock:
            now = time.monotonic()
            gaps = {s: t for s, t in self.gaps.items() if now - t < GAP_WATCH_SECONDS}
            cond = BankChange.seq > self.seq
            if gaps:
                cond = cond | BankChange.seq.in_(sorted(gaps))
            changes = session.execute(
                select(BankChange.seq, BankChange.kind, BankChange.ref_id).where(cond)
                .order_by(BankChange.seq)
            ).all()
            self.gaps = gaps
            if not changes:
                return 0
            seen = {seq for seq, _, _ in changes}
            for seq in seen:
                gaps.pop(seq, None)
            top = max(self.seq, changes[-1][0])
            for seq in range(self.seq + 1, top):
                if seq not in seen:
                    gaps[seq] = now
            bank_ids = {ref for _, kind, ref in changes if kind == "bank"}
            entry_ids = {ref for _, kind, ref in changes if kind == "entry"}
            matcher = self.matcher
            if bank_ids:
                for bank in session.scalars(select(Bank).where(Bank.id.in_(bank_ids))):
                    matcher.put_bank(bank_policy(bank))
            put: list[EntryState] = []
            for entry in _entries(session, entry_ids):
                if entry.removed_at is not None:
                    matcher.drop_entry(entry.id)
                else:
                    put.append(entry_state(entry))
            matcher.put_entries(put)
            self.seq = top
            self.applied_at = time.time()
            return len(changes)
