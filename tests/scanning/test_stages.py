"""What PDQ misses, end to end on a real database: bank a picture from its media, scan edited
copies, and read which stage matched and why (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from bench import edits
from rempart.banks import service as banks
from rempart.banks.models import BankEntry, EntryFeatures
from rempart.scanning.models import ItemMatch
from rempart.scanning.service import ScanContext

RNG = np.random.default_rng(11)


@pytest.fixture(scope="module")
def bridge():
    return edits.load(edits.IMAGES / "bridge-mods/aaa-orig.jpg")


def bank(runtime, rgb, **settings):
    with runtime.db.session() as s:
        banks.create_bank(s, "known", **settings)
    return runtime.bank_media("known", runtime.fingerprint(edits.encode(rgb, 92)))


def test_banking_from_media_stores_features_under_the_cap(runtime, bridge):
    outcome = bank(runtime, bridge)
    types = sorted(e.signal_type for e in outcome.result.added)
    assert types == ["md5", "orb", "pdq", "sha1", "sha256"]
    with runtime.db.session() as s:
        row = s.scalar(select(EntryFeatures).join(BankEntry).where(BankEntry.signal_type == "orb"))
        assert 1000 < len(row.data) <= 20_000
    with runtime.db.session() as s:
        exported = banks.export_bank(s, banks.get_bank(s, "known"), "csv")
    assert b"orb" not in exported  # rempart's own signals never leave in an exchange format


def test_a_cropped_copy_is_caught_by_stage_2_and_sent_to_review_with_its_evidence(runtime, bridge):
    bank(runtime, bridge)
    out = runtime.scan_media(edits.encode(edits.crop(bridge, 0.10)), ScanContext("a1"))
    assert out.verdict == "review"  # stage 2 alone never blocks unless the bank says so
    (m,) = out.result.matches
    assert m.signal == "orb" and m.action == "review"
    j = out.match_json()[0]
    assert j["inliers"] >= 24 and 0.55 < j["area_covered"] < 0.75
    assert set(j["transform"]) == {"scale", "rotation", "shift"} and len(j["region"]) == 4
    with runtime.db.session() as s:
        row = s.scalar(select(ItemMatch).where(ItemMatch.item_id == out.item_id))
        assert row.signal_type == "orb" and row.detail["region"] == j["region"]


def test_a_bank_may_let_stage_2_block(runtime, bridge):
    bank(runtime, bridge, action="review", feature_action="block")
    # turned and cropped: no stage 1 normaliser undoes it, stage 2 alone finds it
    out = runtime.scan_media(edits.encode(edits.crop(edits.rotate(bridge, 5, False), 0.08)))
    assert out.verdict == "block" and [m.signal for m in out.result.matches] == ["orb"]


def test_stage_2_is_not_run_when_pdq_already_blocks(runtime, bridge):
    bank(runtime, bridge, feature_action="review")
    out = runtime.scan_media(edits.encode(bridge, 60))
    assert out.verdict == "block" and {m.signal for m in out.result.matches} == {"pdq"}


@pytest.mark.parametrize("edit", ["caption", "screenshot"])
def test_a_captioned_or_screenshotted_copy_is_caught_by_stage_1_and_blocks(runtime, bridge, edit):
    bank(runtime, bridge)
    copy = (edits.caption(bridge, RNG, "top") if edit == "caption"
            else edits.screenshot(bridge, RNG, 0.7))
    out = runtime.scan_media(edits.encode(copy))
    signals = {m.signal: m for m in out.result.matches}
    assert "pdq-peeled" in signals and signals["pdq-peeled"].variant in ("peel", "box")
    assert out.verdict == "block"  # a PDQ match (of a normalised query) blocks as before


def test_the_banked_peeled_hash_catches_the_bare_picture_of_a_banked_caption(runtime, bridge):
    bank(runtime, edits.caption(bridge, RNG, "bottom", dark=True))
    out = runtime.scan_media(edits.encode(bridge))
    assert "pdq-peeled" in {m.signal for m in out.result.matches} and out.verdict == "block"


def test_distinct_pictures_match_nothing(runtime, bridge):
    bank(runtime, bridge)
    for name in edits.SOURCES[1:]:
        out = runtime.scan_media((edits.IMAGES / name).read_bytes())
        assert out.verdict == "allow", name


def _tile(k: int) -> np.ndarray:
    """Tile ``k`` of bench/edits.py's tiled photo (tests/data), as the bench's sources."""
    tile = Image.fromarray(edits.tiles(672, "left")[k])
    return np.asarray(tile.resize((480, 480), Image.LANCZOS))


@pytest.fixture(scope="module")
def dim_tile():
    """A blurred, low-contrast photo tile: its own corners are weak, so an overlay's letters
    outshine them."""
    return _tile(4)


@pytest.mark.parametrize("edit", ["watermark", "caption-bottom-dark"])
def test_an_overlay_over_a_dim_picture_does_not_hide_it(runtime, dim_tile, edit):
    """A watermark's text (or a dark caption bar's letters) takes the strongest corners; the
    query still finds the picture's own (and peel finds the bar under its text)."""
    bank(runtime, dim_tile)
    out = runtime.scan_media(edits.edited(dim_tile, edit, 4), ScanContext("a1"))
    assert out.result.matches and out.verdict in ("review", "block")
    assert {m.signal for m in out.result.matches} <= {"orb", "pdq-peeled"}
    # a distinct tile of the same photo, with the same overlay, matches nothing
    assert runtime.scan_media(edits.edited(_tile(10), edit, 4)).verdict == "allow"
