"""Streaming imports and exports: batches, all-or-nothing, the change feed, bounded memory."""

from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pytest
from sqlalchemy import func, select

from rempart.banks import service
from rempart.banks.bulk import BulkAdd, rows_to_stage
from rempart.banks.formats import (
    ExportEntry, ParsedEntry, export_hash_list, export_hash_list_stream, parse_hash_list,
    stream_hash_list, stream_rows,
)
from rempart.banks import changes
from rempart.banks.models import BankChange, BankEntry
from rempart.errors import ImportFormatError, InvalidSignal

MD5 = [f"{i:032x}" for i in range(1, 2001)]


def _te(lines: list[str]) -> io.BytesIO:
    return io.BytesIO("".join(line + "\n" for line in lines).encode())


def test_stream_yields_batches_in_order_and_errors_after_the_last():
    data = [f"md5 {v} external_id=e{i}" for i, v in enumerate(MD5[:10])]
    batches = list(stream_hash_list(_te(data), "te", batch=3))
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert [e.line for b in batches for e in b] == list(range(1, 11))
    bad = data[:5] + ["md5 nothex"] + data[5:] + ["sha1 123"]
    got: list[ParsedEntry] = []
    with pytest.raises(ImportFormatError) as exc:
        for b in stream_hash_list(_te(bad), "te", batch=2):
            got += b
    assert [line for line, _ in exc.value.errors] == [6, 12]
    assert len(got) <= 5  # nothing handed out after the first bad line


@pytest.mark.parametrize("fmt", ["te", "csv", "ncmec"])
def test_stream_reads_what_the_whole_file_parser_reads(fmt):
    entries = [ExportEntry("md5", v, f"id{i % 7}", {"ncmec.media": "image"} if fmt == "ncmec"
                           else {"source": f"ngo {i % 3}"}) for i, v in enumerate(MD5[:300])]
    data = export_hash_list(entries, fmt)
    whole = parse_hash_list(data, fmt)
    streamed = [e for b in stream_hash_list(io.BytesIO(data), fmt, batch=50) for e in b]
    assert streamed == whole


@pytest.mark.parametrize("fmt", ["te", "csv", "ncmec"])
def test_streamed_export_is_byte_for_byte_the_export(fmt):
    meta = ({"ncmec.media": "video", "ncmec.timestamp": "2020-01-01T00:00:00Z"} if fmt == "ncmec"
            else {"k": "a,b"})
    entries = [ExportEntry("md5", v, f"id{i // 2}", meta if i % 3 else {}) for i, v in
               enumerate(MD5[:200])]
    pieces = list(export_hash_list_stream(lambda: iter(entries), fmt, piece=512))
    assert len(pieces) > 1
    assert b"".join(pieces) == export_hash_list(entries, fmt)


def test_streaming_parse_memory_does_not_grow_with_the_file():
    def peak(n: int) -> int:
        data = "".join(f"pdq {i:064x} external_id=case-{i}\n" for i in range(n)).encode()
        source = io.BytesIO(data)
        tracemalloc.start()
        for _ in stream_hash_list(source, "te", batch=1000):
            pass
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return top

    small, big = peak(5_000), peak(50_000)
    assert big < 2 * small  # ten times the file, about the same peak (one batch at a time)


def test_import_stream_is_all_or_nothing_and_feeds_the_replicas(runtime):
    with runtime.db.session() as s:
        bank = service.create_bank(s, "big")
        service.add_entries(s, bank, [service.NewEntry("md5", MD5[0])])
        removed = service.add_entries(s, bank, [service.NewEntry("md5", MD5[1])]).added[0].id
        service.remove_entry(s, removed)
    with runtime.db.session() as s:
        seq0 = s.scalar(select(func.max(BankChange.seq)))
    lines = [f"md5 {v}" for v in MD5] + [f"md5 {MD5[5]}", f"md5 {MD5[6]} external_id=again"]
    with pytest.raises(ImportFormatError) as exc:
        with runtime.db.session() as s:
            service.import_stream(s, service.get_bank(s, "big"), _te(lines + ["pdq 12"]), "te")
    assert exc.value.errors == [(len(lines) + 1, exc.value.errors[0][1])]
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(BankEntry)) == 2
        assert s.scalar(select(func.max(BankChange.seq))) == seq0
    with runtime.db.session() as s:
        r = service.import_stream(s, service.get_bank(s, "big"), _te(lines), "te")
    assert (r.n_added, r.already_present, r.duplicates) == (len(MD5) - 1, 1, 2)
    assert removed in r.added_ids()  # listed again: the same row comes back
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(BankEntry)) == len(MD5)
        again = s.scalar(select(BankEntry).where(BankEntry.value == MD5[6]))
        assert again.external_id is None  # the first line naming a hash wins
        fed = changes.read(s.connection(), after=seq0)
        assert changes.all_entry_ids(s.connection(), fed).tolist() == r.added_ids()
        # the new entries are one range; the restored one has its own change
        assert sorted(c.is_range for c in fed) == [False, True]
        assert [c.ref_id for c in fed if not c.is_range] == [removed]
    runtime.sync()
    assert len(runtime.matcher) == len(MD5)


