"""What a confirmed item banks (pure): the one rule, for every way an item is banked.

An item is banked from its media (``rempart bank add``, ``POST /v1/banks/{name}/media``, the
demo) or from the scan ledger (a reviewer's ``bank_item`` action); both describe it as a
``ConfirmedItem`` and ``entries_for`` turns it into bank entries:

- every exact hash (SHA-256, MD5, SHA-1): they ban the very same file, whatever its quality;
- a picture: the PDQ hash of each of its frames (in its original orientation; the matcher tries
  the other orientations on the query side), each once, unless its quality is under
  ``rempart.signals.LOW_QUALITY`` (flat or tiny pictures collide with unrelated content);
- a picture banked from its media also banks what the second matching stage needs (issue 12):
  its "peeled" hash (``pdq-peeled``: the picture with its bars, captions or screenshot frame taken
  off, ``Fingerprint.peeled``), once, where it differs from the frame's own hash and reaches the
  quality floor; and its ORB features (``orb``, keyed by the file's SHA-256, the stored form of
  ``rempart.signals.features``: what ``bank_set`` keeps, the picture's points and its centre's,
  when it was fingerprinted for banking, else its first ``BANK_WHOLE + BANK_CENTRE``; at most
  ``MAX_FEATURE_BYTES``), when it has at least ``MIN_FEATURE_POINTS`` of them. An item from the
  scan ledger has its peeled hash (stored with the scan) and, when its media is still in the
  evidence store, the features extracted from it for banking (``ConfirmedItem.with_media``,
  ``fingerprint(bank=True)``); an item known only by its hashes (an outside
  list, a ledger item whose media is gone) has no features and keeps PDQ matching;
- a video: one ``vpdq`` entry (keyed by the file's SHA-256) holding all its per-second frames,
  when at least one frame reaches the quality floor (the comparison ignores the others).

What is left out is said in a note, so a curator knows why a file banked fewer entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from rempart.signals import EXACT_TYPES, LOW_QUALITY, Fingerprint, FrameHash
from rempart.signals.features import BANK_CENTRE, BANK_WHOLE, Features

#: the issue's cap on what stage 2 stores per item
MAX_FEATURE_BYTES = 20_000
#: fewer ORB points than this (a flat picture) cannot be verified geometrically: not banked
MIN_FEATURE_POINTS = 40


@dataclass(frozen=True)
class NewEntry:
    signal_type: str
    value: str
    external_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    frames: tuple[FrameHash, ...] = ()  # for signal_type "vpdq"
    features: bytes = b""  # for signal_type "orb"


@dataclass(frozen=True)
class ConfirmedItem:
    """One item a person confirmed, as its fingerprints: what ``entries_for`` banks."""

    kind: str | None  # "image" | "video" | None (known only by precomputed signals)
    exact: Mapping[str, str]  # signal type (sha256, md5, sha1) -> value
    frames: tuple[FrameHash, ...] = ()  # PDQ of the picture's frames, or the video's seconds
    external_id: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    label: str = ""  # names the item in notes (a file name, say)
    peeled: FrameHash | None = None  # banked from media: Fingerprint.peeled
    features: bytes = b""  # banked from media: Fingerprint.bank_features (or .features)

    @classmethod
    def from_fingerprint(cls, fp: Fingerprint, external_id: str | None = None,
                         metadata: Mapping[str, str] | None = None,
                         label: str = "") -> ConfirmedItem:
        return cls(fp.kind, {t: getattr(fp, t) for t in EXACT_TYPES}, tuple(fp.frames),
                   external_id, dict(metadata or {}), label, fp.peeled,
                   fp.bank_features or fp.features)


    def with_media(self, fp: Fingerprint) -> ConfirmedItem:
        """This item (known by its hashes, e.g. from the scan ledger) with what only its media
        gives: stage 2's local features, and the peeled hash when none was known. ``fp`` must
        be the fingerprint of this very file (same SHA-256); otherwise the item is unchanged."""
        if self.exact.get("sha256") != fp.sha256 or self.kind != fp.kind:
            return self
        return replace(self, features=fp.bank_features or fp.features,
                       peeled=self.peeled if self.peeled is not None else fp.peeled)


def entries_for(item: ConfirmedItem) -> tuple[list[NewEntry], list[str]]:
    """The entries that bank ``item``, and notes on what was not banked (see the module doc)."""
    meta = dict(item.metadata)
    meta.setdefault("kind", item.kind or "")
    ext = item.external_id
    entries = [NewEntry(t, item.exact[t], ext, meta) for t in EXACT_TYPES if t in item.exact]
    notes: list[str] = []
    if item.kind == "video":
        sha = item.exact.get("sha256")
        frames = tuple(sorted(item.frames, key=lambda f: f.t or 0.0))
        if sha and any(f.quality >= LOW_QUALITY for f in frames):
            entries.append(NewEntry("vpdq", sha, ext, meta, frames))
        elif frames:
            notes.append("video: no frame of sufficient quality; only exact hashes banked")
    else:
        seen: set[str] = set()
        for f in item.frames:
            if f.quality < LOW_QUALITY:
                at = f" at {f.t:g} s" if f.t is not None else ""
                notes.append(f"pdq{at} quality {f.quality} < {LOW_QUALITY}: not banked")
            elif f.pdq not in seen:
                seen.add(f.pdq)
                entries.append(NewEntry("pdq", f.pdq, ext, meta))
        entries += _second_stage(item, seen, notes)
    if item.label:
        notes = [f"{item.label}: {n}" for n in notes]
    return entries, notes


def _second_stage(item: ConfirmedItem, seen: set[str], notes: list[str]) -> list[NewEntry]:
    meta = dict(item.metadata)
    meta.setdefault("kind", item.kind or "")
    out: list[NewEntry] = []
    p = item.peeled
    if p is not None and p.quality >= LOW_QUALITY and p.pdq not in seen:
        out.append(NewEntry("pdq-peeled", p.pdq, item.external_id, meta))
    sha = item.exact.get("sha256")
    if item.features and sha:
        # a query's set keeps more: the same first points (finest pyramid levels first)
        kept = Features.from_bytes(item.features).head(BANK_WHOLE + BANK_CENTRE)
        blob = kept.to_bytes()
        if len(kept) < MIN_FEATURE_POINTS:
            notes.append(f"orb: {len(kept)} feature points < {MIN_FEATURE_POINTS}: not banked")
        elif len(blob) > MAX_FEATURE_BYTES:
            notes.append(f"orb: {len(blob)} bytes > {MAX_FEATURE_BYTES}: not banked")
        else:
            out.append(NewEntry("orb", sha, item.external_id, meta, features=blob))
    return out
