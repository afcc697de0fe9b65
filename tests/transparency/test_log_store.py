"""The log in the database: appends, stored hashes and proofs, transactions, serialised appends."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from rempart.errors import InvalidInput
from rempart.store.db import Database
from rempart.store.migrate import upgrade
from rempart.transparency import MemoryHashStore, leaf_hash, verify_consistency, verify_inclusion
from rempart.transparency.db import log_store
from rempart.transparency.db.models import LogHash
from rempart.transparency.db.service import check_stored_hashes


@pytest.fixture
def db(database_url):
    d = Database(database_url)
    upgrade(d)
    yield d
    d.dispose()


def _append(db: Database, entries: list[bytes]) -> list[int]:
    with db.session() as s:
        head = log_store.lock_head(s)
        return [log_store.append(s, head, e, "decision", "2026-11-20") for e in entries]


def test_appends_match_the_reference_tree_and_every_proof_verifies(db):
    entries = [f"entry {i}".encode() for i in range(70)]
    assert _append(db, entries[:33]) == list(range(33))
    assert _append(db, entries[33:]) == list(range(33, 70))
    ref = MemoryHashStore()
    for e in entries:
        ref.append(e)
    with db.session() as s:
        check_stored_hashes(s)
        assert log_store.tree_size(s) == 70
        assert s.scalar(select(func.count()).select_from(LogHash)) == len(ref.hashes)
        for size in (1, 2, 17, 64, 65, 70):
            root = log_store.root(s, size)
            assert root == _ref_root(entries[:size])
            for index in range(size):
                proof = log_store.prove_inclusion(s, index, size)
                verify_inclusion(leaf_hash(entries[index]), index, size, proof, root)
            for old in (1, 7, size):
                if old <= size:
                    proof = log_store.prove_consistency(s, old, size)
                    verify_consistency(old, size, proof, log_store.root(s, old), root)
        assert log_store.read_entries(s, 5, 8) == entries[5:8]
        with pytest.raises(InvalidInput):
            log_store.prove_inclusion(s, 0, 71)


def _ref_root(entries: list[bytes]) -> bytes:
    m = MemoryHashStore()
    for e in entries:
        m.append(e)
    return m.root()


def test_a_rolled_back_transaction_leaves_no_leaf(db):
    _append(db, [b"kept"])
    with pytest.raises(RuntimeError), db.session() as s:
        head = log_store.lock_head(s)
        log_store.append(s, head, b"lost", "decision", "2026-11-20")
        raise RuntimeError("the event failed")
    with db.session() as s:
        assert log_store.tree_size(s) == 1
        check_stored_hashes(s)
        assert log_store.read_entries(s, 0, 1) == [b"kept"]


def test_concurrent_appends_are_serialised(db):
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(8):
                _append(db, [f"w{n} e{i}".encode()])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.session() as s:
        assert log_store.tree_size(s) == 32
        check_stored_hashes(s)
        entries = log_store.read_entries(s, 0, 32)
        assert len(set(entries)) == 32
        assert log_store.root(s) == _ref_root(entries)
