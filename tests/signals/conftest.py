"""Fixtures for rempart.signals: the benign images and clips of tests/data, and synthetic media.

Video decoding is the slow part: each sample clip is fingerprinted once per session.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from rempart.signals import fingerprint_file


@pytest.fixture(scope="session")
def pdq_dir(testdata) -> Path:
    return testdata / "images" / "pdq"


@pytest.fixture(scope="session")
def pdq_reference(pdq_dir) -> dict[str, dict]:
    with open(pdq_dir / "pdq-reference.csv", newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="session")
def default_fps(pdq_dir, pdq_reference):
    """file -> Fingerprint of every reference image on the default path, computed once."""
    return {name: fingerprint_file(pdq_dir / name) for name in pdq_reference}


@pytest.fixture(scope="session")
def video_dir(testdata) -> Path:
    return testdata / "video"


@pytest.fixture(scope="session")
def clips(video_dir):
    """name -> Fingerprint of every sample clip, computed once."""
    return {p.stem: fingerprint_file(p) for p in sorted(video_dir.glob("*.mp4"))}
