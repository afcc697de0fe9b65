"""A savepoint opened before any write (a read-then-write block: ``ensure_bank``, a case's
first event...) must survive another connection committing in between, on SQLite too.

SQLite opens a deferred transaction at the SAVEPOINT: the block's first read pins a snapshot,
and its first write must then upgrade it. When another connection has committed meanwhile the
upgrade fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT: waiting cannot help).
rempart takes the write lock when such a savepoint opens, so the other writer waits instead."""

from __future__ import annotations

import threading

from sqlalchemy import text

from rempart.store.db import Database


def test_read_then_write_in_a_savepoint_survives_a_concurrent_commit(tmp_path, database_url):
    db = Database(database_url)
    with db.engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE things (name VARCHAR(20) PRIMARY KEY)")
    other_committed = threading.Event()
    errors: list[BaseException] = []

    def other_writer() -> None:
        try:
            with db.session() as s:
                s.execute(text("INSERT INTO things VALUES ('other')"))
            other_committed.set()
        except BaseException as e:  # noqa: BLE001 - reported by the test
            errors.append(e)

    with db.session() as s:
        with s.begin_nested():
            assert s.execute(text("SELECT count(*) FROM things")).scalar_one() == 0
            t = threading.Thread(target=other_writer)
            t.start()
            # without the write lock taken at the savepoint the other writer commits here
            other_committed.wait(1.0)
            s.execute(text("INSERT INTO things VALUES ('mine')"))
    t.join(30)
    assert not errors
    with db.session() as s:
        assert sorted(s.execute(text("SELECT name FROM things")).scalars()) == ["mine", "other"]
    db.dispose()
