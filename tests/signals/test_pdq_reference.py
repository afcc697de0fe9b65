"""PDQ on the benign reference images (tests/data): bit-exact with Meta's reference on the
full-resolution path (``jpeg_draft=None``), and the near-duplicate / distinct-scene relations the
test data documents, on that path and on the default one (JPEG draft decoding; its drift is
bounded in test_pdq_drift.py)."""

from __future__ import annotations

import csv
import itertools

import numpy as np
import pytest

from rempart.errors import InvalidSignal
from rempart.signals import fingerprint, fingerprint_file, hamming, query_variants
from rempart.signals.pdq import pdq_dihedral, pdq_hash

from tests.signals.signals_media import encode, scene
from tests.testdata import TESTDATA

with open(TESTDATA / "images" / "pdq" / "pdq-reference.csv", newline="") as _f:
    REFERENCE_FILES = [row["file"] for row in csv.DictReader(_f)]

DISTINCT = [
    "bridge-mods/aaa-orig.jpg", "exif-rotn/exif-rotn-1.jpg", "exif-rotn/exif-rotn-3.jpg",
    "exif-rotn/exif-rotn-6.jpg", "exif-rotn/exif-rotn-8.jpg", "misc/c.png", "misc/small.jpg",
    "misc/wee.jpg", "pen-and-coaster.png",
] + [f"labelme-subset/q{n}.jpg" for n in ("0003", "0004", "0122", "0291", "0746", "1050", "2821")]


@pytest.fixture(scope="module")
def exact_fps(pdq_dir, pdq_reference):
    """file -> Fingerprint of every reference image on the full-resolution path, computed once."""
    return {name: fingerprint_file(pdq_dir / name, jpeg_draft=None) for name in pdq_reference}


@pytest.fixture(scope="module", params=["full-resolution", "default"])
def fps(request, exact_fps, default_fps):
    """The relations below hold on both paths."""
    return exact_fps if request.param == "full-resolution" else default_fps


@pytest.mark.parametrize("name", REFERENCE_FILES)
def test_reference_hash_reproduced_exactly(exact_fps, pdq_reference, name):
    row, fp = pdq_reference[name], exact_fps[name]
    assert fp.kind == "image"
    assert fp.pdq().pdq == row["pdq_hex"]
    assert fp.pdq().quality == int(row["quality"])
    assert (fp.width, fp.height) == (int(row["width"]), int(row["height"]))
    assert len(fp.frames) == 1 and fp.pdq().t is None


def test_exact_hashes_are_of_the_original_bytes(pdq_dir):
    import hashlib

    data = (pdq_dir / "misc" / "wee.jpg").read_bytes()
    fp = fingerprint(data)
    assert fp.sha256 == hashlib.sha256(data).hexdigest()
    assert fp.md5 == hashlib.md5(data).hexdigest()
    assert fp.sha1 == hashlib.sha1(data).hexdigest()


def test_every_colour_mode_within_8_bits_of_the_original(fps):
    original = fps["modes/original.jpg"].pdq().pdq
    modes = [n for n in fps if n.startswith("modes/")]
    assert len(modes) == 14
    for name in modes:
        assert hamming(fps[name].pdq().pdq, original) <= 8, name


def test_dihedral_copies_match_the_original_through_query_variants(fps):
    original = fps["dih/bridge-1-original.jpg"].pdq().pdq
    for name in (n for n in fps if n.startswith("dih/")):
        variants = query_variants(fps[name])
        assert [v for v, _ in variants][:8] == [
            "original", "rot90", "rot180", "rot270", "flipx", "flipy", "transpose", "transverse"]
        assert min(hamming(h, original) for _, h in variants) <= 31, name
        if name != "dih/bridge-1-original.jpg":
            # without the variants, a rotated or flipped copy is missed
            assert hamming(fps[name].pdq().pdq, original) > 31, name


def test_bridge_edits_are_near_duplicates(fps):
    original = fps["bridge-mods/aaa-orig.jpg"].pdq().pdq
    edits = [n for n in fps if n.startswith("bridge-mods/")]
    assert len(edits) == 12
    for name in edits:
        assert hamming(fps[name].pdq().pdq, original) <= 31, name
    assert hamming(fps["misc/b.jpg"].pdq().pdq, original) == 0


def test_distinct_scenes_never_match(fps):
    for a, b in itertools.combinations(DISTINCT, 2):
        assert hamming(fps[a].pdq().pdq, fps[b].pdq().pdq) > 31, (a, b)


def test_low_quality_hashes_are_kept_and_flagged(fps):
    for name in ("misc/small.jpg", "labelme-subset/q0003.jpg", "labelme-subset/q0004.jpg"):
        frame = fps[name].pdq()
        assert frame.low_quality and frame.quality < 50 and len(frame.pdq) == 64, name
    assert not fps["labelme-subset/q0122.jpg"].pdq().low_quality


def test_dihedral_variant_names_describe_the_transformation(pdq_dir):
    from PIL import Image

    # not square, so rotations change the shape; flipx/flipy follow Meta's (and the test data's) names
    a = np.asarray(Image.open(pdq_dir / "dih" / "bridge-1-original.jpg").convert("RGB"))
    transformed = {
        "rot90": np.rot90(a, 1), "rot180": np.rot90(a, 2), "rot270": np.rot90(a, 3),
        "flipx": a[::-1], "flipy": a[:, ::-1], "transpose": a.transpose(1, 0, 2),
        "transverse": np.rot90(a, 2).transpose(1, 0, 2),
    }
    variants, _ = pdq_dihedral(a)
    assert variants["original"] == pdq_hash(a)[0]
    for name, pixels in transformed.items():
        actual = pdq_hash(np.ascontiguousarray(pixels))[0]
        nearest = min(variants, key=lambda n: hamming(variants[n], actual))
        assert nearest == name and hamming(variants[name], actual) <= 10, name


def test_hex_is_most_significant_bit_first():
    # the reference hash of aaa-orig.jpg starts f8 = 11111000: bits 0-4 set, 5-7 clear
    a = np.asarray(scene(1))
    fp = fingerprint(encode(a, "PNG"))
    import pdqhash

    bits, _ = pdqhash.compute(a)
    assert int(fp.pdq().pdq, 16) == int("".join(str(int(b)) for b in bits), 2)


def test_hamming_validates_its_input():
    zero, ones = "0" * 64, "f" * 64
    assert hamming(zero, ones) == 256
    assert hamming(zero, "0" * 63 + "1") == 1
    assert hamming(ones.upper(), ones) == 0
    for bad in ("", "0" * 63, "g" * 64, "0" * 65):
        with pytest.raises(InvalidSignal):
            hamming(bad, zero)


def test_default_path_is_close_on_large_jpegs_and_exact_elsewhere(exact_fps, default_fps):
    for name, exact in exact_fps.items():
        fast = default_fps[name]
        assert (fast.width, fast.height) == (exact.width, exact.height)  # the declared size
        assert fast.sha256 == exact.sha256
        if name.startswith("exif-rotn/"):  # 12 megapixels: decoded at 1/8 scale
            assert 0 < hamming(fast.pdq().pdq, exact.pdq().pdq) <= 8, name
        if not name.endswith(".jpg") or name.startswith(("labelme-subset/", "misc/s", "misc/w")):
            assert fast == exact, name  # not a JPEG, or too small to draft: the exact path
