"""Retro-scan: when a bank gains entries, find every past item in the ledger that matches them.

Two passes keep it fast on a large ledger: a vectorised pre-filter (SQL lookup of the new exact
values; one batched index query of every stored PDQ against the new entries only) finds candidate
items, then each candidate is matched again, exactly as at upload time (``query_from_rows``),
against the full live matcher, so bank thresholds, disabled entries and safelists all apply.
Matches already recorded are not reported twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from rempart.matching.matcher import Matcher
from rempart.matching.codec import hex_to_hashes
from rempart.scanning.models import ItemMatch, ItemSignal, ScannedItem
from rempart.scanning.signals import SignalRow, query_from_rows
from rempart.store.db import utcnow

CHUNK = 50_000


@dataclass(frozen=True)
class RetroMatch:
    item_id: int
    account: str | None
    space: str | None
    message: str | None
    scanned_at: str
    bank: str
    entry_id: int
    signal: str
    distance: int
    variant: str

    def to_json(self) -> dict:
        return dict(self.__dict__)


def _exact_candidates(session: Session, only_new: Matcher) -> set[int]:
    pairs = [(t, v) for t, values in only_new.exact_values().items() for v in values]
    found: set[int] = set()
    for i in range(0, len(pairs), 400):
        found.update(session.scalars(
            select(ItemSignal.item_id)
            .where(tuple_(ItemSignal.signal_type, ItemSignal.value).in_(pairs[i:i + 400]))
        ))
    return found


def _pdq_candidates(session: Session, only_new: Matcher,
                    progress: Callable[[int], None] | None) -> set[int]:
    found: set[int] = set()
    last_id = 0
    # Up to the newest signal now: what is scanned later is matched at its scan (the replica
    # already holds the entries), so a retro-scan never chases a growing ledger.
    upto = session.scalar(select(func.max(ItemSignal.id))) or 0
    while True:
        rows = session.execute(
            select(ItemSignal.id, ItemSignal.item_id, ItemSignal.value)
            .where(ItemSignal.signal_type == "pdq", ItemSignal.id > last_id,
                   ItemSignal.id <= upto)
            .order_by(ItemSignal.id).limit(CHUNK)
        ).all()
        if not rows:
            return found
        last_id = rows[-1][0]
        hit = only_new.near_any(hex_to_hashes([v for _, _, v in rows]))
        found.update(rows[i][1] for i in np.flatnonzero(hit))
        if progress:
            progress(len(rows))


def ledger_candidates(session: Session, matcher: Matcher) -> set[int]:
    """Ledger items with a signal equal to an exact entry of ``matcher``, or a PDQ within its
    largest threshold of one of its PDQ entries: the pre-filter of ``retro_scan``, also used to
    show a reviewer which past items a not-yet-banked fingerprint would match."""
    return _exact_candidates(session, matcher) | _pdq_candidates(session, matcher, None)


def retro_scan(session: Session, matcher: Matcher, entry_ids: Sequence[int],
               progress: Callable[[int], None] | None = None) -> list[RetroMatch]:
    """Record every new match of past items against the given (newly added) entries, and
    return one report per item (its closest new match).

    ``matcher`` must already hold the entries (synced). ``progress`` is called with the number
    of ledger signals examined in each chunk.
    """
    if not entry_ids:
        return []
    wanted = set(entry_ids)
    only_new = matcher.only(entry_ids)
    candidates = _exact_candidates(session, only_new) | _pdq_candidates(session, only_new, progress)
    out: list[RetroMatch] = []
    now = utcnow()
    for item_id in sorted(candidates):
        item = session.get(ScannedItem, item_id)
        rows = [SignalRow(s.signal_type, s.value, s.variant, s.t, s.quality) for s in item.signals]
        result = matcher.match(query_from_rows(rows, item.kind), now)
        known = {m.entry_id for m in item.matches}
        new = [m for m in result.matches if m.entry_id in wanted and m.entry_id not in known]
        for m in new:
            session.add(ItemMatch(item_id=item.id, entry_id=m.entry_id, bank_id=m.bank_id,
                                  signal_type=m.signal, distance=m.distance,
                                  variant=m.variant[:64], low_quality=m.low_quality,
                                  found_by="retro", detail={"detail": m.detail} if m.detail else {}))
        if new:  # one report per past item: its closest new match (all are recorded)
            m = new[0]
            out.append(RetroMatch(item.id, item.account, item.space, item.message,
                                  item.scanned_at.isoformat(), m.bank, m.entry_id, m.signal,
                                  m.distance, m.variant))
    session.flush()
    return out
