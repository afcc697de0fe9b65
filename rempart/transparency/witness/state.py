"""A witness's durable state: one SQLite file (``state.db`` in the witness directory).

    cosigned   origin (key), size, root, note: the latest checkpoint cosigned per log
    evidence   checkpoints signed by a log but refused as inconsistent (422): what a witness
               keeps as proof that the log showed two histories (at most ``MAX_EVIDENCE`` per log)

``advance`` is the specification's atomic step: it takes SQLite's write lock (``BEGIN
IMMEDIATE``, so concurrent requests, threads or processes, wait in turn), reads the origin's
record, lets the caller decide, writes the new record and commits (``synchronous = FULL``:
on disk before the witness answers). A witness restarted reads the same file.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rempart.transparency.witness.protocol import Cosigned

MAX_EVIDENCE = 100
_SCHEMA = """
CREATE TABLE IF NOT EXISTS cosigned (
    origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL, note BLOB NOT NULL,
    updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, request BLOB NOT NULL,
    reason TEXT NOT NULL, received_at INTEGER NOT NULL);
"""


class WitnessState:
    """The state file of one witness; safe to use from many threads and processes at once."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        # one writer at a time in this process: waiting here is cheaper than SQLite's busy loop
        self._lock = threading.Lock()
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA synchronous = FULL")
        return db

    def latest(self, origin: str) -> Cosigned | None:
        """The latest checkpoint cosigned for ``origin``, if any."""
        db = self._connect()
        try:
            row = db.execute("SELECT size, root, note FROM cosigned WHERE origin = ?", (origin,)).fetchone()
        finally:
            db.close()
        return None if row is None else Cosigned(origin, row[0], bytes(row[1]), bytes(row[2]))

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding SQLite's write lock from its first statement."""
        with self._lock:
            db = self._connect()
            try:
                db.execute("BEGIN IMMEDIATE")
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            finally:
                db.close()

    def advance(self, origin: str, decide: Callable[[Cosigned | None], Cosigned]) -> Cosigned:
        """Atomically: read ``origin``'s record, ``decide`` the new one (or raise), store it."""
        with self._write() as db:
            row = db.execute("SELECT size, root, note FROM cosigned WHERE origin = ?", (origin,)).fetchone()
            new = decide(None if row is None else Cosigned(origin, row[0], bytes(row[1]), bytes(row[2])))
            db.execute("INSERT INTO cosigned (origin, size, root, note, updated_at) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
                       "note = excluded.note, updated_at = excluded.updated_at",
                       (origin, new.size, new.root, new.note, int(time.time())))
        return new

    def keep_evidence(self, origin: str, request: bytes, reason: str) -> None:
        """Keep a refused, log-signed request (fork evidence); the oldest go past ``MAX_EVIDENCE``."""
        with self._write() as db:
            db.execute("INSERT INTO evidence (origin, request, reason, received_at) VALUES (?, ?, ?, ?)",
                       (origin, request, reason, int(time.time())))
            db.execute("DELETE FROM evidence WHERE origin = ? AND id NOT IN (SELECT id FROM evidence "
                       "WHERE origin = ? ORDER BY id DESC LIMIT ?)", (origin, origin, MAX_EVIDENCE))

    def evidence(self, origin: str) -> list[tuple[bytes, str]]:
        """The refused requests kept for ``origin``, oldest first: (request body, reason)."""
        db = self._connect()
        try:
            rows = db.execute("SELECT request, reason FROM evidence WHERE origin = ? ORDER BY id",
                              (origin,)).fetchall()
        finally:
            db.close()
        return [(bytes(r), reason) for r, reason in rows]
