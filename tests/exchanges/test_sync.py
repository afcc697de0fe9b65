"""Syncing banks from the local NCMEC / ThreatExchange / StopNCII servers, end to end: paging,
rate limits, 5xx, truncated and garbled pages, malformed records, additions, updates and
withdrawals, and what each does to the next scan."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select, update

from rempart.banks import service as banks
from rempart.banks.models import BankEntry, RetroJob
from rempart.exchanges import service
from rempart.exchanges.models import ExchangeCheckpoint, ExchangeEntry, ExchangeError, ExchangeRun
from rempart.scanning.models import ItemMatch, ScannedItem
from rempart.scanning.service import ScanContext
from rempart.store.db import utcnow
from tests.exchanges.conftest import FAST, add_source, direct_sync, pdq, sync

KINDS = ("ncmec", "threatexchange", "stopncii")


def _uid(kind: str, i: int) -> str:
    return f"ImagePDQ:{pdq(i)}" if kind == "stopncii" else f"{i}"


def _stopncii_source(rt, upstream, records: int) -> None:
    """A StopNCII server listing ``records`` PDQs in pages of 2, configured here as source "sn"."""
    server = upstream("stopncii", page_size=2)
    for i in range(records):
        server.put(_uid("stopncii", i), [("pdq", pdq(i))])
    server.settle()
    add_source(rt, server, "sn", "sn-list")


def _verdict(rt, value: str) -> str:
    return rt.scan_signals([("pdq", value)]).verdict


def _mapping_rows(rt) -> list[tuple]:
    with rt.db.session() as s:
        return s.execute(select(ExchangeEntry.exchange_id, ExchangeEntry.upstream_id, ExchangeEntry.entry_id)).all()


@pytest.mark.parametrize("kind", KINDS)
def test_a_paged_sync_through_every_failure_applies_each_record_once(runtime, upstream, kind):
    server = upstream(kind, page_size=4)
    for i in range(10):
        server.put(_uid(kind, i), [("pdq", pdq(i))], ["classification:A1"])
    for failure in ("429", "500", "truncate", "garbage", "429"):
        server.inject(failure)
    server.settle()
    add_source(runtime, server, kind, "shared")
    result = sync(runtime, kind)
    assert (result.status, result.added, result.skipped) == ("ok", 10, 0)
    assert result.pages >= 3 and len(result.retries) == 5
    assert {"rate limited (429)", "server error (500)", "answer cut short"} <= set(result.retries)
    assert any(r.startswith("bad page") for r in result.retries)
    rows = _mapping_rows(runtime)
    assert len(rows) == len(set(rows)) == 10
    assert _verdict(runtime, pdq(3)) == "block"
    again = sync(runtime, kind)  # caught up: nothing new, nothing twice
    assert (again.status, again.added, again.updated) == ("ok", 0, 0)
    assert len(_mapping_rows(runtime)) == 10


@pytest.mark.parametrize("kind", KINDS)
def test_withdrawn_upstream_stops_matching_at_the_next_scan_and_keeps_history(runtime, upstream, kind):
    server = upstream(kind)
    for i in range(3):
        server.put(_uid(kind, i), [("pdq", pdq(i))])
    server.settle()
    add_source(runtime, server, kind, "shared")
    sync(runtime, kind)
    assert _verdict(runtime, pdq(1)) == "block"
    server.withdraw(_uid(kind, 1))
    server.settle()
    result = sync(runtime, kind)
    assert (result.deleted, result.added) == (1, 0)
    assert _verdict(runtime, pdq(1)) == "allow"  # the very next scan
    assert _verdict(runtime, pdq(0)) == "block"
    with runtime.db.session() as s:
        entry = s.scalars(select(BankEntry).where(BankEntry.value == pdq(1))).one()
        assert entry.disabled_at is not None and entry.removed_at is None  # history kept
        assert entry.disabled_reason == f"withdrawn upstream by {kind}"
    # shared again upstream: it matches again, the same entry
    server.put(_uid(kind, 1), [("pdq", pdq(1))])
    server.settle()
    assert sync(runtime, kind).added == 1
    assert _verdict(runtime, pdq(1)) == "block"
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(BankEntry).where(BankEntry.value == pdq(1))) == 1


def test_an_update_replaces_the_hashes_and_labels_of_a_record(runtime, upstream):
    server = upstream("ncmec")
    server.put("img-1", [("pdq", pdq(1)), ("md5", "a" * 32)], ["classification:A1"])
    server.settle()
    add_source(runtime, server, "ncmec", "ncmec-list")
    sync(runtime, "ncmec")
    server.put("img-1", [("pdq", pdq(2))], ["classification:B1"])
    server.settle()
    result = sync(runtime, "ncmec")
    assert (result.updated, result.added, result.deleted) == (1, 0, 0)
    assert _verdict(runtime, pdq(1)) == "allow" and _verdict(runtime, pdq(2)) == "block"
    assert runtime.scan_signals([("md5", "a" * 32)]).verdict == "allow"
    with runtime.db.session() as s:
        live = s.scalars(select(ExchangeEntry).where(ExchangeEntry.live.is_(True))).all()
        assert [m.labels for m in live] == [["classification:B1", "media:image", "member:42"]]


def test_a_malformed_record_is_reported_and_skipped_never_half_applied(runtime, upstream):
    server = upstream("ncmec")
    server.put("good", [("pdq", pdq(1))])
    # a valid PDQ and an MD5 that is not hex: the record's PDQ must not be banked either
    server.put_raw("half", f"<image><id>half</id><fingerprints><pdq>{pdq(2)}</pdq><md5>zz</md5>"
                           "</fingerprints></image>")
    server.put_raw("none", "<image><id>none</id><fingerprints><pdna>x</pdna></fingerprints></image>")
    server.settle()
    add_source(runtime, server, "ncmec", "ncmec-list")
    result = sync(runtime, "ncmec")
    assert (result.status, result.added, result.skipped) == ("ok", 1, 2)
    assert _verdict(runtime, pdq(2)) == "allow"
    with runtime.db.session() as s:
        errors = {e.upstream_id: e.reason for e in s.scalars(select(ExchangeError))}
        listed = service.list_exchanges(s)[0]
    assert set(errors) == {"half", "none"} and "md5" in errors["half"].lower()
    assert (listed.errors, listed.live_records) == (2, 1)


def test_a_page_that_never_comes_right_fails_the_run_and_moves_nothing(runtime, upstream):
    server = upstream("threatexchange", page_size=2)
    for i in range(5):
        server.put(str(i), [("pdq", pdq(i))])
    server.settle()
    add_source(runtime, server, "te", "te-list")
    first = sync(runtime, "te", dataclasses.replace(FAST, max_pages=1))
    assert (first.status, first.added) == ("ok", 2)
    with runtime.db.session() as s:
        before = dict(s.get(ExchangeCheckpoint, 1).state)
    server.inject("500", times=50)
    failed = sync(runtime, "te")
    assert failed.status == "failed" and "server error (500)" in failed.error and failed.pages == 0
    with runtime.db.session() as s:
        assert s.get(ExchangeCheckpoint, 1).state == before
        assert service.list_exchanges(s)[0].last_error == failed.error
    server._faults.clear()
    done = sync(runtime, "te")  # resumes at the page that failed: no gap, no duplicate
    assert (done.status, done.added) == ("ok", 3)
    rows = _mapping_rows(runtime)
    assert len(rows) == len(set(rows)) == 5


def test_a_second_sync_at_once_cannot_apply_the_same_page(runtime, upstream):
    _stopncii_source(runtime, upstream, 4)
    # the checkpoint moves under the first sync after its fetch: its page is refused whole
    real = service._apply_page

    def moved_meanwhile(db, ex_id, run_id, version, page, result, held):
        with db.session() as s:
            s.get(ExchangeCheckpoint, ex_id).version += 1
        return real(db, ex_id, run_id, version, page, result, held)

    service._apply_page = moved_meanwhile
    try:
        lost = sync(runtime, "sn")
    finally:
        service._apply_page = real
    assert lost.status == "failed" and "another sync" in lost.error and lost.added == 0
    assert _mapping_rows(runtime) == []
    assert sync(runtime, "sn").added == 4


def _jobs(rt) -> list[tuple]:
    with rt.db.session() as s:
        return s.execute(select(RetroJob.state, RetroJob.entries, RetroJob.matches)
                         .order_by(RetroJob.id)).all()


def test_a_sync_retro_scans_past_uploads_in_one_background_job(runtime, upstream):
    _stopncii_source(runtime, upstream, 5)
    for i in (1, 4):  # uploaded before the source listed them
        assert runtime.scan_signals([("pdq", pdq(i))], ScanContext(account=f"a{i}")).verdict == "allow"
    result = sync(runtime, "sn")
    assert result.status == "ok" and result.added == 5 and result.pages >= 3
    # one job for the whole sync (each page widened it), run once the sync was done
    assert result.retro_job is not None and _jobs(runtime) == [("done", 5, 2)]
    with runtime.db.session() as s:
        found = s.execute(select(ScannedItem.account).join(ItemMatch, ItemMatch.item_id == ScannedItem.id)
                          .where(ItemMatch.found_by == "retro")).scalars().all()
    assert sorted(found) == ["a1", "a4"]
    assert sync(runtime, "sn").retro_job is None  # caught up: nothing added, no job


class Killed(Exception):
    """Stands for the process dying between two pages (not a RempartError: nothing closes the run)."""


def _age(rt, minutes: int) -> None:
    """Move every heartbeat ``minutes`` back, as if that long had passed with no sign of life."""
    then = utcnow() - dt.timedelta(minutes=minutes)
    with rt.db.session() as s:
        s.execute(update(RetroJob).values(heartbeat_at=then))
        s.execute(update(ExchangeRun).values(heartbeat_at=then, started_at=then))


def test_a_killed_sync_shows_as_interrupted_and_nothing_it_committed_goes_unscanned(runtime, upstream):
    _stopncii_source(runtime, upstream, 6)
    runtime.scan_signals([("pdq", pdq(0))], ScanContext(account="early"))

    def die_after_two_pages(r):
        if r.pages == 2:
            raise Killed

    with pytest.raises(Killed):
        direct_sync(runtime, "sn", dataclasses.replace(FAST, on_page=die_after_two_pages))
    with runtime.db.session() as s:
        assert service.list_exchanges(s)[0].last_run["status"] == "running"  # alive, as far as anyone knows
    assert _jobs(runtime) == [("running", 4, 0)]  # held by the dead sync
    assert runtime.run_retro_jobs() == 0
    _age(runtime, int(service.STALE_SECONDS // 60) + 1)
    with runtime.db.session() as s:
        assert service.list_exchanges(s)[0].last_run["status"] == "interrupted"
    assert runtime.run_retro_jobs() == 1  # a runner takes the quiet job over
    assert _jobs(runtime) == [("done", 4, 1)]
    again = sync(runtime, "sn")
    assert (again.status, again.added) == ("ok", 2)  # the rest, from the checkpoint
    assert len(_mapping_rows(runtime)) == 6
    with runtime.db.session() as s:
        runs = s.execute(select(ExchangeRun.status, ExchangeRun.finished_at).order_by(ExchangeRun.id)).all()
        assert [r.status for r in runs] == ["interrupted", "ok"] and runs[0].finished_at is not None
        assert service.list_exchanges(s)[0].last_run["status"] == "ok"


def test_a_withdrawal_leaves_what_a_person_banked_or_a_reviewer_disabled_as_they_left_it(runtime, upstream):
    server = upstream("ncmec")
    for i in range(4):
        server.put(f"img-{i}", [("pdq", pdq(i))])
    server.settle()
    add_source(runtime, server, "ncmec", "ncmec-list")
    runtime.add_entries("ncmec-list", [banks.NewEntry("pdq", pdq(2))], added_by="Exchange:alice")  # a person vouches
    # (named like an exchange in another case: the origin is compared exactly)
    sync(runtime, "ncmec")
    with runtime.db.session() as s:
        banks.disable_entry(s, _entry(s, pdq(0)).id, reason="false positive")
    for i in range(4):
        server.withdraw(f"img-{i}")
    server.settle()
    assert sync(runtime, "ncmec").deleted == 4
    with runtime.db.session() as s:
        reasons = {i: _entry(s, pdq(i)).disabled_reason for i in range(4)}
    assert reasons == {0: "false positive", 1: "withdrawn upstream by ncmec", 2: "",
                       3: "withdrawn upstream by ncmec"}
    assert [_verdict(runtime, pdq(i)) for i in range(4)] == ["allow", "allow", "block", "allow"]


def _entry(s, value: str) -> BankEntry:
    return s.scalars(select(BankEntry).where(BankEntry.value == value)).one()
