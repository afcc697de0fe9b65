"""The replica owns the change-feed cursor; the matcher stays pure (it knows nothing of the feed)."""

from __future__ import annotations

from sqlalchemy import func, select

from rempart.banks import service
from rempart.banks.models import BankChange, BankEntry
from rempart.banks.replica import Replica
from rempart.matching.matcher import Matcher, Query
from rempart.runtime import Runtime
from rempart.store.db import utcnow

SHA = "ab" * 32


def _seq(rt) -> int:
    with rt.db.session() as s:
        return s.scalar(select(func.max(BankChange.seq)))


def test_the_matcher_carries_no_database_cursor():
    m = Matcher()
    assert not hasattr(m, "seq") and not hasattr(m, "gaps")
    assert "sync" not in dir(m)


def test_a_replica_follows_changes_made_by_another_process(settings):
    node, curator = Runtime(settings), Runtime(settings)
    try:
        assert isinstance(node.replica, Replica) and node.matcher is node.replica.matcher
        with curator.db.session() as s:
            bank = service.create_bank(s, "known")
            service.add_entries(s, bank, [service.NewEntry("sha256", SHA)])
        assert node.replica.seq < _seq(curator)
        assert node.matcher.match(Query(exact={"sha256": SHA}), utcnow()).matches == ()
        assert node.sync() == 2  # the bank, then its entry
        assert node.replica.seq == _seq(curator)
        assert [m.bank for m in node.matcher.match(Query(exact={"sha256": SHA}), utcnow()).matches] == ["known"]
        assert node.sync() == 0
        fresh = Runtime(settings)  # a process started later loads the same state and cursor
        assert fresh.replica.seq == node.replica.seq and len(fresh.matcher) == len(node.matcher)
        fresh.close()
    finally:
        node.close()
        curator.close()


def test_a_gap_in_the_feed_is_read_again_when_it_commits(runtime):
    """PostgreSQL numbers changes at insert, so a later number can commit first: the replica
    remembers the numbers it skipped and applies them when they appear."""
    with runtime.db.session() as s:
        bank = service.create_bank(s, "known")
        entry = service.add_entries(s, bank, [service.NewEntry("sha256", SHA)]).added[0].id
    runtime.sync()
    top = runtime.replica.seq
    with runtime.db.session() as s:  # number top+2 commits while top+1 is still in flight
        s.add(BankChange(seq=top + 2, kind="bank", ref_id=bank.id))
    runtime.sync()
    assert runtime.replica.seq == top + 2 and set(runtime.replica.gaps) == {top + 1}
    with runtime.db.session() as s:  # top+1 commits: the entry was disabled
        s.get(BankEntry, entry).disabled_at = utcnow()
        s.add(BankChange(seq=top + 1, kind="entry", ref_id=entry))
    assert runtime.sync() == 1
    assert runtime.replica.gaps == {} and runtime.replica.seq == top + 2
    assert runtime.matcher.match(Query(exact={"sha256": SHA}), utcnow()).matches == ()