def test_apply_entry_batches_validates_every_value(runtime):
    with runtime.db.session() as s:
        service.create_bank(s, "upstream")
    batches = [[service.NewEntry("MD5", v.upper()) for v in MD5[i:i + 100]]
               for i in range(0, 500, 100)]
    with runtime.db.session() as s:
        r = service.apply_entry_batches(s, service.get_bank(s, "upstream"), batches, "sync")
    assert r.n_added == 500
    with pytest.raises(InvalidSignal, match="entry 3"):
        with runtime.db.session() as s:
            service.apply_entry_batches(s, service.get_bank(s, "upstream"), [
                [service.NewEntry("md5", MD5[600]), service.NewEntry("md5", MD5[601]),
                 service.NewEntry("md5", "xyz")]])
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(BankEntry)) == 500
        assert s.scalar(select(BankEntry.value).where(BankEntry.id == r.added_ids()[0])) == MD5[0]


def _plain_list(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 256, size=(n, 32), dtype=np.uint8).tobytes().hex()
    return [f"pdq {raw[64 * i:64 * (i + 1)]}" for i in range(n)]


def test_plain_lines_read_in_chunks_give_what_the_line_reader_gives():
    # Chunks of canonical lines (CRLF, several types) take the array path, the chunk holding a
    # comment or a field the line-by-line one: same entries, same line numbers, same errors.
    lines = _plain_list(3000, 1) + [f"md5 {v}" for v in MD5[:500]] + [f"sha1 {'ab' * 20}"]
    data = "\r\n".join(lines[:1800] + ["# a comment", f"md5 {MD5[900]} k=v"] + lines[1800:])
    whole = parse_hash_list(data.encode(), "te")
    assert len(whole) == len(lines) + 1 and whole[1800].metadata == {"k": "v"}
    assert [e.line for e in whole[:1801]] == list(range(1, 1801)) + [1802]
    streamed = [e for b in stream_hash_list(io.BytesIO(data.encode()), "te", batch=700) for e in b]
    assert streamed == whole
    bad = (data + "\r\n" + "\r\n".join(lines[:10]) + "\r\npdq " + "0" * 63 + "g\r\n").encode()
    with pytest.raises(ImportFormatError) as exc:
        list(stream_rows(io.BytesIO(bad), "te"))
    assert [line for line, _ in exc.value.errors] == [len(lines) + 2 + 10 + 1]


def test_a_big_import_with_a_bad_last_line_adds_nothing_and_the_first_line_wins(runtime):
    lines = _plain_list(45_000, 2)  # several chunks and batches of plain lines
    lines += [lines[7] + " external_id=later", lines[8]]  # duplicates: the first line wins
    with runtime.db.session() as s:
        bank = service.create_bank(s, "big")
    with pytest.raises(ImportFormatError) as exc:
        with runtime.db.session() as s:
            service.import_stream(s, service.get_bank(s, "big"), _te(lines + ["pdq 12"]), "te")
    assert [line for line, _ in exc.value.errors] == [len(lines) + 1]
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(BankEntry)) == 0
        assert s.scalar(select(func.count()).select_from(BankChange)) == 1  # the bank's own
    with runtime.db.session() as s:
        r = service.import_stream(s, service.get_bank(s, "big"), _te(lines), "te")
    assert (r.n_added, r.duplicates, r.already_present) == (45_000, 2, 0)
    with runtime.db.session() as s:
        first = s.scalar(select(BankEntry).where(BankEntry.bank_id == bank.id,
                                                 BankEntry.value == lines[7][4:]))
        assert first.external_id is None and first.meta == {}
        fed = changes.read(s.connection(), after=0, kind="entry")
        assert [(c.ref_id, c.ref_to) for c in fed] == [(r.entry_ids[0], r.entry_ids[-1])]
        assert changes.all_entry_ids(s.connection(), fed).tolist() == r.added_ids()


def test_staging_and_sorting_an_import_hold_back_no_other_writer(runtime):
    # Scans record their items while a big list is read, staged and sorted: only the move
    # itself takes SQLite's single write lock. A writer that does not wait at all gets through.
    with runtime.db.session() as s:
        service.create_bank(s, "big")
    with runtime.db.session() as s:
        bulk = BulkAdd(s, service.get_bank(s, "big"))
        bulk.stage(rows_to_stage([(i + 1, "md5", v, None, {"k": "v"} if i % 2 else None)
                                  for i, v in enumerate(MD5)]))
        bulk.sort()
        with runtime.db.session() as other:
            if runtime.db.is_sqlite:
                other.connection().exec_driver_sql("PRAGMA busy_timeout = 0")
            service.create_bank(other, "meanwhile")
            if runtime.db.is_sqlite:
                other.connection().exec_driver_sql("PRAGMA busy_timeout = 10000")
        result = bulk.finish()
    assert result.n_added == len(MD5)
    with runtime.db.session() as s:
        assert len(service.list_banks(s)) == 2
        assert s.scalar(select(BankEntry.meta).where(BankEntry.value == MD5[1])) == {"k": "v"}


