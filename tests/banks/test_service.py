"""Bank operations against a real database (SQLite, or PostgreSQL in the second CI run)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from rempart.banks import service
from rempart.banks.entries import ConfirmedItem, entries_for
from rempart.banks.models import BankChange, BankEntry
from rempart.errors import Conflict, ImportFormatError, InvalidInput, InvalidSignal, NotFound
from rempart.signals import fingerprint
from rempart.store.db import utcnow
from tests.factories import image_bytes

PDQ_A = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5_A = "d41d8cd98f00b204e9800998ecf8427e"


def test_create_bank_validates_and_refuses_duplicates(runtime):
    with runtime.db.session() as s:
        bank = service.create_bank(s, "ncmec-list", source="ncmec", threshold=20, action="review")
        assert (bank.threshold, bank.action, bank.is_safelist) == (20, "review", False)
    with runtime.db.session() as s:
        with pytest.raises(Conflict):
            service.create_bank(s, "ncmec-list")
    for bad in ({"name": "Bad Name"}, {"name": ""}, {"name": "x", "threshold": 300},
                {"name": "x", "action": "delete"}, {"name": "x", "source": "NGO A"}):
        with runtime.db.session() as s, pytest.raises(InvalidInput):
            service.create_bank(s, **bad)
    with runtime.db.session() as s:
        assert [b.name for b, _ in service.list_banks(s)] == ["ncmec-list"]


def test_add_entries_is_all_or_nothing_and_idempotent(runtime):
    with runtime.db.session() as s:
        bank = service.create_bank(s, "b")
    with runtime.db.session() as s, pytest.raises(InvalidSignal):
        service.add_entries(s, service.get_bank(s, "b"), [
            service.NewEntry("pdq", PDQ_A), service.NewEntry("md5", "nothex")])
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(BankEntry)) == 0
        r = service.add_entries(s, service.get_bank(s, "b"), [
            service.NewEntry("PDQ", PDQ_A.upper()), service.NewEntry("md5", MD5_A),
            service.NewEntry("md5", MD5_A)])
        assert len(r.added) == 2 and r.already_present == 1
        assert {e.value for e in r.added} == {PDQ_A, MD5_A}  # normalised to lowercase
    with runtime.db.session() as s:
        r = service.add_entries(s, service.get_bank(s, "b"), [service.NewEntry("pdq", PDQ_A)])
        assert (len(r.added), r.already_present) == (0, 1)


def test_disable_until_enable_and_remove_keep_history(runtime):
    with runtime.db.session() as s:
        bank = service.create_bank(s, "b")
        entry = service.add_entries(s, bank, [service.NewEntry("md5", MD5_A)]).added[0]
        eid = entry.id
    until = utcnow() + dt.timedelta(days=2)
    with runtime.db.session() as s:
        service.disable_entry(s, eid, until=until, reason="false positive")
        assert service.list_banks(s)[0][1] == 0
    with runtime.db.session() as s:
        with pytest.raises(InvalidInput):
            service.disable_entry(s, eid, until=utcnow() - dt.timedelta(days=1))
        service.enable_entry(s, eid)
        assert service.list_banks(s)[0][1] == 1
        service.remove_entry(s, eid, "withdrawn by the source")
    with runtime.db.session() as s:
        row = s.get(BankEntry, eid)
        assert row.removed_at is not None  # the row stays
        with pytest.raises(Conflict):
            service.enable_entry(s, eid)
        with pytest.raises(NotFound):
            service.disable_entry(s, 999_999)
        # Banking the same value again brings the same row back.
        r = service.add_entries(s, service.get_bank(s, "b"), [service.NewEntry("md5", MD5_A)])
        assert [e.id for e in r.added] == [eid] and s.get(BankEntry, eid).removed_at is None
        # Every change was recorded for the replicas.
        assert s.scalar(select(func.count()).select_from(BankChange)) >= 6


def test_import_is_all_or_nothing_and_export_round_trips(runtime):
    good = f"pdq {PDQ_A} external_id=case-1\nmd5 {MD5_A}\n".encode()
    bad = good + b"pdq 1234\n"
    with runtime.db.session() as s:
        service.create_bank(s, "b")
    with runtime.db.session() as s, pytest.raises(ImportFormatError) as exc:
        service.import_hash_list(s, service.get_bank(s, "b"), bad, "te")
    assert exc.value.errors[0][0] == 3
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(BankEntry)) == 0
        r = service.import_hash_list(s, service.get_bank(s, "b"), good, "te")
        assert r.n_added == 2
    with runtime.db.session() as s:
        exported = service.export_bank(s, service.get_bank(s, "b"), "te")
        # one import's entries get ids (the export's order) in (type, value) order
        assert exported.decode().splitlines() == [f"md5 {MD5_A}", f"pdq {PDQ_A} external_id=case-1"]
        service.disable_entry(s, s.scalar(select(BankEntry.id).where(BankEntry.value == MD5_A)))
    with runtime.db.session() as s:
        # Disabled entries are not exported.
        assert MD5_A not in service.export_bank(s, service.get_bank(s, "b"), "csv").decode()


def test_bank_media_banks_exact_and_perceptual_hashes_but_not_low_quality_pdq():
    fp = fingerprint(image_bytes(4))
    entries, notes = entries_for(ConfirmedItem.from_fingerprint(fp, "case-9"))
    assert sorted(e.signal_type for e in entries) == ["md5", "orb", "pdq", "sha1", "sha256"]
    assert all(e.external_id == "case-9" for e in entries) and not notes
    flat = fingerprint(_flat_png())
    entries, notes = entries_for(ConfirmedItem.from_fingerprint(flat))
    assert sorted(e.signal_type for e in entries) == ["md5", "sha1", "sha256"]
    assert notes and "not banked" in notes[0]


def _flat_png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (200, 200), (120, 120, 120)).save(buf, "PNG")
    return buf.getvalue()
