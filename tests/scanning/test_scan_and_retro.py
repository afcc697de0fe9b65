"""The upload path end to end on a real database: scan, ledger, live bank changes, retro-scan."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from rempart.banks import service as banks
from rempart.errors import CorruptMedia, InvalidInput, InvalidSignal
from rempart.runtime import Runtime
from rempart.scanning.models import ItemMatch, ItemSignal, ScannedItem
from rempart.scanning.service import ScanContext
from rempart.store.db import utcnow
from tests.factories import image_bytes

EDITS = ("exact", "resized", "recompressed", "greyscale", "flipped", "padded")


def make_bank(rt: Runtime, name: str = "known", **kw) -> None:
    with rt.db.session() as s:
        banks.create_bank(s, name, **kw)


def test_banked_picture_blocks_its_edited_copies_and_not_others(runtime):
    make_bank(runtime)
    runtime.bank_media("known", runtime.fingerprint(image_bytes(2)))
    for edit in EDITS:
        out = runtime.scan_media(image_bytes(2, edit), ScanContext(account="a1", space="g1"))
        assert out.verdict == "block", edit
        assert out.result.matches[0].bank == "known"
    for seed in range(10_001, 10_021):
        assert runtime.scan_media(image_bytes(seed)).verdict == "allow"
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ScannedItem)) == len(EDITS) + 20
        item = s.scalar(select(ScannedItem).where(ScannedItem.account == "a1").limit(1))
        kinds = {sig.signal_type for sig in item.signals}
        assert kinds == {"sha256", "md5", "sha1", "pdq"}
        variants = {sig.variant for sig in item.signals if sig.signal_type == "pdq"}
        assert {"original", "flipx", "rot90"} <= variants


def test_exact_copy_matches_by_every_cryptographic_hash(runtime):
    make_bank(runtime)
    data = image_bytes(3)
    runtime.bank_media("known", runtime.fingerprint(data))
    out = runtime.scan_media(data)
    assert out.result.matches[0].distance == 0


def test_review_bank_and_precomputed_signals(runtime):
    make_bank(runtime, "maybe", action="review")
    fp = runtime.fingerprint(image_bytes(6))
    runtime.bank_media("maybe", fp)
    out = runtime.scan_signals([("pdq", fp.pdq().pdq)])
    assert out.verdict == "review"
    assert runtime.scan_signals([("md5", fp.md5)]).verdict == "review"
    assert runtime.scan_signals([("md5", "0" * 32)]).verdict == "allow"
    with pytest.raises(InvalidSignal):
        runtime.scan_signals([("pdq", "xyz")])
    with pytest.raises(InvalidInput):
        runtime.scan_signals([])


def test_bad_media_changes_nothing(runtime):
    with pytest.raises(CorruptMedia):
        runtime.scan_media(image_bytes(2)[:300])
    with pytest.raises(InvalidInput):
        runtime.scan_media(image_bytes(2), ScanContext(account="x" * 201))
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ScannedItem)) == 0


def test_a_change_made_by_another_process_counts_for_the_very_next_scan(settings, runtime):
    other = Runtime(settings)  # a second node sharing the database (e.g. the CLI while serving)
    try:
        make_bank(other)
        data = image_bytes(8, "flipped")
        assert runtime.scan_media(data).verdict == "allow"
        entries = other.bank_media("known", other.fingerprint(image_bytes(8))).result.added
        assert runtime.scan_media(data).verdict == "block"
        pdq_entry = next(e.id for e in entries if e.signal_type == "pdq")
        with other.db.session() as s:
            banks.disable_entry(s, pdq_entry, until=utcnow() + dt.timedelta(days=1))
        assert runtime.scan_media(data).verdict == "allow"
        with other.db.session() as s:
            banks.update_bank(s, "known", action="review")
            banks.enable_entry(s, pdq_entry)
        assert runtime.scan_media(data).verdict == "review"
        with other.db.session() as s:
            banks.update_bank(s, "known", enabled=False)
        assert runtime.scan_media(data).verdict == "allow"
    finally:
        other.close()


def test_retro_scan_finds_past_uploads_once(runtime):
    make_bank(runtime)
    make_bank(runtime, "safe", safelist=True)
    past = [("a1", "g1", "exact"), ("a2", "g1", "greyscale"), ("a3", "g2", "padded")]
    for account, space, edit in past:
        assert runtime.scan_media(image_bytes(12, edit), ScanContext(account, space)).verdict == "allow"
    runtime.scan_media(image_bytes(13))  # unrelated
    outcome = runtime.bank_media("known", runtime.fingerprint(image_bytes(12)))
    found = sorted((m.account, m.space) for m in outcome.retro)
    assert found == [("a1", "g1"), ("a2", "g1"), ("a3", "g2")]
    assert {m.bank for m in outcome.retro} == {"known"}
    with runtime.db.session() as s:
        rows = s.scalars(select(ItemMatch).where(ItemMatch.found_by == "retro")).all()
        # The exact copy matched all four banked hashes; each edit matched the PDQ only.
        assert sorted(r.signal_type for r in rows) == ["md5", "pdq", "pdq", "pdq", "sha1", "sha256"]
    # The same entries banked again: nothing new to report.
    again = runtime.bank_media("known", runtime.fingerprint(image_bytes(12)))
    assert again.retro == [] and again.result.already_present == 5  # + orb
    # A safelisted picture is not reported by a retro-scan.
    runtime.scan_media(image_bytes(14))
    runtime.bank_media("safe", runtime.fingerprint(image_bytes(14)))
    assert runtime.bank_media("known", runtime.fingerprint(image_bytes(14))).retro == []


def test_retro_scan_by_exact_hash_from_imported_list(runtime):
    make_bank(runtime, "ncmec", source="ncmec")
    data = image_bytes(20)
    runtime.scan_media(data, ScanContext(account="a9"))
    fp = runtime.fingerprint(data)
    outcome = runtime.import_list("ncmec", f"md5 {fp.md5}\n".encode(), "te")
    assert [(m.account, m.signal, m.distance) for m in outcome.retro] == [("a9", "md5", 0)]
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ItemSignal)) > 0


def test_re_enabling_an_entry_retro_scans_what_was_uploaded_meanwhile(runtime):
    make_bank(runtime)
    entries = runtime.bank_media("known", runtime.fingerprint(image_bytes(21))).result.added
    pdq = next(e.id for e in entries if e.signal_type == "pdq")
    with runtime.db.session() as s:
        banks.disable_entry(s, pdq, reason="suspected false positive")
    assert runtime.scan_media(image_bytes(21, "flipped"), ScanContext("a5")).verdict == "allow"
    outcome = runtime.enable_entry(pdq)
    assert [(m.account, m.entry_id) for m in outcome.retro] == [("a5", pdq)]
    assert runtime.enable_entry(pdq).retro == []  # reported once