def test_an_import_into_a_bank_with_entries_adds_each_missing_key_once(runtime):
    # The move adds only the keys the bank lacks (on PostgreSQL an anti-join and a plain insert,
    # the bank's row held): present keys are counted, removed ones come back as the same row
    # with their history, a key listed twice takes its first line, a value under two types is
    # two keys, and the feed gets exactly one change per entry added or restored.
    with runtime.db.session() as s:
        bank = service.create_bank(s, "mixed")
        other = service.create_bank(s, "other")
        old = service.add_entries(s, bank, [service.NewEntry("md5", v) for v in MD5[:4]]).added
        kept, removed, disabled_removed = old[0].id, old[1].id, old[2].id
        service.add_entries(s, other, [service.NewEntry("md5", MD5[10])])
    with runtime.db.session() as s:
        service.disable_entry(s, disabled_removed, reason="false positive")
        service.remove_entry(s, removed)
        service.remove_entry(s, disabled_removed)
    with runtime.db.session() as s:
        before = {e.id: (e.added_at, e.disabled_at, e.disabled_reason)
                  for e in s.scalars(select(BankEntry).where(BankEntry.bank_id == bank.id))}
        seq0 = s.scalar(select(func.max(BankChange.seq)))
    sha1 = MD5[20] + "00000000"  # a 40-digit value: the same digits under two types
    lines = ([f"md5 {v} external_id=first-{i}" for i, v in enumerate(MD5[:30])]
             + [f"sha1 {sha1} source=a", f"md5 {MD5[20]} external_id=again",
                f"md5 {MD5[1]} external_id=again", f"sha1 {sha1} source=b", f"md5 {MD5[10]}"])
    with runtime.db.session() as s:
        r = service.import_stream(s, service.get_bank(s, "mixed"), _te(lines), "te")
    # 30 md5 keys (4 in the bank, 2 of them removed) + 1 sha1; MD5[10] is in another bank only
    assert (r.rows, r.duplicates, r.already_present, r.n_added) == (35, 4, 2, 29)
    ids = r.added_ids()
    assert ids == sorted(ids) and removed in ids and disabled_removed in ids
    assert kept not in ids and old[3].id not in ids
    with runtime.db.session() as s:
        rows = {(e.signal_type, e.value): e for e in
                s.scalars(select(BankEntry).where(BankEntry.bank_id == bank.id))}
        assert len(rows) == 31
        assert rows[("md5", MD5[20])].external_id == "first-20"
        assert rows[("sha1", sha1)].meta == {"source": "a"}
        assert rows[("md5", MD5[10])].external_id == "first-10"  # its own row in this bank
        back = rows[("md5", MD5[1])]  # removed, listed again: same row, history kept
        assert back.id == removed and back.removed_at is None and back.external_id is None
        assert back.added_at == before[removed][0]
        still = rows[("md5", MD5[2])]  # it was disabled before its removal: it stays disabled
        assert still.removed_at is None and still.disabled_at == before[disabled_removed][1]
        assert still.disabled_reason == "false positive"
        fed = changes.read(s.connection(), after=seq0)
        assert changes.all_entry_ids(s.connection(), fed).tolist() == ids
        assert sorted(c.ref_id for c in fed if not c.is_range) == sorted([disabled_removed, removed])
        assert (fed[0].seq, fed[-1].seq) == (r.first_seq, r.last_seq)
    # The same list again: nothing to add, nothing fed; an empty list: nothing at all
    with runtime.db.session() as s:
        again = service.import_stream(s, service.get_bank(s, "mixed"), _te(lines), "te")
        empty = service.import_stream(s, service.get_bank(s, "mixed"), _te([]), "te")
    assert (again.n_added, again.already_present, again.duplicates) == (0, 31, 4)
    assert (again.first_seq, again.last_seq, empty.n_added, empty.rows) == (0, 0, 0, 0)
    with runtime.db.session() as s:
        assert s.scalar(select(func.max(BankChange.seq))) == fed[-1].seq
    runtime.sync()
    assert len(runtime.matcher) == 32  # both banks, the restored ones included


