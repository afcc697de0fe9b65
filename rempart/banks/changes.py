"""Reading the bank change feed (``bank_changes``): the one place that knows what a change row
stands for. Every reader (the matcher replicas, the exchanges' partner feed, retro-scan jobs)
goes through it.

A row is a bank's settings (``kind`` "bank", ``ref_id`` the bank), one entry (``kind`` "entry",
``ref_id`` the entry) or a range of entries (``kind`` "entry" with ``ref_to``: every entry with
``ref_id <= id <= ref_to``). A bulk import records its new entries as one range (their ids
follow one another: one statement inserts them); applying a range means reading again the
current state of every entry in it, which is harmless for an entry of another transaction that
took an id inside it on PostgreSQL (that entry has its own change too).

A reader pages by entries, not rows: a range of a million entries is read a page at a time
from a position inside it (``after_id``: the entries up to that id are done), a window of ids
at a time (``range_rows``). A reader of some banks only (the partner feed) tells a range's bank
from its first entry (``range_banks``: one import, one bank) and passes over the others unread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Select, select
from sqlalchemy.engine import Connection

from rempart.banks.models import BankChange, BankEntry


@dataclass(frozen=True)
class Change:
    seq: int
    kind: str
    ref_id: int
    ref_to: int | None = None
    at: dt.datetime | None = None

    @property
    def is_range(self) -> bool:
        return self.kind == "entry" and self.ref_to is not None

    @property
    def last_id(self) -> int:
        """The highest entry id this change names."""
        return self.ref_to if self.ref_to is not None else self.ref_id

    def first_after(self, after_id: int) -> int:
        """The lowest entry id this change could name after ``after_id``."""
        return max(self.ref_id, after_id + 1)


#: the widest window of ids ``range_rows`` reads at once (when no size is given)
WINDOW_MAX = 20_000

_COLS = (BankChange.seq, BankChange.kind, BankChange.ref_id, BankChange.ref_to, BankChange.at)


def read(conn: Connection, *, after: int | None = None, seqs: Sequence[int] = (),
         upto: int | None = None, limit: int | None = None, kind: str | None = None) -> list[Change]:
    """Change rows in ``seq`` order: those after ``after`` (and up to ``upto``), or those
    numbered ``seqs``; ``limit`` rows at most."""
    q = select(*_COLS).order_by(BankChange.seq)
    if after is not None:
        q = q.where(BankChange.seq > after)
    else:
        q = q.where(BankChange.seq.in_(sorted(seqs)))
    if upto is not None:
        q = q.where(BankChange.seq <= upto)
    if kind is not None:
        q = q.where(BankChange.kind == kind)
    if limit is not None:
        q = q.limit(limit)
    return [Change(*row) for row in conn.execute(q)]




def range_window(change: Change, columns: Sequence, after_id: int, size: int) -> tuple[Select, int]:
    """The entries of an entry change after ``after_id`` whose ids are among the next ``size``
    ids (at most ``size`` entries: ids are unique), in id order, and the last id that window
    covers (the change's last when it reaches its end). A bounded id range, not a ``LIMIT``:
    PostgreSQL, without statistics for the rows an import has just committed, planned a page
    with a limit as a bitmap scan of all the rest of the range and a sort of it on disk (400 ms
    a page at 1M, every page: half of a million-entry apply); a window reads its own rows
    through the primary key whatever the plan."""
    lo = change.first_after(after_id)
    hi = min(change.last_id, lo + max(size, 1) - 1)
    return _between(columns, lo, hi), hi


def _between(columns: Sequence, lo: int, hi: int) -> Select:
    return select(*columns).order_by(BankEntry.id).where(BankEntry.id.between(lo, hi))


def range_rows(conn: Connection, change: Change, columns: Sequence, after_id: int,
               size: int | None, where=None, bank_id: int | None = None) -> tuple[list, int]:
    """Up to ``size`` rows (all with None) of the entries of a range change after ``after_id``,
    in id order, read a window of at most the ids still wanted at a time (``range_window``;
    ``WINDOW_MAX`` ids with None), and the last id they cover (the change's last when they
    reach its end): the next read goes on after it. ``columns`` start with ``BankEntry.id`` and
    ``BankEntry.bank_id``; ``where``: a filter on ``bank_entries``; ``bank_id``: only that
    bank's entries (a range's own: ``range_banks``), told from the rows, not in the query (a
    condition on the bank, before PostgreSQL has statistics for an import's rows, had it read
    the bank's whole index for every window). An entry left out (an id of the range that is not
    there, another transaction's rolled back, or taken by an entry of another bank) only adds a
    window."""
    rows: list = []
    start = after_id
    while True:
        want = WINDOW_MAX if size is None else min(size - len(rows), WINDOW_MAX)
        q, start = range_window(change, columns, start, want)
        got = conn.execute(q if where is None else q.where(where)).all()
        rows += got if bank_id is None else [r for r in got if r[1] == bank_id]
        if start >= change.last_id or (size is not None and len(rows) >= size):
            return rows, start


def range_banks(conn: Connection, ranges: Sequence[Change], where=None) -> dict[int, int]:
    """The bank of each range change among ``ranges`` (seq -> bank id) whose first entry
    passes ``where`` (a filter on ``bank_entries``), in one query. A range is one bulk import's
    new entries (``rempart.banks.bulk``): one bank, one ``added_by``, no videos, its first and
    last ids its own, so what its first entry says of these holds for all of them. (On
    PostgreSQL an entry another transaction added meanwhile, to another bank since the import
    holds its bank's row, may have an id inside it; that entry has a change of its own, its own
    or its import's range.)"""
    firsts = sorted({c.ref_id for c in ranges if c.is_range})
    bank_of: dict[int, int] = {}
    for i in range(0, len(firsts), 500):
        q = select(BankEntry.id, BankEntry.bank_id).where(BankEntry.id.in_(firsts[i:i + 500]))
        bank_of.update(conn.execute(q if where is None else q.where(where)).all())
    return {c.seq: bank_of[c.ref_id] for c in ranges if c.is_range and c.ref_id in bank_of}


def entry_ids(conn: Connection, change: Change, where=None) -> np.ndarray:
    """The ids of the entries an entry change names, ascending (``where``: a filter on
    ``bank_entries``). For one entry no query is made unless ``where`` is given."""
    if not change.is_range and where is None:
        return np.array([change.ref_id], np.int64)
    q = _between((BankEntry.id,), change.ref_id, change.last_id)
    return np.fromiter(conn.execute(q if where is None else q.where(where)).scalars(), np.int64)


def all_entry_ids(conn: Connection, changes: Sequence[Change], where=None) -> np.ndarray:
    """The ids of every entry the entry changes ``changes`` name (``where``: a filter on
    ``bank_entries``), unique and ascending: single entries are looked up 500 at a time."""
    single = sorted({c.ref_id for c in changes if c.kind == "entry" and not c.is_range})
    found = [entry_ids(conn, c, where=where) for c in changes if c.is_range]
    for i in range(0, len(single), 500):
        part = single[i:i + 500]
        if where is None:
            found.append(np.array(part, np.int64))
            continue
        found.append(np.fromiter(conn.execute(select(BankEntry.id).where(
            BankEntry.id.in_(part), where)).scalars(), np.int64))
    return np.unique(np.concatenate(found)) if found else np.empty(0, np.int64)
