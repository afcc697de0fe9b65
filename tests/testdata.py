"""Where the benign test data lives: ``tests/data`` in the repository (sources, licences and what
each file is for: ``tests/data/README.md``). Nothing outside the repository is read."""

from __future__ import annotations

from pathlib import Path

TESTDATA = Path(__file__).resolve().parent / "data"
