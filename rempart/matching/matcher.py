"""The live matcher: every bank entry in memory, answering "what does this content match?".

Pure (no database): the storage layer feeds it banks and entries, and applies later changes one
by one (``put_bank``, ``put_entry``, ``drop_entry``), so a change takes effect for the very next
query and nothing is ever rebuilt whole.

Policy it applies (the verdict itself is ``rempart.scanning.verdict``):
- an entry counts only while it is *active*: not removed, not disabled (or its ``disabled_until``
  has passed), and its bank enabled;
- a PDQ match counts when its distance is within the entry's bank threshold (inclusive);
- a banked picture's "peeled" hash (``pdq-peeled``) sits in the same PDQ index as the others; a
  match through it, or through a query's stage 1 variant (peel, box, straight), is reported as
  signal ``pdq-peeled``;
- stage 2 (``rempart.matching.feature_index``): a query's ORB features are matched against the
  banked ``orb`` entries and verified geometrically; such a match is reported as signal ``orb``
  with its evidence (inliers, transform, area covered, region), and its action is the bank's
  ``feature_action`` ("review" unless the bank says "block"). Stage 2 is not run when an exact
  or PDQ match already blocks; its shortlist is taken under the matcher's lock and verified
  outside it;
- a video matches a banked video when ``rempart.signals.compare_videos`` says so; a video frame
  that matches a banked *image* is a match too (a known picture shown in a video);
- safelists: a match against a safelist bank marks the content as a known benign collision. An
  exact (cryptographic) safelist match cancels every other match; a perceptual one cancels the
  perceptual matches but not exact ones (the same bytes as a listed item are never benign).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from threading import RLock

import numpy as np

from rempart.matching.codec import hex_to_hashes
from rempart.matching.exact_index import ExactIndex
from rempart.matching.feature_index import FeatureIndex, FeatureMatch, confirm
from rempart.matching.pdq_index import PDQIndex
from rempart.signals import LOW_QUALITY, FrameHash, compare_videos
from rempart.signals.features import Features
from rempart.signals.model import STAGE1_NAMES

#: query points looked up in the descriptor index (per set: the picture, its box), and verified
PROBE_POINTS, VERIFY_POINTS = 800, 1300

#: the signals that compare pictures (not bytes): a perceptual safelist match cancels these
PERCEPTUAL = frozenset({"pdq", "pdq-peeled", "vpdq", "orb"})


@dataclass(frozen=True)
class BankPolicy:
    id: int
    name: str
    threshold: int
    action: str
    is_safelist: bool
    enabled: bool
    feature_action: str = "review"


@dataclass(frozen=True)
class EntryState:
    id: int
    bank_id: int
    signal_type: str  # sha256 | md5 | sha1 | pdq | pdq-peeled | vpdq | orb
    value: str
    disabled: bool = False
    disabled_until: dt.datetime | None = None
    removed: bool = False
    frames: tuple[FrameHash, ...] = ()
    features: bytes = b""  # orb: the stored form of rempart.signals.features

    def active_at(self, now: dt.datetime) -> bool:
        if self.removed:
            return False
        if not self.disabled:
            return True
        return self.disabled_until is not None and self.disabled_until <= now


@dataclass(frozen=True)
class Query:
    """What is known of one piece of content.

    ``exact``: signal type -> value. ``pdq``: (variant, hex, quality) for an image's frames and
    its query variants. ``video``: per-second frames of a video, and ``video_variants`` the same
    frames after a transformation (e.g. letterbox trimmed), each compared as a whole video.
    ``features``: the picture's ORB features (``Fingerprint.features``) and ``region_features``
    those of its content box (stored form; b"" when none): stage 2 looks them up.
    """

    exact: dict[str, str] = field(default_factory=dict)
    pdq: tuple[tuple[str, str, int], ...] = ()
    video: tuple[FrameHash, ...] = ()
    video_variants: dict[str, tuple[FrameHash, ...]] = field(default_factory=dict)
    features: bytes = b""
    region_features: bytes = b""


@dataclass(frozen=True)
class Match:
    entry_id: int
    bank_id: int
    bank: str
    action: str
    signal: str  # what matched: sha256, md5, sha1, pdq, pdq-peeled, vpdq, orb
    #: Hamming distance (0 for exact); for vpdq the median distance of matched frames; for orb 0
    #: (its strength is ``evidence["inliers"]``)
    distance: int
    variant: str = "original"
    low_quality: bool = False  # the query hash had quality < 50
    safelist: bool = False
    detail: str = ""
    #: orb: inliers, transform, area_covered, region (``FeatureMatch.evidence``)
    evidence: dict | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class MatchResult:
    matches: tuple[Match, ...]  # counted matches (safelist-cancelled ones removed)
    cancelled: tuple[Match, ...]  # matches cancelled by a safelist match
    safelisted: tuple[Match, ...]  # the safelist matches themselves



class Matcher:
    """All active bank entries, with exact and Hamming-radius indexes. Thread-safe."""

    def __init__(self) -> None:
        self._lock = RLock()
        self._banks: dict[int, BankPolicy] = {}
        self._entries: dict[int, EntryState] = {}
        self._exact: dict[str, ExactIndex] = {}
        self._images = PDQIndex()  # id = entry id
        self._frames = PDQIndex()  # id = frame key, see _frame_key
        self._frame_owner: dict[int, int] = {}
        self._features = FeatureIndex()  # id = entry id

    # -- loading and live changes -------------------------------------------------------------

    def put_bank(self, bank: BankPolicy) -> None:
        with self._lock:
            self._banks[bank.id] = bank

    def put_entries(self, entries: Iterable[EntryState]) -> None:
        """Add or replace entries (bulk: one index update per kind)."""
        with self._lock:
            entries = list(entries)
            for e in entries:
                if e.id in self._entries:
                    self._unindex(self._entries[e.id])
            pdq_ids, pdq_vals = [], []
            frame_ids, frame_vals = [], []
            orb: list[tuple[int, Features]] = []
            for e in entries:
                self._entries[e.id] = e
                if e.signal_type in ("pdq", "pdq-peeled"):
                    pdq_ids.append(e.id)
                    pdq_vals.append(e.value)
                elif e.signal_type == "orb":
                    orb.append((e.id, Features.from_bytes(e.features)))
                elif e.signal_type == "vpdq":
                    for i, f in enumerate(e.frames):
                        key = _frame_key(e.id, i)
                        self._frame_owner[key] = e.id
                        frame_ids.append(key)
                        frame_vals.append(f.pdq)
                else:
                    self._exact_index(e.signal_type).add([e.id], [e.value])
            if pdq_ids:
                self._images.add(np.asarray(pdq_ids, dtype=np.int64), hex_to_hashes(pdq_vals))
            if orb:
                self._features.add_many(orb)
            if frame_ids:
                self._frames.add(np.asarray(frame_ids, dtype=np.int64), hex_to_hashes(frame_vals))

    def _exact_index(self, signal_type: str) -> ExactIndex:
        if signal_type not in self._exact:
            self._exact[signal_type] = ExactIndex(signal_type)
        return self._exact[signal_type]

    def put_entry(self, entry: EntryState) -> None:
        self.put_entries([entry])

    def drop_entry(self, entry_id: int) -> None:
        with self._lock:
            e = self._entries.pop(entry_id, None)
            if e is not None:
                self._unindex(e)

    def _unindex(self, e: EntryState) -> None:
        if e.signal_type in ("pdq", "pdq-peeled"):
            self._images.remove([e.id])
        elif e.signal_type == "orb":
            self._features.remove([e.id])
        elif e.signal_type == "vpdq":
            keys = [_frame_key(e.id, i) for i in range(len(e.frames))]
            self._frames.remove(keys)
            for k in keys:
                self._frame_owner.pop(k, None)
        else:
            self._exact[e.signal_type].remove([e.id])

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, entry_id: int) -> EntryState | None:
        return self._entries.get(entry_id)

    def banks(self) -> list[BankPolicy]:
        with self._lock:
            return list(self._banks.values())

    def exact_values(self) -> dict[str, set[str]]:
        """Signal type -> values of the exact entries held (for finding past items by SQL)."""
        with self._lock:
            out: dict[str, set[str]] = {}
            for e in self._entries.values():
                if e.signal_type in self._exact:
                    out.setdefault(e.signal_type, set()).add(e.value)
            return out

    def near_any(self, hashes: np.ndarray) -> np.ndarray:
        """For each PDQ hash (uint8 (n, 32)): is any image or video-frame entry within reach?

        A cheap, vectorised pre-filter (it ignores entry state and per-bank thresholds, using the
        largest threshold): ``match`` gives the exact answer for the hashes it lets through.
        """
        with self._lock:
            hit = np.zeros(len(hashes), dtype=bool)
            threshold = self._max_threshold()
            for index in (self._images, self._frames):
                if len(index) and len(hashes):
                    hit |= np.fromiter((bool(r) for r in index.query(hashes, threshold=threshold)),
                                       dtype=bool, count=len(hashes))
            return hit

    # -- queries ------------------------------------------------------------------------------

    def match(self, query: Query, now: dt.datetime) -> MatchResult:
        """Every active entry this content matches, with the safelist policy applied.

        Stage 2 is skipped when an exact or PDQ match already blocks (its matches could only add
        "review" to a block, and a safelist that cancels the block cancels them too); otherwise
        its shortlist is taken under the lock and verified outside it (the costly part: other
        scans and live bank changes do not wait for it), then kept only for entries still held.
        """
        with self._lock:
            found: dict[int, Match] = {}
            for m in self._exact_matches(query):
                _keep_best(found, m)
            for m in self._image_matches(query):
                _keep_best(found, m)
            for m in self._video_matches(query):
                _keep_best(found, m)
            blocked = any(m.action == "block" and not m.safelist and not m.low_quality
                          and self._entries[m.entry_id].active_at(now) for m in found.values())
            stage2 = None if blocked else self._feature_candidates(query)
        if stage2:
            verified = [confirm(item, banked, stage2[0]) for item, banked in stage2[1]]
            with self._lock:
                for m in self._feature_matches(v for v in verified if v is not None):
                    _keep_best(found, m)
        with self._lock:
            active = [m for m in found.values()
                      if m.entry_id in self._entries and self._entries[m.entry_id].active_at(now)]
        return _apply_safelists(sorted(active, key=lambda m: (m.distance, m.entry_id)))

    def _max_threshold(self) -> int:
        live = [b.threshold for b in self._banks.values() if b.enabled]
        return max(live, default=0)

    def _make(self, entry_id: int, signal: str, distance: int, **kw) -> Match | None:
        e = self._entries.get(entry_id)
        bank = self._banks.get(e.bank_id) if e else None
        if bank is None or not bank.enabled:
            return None
        if signal in ("pdq", "pdq-peeled", "vpdq") and distance > bank.threshold:
            return None
        action = bank.feature_action if signal == "orb" else bank.action
        return Match(entry_id, bank.id, bank.name, action, signal, distance,
                     safelist=bank.is_safelist, **kw)

    def _exact_matches(self, query: Query) -> Iterable[Match]:
        for stype, value in query.exact.items():
            index = self._exact.get(stype)
            if index is None:
                continue
            for entry_id in index.query([value])[0]:
                m = self._make(entry_id, stype, 0)
                if m:
                    yield m

    def _image_matches(self, query: Query) -> Iterable[Match]:
        if not query.pdq or len(self._images) == 0:
            return
        hashes = hex_to_hashes([h for _, h, _ in query.pdq])
        results = self._images.query(hashes, threshold=self._max_threshold())
        for (variant, _, quality), hits in zip(query.pdq, results):
            stage1 = variant.split("@")[0] in STAGE1_NAMES
            for entry_id, dist in hits:
                peeled = stage1 or self._entries[entry_id].signal_type == "pdq-peeled"
                m = self._make(entry_id, "pdq-peeled" if peeled else "pdq", int(dist),
                               variant=variant, low_quality=quality < LOW_QUALITY)
                if m:
                    yield m

    def _video_matches(self, query: Query) -> Iterable[Match]:
        variants = {"original": query.video, **query.video_variants}
        threshold = self._max_threshold()
        for variant, frames in variants.items():
            if not frames:
                continue
            hashes = hex_to_hashes([f.pdq for f in frames])
            # A banked picture shown as a frame of the video.
            if len(self._images):
                for f, hits in zip(frames, self._images.query(hashes, threshold=threshold)):
                    for entry_id, dist in hits:
                        m = self._make(entry_id, "pdq", int(dist), variant=f"{variant}@{f.t}s",
                                       low_quality=f.quality < LOW_QUALITY)
                        if m:
                            yield m
            if not len(self._frames):
                continue
            candidates = {
                self._frame_owner[key]
                for hits in self._frames.query(hashes, threshold=threshold)
                for key, _ in hits
            }
            for entry_id in sorted(candidates):
                yield from self._compare_video(entry_id, frames, variant)

    def _feature_candidates(self, query: Query):
        """The query's features (all points, to verify with) and the shortlisted entries with
        their banked features; ``None`` when stage 2 has nothing to look at."""
        if not query.features or len(self._features) == 0:
            return None
        features = Features.from_bytes(query.features)
        region = Features.from_bytes(query.region_features) if query.region_features else None
        # The shortlist looks up the best-spread points; verification uses them all.
        probe = features.head(PROBE_POINTS).joined(region.head(PROBE_POINTS) if region else None)
        return features.joined(region).head(VERIFY_POINTS), self._features.candidates(probe)

    def _feature_matches(self, verified: Iterable[FeatureMatch]) -> Iterable[Match]:
        for found in verified:
            m = self._make(found.item, "orb", 0, detail=(
                f"{found.inliers} inliers, {found.area:.0%} of the banked picture seen, "
                f"scale {found.scale:.2f}, rotation {found.rotation:.1f} degrees"),
                evidence=found.evidence())
            if m:
                yield m

    def _compare_video(self, entry_id: int, frames: Sequence[FrameHash], variant: str):
        e = self._entries[entry_id]
        bank = self._banks.get(e.bank_id)
        if bank is None:
            return
        cmp = compare_videos(frames, e.frames, distance=bank.threshold)
        if cmp.matched:
            m = self._make(
                entry_id, "vpdq", cmp.median_distance, variant=variant,
                detail=f"{cmp.query_pct:.0f}% of frames matched, {cmp.target_pct:.0f}% of the banked video",
            )
            if m:
                yield m


def _frame_key(entry_id: int, idx: int) -> int:
    # Frame ids for the frames index: unique per (entry, frame); 2**20 frames per video at most.
    return (entry_id << 20) | idx


def _keep_best(found: dict[int, Match], m: Match) -> None:
    old = found.get(m.entry_id)
    if old is None or (m.distance, m.low_quality) < (old.distance, old.low_quality):
        found[m.entry_id] = m


def _apply_safelists(matches: list[Match]) -> MatchResult:
    safe = [m for m in matches if m.safelist]
    rest = [m for m in matches if not m.safelist]
    if not safe:
        return MatchResult(tuple(rest), (), ())
    exact_safe = any(m.signal not in PERCEPTUAL for m in safe)
    kept = [m for m in rest if not exact_safe and m.signal not in PERCEPTUAL]
    cancelled = [m for m in rest if m not in kept]
    return MatchResult(tuple(kept), tuple(cancelled), tuple(safe))
