"""Engine and session handling for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import select
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from annotated_types import Interval

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: the largest integer a request may give where the database compares it: ids are INTEGER
#: columns (32 bits on PostgreSQL), offsets and counts BIGINT. A larger value is a malformed
#: request (422), not an overflow in the database driver (500)
MAX_ID = 2**31 - 1
MAX_INT = 2**63 - 1
#: an id of a row, as a request names it in a path or a body field (a query or form field with a
#: default says ``Query(..., ge=1, le=MAX_ID)``: FastAPI keeps only the default's constraints)
RowId = Annotated[int, Interval(ge=1, le=MAX_ID)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> dt.datetime:
    """Naive UTC now: every timestamp in the database is UTC without tzinfo (SQLite has none)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_savepoint_takes_write_lock(conn, _name) -> None:
    """A savepoint is where a block reads then writes (``ensure_bank``, a case's first event).
    Opened outside a transaction, SQLite starts a deferred one: the first read pins a snapshot,
    and if another connection commits before the block's first write, upgrading that snapshot
    fails at once with "database is locked" (waiting cannot help). Taking the write lock first
    (``BEGIN IMMEDIATE``, which waits ``busy_timeout``) makes the other writer wait instead."""
    raw = conn.connection.driver_connection
    if not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


#: libpq's ``CONNECTION_OK`` and ``PQTRANS_IDLE`` (psycopg's ``pq.ConnStatus.OK`` and
#: ``pq.TransactionStatus.IDLE``; psycopg is only there with the "postgres" extra)
_CONNECTION_OK = 0
_PQTRANS_IDLE = 0


def _idle_connection_check(dbapi_conn, _record, _proxy) -> None:
    """The liveness rule of a pooled PostgreSQL connection (psycopg), at each checkout, in place
    of a ping (a round trip per transaction: under CPU contention each costs the scan a
    scheduler wake-up on both sides). A connection in the pool is idle: the server has nothing
    to say on it unless it is closing it (a restart, ``pg_terminate_backend``, an idle timeout:
    a FATAL message, then the end of the stream). So a connection that is not in a good idle
    state, or whose socket has anything to read, is discarded and the pool connects anew
    (``DisconnectionError``); the check is a local poll, no round trip. Not seen here: a peer
    gone silent (a network cut, no end of stream): the first statement then fails after TCP's
    timeout, where a ping would have waited as long before the pool connected anew."""
    pgconn = dbapi_conn.pgconn
    if pgconn.status != _CONNECTION_OK or pgconn.transaction_status != _PQTRANS_IDLE:
        raise DisconnectionError("pooled connection not idle and open")
    poll = select.poll()
    poll.register(pgconn.socket, select.POLLIN)
    if poll.poll(0):
        raise DisconnectionError("the server spoke on an idle pooled connection (closing it)")


def insert_missing(session: Session, model: type[Base], **values) -> None:
    """INSERT a row unless one with the same key exists (``ON CONFLICT DO NOTHING``, which
    SQLite and PostgreSQL both speak): for rows that concurrent first users may both create
    (a counter of the day, a person's settings), before a conditional UPDATE of that row."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(model).values(**values).on_conflict_do_nothing())


class Database:
    """One engine and its session factory. ``session()`` is the unit of work: commit or roll back."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.engine: Engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "savepoint", _sqlite_savepoint_takes_write_lock)
        elif make_url(url).get_driver_name() == "psycopg":
            self.engine = create_engine(url)
            event.listen(self.engine, "checkout", _idle_connection_check)
        else:  # another driver: a ping at each checkout
            self.engine = create_engine(url, pool_pre_ping=True)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self, *, autocommit: bool = False) -> Iterator[Session]:
        """A transaction: committed when the block ends normally, rolled back on any error.

        ``autocommit`` (PostgreSQL; on SQLite an ordinary transaction): no transaction, each
        statement commits on its own (durably, before it returns), and no BEGIN or COMMIT is
        sent: for a block that reads, then writes at most one statement (a scan that matched
        nothing, ``Runtime.scan_fingerprint``)."""
        if not autocommit or self.is_sqlite:
            with self._session(self._factory()) as s:
                yield s
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            with self._session(self._factory(bind=conn)) as s:
                yield s

    @staticmethod
    @contextmanager
    def _session(s: Session) -> Iterator[Session]:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def listen(self, name: str, fn) -> None:
        """Listen to an event of this database's sessions only (``after_commit``...)."""
        event.listen(self._factory, name, fn)

    def dispose(self) -> None:
        self.engine.dispose()