def test_two_bulk_adds_in_one_transaction(runtime):
    # Each move drops its temporary tables: a second one in the same transaction starts clean
    # and sees the first's entries as present.
    with runtime.db.session() as s:
        bank = service.create_bank(s, "twice")
    with runtime.db.session() as s:
        first = service.apply_entry_batches(s, bank, [[service.NewEntry("md5", v)
                                                      for v in MD5[:300]]])
        second = service.apply_entry_batches(s, bank, [[service.NewEntry("md5", v)
                                                       for v in MD5[200:400]]])
    assert (first.n_added, second.n_added, second.already_present) == (300, 100, 100)
    assert set(first.added_ids()).isdisjoint(second.added_ids())
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(BankEntry)) == 400
        fed = changes.read(s.connection(), after=0, kind="entry")
        assert len(fed) == 2 and all(c.is_range for c in fed)  # one range per bulk add
        assert changes.all_entry_ids(s.connection(), fed).shape[0] == 400


@pytest.mark.parametrize("other_commits", ["first", "last"])
def test_an_import_whose_range_takes_in_a_concurrent_add_of_another_bank(runtime, monkeypatch,
                                                                         other_commits):
    """PostgreSQL: while an import inserts its entries, a single add to another bank takes an id
    inside the import's range. Applying the range reads that entry again (harmless); it has its
    own change, whichever transaction commits first; a paged replica, the retro-scan's entries
    and a fresh load agree. (SQLite has one writer: the other add comes before the import,
    outside its range, and the rest holds the same.)"""
    import threading

    from sqlalchemy import text

    from rempart.banks import replica as replica_module
    from rempart.banks import retro_jobs
    from rempart.banks.replica import Replica

    pg = runtime.settings.database_url.startswith("postgresql")
    with runtime.db.session() as s:
        big, other = service.create_bank(s, "big"), service.create_bank(s, "other")
        service.add_entries(s, other, [service.NewEntry("md5", MD5[1999])])
        node = Replica.load(s)
    with runtime.db.session() as s:
        start = s.scalar(text("SELECT last_value FROM bank_entries_id_seq")) if pg else 0
    if pg:  # the import's rows go in slowly, so the other add lands in the middle of them
        with runtime.db.session() as s:
            s.execute(text("CREATE FUNCTION rempart_test_slow() RETURNS trigger AS $$ BEGIN "
                           "PERFORM pg_sleep(0.02); RETURN NEW; END $$ LANGUAGE plpgsql"))
            s.execute(text("CREATE TRIGGER rempart_test_slow BEFORE INSERT ON bank_entries FOR "
                           f"EACH ROW WHEN (NEW.bank_id = {big.id}) EXECUTE FUNCTION rempart_test_slow()"))
    added, may_commit, done = {}, threading.Event(), threading.Event()

    def other_add() -> None:
        with runtime.db.session() as s:
            while pg and s.scalar(text("SELECT last_value FROM bank_entries_id_seq")) < start + 10:
                s.rollback()
            r = service.add_entries(s, service.get_bank(s, "other"),
                                    [service.NewEntry("md5", MD5[1998])])
            added["id"] = r.added[0].id
            if other_commits == "last" and pg:
                assert may_commit.wait(30)
        done.set()

    thread = threading.Thread(target=other_add)
    thread.start()
    if not pg:
        thread.join(30)
    with runtime.db.session() as s:
        r = service.apply_entry_batches(s, service.get_bank(s, "big"),
                                        [[service.NewEntry("md5", v) for v in MD5[:60]]])
        if other_commits == "first":
            assert done.wait(30)
            with runtime.db.session() as s2:  # the other add, before the import commits
                node.sync(s2)
            assert node.matcher.entry(added["id"]) is not None
            assert node.matcher.entry(int(r.entry_ids[0])) is None
        job = retro_jobs.create_job(s, service.get_bank(s, "big"), r.first_seq, r.last_seq, r.n_added)
    monkeypatch.setattr(replica_module, "PAGE", 7)
    with runtime.db.session() as s:
        node.sync(s)  # the import (and, when it committed last, not yet the other add)
    may_commit.set()
    thread.join(30)
    lo, hi = int(r.entry_ids[0]), int(r.entry_ids[-1])
    if pg:
        assert lo < added["id"] < hi and r.n_added == 60 and hi - lo == 60
    else:
        assert added["id"] < lo and r.n_added == 60 and hi - lo == 59
    with runtime.db.session() as s:
        node.sync(s)
        fresh = Replica.load(s)
        assert retro_jobs.entry_ids(s, s.get(type(job), job.id)).tolist() == r.added_ids()
        fed = changes.read(s.connection(), after=0, kind="entry")
    assert [c.ref_id for c in fed if not c.is_range].count(added["id"]) == 1
    every = list(range(1, hi + 2))
    assert {i: node.matcher.entry(i) for i in every} == {i: fresh.matcher.entry(i) for i in every}
    assert len(node.matcher) == len(fresh.matcher) == 62
