"""The one shape of a scanned item's signals, shared by the upload path and retro-scan.

``signal_rows`` turns a fingerprint into the rows the ledger stores; ``query_from_rows`` turns
stored rows back into a matcher ``Query``. Scanning builds its query through both, so a retro-scan
of the ledger asks exactly what the upload-time scan asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rempart.matching.matcher import Query
from rempart.signals import EXACT_TYPES, Fingerprint, FrameHash, validate_signal
from rempart.errors import InvalidInput


@dataclass(frozen=True)
class SignalRow:
    signal_type: str  # sha256 | md5 | sha1 | pdq
    value: str
    variant: str = "original"
    t: float | None = None
    quality: int | None = None


def signal_rows(fp: Fingerprint) -> list[SignalRow]:
    rows = [SignalRow(t, getattr(fp, t)) for t in EXACT_TYPES]
    if fp.kind == "video":
        # A video is compared as a whole under each transformation: keep every variant's frames.
        for name, frames in (("original", fp.frames), *fp.variants):
            rows += [SignalRow("pdq", f.pdq, name, f.t, f.quality) for f in frames]
        return rows
    # An image's frames and their variants are each looked up on their own; a hash that two
    # variants share (a symmetric picture) is kept once.
    multi = len(fp.frames) > 1
    seen: set[str] = set()
    for name, frames in (("original", fp.frames), *fp.variants):
        for i, f in enumerate(frames):
            if f.pdq not in seen:
                seen.add(f.pdq)
                rows.append(SignalRow("pdq", f.pdq, f"{name}@{i}" if multi else name, f.t,
                                      f.quality))
    return rows


def rows_from_signals(signals: Iterable[tuple[str, str]]) -> list[SignalRow]:
    """Rows for precomputed signals sent by a platform: (type, value) pairs, validated."""
    rows: list[SignalRow] = []
    for stype, value in signals:
        stype, value = validate_signal(stype, value)
        rows.append(SignalRow(stype, value, quality=100 if stype == "pdq" else None))
    if not rows:
        raise InvalidInput("no signals given")
    return rows


def query_from_rows(rows: Iterable[SignalRow], kind: str | None,
                    fp: Fingerprint | None = None) -> Query:
    """The matcher's query for stored rows; with the fingerprint at hand (the upload path, not a
    retro-scan: local features are not kept in the ledger), stage 2's features too."""
    exact: dict[str, str] = {}
    pdq: list[tuple[str, str, int]] = []
    video: dict[str, list[FrameHash]] = {}
    for r in rows:
        if r.signal_type != "pdq":
            exact[r.signal_type] = r.value
        elif kind == "video":
            video.setdefault(r.variant, []).append(FrameHash(r.t, r.value, r.quality or 0))
        else:
            pdq.append((r.variant, r.value, r.quality if r.quality is not None else 100))
    frames = {v: tuple(sorted(fs, key=lambda f: f.t or 0.0)) for v, fs in video.items()}
    original = frames.pop("original", ())
    return Query(exact=exact, pdq=tuple(pdq), video=original, video_variants=frames,
                 features=fp.features if fp else b"",
                 region_features=fp.region_features if fp else b"")
