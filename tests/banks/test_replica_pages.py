"""A replica applies the change feed a page at a time (``replica.PAGE`` changes): the same state
as one step, every change whole at every page boundary, and while one scan applies a big
backlog the scans of other threads go on without waiting for it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from rempart.banks import changes
from rempart.banks import replica as replica_module
from rempart.banks import service
from rempart.banks.models import BankChange
from rempart.banks.replica import Replica
from rempart.matching.matcher import Query
from tests.banks.test_snapshots import World, verdicts


def _entries(replica: Replica, ids: list[int]) -> dict:
    return {i: replica.matcher.entry(i) for i in ids}


def _banks(replica: Replica) -> list:
    return sorted(replica.matcher.banks(), key=lambda b: b.id)


@pytest.mark.parametrize("seed", [3, 4])
def test_a_paged_sync_gives_the_state_of_one_step(runtime, monkeypatch, seed):
    world = World(runtime, seed)
    world.add(30)
    with runtime.db.session() as s:
        paged, by_page, one_step = Replica.load(s), Replica.load(s), Replica.load(s)
    world.add(40)
    world.add(25)
    world.churn(40)
    world.add(10)
    world.churn(20)
    monkeypatch.setattr(replica_module, "PAGE", 7)
    with runtime.db.session() as s:
        applied = paged.sync(s)
        assert not paged.behind and not paged.catching_up
        steps = 0
        while True:  # one page per call, as a scan does
            by_page.sync(s, pages=1)
            steps += 1
            if not by_page.behind:
                break
    monkeypatch.setattr(replica_module, "PAGE", 10**9)
    with runtime.db.session() as s:
        assert one_step.sync(s) == applied > 7
        fresh = Replica.load(s)
    assert steps == -(-applied // 7)
    queries = world.queries()
    assert any(r.matches for r in verdicts(fresh, queries))
    for r in (paged, by_page, one_step):
        assert r.seq == fresh.seq and r.gaps == {}
        assert len(r.matcher) == len(fresh.matcher)
        assert _banks(r) == _banks(fresh)
        assert _entries(r, world.ids) == _entries(fresh, world.ids)
        assert verdicts(r, queries) == verdicts(fresh, queries)


def test_at_every_page_boundary_each_change_is_whole(runtime, monkeypatch):
    """Between pages (where queries run) every entry and bank that the changes applied so far
    name is in its state in the database, every other one as before the sync: no change is
    ever half in, and none is applied ahead of its page."""
    world = World(runtime, 5)
    world.add(6)
    with runtime.db.session() as s:
        node = Replica.load(s)
    every = list(range(1, 40))  # ids of the entries there will be, and more (None: absent)
    start = node.seq
    for k in range(30):  # one change each, so that a page boundary can fall after any
        before = _seq(runtime)
        pick = k % 5
        if pick == 0:
            world.add(1)
        elif pick == 4:
            with runtime.db.session() as s:
                service.update_bank(s, "b", threshold=[10, 31, 40][k % 3])
        else:
            with runtime.db.session() as s:  # an entry it changes (a disabled one to enable)
                entry = world.rng.choice([
                    i for i in world.ids if service.get_entry(s, i).removed_at is None
                    and (service.get_entry(s, i).disabled_at is not None) == (pick == 2)])
                if pick == 1:
                    service.disable_entry(s, entry, reason="fp")
                elif pick == 2:
                    service.enable_entry(s, entry)
                else:
                    service.remove_entry(s, entry)
        assert _seq(runtime) == before + 1
    with runtime.db.session() as s:
        fresh = Replica.load(s)
        feed = s.execute(select(BankChange.seq, BankChange.kind, BankChange.ref_id)
                         .where(BankChange.seq > start)).all()
    old_entries, old_banks = _entries(node, every), {b.id: b for b in node.matcher.banks()}
    new_entries, new_banks = _entries(fresh, every), {b.id: b for b in fresh.matcher.banks()}
    monkeypatch.setattr(replica_module, "PAGE", 4)
    boundaries = 0
    with runtime.db.session() as s:
        while True:
            node.sync(s, pages=1)
            boundaries += 1
            named = {(kind, ref) for seq, kind, ref in feed if seq <= node.seq}
            assert _entries(node, every) == {
                i: new_entries[i] if ("entry", i) in named else old_entries[i] for i in every}
            assert {b.id: b for b in node.matcher.banks()} == {
                i: new_banks[i] if ("bank", i) in named else old_banks[i] for i in new_banks}
            if not node.behind:
                break
    assert boundaries == -(-30 // 4) and node.seq == fresh.seq


def _seq(runtime) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.coalesce(func.max(BankChange.seq), 0)))


@pytest.mark.parametrize("how", ["add", "bulk"])
def test_while_one_scan_applies_a_big_backlog_other_scans_go_on(runtime, monkeypatch, how):
    monkeypatch.setattr(replica_module, "PAGE", 5)
    world = World(runtime, 6)
    replica = runtime.replica  # loaded now: what follows is a backlog
    held = len(replica.matcher)
    world.add(23) if how == "add" else world.bulk(23, bank="a")  # 23 changes, or a range of 23
    top = _seq(runtime)
    paused, gate, calls = threading.Event(), threading.Event(), []
    page = replica._sync_page

    def second_page_waits(session, size):
        calls.append(size)
        if len(calls) == 2:  # the first page is in; the lock is held for the second
            paused.set()
            assert gate.wait(30)
        return page(session, size)

    monkeypatch.setattr(replica, "_sync_page", second_page_waits)
    md5 = next(v for t, v in world.values if t == "md5")
    first = threading.Thread(target=runtime.scan_signals, args=([("md5", md5)],))
    first.start()
    assert paused.wait(30)
    assert len(replica.matcher) == held + 5 and replica.catching_up
    runtime.scan_signals([("md5", md5)])  # another thread's scan: it does not wait
    assert len(replica.matcher) == held + 5 and len(calls) == 2
    gate.set()
    first.join(30)
    assert replica.seq == top and not replica.catching_up and len(calls) == 5
    with runtime.db.session() as s:
        fresh = Replica.load(s)
    queries = world.queries()
    assert verdicts(replica, queries) == verdicts(fresh, queries)
    assert any(r.matches for r in verdicts(replica, queries))
    # caught up: a small change counts for the very next scan again
    with runtime.db.session() as s:
        service.disable_entry(s, world.ids[0], reason="fp")
    runtime.scan_signals([("md5", md5)])
    assert replica.seq == top + 1


@pytest.mark.parametrize("page", [7, 20_000])
def test_a_bulk_add_applied_in_pages_equals_a_fresh_load_and_every_page_is_whole(
        runtime, monkeypatch, page):
    """A bulk add is one range change: a replica applies it PAGE entries at a time, in id
    order, each entry in its state in the database, the others not yet in; at the end it holds
    what a fresh load holds (restored entries and changes after the range included)."""
    world = World(runtime, 8)
    world.add(12)
    with runtime.db.session() as s:
        node = Replica.load(s)
        gone = world.ids[:4]
        for entry_id in gone:
            service.remove_entry(s, entry_id)
    with runtime.db.session() as s:
        bank = service.get_bank(s, "a")
        listed = [service.NewEntry(e.signal_type, e.value) for e in
                  (service.get_entry(s, i) for i in gone) if e.bank_id == bank.id]
        new = [service.NewEntry("md5", "%032x" % world.rng.getrandbits(128)) for _ in range(40)]
        r = service.apply_entry_batches(s, bank, [new[:25] + listed, new[25:]])
        range_ids = sorted(set(r.added_ids()) - set(gone))
        fed = changes.read(s.connection(), after=node.seq)
    assert [c.ref_to is not None for c in fed].count(True) == 1 and len(range_ids) == 40
    world.churn(6)  # changes after the range
    with runtime.db.session() as s:
        fresh = Replica.load(s)
    every = sorted(set(world.ids) | set(range_ids))
    monkeypatch.setattr(replica_module, "PAGE", page)
    pages, seen = 0, 0
    with runtime.db.session() as s:
        while True:
            node.sync(s, pages=1)
            pages += 1
            got = [i for i in range_ids if node.matcher.entry(i) is not None]
            assert got == range_ids[:len(got)]  # a prefix in id order: no entry skipped
            assert all(node.matcher.entry(i) == fresh.matcher.entry(i) for i in got)
            assert len(got) - seen <= page
            seen = len(got)
            if not node.behind:
                break
    assert seen == 40 and (pages > 40 // 7 if page == 7 else pages == 1)
    assert node.seq == fresh.seq and not node.partial
    assert {i: node.matcher.entry(i) for i in every} == {i: fresh.matcher.entry(i) for i in every}
    assert len(node.matcher) == len(fresh.matcher)
    queries = world.queries() + [Query(exact={"md5": e.value}) for e in new]
    assert verdicts(node, queries) == verdicts(fresh, queries)
    assert sum(bool(v.matches) for v in verdicts(node, queries)) >= 40


def test_a_range_is_read_a_window_of_ids_at_a_time(runtime, monkeypatch):
    """Each query of a range's page names at most a page of ids (a bounded id range, not the
    rest of the range behind a LIMIT, which PostgreSQL, without statistics for rows an import
    has just committed, read whole and sorted on disk for every page), and an id of the range
    that is not there (another transaction's, rolled back) only shortens a page: every entry
    is applied once, the cursor going on past the gap."""
    from sqlalchemy import event, text

    world = World(runtime, 8)
    world.add(4)
    with runtime.db.session() as s:
        node = Replica.load(s)
    world.bulk(23, bank="a")
    with runtime.db.session() as s:
        lo, hi = s.execute(select(BankChange.ref_id, BankChange.ref_to)
                           .where(BankChange.ref_to.is_not(None))).one()
        gone = lo + 6  # as if rolled back: its id inside the range, never committed
        s.execute(text("DELETE FROM bank_entries WHERE id = :i"), {"i": gone})
    monkeypatch.setattr(replica_module, "PAGE", 5)
    spans: list[int] = []

    def window(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().startswith("SELECT bank_entries.id") and "BETWEEN" in statement:
            bounds = [v for v in (parameters.values() if isinstance(parameters, dict)
                                  else parameters) if isinstance(v, int)]
            spans.append(max(bounds) - min(bounds) + 1)

    event.listen(runtime.db.engine, "before_cursor_execute", window)
    try:
        with runtime.db.session() as s:
            node.sync(s)
            fresh = Replica.load(s)
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", window)
    assert spans and max(spans) <= 5
    assert len(spans) >= -(-(hi - lo + 1) // 5)
    assert node.seq == fresh.seq and not node.partial and len(node.matcher) == len(fresh.matcher)
    assert node.matcher.entry(gone) is None
    assert _entries(node, list(range(lo, hi + 1))) == _entries(fresh, list(range(lo, hi + 1)))
