"""The default path's drift from the reference, bounded, and match recall unchanged.

The default fingerprint decodes large JPEGs at a reduced DCT scale (``DEFAULT_JPEG_DRAFT``), so
its PDQ is a few bits off the reference there. Measured on the benign pictures of tests/data
(against Meta's reference hashes) and on 1-12 megapixel JPEG re-encodings of them (against the
full-resolution path, itself bit-exact with the reference): the bounds below are the measured
worst cases with a little room, far under the 31-bit match distance. Recall: every pair of
reference pictures matches (or not) on the default path exactly as with the reference hashes,
with and without the dihedral query variants.
"""

from __future__ import annotations

import io
import itertools
import statistics

import pytest
from PIL import Image

from rempart.signals import (
    DEFAULT_THRESHOLD, fingerprint, fingerprint_file, hamming, query_variants,
)
from rempart.signals.decode import DEFAULT_JPEG_DRAFT

#: measured: at most 8 bits, median 0 (21 of 50 files drafted); 2 bits of room
MAX_BITS_REFERENCE, MEDIAN_BITS_REFERENCE = 10, 1
#: measured on the re-encodings: at most 14 bits, median 6 (the picture's own hash); at most 18
#: over all its query variants (dihedral, trim)
MAX_BITS_REENCODED, MEDIAN_BITS_REENCODED, MAX_BITS_VARIANTS = 16, 8, 20

SOURCES = ["bridge-mods/aaa-orig.jpg", "pen-and-coaster.png", "misc/c.png", "modes/RGB.jpg",
           "labelme-subset/q2821.jpg"]


def test_the_default_drafts_large_jpegs():
    assert DEFAULT_JPEG_DRAFT == 256
    assert fingerprint.__kwdefaults__["jpeg_draft"] == DEFAULT_JPEG_DRAFT


def test_drift_from_the_reference_csv_is_bounded(default_fps, pdq_reference):
    bits = [hamming(default_fps[name].pdq().pdq, row["pdq_hex"])
            for name, row in pdq_reference.items()]
    assert max(bits) <= MAX_BITS_REFERENCE
    assert statistics.median(bits) <= MEDIAN_BITS_REFERENCE
    assert sum(b > 0 for b in bits) < len(bits) // 2  # most files hash exactly anyway
    qualities = [abs(default_fps[n].pdq().quality - int(row["quality"]))
                 for n, row in pdq_reference.items()]
    assert max(qualities) <= 10


def _reencoded(data: bytes, megapixels: float) -> bytes:
    im = Image.open(io.BytesIO(data)).convert("RGB")
    scale = (megapixels * 1e6 / (im.size[0] * im.size[1])) ** 0.5
    out = io.BytesIO()
    im.resize((round(im.size[0] * scale), round(im.size[1] * scale)),
              Image.Resampling.BICUBIC).save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.mark.slow
def test_drift_on_1_to_12_megapixel_jpegs_is_bounded(pdq_dir):
    bits, variant_bits = [], []
    for source, megapixels in itertools.product(SOURCES, (1, 3, 6, 12)):
        data = _reencoded((pdq_dir / source).read_bytes(), megapixels)
        fast, exact = fingerprint(data), fingerprint(data, jpeg_draft=None)
        assert fast.sha256 == exact.sha256 and (fast.width, fast.height) == (exact.width,
                                                                            exact.height)
        pairs = list(zip(query_variants(fast), query_variants(exact), strict=True))
        for (name, a), (other, b) in pairs:
            assert name == other
            variant_bits.append(hamming(a, b))
        bits.append(hamming(fast.pdq().pdq, exact.pdq().pdq))
        assert abs(fast.pdq().quality - exact.pdq().quality) <= 10
    assert max(bits) <= MAX_BITS_REENCODED
    assert statistics.median(bits) <= MEDIAN_BITS_REENCODED
    assert max(variant_bits) <= MAX_BITS_VARIANTS


def _matches(fps: dict, names: list[str], *, variants: bool) -> set[tuple[str, str]]:
    out = set()
    for a, b in itertools.permutations(names, 2):
        queries = [h for _, h in query_variants(fps[a])] if variants else [fps[a].pdq().pdq]
        if min(hamming(q, fps[b].pdq().pdq) for q in queries) <= DEFAULT_THRESHOLD:
            out.add((a, b))
    return out


def test_match_recall_on_the_shared_images_is_unchanged(default_fps, pdq_reference):
    names = sorted(pdq_reference)
    reference = {(a, b) for a, b in itertools.permutations(names, 2)
                 if hamming(pdq_reference[a]["pdq_hex"], pdq_reference[b]["pdq_hex"])
                 <= DEFAULT_THRESHOLD}
    assert len(reference) > 100  # the near-duplicate families of the test data
    assert _matches(default_fps, names, variants=False) == reference


def test_match_recall_with_query_variants_is_unchanged(default_fps, pdq_dir, pdq_reference):
    names = sorted(pdq_reference)
    exact = {name: fingerprint_file(pdq_dir / name, jpeg_draft=None) for name in names}
    with_variants = _matches(exact, names, variants=True)
    assert _matches(default_fps, names, variants=True) == with_variants
    assert ("dih/bridge-2-rotate-90.jpg", "dih/bridge-1-original.jpg") in with_variants
