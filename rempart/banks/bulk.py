"""Adding millions of entries to a bank in one transaction, through a staging table.

``BulkAdd`` is the streaming path of ``rempart.banks.service`` (imports of any size, and the
exchanges' upstream syncs): rows are validated by the caller, written in batches into a
temporary staging table with the database's bulk path (PostgreSQL ``COPY``; SQLite one
``executemany`` per batch), then moved into ``bank_entries`` by a few set-based statements:

1. entries of this bank that were removed and are listed again come back (same row, history
   kept), as ``add_entries`` does (an empty bank, a list's first import, skips this probe, and
   on PostgreSQL the anti-join of step 2 too);
2. every (type, value) not in the bank is inserted once (the first line that lists it wins), in
   key order: (type, value) on SQLite, (value, type) on PostgreSQL (the same for a list of one
   type); the ids of one bulk add follow that order, not the file's;
3. the change feed records the new entries as one range (their ids lo..hi: one statement
   inserts them; ``rempart.banks.changes``) and each restored entry on its own, so replicas
   follow. (One row per new entry made 10M feed rows to write, and on PostgreSQL a scan's feed
   query stepped over the import's million uncommitted rows.)

Before the move the staged rows are sorted (``sort``: a covering index on SQLite; on
PostgreSQL an in-memory sort into a second temporary table that keeps each key's first line,
since a temporary table's index would be read through tiny local buffers). On PostgreSQL steps 2
and 3 are one statement: a plain insert of the keys an anti-join finds missing (the bank's row
is held, so no other writer adds to it meanwhile), whose RETURNING ids come back to the client as
COPY's binary output.

Nothing is visible to others until the caller's transaction commits, and nothing stays if it
rolls back (an ``ImportFormatError`` after the last batch, say): the all-or-nothing rule of
imports. The bank's row is taken first, as ``add_entries`` does, so two writers of one bank
queue instead of adding the same hash twice; it is taken only when the sorted rows are moved, so
while a big file is read, staged and sorted other writers go on (on SQLite too: only the
temporary database is written until then, and the single write lock is held for the move
alone). Memory: one batch of rows at a time, and the ids of the entries added (8 bytes each)
for the retro-scan.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from rempart.banks.formats import Row
from rempart.banks.models import Bank, BankEntry
from rempart.errors import InvariantViolation
from rempart.store.db import utcnow

STAGE = "rempart_bulk_stage"
#: PostgreSQL: the staged rows sorted, one per key (its first line)
KEYS = "rempart_bulk_keys"
#: PostgreSQL's sort order of the keys: bytes (the same order as the locale's for these ASCII
#: keys, several times cheaper to sort), value first (see ``BulkAdd.sort``)
PG_KEY_ORDER = 's.value COLLATE "C", s.signal_type COLLATE "C"'
#: COPY's binary output: a 19-byte header, then per row a field count (int16) and per field a
#: length (int32) and the value (an int4 here), all big-endian; a field count of -1 ends it
PG_COPY_HEADER = 19
PG_ID_ROW = np.dtype([("fields", ">i2"), ("length", ">i4"), ("id", ">i4")])
#: SQLite page cache while a bulk add runs on the connection (KiB; the default is 2 MiB): the
#: new rows go into the (bank, type, value) indexes in file order, which is random for hashes
SQLITE_CACHE_KIB = 256 * 1024
#: PostgreSQL settings for the transaction's rest once rows are staged (``SET LOCAL``): sort
#: memory (1M rows sort in about 230 MB); no JIT (compiling these one-off plans cost more than it
#: saved); and joins from the sorted keys into the bank's unique index by nested loops, one
#: ordered probe per key: they read only the keys' part of a big bank, need no memory, and keep
#: the keys' order, so the insert follows it with no second sort (at 10M a sort spills to disk)
PG_SETTINGS = (("work_mem", "'256MB'"), ("jit", "off"), ("enable_hashjoin", "off"),
               ("enable_mergejoin", "off"))

#: one staged row: (line, signal_type, value, external_id, metadata as JSON text or None for {})
StagedRow = tuple[int, str, str, "str | None", str]


@dataclass
class BulkResult:
    """What a bulk add did: ids of the entries added or restored (ascending), and the rest."""

    entry_ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    already_present: int = 0
    #: rows naming a (type, value) an earlier row of the same stream already named
    duplicates: int = 0
    rows: int = 0
    notes: list[str] = field(default_factory=list)
    #: the change-feed numbers of the entries' changes (0, 0 when nothing was added)
    first_seq: int = 0
    last_seq: int = 0

    @property
    def n_added(self) -> int:
        return int(self.entry_ids.shape[0])

    def added_ids(self) -> list[int]:
        return self.entry_ids.tolist()


class BulkAdd:
    """Stage rows with ``stage``, then ``finish`` once (in the same session and transaction)."""

    def __init__(self, session: Session, bank: Bank, added_by: str = "") -> None:
        self.session, self.bank, self.added_by = session, bank, added_by
        self.pg = session.get_bind().dialect.name == "postgresql"
        self.rows = 0
        self.distinct: int | None = None  # keys staged, once sorted
        if not self.pg:  # random-order index inserts: keep the pages in memory until the commit
            session.connection().exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        # named in the temporary schema: staging never touches the main database (SQLite)
        self.t = f"pg_temp.{STAGE}" if self.pg else f"temp.{STAGE}"
        conn = session.connection()
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.t}")
        if self.pg:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS pg_temp.{KEYS}")
        # metadata NULL stands for {} (most rows of a big list): less to stage and sort
        conn.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {STAGE} (line BIGINT NOT NULL, signal_type VARCHAR(16) NOT NULL, "
            "value VARCHAR(128) NOT NULL, external_id VARCHAR(200), metadata TEXT)"
            + (" ON COMMIT DROP" if self.pg else ""))

    def stage(self, rows: Sequence[StagedRow]) -> None:
        """Write one batch of validated rows to the staging table."""
        if not rows:
            return
        conn = self.session.connection()
        if self.pg:
            raw = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(
                    f"COPY {self.t} (line, signal_type, value, external_id, metadata) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            conn.exec_driver_sql(f"INSERT INTO {self.t} VALUES (?, ?, ?, ?, ?)", list(rows))
        self.rows += len(rows)

    def sort(self) -> None:
        """Prepare the staged rows for the move (``finish`` calls it if need be). Like
        ``stage``, it writes only the temporary table: on SQLite the database's single write
        lock is not taken yet, so the longest part of the move does not hold back other writers
        (scans recording their items)."""
        if self.distinct is not None:
            return
        conn = self.session.connection()
        if self.pg:
            # PostgreSQL: one in-memory sort into a second temporary table holding each key once
            # (its first line), in the order the move inserts them; its row count is the number
            # of keys. Value first: the sort's abbreviated keys are then the hashes' own first
            # bytes (with the type first, all alike, the sort took 7x longer). The settings
            # (``PG_SETTINGS``) hold for this transaction only.
            for setting, value in PG_SETTINGS:
                conn.exec_driver_sql(f"SET LOCAL {setting} = {value}")
            self.distinct = conn.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {KEYS} ON COMMIT DROP AS "
                f"SELECT DISTINCT ON ({PG_KEY_ORDER}) s.line, s.signal_type, s.value, s.external_id, "
                f"s.metadata FROM {self.t} s ORDER BY {PG_KEY_ORDER}, s.line").rowcount
            conn.exec_driver_sql(f"DROP TABLE {self.t}")
            self.t = f"pg_temp.{KEYS}"
            # temporary tables have no statistics otherwise (the anti-join's plan needs them)
            conn.exec_driver_sql(f"ANALYZE {self.t}")
            return
        # SQLite: a covering index, so the ordered move below reads the index alone (with
        # the key only, every row was a random read of the staging table: 2.5x slower)
        conn.exec_driver_sql(f"CREATE INDEX {self.t}_key ON {STAGE} "
                             "(signal_type, value, line, external_id, metadata)")
        self.distinct = int(conn.execute(text(
            f"SELECT count(*) FROM (SELECT DISTINCT signal_type, value FROM {self.t}) AS d"
        )).scalar_one())

    def finish(self) -> BulkResult:
        """Move the staged rows into the bank (see the module doc); returns what happened."""
        self.sort()
        # Take the bank's row now (as add_entries does): writers of one bank queue here. Only
        # now: while rows are staged and sorted (a temporary table) others write freely, on
        # SQLite too.
        self.session.execute(update(Bank).where(Bank.id == self.bank.id)
                             .values(updated_at=utcnow())
                             .execution_options(synchronize_session=False))
        conn = self.session.connection()
        now = utcnow()
        params = {"b": self.bank.id, "now": now, "by": self.added_by}
        # An empty bank (a new list's first import) has nothing to restore or skip: no probe of
        # its unique index per staged key (10M probes at 10M, with the bank held)
        empty = conn.execute(text("SELECT NOT EXISTS (SELECT 1 FROM bank_entries WHERE bank_id = :b)"),
                             params).scalar_one()
        # From the staged rows into the bank's unique index (the stage drives: a small list
        # into a big bank reads only its own keys). CROSS JOIN fixes that order on SQLite.
        restored = np.empty(0, np.int64) if empty else np.unique(np.fromiter(conn.execute(text(f"""
            SELECT e.id FROM {self.t} s CROSS JOIN bank_entries e
            WHERE e.bank_id = :b AND e.signal_type = s.signal_type AND e.value = s.value
              AND e.removed_at IS NOT NULL"""), params).scalars(), np.int64))
        for i in range(0, restored.shape[0], 500):
            self.session.execute(update(BankEntry)
                                 .where(BankEntry.id.in_(restored[i:i + 500].tolist()))
                                 .values(removed_at=None)
                                 .execution_options(synchronize_session=False))
        seq_before = conn.execute(text("SELECT coalesce(max(seq), 0) FROM bank_changes")).scalar_one()
        added = self._insert_pg(params, empty) if self.pg else self._insert_sqlite(params)
        if added.shape[0]:
            conn.execute(text("INSERT INTO bank_changes (kind, ref_id, ref_to, at) "
                              "VALUES ('entry', :lo, :hi, :now)"),
                         {"lo": int(added[0]), "hi": int(added[-1]), "now": now})
        ids = np.union1d(restored, added) if restored.shape[0] else added
        for i in range(0, restored.shape[0], 500):
            conn.execute(text("INSERT INTO bank_changes (kind, ref_id, at) VALUES ('entry', :id, :now)"),
                         [{"id": int(x), "now": now} for x in restored[i:i + 500]])
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.t}")
        if self.pg:
            for setting, _ in PG_SETTINGS:
                conn.exec_driver_sql(f"SET LOCAL {setting} TO DEFAULT")
        else:
            conn.exec_driver_sql("PRAGMA cache_size = -2000")  # back to SQLite's default
        first, last = conn.execute(text(
            "SELECT coalesce(min(seq), 0), coalesce(max(seq), 0) FROM bank_changes "
            "WHERE seq > :s AND kind = 'entry'"), {"s": seq_before}).one()
        if last:  # rows written by SQL, not the ORM: name the newest for the change announcement
            # of scale-out mode (``rempart.workers.node`` publishes it after the commit)
            self.session.info["rempart_bank_seq"] = max(int(last),
                                                        self.session.info.get("rempart_bank_seq", 0))
        distinct = int(self.distinct)
        return BulkResult(ids, distinct - int(ids.shape[0]), self.rows - distinct, self.rows,
                          first_seq=int(first), last_seq=int(last))

    def _insert_sqlite(self, params: dict) -> np.ndarray:
        """Insert the keys not in the bank; the ids added, ascending."""
        conn = self.session.connection()
        before = self.session.scalar(select(func.coalesce(func.max(BankEntry.id), 0)))
        # In (type, value) order: the new rows go into the bank's indexes in key order (twice
        # as fast as file order at 1M), so one import's ids follow that order too. A key
        # already in the bank, or named again by a later line, is skipped by the unique index:
        # the first line wins.
        inserted = conn.execute(text(f"""
            INSERT INTO bank_entries (bank_id, signal_type, value, external_id, metadata,
                                      added_at, added_by, disabled_reason)
            SELECT :b, s.signal_type, s.value, s.external_id, coalesce(s.metadata, '{{}}'),
                   :now, :by, ''
            FROM {self.t} s WHERE true
            ORDER BY s.signal_type, s.value, s.line
            ON CONFLICT (bank_id, signal_type, value) DO NOTHING"""), params).rowcount
        # Sized up front: at 10M, transient copies of the ids were a quarter of the import's
        # peak memory. (The bank is held: only this transaction adds to it.)
        return np.fromiter(conn.execute(text(
            "SELECT id FROM bank_entries WHERE bank_id = :b AND id > :before ORDER BY id"),
            {**params, "before": before}).scalars(), np.int64,
            count=inserted if inserted >= 0 else -1)

    def _insert_pg(self, params: dict, empty: bool = False) -> np.ndarray:
        """PostgreSQL: one statement inserts the keys not in the bank and streams their ids back
        in COPY's binary form; returns them, ascending.

        The keys are each there once, and the bank's row is held (every writer of bank entries
        takes it first), so a plain INSERT behind an anti-join adds exactly the keys not in the
        bank: ``ON CONFLICT DO NOTHING`` made each row a speculative insertion (an index probe,
        then the insert, then a confirmation record: 1.7x the time at 1M). The keys table is
        read in the order it was written (a temporary table's scan never starts mid-table, as a
        synchronized scan of a big shared table may), which is key order, and the nested-loop
        anti-join keeps it (``PG_SETTINGS``): the new ids follow it. (Were the order ever
        different, only speed would suffer: the ids are sorted here if need be.) Into an
        ``empty`` bank every key goes in: no anti-join."""
        raw = self.session.connection().connection.driver_connection
        missing = "" if empty else """WHERE NOT EXISTS (SELECT FROM bank_entries e
            WHERE e.bank_id = %(b)s AND e.signal_type = s.signal_type AND e.value = s.value)"""
        out = np.empty(int(self.distinct), np.int64)  # at most one id per key, sized up front
        n, tail = 0, b""
        with raw.cursor() as cur, cur.copy(f"""COPY (
            INSERT INTO bank_entries (bank_id, signal_type, value, external_id, metadata,
                                      added_at, added_by, disabled_reason)
            SELECT %(b)s, s.signal_type, s.value, s.external_id,
                   CAST(coalesce(s.metadata, '{{}}') AS JSON), %(now)s, %(by)s, ''
            FROM {self.t} s
            {missing}
            RETURNING id) TO STDOUT (FORMAT binary)""", params) as copy:
            header = True
            for block in copy:
                buf = tail + bytes(block)
                if header:  # signature, flags, header extension (empty)
                    if len(buf) < PG_COPY_HEADER:
                        tail = buf
                        continue
                    buf, header = buf[PG_COPY_HEADER:], False
                k = len(buf) // PG_ID_ROW.itemsize
                rows = np.frombuffer(buf, PG_ID_ROW, count=k)
                if k and ((rows["fields"] != 1) | (rows["length"] != 4)).any():
                    raise InvariantViolation("unexpected row in COPY's binary output")
                out[n:n + k] = rows["id"]
                n += k
                tail = buf[k * PG_ID_ROW.itemsize:]
        if tail != b"\xff\xff":  # the trailer: a field count of -1
            raise InvariantViolation("unexpected end of COPY's binary output: "
                                     f"{tail[:8].hex() or 'nothing'}")
        ids = out[:n]
        if n > 1 and not (ids[1:] > ids[:-1]).all():  # RETURNING follows the insert's order
            ids.sort()
        return ids


def rows_to_stage(rows: Iterable[Row]) -> list[StagedRow]:
    """Rows for ``BulkAdd.stage`` from parsed rows (``rempart.banks.formats.stream_rows``)."""
    return [r if not r[4] else (*r[:4], json.dumps(r[4], separators=(",", ":"), sort_keys=True))
            for r in rows]


def staged_rows(entries: Iterable, first_line: int = 1) -> list[StagedRow]:
    """Rows for ``BulkAdd.stage`` from validated entries (``ParsedEntry`` or ``NewEntry``:
    anything with signal_type, value, external_id, and metadata, and a ``line`` if known)."""
    return [(getattr(e, "line", n), e.signal_type, e.value, e.external_id,
             json.dumps(e.metadata, separators=(",", ":"), sort_keys=True) if e.metadata else None)
            for n, e in enumerate(entries, first_line)]
