"""The transparency log in the database: appends, stored hashes, proofs, signed checkpoints.

DB-backed (SQLAlchemy); the pure modules (``merkle``, ``tiles``, ...) never import it.

Layout (see ``models``): leaf ``n`` is row ``tlog_leaves.idx = n``; the RFC 6962 stored hashes
are rows ``tlog_hashes.idx = merkle.stored_hash_index(level, k)``, exactly the order of
``merkle.MemoryHashStore``, so a proof reads O(log n) rows through ``DbHashReader``.

Appends are serialised by the one ``tlog_head`` row: ``lock_head`` takes it with
``SELECT ... FOR UPDATE`` (PostgreSQL: other appenders wait until this transaction ends), and on
SQLite first writes it, which takes the database's single write lock. Everything happens inside
the caller's transaction: a leaf is committed with the event it records, or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rempart.errors import InvalidInput, InvariantViolation, NotFound
from rempart.store.db import utcnow
from rempart.transparency.checkpoint import Checkpoint, parse_checkpoint
from rempart.transparency.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    stored_hash_index,
    stored_hashes_for_leaf,
    tree_hash,
)
from rempart.transparency.db.models import HEAD_ID, LogCheckpoint, LogHash, LogHead, LogLeaf
from rempart.transparency.note import parse_note

LEAF_KINDS = ("decision", "notice", "report")
_CHUNK = 500


class DbHashReader:
    """A ``merkle.HashReader`` over ``tlog_hashes``, seeing the session's own uncommitted appends."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """Return the stored hashes at ``indexes`` in order; ``NotFound`` for one not stored."""
        wanted = sorted(set(indexes))
        found: dict[int, bytes] = {}
        for i in range(0, len(wanted), _CHUNK):
            part = wanted[i : i + _CHUNK]
            rows = self.session.execute(select(LogHash.idx, LogHash.hash).where(LogHash.idx.in_(part)))
            found.update((idx, bytes(h)) for idx, h in rows)
        missing = [i for i in wanted if i not in found]
        if missing:
            raise NotFound("stored hash", missing[0])
        return [found[i] for i in indexes]


class LeafSequence(Sequence[bytes]):
    """The log's entries ``[0, size)`` as a lazy sequence (slices are one query), for ``write_tiles``."""

    def __init__(self, session: Session, size: int) -> None:
        self.session = session
        self.size = size

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, i: int) -> bytes: ...
    @overload
    def __getitem__(self, i: slice) -> list[bytes]: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(self.size)
            if step != 1:
                raise InvalidInput("leaf slices must be contiguous")
            return read_entries(self.session, start, stop)
        if not 0 <= i < self.size:
            raise IndexError(i)
        return read_entries(self.session, i, i + 1)[0]


def lock_head(session: Session) -> LogHead:
    """Take the log's append lock for this transaction and return the (fresh) head row."""
    if session.get_bind().dialect.name == "sqlite":
        # A write takes SQLite's single write lock now (waiting on busy_timeout), before any read.
        session.execute(update(LogHead).where(LogHead.id == HEAD_ID).values(size=LogHead.size))
    stmt = (select(LogHead).where(LogHead.id == HEAD_ID).with_for_update()
            .execution_options(populate_existing=True))
    head = session.scalars(stmt).one_or_none()
    if head is None:
        raise InvariantViolation("the tlog_head row is missing: run the database migrations")
    return head


def tree_size(session: Session) -> int:
    """The number of leaves committed (or appended in this transaction)."""
    size = session.scalar(select(LogHead.size).where(LogHead.id == HEAD_ID))
    if size is None:
        raise InvariantViolation("the tlog_head row is missing: run the database migrations")
    return size


def append(session: Session, head: LogHead, data: bytes, kind: str, day: str,
           event: str | None = None) -> int:
    """Append one entry under the lock ``head`` (from ``lock_head``); return its leaf index.
    ``event`` (unique, private) names what the entry records; see ``leaf_of_event``."""
    if kind not in LEAF_KINDS:
        raise InvalidInput(f"leaf kind must be one of {LEAF_KINDS}")
    n = head.size
    hashes = stored_hashes_for_leaf(n, leaf_hash(data), DbHashReader(session))
    base = stored_hash_index(0, n)
    session.add(LogLeaf(idx=n, data=data, kind=kind, day=day, event=event))
    session.add_all(LogHash(idx=base + i, hash=h) for i, h in enumerate(hashes))
    head.size = n + 1
    head.updated_at = utcnow()
    session.flush()
    return n


def leaf_of_event(session: Session, event: str) -> int | None:
    """The index of the leaf that recorded ``event``, if any. Under the append lock this is
    final: no other transaction can append the event meanwhile."""
    return session.scalar(select(LogLeaf.idx).where(LogLeaf.event == event))


def read_entries(session: Session, start: int, end: int) -> list[bytes]:
    """Return entries ``[start, end)``; ``NotFound`` if any is missing."""
    if not 0 <= start <= end:
        raise InvalidInput(f"bad leaf range [{start}, {end})")
    rows = session.execute(select(LogLeaf.idx, LogLeaf.data)
                           .where(LogLeaf.idx >= start, LogLeaf.idx < end).order_by(LogLeaf.idx)).all()
    if len(rows) != end - start:
        raise NotFound("log leaf", f"[{start}, {end})")
    return [bytes(d) for _, d in rows]


def leaf(session: Session, index: int) -> LogLeaf:
    row = session.get(LogLeaf, index)
    if row is None:
        raise NotFound("log leaf", index)
    return row


def root(session: Session, size: int | None = None) -> bytes:
    """Root hash of the first ``size`` leaves (default: the whole log)."""
    return tree_hash(tree_size(session) if size is None else size, DbHashReader(session))


def prove_inclusion(session: Session, index: int, size: int) -> list[bytes]:
    _check_size(session, size)
    return inclusion_proof(size, index, DbHashReader(session))


def prove_consistency(session: Session, old_size: int, new_size: int) -> list[bytes]:
    _check_size(session, new_size)
    return consistency_proof(old_size, new_size, DbHashReader(session))


def _check_size(session: Session, size: int) -> None:
    have = tree_size(session)
    if size > have:
        raise InvalidInput(f"the log has {have} leaves, not {size}")


# --- signed checkpoints -------------------------------------------------------------------


def store_checkpoint(session: Session, signed: bytes) -> Checkpoint:
    """Keep a signed checkpoint (one per tree size; the first kept wins)."""
    cp = parse_checkpoint(parse_note(signed)[0])
    if session.get(LogCheckpoint, cp.size) is None:
        session.add(LogCheckpoint(size=cp.size, signed=signed))
        session.flush()
    return cp


def latest_checkpoint(session: Session) -> bytes | None:
    row = session.scalars(select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1)).first()
    return bytes(row.signed) if row else None


def checkpoint_covering(session: Session, index: int) -> bytes | None:
    """The earliest signed checkpoint whose tree contains leaf ``index``."""
    row = session.scalars(select(LogCheckpoint).where(LogCheckpoint.size > index)
                          .order_by(LogCheckpoint.size).limit(1)).first()
    return bytes(row.signed) if row else None


def all_checkpoints(session: Session) -> list[tuple[int, bytes]]:
    rows = session.execute(select(LogCheckpoint.size, LogCheckpoint.signed).order_by(LogCheckpoint.size))
    return [(size, bytes(signed)) for size, signed in rows]
