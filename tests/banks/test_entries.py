"""What a confirmed item banks is one rule (``rempart.banks.entries``), whichever way it is banked:
from its media (API, CLI, demo) or from the scan ledger (a reviewer's ``bank_item``)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from rempart.authz import system_actor
from rempart.banks import service
from rempart.banks.entries import ConfirmedItem, entries_for
from rempart.banks.models import BankEntry
from rempart.cli import app
from rempart.moderation import bank_item
from rempart.runtime import Runtime
from rempart.scanning.models import ScannedItem
from rempart.signals import LOW_QUALITY, FrameHash, fingerprint
from tests.factories import image_bytes
from tests.signals.signals_media import make_video, scene

PDQ = ["f" * 64, "0f" * 32, "a5" * 32]


def _flat_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (200, 200), (120, 120, 120)).save(buf, "PNG")
    return buf.getvalue()


def _animated_gif() -> bytes:
    frames = [Image.fromarray(scene(seed)) for seed in (1, 2, 1)]  # a frame shown twice
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def test_a_picture_banks_its_exact_hashes_and_each_good_frame_once():
    item = ConfirmedItem("image", {"sha256": "1" * 64, "md5": "2" * 32, "sha1": "3" * 40},
                         (FrameHash(None, PDQ[0], 100), FrameHash(None, PDQ[0], 90),
                          FrameHash(None, PDQ[1], LOW_QUALITY), FrameHash(None, PDQ[2], LOW_QUALITY - 1)),
                         external_id="x-1", metadata={"file": "a.jpg"}, label="a.jpg")
    entries, notes = entries_for(item)
    assert [(e.signal_type, e.value) for e in entries] == [
        ("sha256", "1" * 64), ("md5", "2" * 32), ("sha1", "3" * 40), ("pdq", PDQ[0]), ("pdq", PDQ[1])]
    assert all(e.external_id == "x-1" and e.metadata == {"file": "a.jpg", "kind": "image"}
               for e in entries)
    assert notes == [f"a.jpg: pdq quality {LOW_QUALITY - 1} < {LOW_QUALITY}: not banked"]


def test_a_video_banks_one_vpdq_entry_when_a_frame_is_good_enough():
    frames = (FrameHash(1.0, PDQ[1], 10), FrameHash(0.0, PDQ[0], LOW_QUALITY))
    entries, notes = entries_for(ConfirmedItem("video", {"sha256": "1" * 64}, frames))
    vpdq = entries[-1]
    assert (vpdq.signal_type, vpdq.value) == ("vpdq", "1" * 64) and not notes
    assert [f.t for f in vpdq.frames] == [0.0, 1.0]  # every frame, in time order
    dull = tuple(FrameHash(f.t, f.pdq, LOW_QUALITY - 1) for f in frames)
    entries, notes = entries_for(ConfirmedItem("video", {"sha256": "1" * 64}, dull))
    assert [e.signal_type for e in entries] == ["sha256"] and "only exact hashes" in notes[0]


def _banked(rt, bank: str) -> set[tuple]:
    with rt.db.session() as s:
        rows = s.scalars(select(BankEntry).where(BankEntry.bank_id == service.get_bank(s, bank).id))
        return {(e.signal_type, e.value, tuple((f.t, f.pdq, f.quality) for f in e.frames),
                 e.features.data if e.features else b"") for e in rows}


@pytest.mark.parametrize("media", ["picture", "flat", "animated", "video"])
def test_banking_from_the_ledger_banks_what_banking_the_media_banks(runtime, media):
    data = {"picture": lambda: image_bytes(4), "flat": _flat_png, "animated": _animated_gif,
            "video": lambda: make_video("mp4", seconds=3.0)}[media]()
    with runtime.db.session() as s:
        service.create_bank(s, "curated")
    fp = runtime.fingerprint(data, exact=True)  # as a curator banks it (API, CLI)
    runtime.bank_media("curated", fp)
    item = runtime.scan_media(data).item_id  # the upload is in the ledger (matched or not)
    with runtime.db.session() as s:
        added = bank_item(s, item, runtime.moderation, system_actor("test"))
        assert added
    # The same entries, local features included: the upload matched, so its media is in the
    # evidence store, and banking from the case extracts them from it (issue 12).
    assert runtime.evidence.get(fp.sha256) is not None or media == "flat"
    assert _banked(runtime, runtime.moderation.platform_bank) == _banked(runtime, "curated")
    with runtime.db.session() as s:
        assert s.get(ScannedItem, item).kind == fp.kind


def test_banking_from_the_ledger_without_the_media_banks_its_hashes_only(runtime):
    """Media no longer kept (retention, or an upload that was allowed): PDQ and the peeled hash
    from the ledger, no local features."""
    data = image_bytes(4)
    with runtime.db.session() as s:
        service.create_bank(s, "curated")
    fp = runtime.fingerprint(data)
    runtime.bank_media("curated", fp)
    item = runtime.scan_media(data).item_id
    assert runtime.evidence.delete(fp.sha256)
    with runtime.db.session() as s:
        assert bank_item(s, item, runtime.moderation, system_actor("test"))
    from_media = {e for e in _banked(runtime, "curated") if e[0] != "orb"}
    assert _banked(runtime, runtime.moderation.platform_bank) == from_media


def test_media_of_another_file_adds_nothing_to_an_item():
    a, b = fingerprint(image_bytes(4)), fingerprint(image_bytes(5))
    item = ConfirmedItem("image", {"sha256": a.sha256}, tuple(a.frames))
    assert item.with_media(b) is item
    assert item.with_media(a).features == a.features
    # media fingerprinted for banking gives what a bank keeps: the picture's points and its
    # centre's (rempart.signals.features.bank_set)
    banked = fingerprint(image_bytes(4), bank=True)
    assert banked.bank_features and banked.bank_features != banked.features
    assert item.with_media(banked).features == banked.bank_features
    assert ConfirmedItem.from_fingerprint(banked).features == banked.bank_features


def test_cli_bank_add_hashes_with_the_runtimes_limits(settings, monkeypatch, tmp_path):
    """``rempart bank add`` goes through the runtime (its limits, its banking), not around it."""
    config = tmp_path / "rempart.toml"
    config.write_text("[limits]\nmax_image_bytes = 2000\n")
    monkeypatch.setenv("REMPART_HOME", str(settings.home))
    monkeypatch.setenv("REMPART_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("REMPART_CONFIG", str(config))
    rt = Runtime(settings)  # creates the schema
    with rt.db.session() as s:
        service.create_bank(s, "known")
    rt.close()
    big = tmp_path / "big.jpg"
    big.write_bytes(image_bytes(5))
    assert len(big.read_bytes()) > 2000
    r = CliRunner().invoke(app, ["bank", "add", "known", str(big), "--json"])
    assert r.exit_code == 1 and "nothing was banked" in r.output
    rt = Runtime(settings)
    with rt.db.session() as s:
        assert s.scalars(select(BankEntry)).all() == []
    rt.close()
    assert fingerprint(big.read_bytes()).sha256  # the file itself is fine: only the limit refused it
