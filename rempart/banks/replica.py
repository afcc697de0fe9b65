"""Keeps an in-memory ``Matcher`` equal to the banks in the database: the ``Replica``.

``Replica.load`` reads every bank and entry once; ``Replica.sync`` then applies only the changes
recorded in ``bank_changes`` after the last sequence number the replica saw. Every process (API
node, CLI, scan worker) syncs its replica before it scans, so a change made anywhere counts for
the next scan.

The feed is read and applied a page (``PAGE`` entries) at a time: each page's entries go into
the matcher in one step (a query sees all of an entry's change or none of it), and queries run
between pages. An import of a million entries (one range change, ``rempart.banks.changes``) is
fifty pages, each a part of the range: the scan that meets them applies them,
and the scans of other threads meanwhile go on with what is applied rather than wait
(``Runtime.sync_for_scan``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from threading import Lock

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rempart.banks import changes as feed
from rempart.banks.models import Bank, BankChange, BankEntry, EntryFeatures, EntryFrame
from rempart.matching.codec import hex_to_hashes
from rempart.matching.entry_table import DISABLED, KIND_CODE
from rempart.matching.matcher import IMAGE_SIGNALS, BankPolicy, EntryState, Matcher
from rempart.signals import FrameHash
from rempart.signals.features import Features


def bank_policy(bank: Bank) -> BankPolicy:
    return BankPolicy(bank.id, bank.name, bank.threshold, bank.action, bank.is_safelist,
                      bank.enabled, bank.feature_action or "review")


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
        features=entry.features.data if entry.features is not None else b"",
    )


_COLUMNS = (BankEntry.id, BankEntry.bank_id, BankEntry.signal_type, BankEntry.value,
            BankEntry.disabled_at, BankEntry.disabled_until, BankEntry.removed_at)
#: rows read per query when loading; the rows of one chunk are the only per-entry objects
CHUNK = 100_000
#: entries (or bank changes) read and applied per page of a sync (``Replica.sync``)
PAGE = 20_000


def _chunks(session: Session, ids: np.ndarray | None = None) -> Iterator[list]:
    """Entry rows (``_COLUMNS``) in chunks by id: every entry not removed (``ids`` None), or
    the entries with these ids (removed ones too), by id ranges when they are dense."""
    q = select(*_COLUMNS).order_by(BankEntry.id)
    conn = session.connection()  # plain rows: the ORM's loading layer costs a third more
    if ids is None:
        last = 0
        while True:
            rows = conn.execute(q.where(BankEntry.id > last, BankEntry.removed_at.is_(None))
                                .limit(CHUNK)).all()
            if not rows:
                return
            last = rows[-1][0]
            yield rows
        return
    ids = np.unique(np.asarray(ids, np.int64))
    step = 5000
    for i in range(0, ids.shape[0], step):
        part = ids[i:i + step]
        lo, hi = int(part[0]), int(part[-1])
        if hi - lo < 4 * part.shape[0]:  # dense (an import): one range query
            wanted = set(part.tolist())
            rows = conn.execute(q.where(BankEntry.id.between(lo, hi))).all()
            yield [r for r in rows if r[0] in wanted]
        else:
            for j in range(0, part.shape[0], 500):
                yield conn.execute(q.where(BankEntry.id.in_(part[j:j + 500].tolist()))).all()


def _frames(session: Session, entry_ids: list[int]) -> dict[int, tuple[FrameHash, ...]]:
    out: dict[int, list[FrameHash]] = {}
    for i in range(0, len(entry_ids), 500):
        for f in session.scalars(select(EntryFrame).where(EntryFrame.entry_id.in_(entry_ids[i:i + 500]))
                                 .order_by(EntryFrame.entry_id, EntryFrame.idx)):
            out.setdefault(f.entry_id, []).append(FrameHash(f.t, f.pdq, f.quality))
    return {k: tuple(v) for k, v in out.items()}


def _features(session: Session, entry_ids: list[int]) -> dict[int, bytes]:
    """The stored ORB features of these "orb" entries (immutable per entry)."""
    out: dict[int, bytes] = {}
    for i in range(0, len(entry_ids), 500):
        out.update(session.execute(select(EntryFeatures.entry_id, EntryFeatures.data)
                                   .where(EntryFeatures.entry_id.in_(entry_ids[i:i + 500]))).all())
    return out


def load_features(session: Session, matcher: Matcher) -> None:
    """Index the ORB features of the "orb" entries ``matcher`` holds, read from the bank: what a
    matcher started from a snapshot (which holds no features) still needs."""
    ids = matcher.orb_ids().tolist()
    if not ids:
        return
    values: dict[int, str] = {}
    for i in range(0, len(ids), 500):
        values.update(session.execute(select(BankEntry.id, BankEntry.value)
                                      .where(BankEntry.id.in_(ids[i:i + 500]))).all())
    blobs = _features(session, ids)
    matcher.put_features([(i, values.get(i, ""), Features.from_bytes(blobs[i]))
                          for i in ids if i in blobs])


def _put_rows(session: Session, matcher: Matcher, rows: list, pdq_out: list | None = None) -> None:
    """Apply one chunk of entry rows to ``matcher``: removed ones dropped, others put. With
    ``pdq_out``, PDQ values are collected there (ids, hashes) to be indexed once at the end."""
    dropped = [r[0] for r in rows if r[6] is not None]
    matcher.drop_entries(np.array(dropped, np.int64))
    live = [r for r in rows if r[6] is None]
    if not live:
        return
    n = len(live)
    ids = np.fromiter((r[0] for r in live), np.int64, n)
    banks = np.fromiter((r[1] for r in live), np.int32, n)
    kinds = np.fromiter((KIND_CODE.get(r[2], 255) for r in live), np.uint8, n)
    flags = np.fromiter((DISABLED if r[4] is not None else 0 for r in live), np.uint8, n)
    until = {r[0]: r[5] for r in live if r[4] is not None and r[5] is not None}
    pdq_rows = [(r[0], r[3]) for r in live if r[2] in IMAGE_SIGNALS]
    pdq = (np.array([i for i, _ in pdq_rows], np.int64),
           hex_to_hashes([v for _, v in pdq_rows])) if pdq_rows else None
    exact: dict[str, tuple[list[int], list[str]]] = {}
    video_ids, orb_ids = [], []
    for r in live:
        if r[2] == "vpdq":
            video_ids.append(r[0])
        elif r[2] == "orb":
            orb_ids.append(r[0])
        elif r[2] not in IMAGE_SIGNALS:
            pair = exact.setdefault(r[2], ([], []))
            pair[0].append(r[0])
            pair[1].append(r[3])
    frames = _frames(session, video_ids) if video_ids else {}
    videos = {r[0]: (r[3], frames.get(r[0], ())) for r in live if r[2] == "vpdq"}
    blobs = _features(session, orb_ids) if orb_ids else {}
    orb = [(r[0], r[3], Features.from_bytes(blobs.get(r[0], b""))) for r in live
           if r[2] == "orb" and r[0] in blobs]
    known = kinds != 255
    if pdq_out is not None and pdq is not None:
        pdq_out.append(pdq)
        pdq = None
    matcher.put_columns(ids[known], banks[known], kinds[known], flags[known], until, pdq=pdq,
                        exact=exact, videos=videos, orb=orb)


#: How long a gap in the sequence is watched for a late commit (a rolled-back insert leaves a
#: gap for ever; a concurrent transaction that took a lower number commits within this time).
GAP_WATCH_SECONDS = 120.0


class Replica:
    """A ``Matcher`` and its cursor in the ``bank_changes`` feed: the sequence number of the last
    change applied, the numbers skipped that may still commit, and how far into a range change
    a page stopped. The matcher itself stays pure (it knows nothing of the feed); this object is
    what a process keeps per database."""

    def __init__(self, matcher: Matcher | None = None, seq: int = 0) -> None:
        self.matcher = matcher if matcher is not None else Matcher()
        self.seq = seq
        #: sequence number -> monotonic time it was first seen missing
        self.gaps: dict[int, float] = {}
        #: range changes applied in part: sequence number -> the last entry id applied, or
        #: passed over (the next change after ``seq``, or a late one below it; read again
        #: until done)
        self.partial: dict[int, int] = {}
        #: entries and bank changes applied by syncs since this replica was made
        self.applied = 0
        #: when a change was last applied (``time.time()``; the load counts), for the metrics
        self.applied_at = time.time()
        #: the last ``sync`` with a page limit stopped with changes left to apply
        self.behind = False
        self._lock = Lock()
        self._count_lock = Lock()
        self._catching = 0  # syncs applying more than one page now

    def capture(self):
        """(seq, gaps, build): the feed cursor and a picture of the matcher taken together
        (no change is applied meanwhile; brief), and the function that builds the snapshot
        arrays from the picture without any lock (``Matcher.capture``). A range change applied
        in part is not included: below ``seq`` it is named with the gaps (read again whole),
        above it it is the next change anyway (applying its entries again changes nothing)."""
        with self._lock:
            late = {s for s in self.partial if s < self.seq}
            return self.seq, set(self.gaps) | late, self.matcher.capture()

    @classmethod
    def load(cls, session: Session) -> Replica:
        """A replica holding every bank and every entry that is not removed."""
        replica = cls(seq=session.scalar(select(func.coalesce(func.max(BankChange.seq), 0))) or 0)
        matcher = replica.matcher
        for bank in session.scalars(select(Bank)):
            matcher.put_bank(bank_policy(bank))
        pdq: list[tuple[np.ndarray, np.ndarray]] = []
        for rows in _chunks(session):
            _put_rows(session, matcher, rows, pdq)
        if pdq:  # indexed once: one segment, no merges
            ids = np.concatenate([p[0] for p in pdq])
            hashes = np.concatenate([p[1] for p in pdq])
            del pdq[:]
            matcher.put_pdq(ids, hashes)
        return replica

    @property
    def catching_up(self) -> bool:
        """A sync is applying a backlog of more than one page (an import of many entries)."""
        return self._catching > 0

    def sync(self, session: Session, *, pages: int | None = None,
             defer_to_catch_up: bool = False) -> int:
        """Apply the changes after ``seq``, a page (``PAGE`` entries) at a time; returns how
        many were applied (a range's entries each counting as one). ``pages``: stop after
        that many pages; ``behind`` then says whether changes were left (a later sync applies
        them). A page's entries go into the matcher in
        one step (a query sees each change whole), and the replica's lock is released between
        pages: queries, and a snapshot's capture, fall between pages. While a sync has more
        than one page to apply, ``catching_up`` is set; ``defer_to_catch_up``: then return at
        once (with what is applied so far) rather than wait for that sync or join it.

        PostgreSQL hands out sequence numbers at insert time, so a transaction can commit after
        one that took a higher number: the numbers skipped at a sync are remembered and read
        again later (for ``GAP_WATCH_SECONDS``).
        """
        # the pages' PDQ segments are merged once, at the end (``Matcher.merges_deferred``)
        with self.matcher.merges_deferred():
            return self._sync_pages(session, pages, defer_to_catch_up)

    def _sync_pages(self, session: Session, pages: int | None, defer: bool) -> int:
        applied, done, catching = 0, 0, False
        try:
            while True:
                with self._lock:
                    if defer and not catching and self._catching:
                        return applied  # another thread applies a big backlog
                    n, more = self._sync_page(session, PAGE)
                    applied += n
                    done += 1
                    self.behind = more and pages is not None and done >= pages
                    if more and not self.behind and not catching:  # before others see the lock
                        catching = True
                        with self._count_lock:
                            self._catching += 1
                if not more or self.behind:
                    return applied
        finally:
            if catching:
                with self._count_lock:
                    self._catching -= 1

    def _sync_page(self, session: Session, size: int) -> tuple[int, bool]:
        """Read and apply one page of the feed, ``size`` entries at most (the caller holds the
        lock): (changes applied, a range's entries each counting as one; whether more were
        waiting after it)."""
        now = time.monotonic()
        gaps = {s: t for s, t in self.gaps.items() if now - t < GAP_WATCH_SECONDS}
        conn = session.connection()
        # two queries: with "seq > n OR seq IN (gaps)" PostgreSQL walks the whole feed's index
        # from its start (seconds at a million changes), for every scan while a gap is watched
        again = sorted(set(gaps) | {s for s in self.partial if s < self.seq})
        late = feed.read(conn, seqs=again) if again else []
        rows = feed.read(conn, after=self.seq, limit=size + 1)
        # the cursor's new state, kept aside until the page is applied (an error leaves it)
        partial = dict(self.partial)
        budget, more = size, len(rows) > size
        bank_ids: set[int] = set()
        single: list[int] = []
        ranged: list = []
        top, done = self.seq, set()
        for is_late, change in [(True, c) for c in late] + [(False, c) for c in rows[:size]]:
            if budget <= 0:
                more = True
                break
            whole = True
            if change.kind == "bank":
                bank_ids.add(change.ref_id)
                budget -= 1
            elif not change.is_range:
                single.append(change.ref_id)
                budget -= 1
            else:  # a range: up to the page's budget of its entries, from where it stopped,
                # read a window of ids at a time (``changes.range_rows``; more than one only
                # where ids of the range are missing: another transaction's, rolled back)
                rows_in, start = feed.range_rows(conn, change, _COLUMNS, partial.get(change.seq, 0),
                                                 budget)
                ranged += rows_in
                got = len(rows_in)
                if start < change.last_id:  # the page ends inside it
                    whole, more = False, True
                    partial[change.seq] = start
                budget -= max(1, got)
            if whole:
                partial.pop(change.seq, None)
                done.add(change.seq)
            gaps.pop(change.seq, None)  # a late range applied in part stays in ``partial``
            if not is_late:  # changes after ``seq``, in order: the cursor stops before a part
                if not whole:
                    break
                top = change.seq
        for seq in range(self.seq + 1, top):
            if seq not in done:
                gaps[seq] = now
        if single:
            ranged += [r for rows in _chunks(session, np.array(single, np.int64)) for r in rows]
        # an entry named twice (its own change and a range, say) is put once: rows by id
        entry_rows = list({r[0]: r for r in ranged}.values())
        matcher = self.matcher
        if bank_ids:
            for bank in session.scalars(select(Bank).where(Bank.id.in_(bank_ids))):
                matcher.put_bank(bank_policy(bank))
        if entry_rows:  # the page's entries at once (one PDQ segment, one table update)
            _put_rows(session, matcher, entry_rows)
        self.gaps, self.partial = gaps, partial
        if not done and not entry_rows and not bank_ids:
            return 0, more
        self.seq = top
        self.applied_at = time.time()
        self.applied += size - budget
        return size - budget, more
