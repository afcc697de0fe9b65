"""What a scan sends to the database: on PostgreSQL a scan that matched nothing is two round
trips (the change feed's read, then one statement writing its item and signals, each committing
by itself), durable when the scan returns; pooled connections the server closed are replaced
without a ping per checkout; both ways of writing the ledger store the same rows."""

from __future__ import annotations

import contextlib
import tempfile
import time

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from rempart.matching.matcher import MatchResult
from rempart.scanning import service as scanning
from rempart.scanning.models import ItemSignal, ScannedItem
from rempart.scanning.service import ScanContext
from rempart.scanning.signals import SignalRow
from tests.factories import image_bytes


@contextlib.contextmanager
def round_trips(runtime):
    """Count the round trips (each ends with the server's ReadyForQuery) of every connection
    checked out meanwhile, from libpq's own trace of the protocol. Yields a list, filled at
    the end with the trace's messages from the client and the count."""
    from psycopg import pq

    files, out = [], []

    def traced(dbapi_conn, _record, _proxy):
        f = tempfile.TemporaryFile("w+")
        files.append(f)
        dbapi_conn.pgconn.trace(f.fileno())
        dbapi_conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)

    def untraced(dbapi_conn, _record):
        dbapi_conn.pgconn.untrace()

    event.listen(runtime.db.engine, "checkout", traced)
    event.listen(runtime.db.engine, "checkin", untraced)
    try:
        yield out
    finally:
        event.remove(runtime.db.engine, "checkout", traced)
        event.remove(runtime.db.engine, "checkin", untraced)
    lines = []
    for f in files:
        f.seek(0)
        lines += f.read().splitlines()
        f.close()
    out.append([ln.split("\t")[2] + (" " + ln.split("\t")[3] if ln.split("\t")[2] == "Query"
                                      else "") for ln in lines if ln.startswith("F\t")])
    out.append(sum(1 for ln in lines if ln.startswith("B\t") and "\tReadyForQuery" in ln))


def test_a_scan_that_matches_nothing_is_two_round_trips_and_durable_when_it_returns(runtime,
                                                                                     monkeypatch):
    runtime.scan_media(image_bytes(1))  # the replica loaded, a connection in the pool
    if runtime.db.is_sqlite:  # no round trips: the ledger row is all there is to see
        out = runtime.scan_media(image_bytes(2))
    else:
        with round_trips(runtime) as seen:
            out = runtime.scan_media(image_bytes(2))
        sent, trips = seen
        # before: a ping (";"), BEGIN, the feed's read, the item, its signals, COMMIT: 6
        assert trips == 2, sent
        assert not any(m.startswith("Query") for m in sent), sent  # no BEGIN, COMMIT or ping
        # more signal rows than one statement takes (a long video): a transaction
        monkeypatch.setattr(scanning, "ONE_STATEMENT_ROWS", 3)
        with round_trips(runtime) as seen:
            runtime.scan_media(image_bytes(9))
        assert [m.split('"')[1].split()[0] for m in seen[0] if m.startswith("Query")] == [
            "BEGIN", "COMMIT"]
        monkeypatch.undo()
    assert out.verdict == "allow"
    # durable when the scan returned: another connection (of another engine) reads it
    other = create_engine(runtime.settings.database_url)
    try:
        with other.connect() as c:
            assert c.scalar(select(ScannedItem.verdict).where(ScannedItem.id == out.item_id)) == "allow"
            kinds = c.scalars(select(ItemSignal.signal_type).where(ItemSignal.item_id == out.item_id)
                              .order_by(ItemSignal.id)).all()
    finally:
        other.dispose()
    assert kinds[:3] == ["sha256", "md5", "sha1"] and set(kinds[3:]) == {"pdq"}


def test_a_scan_that_matches_is_one_transaction_with_what_follows_from_it(runtime):
    """Hooks run for a scan that matched, in its transaction (a failing one undoes the ledger
    row), and not for a scan that matched nothing."""
    from rempart.banks import service as banks

    with runtime.db.session() as s:
        banks.create_bank(s, "known")
    runtime.bank_media("known", runtime.fingerprint(image_bytes(3)))
    seen = []
    runtime.after_scan.append(lambda s, item, result: seen.append(item.verdict))
    runtime.scan_media(image_bytes(4))
    assert seen == []
    assert runtime.scan_media(image_bytes(3)).verdict == "block"
    assert seen == ["block"]

    def explode(session, item, result):
        raise RuntimeError("a later hook failed")

    runtime.after_scan.append(explode)
    with runtime.db.session() as s:
        before = s.scalar(select(func.count()).select_from(ScannedItem))
    with pytest.raises(RuntimeError):
        runtime.scan_media(image_bytes(3, "resized"))
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ScannedItem)) == before


def test_both_ways_of_writing_the_ledger_store_the_same_rows(runtime, monkeypatch):
    """The one statement (PostgreSQL, a scan that matched nothing) and the ORM (a match, a long
    video, SQLite) store the same item and signals, in the same order (a video's frames: t
    set, quality None or set)."""
    rows = [SignalRow("sha256", "a" * 64), SignalRow("md5", "b" * 32)]
    rows += [SignalRow("pdq", f"{i:064x}", variant, t=i / 3, quality=None if i % 2 else 80 + i)
             for variant in ("original", "flipx") for i in range(4)]
    context = ScanContext(account="acct", space="g", message="m")
    empty = MatchResult((), (), ())

    def record() -> int:
        with runtime.db.session() as s:
            return scanning.record_scan(s, rows=rows, kind="video", context=context, result=empty,
                                        source="upload", media_format="mp4",
                                        size_bytes=1234).id

    one = record()
    monkeypatch.setattr(scanning, "ONE_STATEMENT_ROWS", 0)  # the ORM's way
    orm = record()

    def stored(item_id):
        with runtime.db.session() as s:
            item = s.get(ScannedItem, item_id)
            columns = [c.key for c in ScannedItem.__table__.columns if c.key not in ("id", "scanned_at")]
            sigs = s.scalars(select(ItemSignal).where(ItemSignal.item_id == item_id)
                             .order_by(ItemSignal.id)).all()
            return ([getattr(item, k) for k in columns],
                    [(g.signal_type, g.value, g.variant, g.t, g.quality) for g in sigs])

    assert stored(one) == stored(orm)
    assert stored(one)[1] == [(r.signal_type, r.value, r.variant, r.t, r.quality) for r in rows]


def test_scans_go_on_after_the_server_closed_the_pooled_connections(runtime):
    """No ping per checkout: a pooled connection the server closed (a restart, a terminated
    backend) is found closed by a local check and replaced; the scan does not fail."""
    runtime.scan_media(image_bytes(5))
    if runtime.db.is_sqlite:
        runtime.db.engine.dispose()
    else:
        name = make_url(runtime.settings.database_url).database
        admin = create_engine(runtime.settings.database_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as c:
                killed = c.scalar(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                       " WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": name})
            assert killed >= 1
            for _ in range(100):  # gone: each pooled socket has the server's last word
                with admin.connect() as c:
                    if not c.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"
                                         " AND pid <> pg_backend_pid()"), {"d": name}):
                        break
                time.sleep(0.05)
        finally:
            admin.dispose()
    for seed in (6, 7, 8):
        assert runtime.scan_media(image_bytes(seed)).verdict == "allow"
