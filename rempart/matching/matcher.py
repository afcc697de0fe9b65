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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from threading import Lock, RLock

import numpy as np

from rempart.matching.codec import hashes_to_hex, hex_to_hashes
from rempart.matching.entry_table import DISABLED, KIND_CODE, KINDS, EntryTable
from rempart.matching.exact_index import ExactIndex
from rempart.matching.feature_index import FeatureIndex, FeatureMatch, confirm
from rempart.matching.pdq_index import PDQIndex
from rempart.errors import InvalidInput
from rempart.signals import LOW_QUALITY, FrameHash, compare_videos
from rempart.signals.features import BANK_WHOLE, Features
from rempart.signals.model import STAGE1_NAMES

#: query points looked up in the descriptor index per set (the picture, its box): the first
#: ``BANK_WHOLE``, as many as a bank keeps of its picture (a set lists its points by pyramid level,
#: finest first, as a bank's does); the votes cost about as many lookups as points (800 probed:
#: 2.8-3.0 ms a query, 400: 1.8 ms; bench/pdq_misses.py keeps every recall row and no false
#: match). Verification uses all of them, up to ``VERIFY_POINTS``.
PROBE_POINTS, VERIFY_POINTS = BANK_WHOLE, 1300

#: the signals that compare pictures (not bytes): a perceptual safelist match cancels these
PERCEPTUAL = frozenset({"pdq", "pdq-peeled", "vpdq", "orb"})

#: the entry kinds held in the PDQ image index (a picture's hash, and its peeled hash)
IMAGE_SIGNALS = ("pdq", "pdq-peeled")
_IMAGE_KINDS = [KIND_CODE[k] for k in IMAGE_SIGNALS]


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
    """All active bank entries, with exact and Hamming-radius indexes. Thread-safe.

    Entry state is kept in arrays (``rempart.matching.entry_table``), values in the indexes
    themselves, and only banked videos as Python objects (their frames): no object per entry.
    """

    def __init__(self) -> None:
        self._lock = RLock()
        self._deferred = 0  # blocks of ``merges_deferred`` open
        self._defer_lock = Lock()
        self._banks: dict[int, BankPolicy] = {}
        self._table = EntryTable()
        #: banked videos: entry id -> (the video's SHA-256, its frames)
        self._videos: dict[int, tuple[str, tuple[FrameHash, ...]]] = {}
        self._exact: dict[str, ExactIndex] = {}
        self._images = PDQIndex()  # id = entry id
        self._frames = PDQIndex()  # id = frame key, see _frame_key
        self._frame_owner: dict[int, int] = {}
        self._features = FeatureIndex()  # id = entry id
        #: banked pictures' ORB features (stage 2): entry id -> (the file's SHA-256, features);
        #: the same Features objects the feature index holds
        self._orb: dict[int, tuple[str, Features]] = {}

    # -- loading and live changes -------------------------------------------------------------

    def put_bank(self, bank: BankPolicy) -> None:
        with self._lock:
            self._banks[bank.id] = bank

    def put_entries(self, entries: Iterable[EntryState]) -> None:
        """Add or replace entries (bulk: one index update per kind)."""
        entries = list(entries)
        if not entries:
            return
        last = {e.id: e for e in entries}  # a repeated id keeps its last state
        entries = list(last.values())
        ids = np.fromiter((e.id for e in entries), np.int64, len(entries))
        banks = np.fromiter((e.bank_id for e in entries), np.int32, len(entries))
        kinds = np.fromiter((KIND_CODE[e.signal_type] for e in entries), np.uint8, len(entries))
        flags = np.fromiter((DISABLED if e.disabled else 0 for e in entries), np.uint8,
                            len(entries))
        until = {e.id: e.disabled_until for e in entries
                 if e.disabled and e.disabled_until is not None}
        live = [not e.removed for e in entries]
        pdq = [(e.id, e.value) for e, ok in zip(entries, live)
               if ok and e.signal_type in IMAGE_SIGNALS]
        exact: dict[str, tuple[list[int], list[str]]] = {}
        videos = {}
        orb = []
        for e, ok in zip(entries, live):
            if not ok:
                continue
            if e.signal_type == "vpdq":
                videos[e.id] = (e.value, tuple(e.frames))
            elif e.signal_type == "orb":
                if e.features:
                    orb.append((e.id, e.value, Features.from_bytes(e.features)))
            elif e.signal_type not in IMAGE_SIGNALS:
                exact.setdefault(e.signal_type, ([], []))
                exact[e.signal_type][0].append(e.id)
                exact[e.signal_type][1].append(e.value)
        keep = np.array(live, bool)
        kept = set(ids[keep].tolist()) if until else set()
        prepared = self._images.prepare(np.array([i for i, _ in pdq], np.int64),
                                        hex_to_hashes([v for _, v in pdq])) if pdq else None
        with self._lock:
            self._drop_locked(ids[~keep])
            self._put_locked(ids[keep], banks[keep], kinds[keep], flags[keep],
                             {i: u for i, u in until.items() if i in kept}, prepared,
                             exact, videos, orb)
        self._merge_indexes()

    def put_columns(self, ids: np.ndarray, banks: np.ndarray, kinds: np.ndarray,
                    flags: np.ndarray, until: dict[int, dt.datetime] | None = None, *,
                    pdq: tuple[np.ndarray, np.ndarray] | None = None,
                    exact: dict[str, tuple[list[int], list[str]]] | None = None,
                    videos: dict[int, tuple[str, tuple[FrameHash, ...]]] | None = None,
                    orb: list[tuple[int, str, Features]] | None = None) -> None:
        """Add or replace entries given as columns (the bulk path of loaders and snapshots):
        ``ids`` (unique), their bank ids, kind codes (``entry_table.KINDS``) and flags
        (``DISABLED``); the values of each kind: ``pdq`` as (ids, uint8 (k, 32) hashes) for
        both image kinds ("pdq", "pdq-peeled"), ``exact`` as type -> (ids, hex values),
        ``videos`` as id -> (SHA-256, frames), ``orb`` as (id, file SHA-256, features)."""
        ids = np.asarray(ids, np.int64)
        # the PDQ segment is built before the lock is taken (the costly part of a big batch),
        # and the index merges run after it is released: queries wait only for the swap
        prepared = self._images.prepare(pdq[0], pdq[1]) if pdq is not None else None
        with self._lock:
            self._put_locked(ids, banks, kinds, flags, until, prepared, exact, videos, orb)
        self._merge_indexes()

    def _put_locked(self, ids, banks, kinds, flags, until, prepared, exact, videos, orb) -> None:
        """``put_columns`` with the PDQ rows prepared (``PDQIndex.prepare``); the caller holds
        the lock, then runs ``_merge_indexes`` after releasing it."""
        old = self._table.kinds_of(ids)
        self._unindex(ids[old != 255], old[old != 255])
        self._table.put(ids, banks, kinds, flags, until)
        if prepared is not None:
            self._images.put_prepared(prepared, merge=False)
        for stype, (e_ids, values) in (exact or {}).items():
            self._exact_index(stype).add(e_ids, values)
        frame_ids, frame_vals = [], []
        for entry_id, (value, frames) in (videos or {}).items():
            self._videos[entry_id] = (value, frames)
            for i, f in enumerate(frames):
                key = _frame_key(entry_id, i)
                self._frame_owner[key] = entry_id
                frame_ids.append(key)
                frame_vals.append(f.pdq)
        if orb:
            self.put_features(orb)
        if frame_ids:
            self._frames.add(np.asarray(frame_ids, dtype=np.int64), hex_to_hashes(frame_vals),
                             merge=False)

    @contextmanager
    def merges_deferred(self) -> Iterator[None]:
        """Within the block the PDQ indexes' merges wait, and run once at its end (without the
        lock). A loader putting many batches in a row (a replica catching up on a big import)
        then builds their rows into a segment once rather than merging after every batch;
        queries meanwhile look at a few more segments."""
        with self._defer_lock:
            self._deferred += 1
        try:
            yield
        finally:
            with self._defer_lock:
                self._deferred -= 1
            self._merge_indexes()

    def _merge_indexes(self) -> None:
        """Run the PDQ indexes' due merges, WITHOUT the matcher's lock: a merge builds its new
        segment outside the index's own lock too (seconds at millions of rows), so queries go
        on meanwhile. Called after every change, in the changing thread (unless deferred)."""
        if self._deferred:
            return
        self._images.merge_while_due()
        self._frames.merge_while_due()

    def put_features(self, orb: list[tuple[int, str, Features]]) -> None:
        """Index the ORB features of "orb" entries (stage 2): (id, file SHA-256, features)."""
        with self._lock:
            for entry_id, value, features in orb:
                self._orb[entry_id] = (value, features)
            self._features.add_many([(i, f) for i, _, f in orb])

    def orb_ids(self) -> np.ndarray:
        """Ids of the "orb" entries held (their features are read from the bank on load)."""
        with self._lock:
            return self._table.ids_of_kind(KIND_CODE["orb"])

    def put_pdq(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        """Index the PDQ values of entries already put (``put_columns`` without ``pdq``), in
        one batch: a loader collects them and indexes them once, as one segment."""
        prepared = self._images.prepare(ids, hashes)
        with self._lock:
            self._images.put_prepared(prepared, merge=False)
        self._merge_indexes()

    def _exact_index(self, signal_type: str) -> ExactIndex:
        if signal_type not in self._exact:
            self._exact[signal_type] = ExactIndex(signal_type)
        return self._exact[signal_type]

    def put_entry(self, entry: EntryState) -> None:
        self.put_entries([entry])

    def drop_entry(self, entry_id: int) -> None:
        self.drop_entries(np.array([entry_id], np.int64))

    def drop_entries(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, np.int64)
        if ids.shape[0] == 0:
            return
        with self._lock:
            self._drop_locked(ids)
        self._merge_indexes()

    def _drop_locked(self, ids: np.ndarray) -> None:
        if ids.shape[0] == 0:
            return
        ids = np.unique(ids)
        kinds = self._table.kinds_of(ids)
        held = kinds != 255
        self._table.drop(ids[held])
        self._unindex(ids[held], kinds[held])

    def _unindex(self, ids: np.ndarray, kinds: np.ndarray) -> None:
        """Take these ids (of these kind codes) out of the value indexes."""
        if ids.shape[0] == 0:
            return
        pdq = ids[np.isin(kinds, _IMAGE_KINDS)]
        if pdq.shape[0]:
            self._images.remove(pdq, merge=False)
        orb = ids[kinds == KIND_CODE["orb"]].tolist()
        if orb:
            self._features.remove(orb)
            for entry_id in orb:
                self._orb.pop(entry_id, None)
        for entry_id in ids[kinds == KIND_CODE["vpdq"]].tolist():
            _, frames = self._videos.pop(entry_id, ("", ()))
            keys = [_frame_key(entry_id, i) for i in range(len(frames))]
            self._frames.remove(keys, merge=False)
            for k in keys:
                self._frame_owner.pop(k, None)
        for stype in ("sha256", "md5", "sha1"):
            these = ids[kinds == KIND_CODE[stype]]
            if these.shape[0] and stype in self._exact:
                self._exact[stype].remove(these.tolist())

    def __len__(self) -> int:
        return len(self._table)

    def entry(self, entry_id: int) -> EntryState | None:
        """The state of one entry, rebuilt from the arrays and indexes (None when absent)."""
        with self._lock:
            row = self._table.row(entry_id)
            if row < 0:
                return None
            kind = KINDS[int(self._table.kind[row])]
            frames: tuple[FrameHash, ...] = ()
            features = b""
            if kind in IMAGE_SIGNALS:
                _, hashes = self._images.get([entry_id])
                value = hashes_to_hex(hashes)[0]
            elif kind == "vpdq":
                value, frames = self._videos[entry_id]
            elif kind == "orb":
                value, held = self._orb.get(entry_id, ("", None))
                features = held.to_bytes() if held is not None else b""
            else:
                value = self._exact[kind].value_of(entry_id)
            disabled = bool(self._table.flags[row] & DISABLED)
            return EntryState(entry_id, int(self._table.bank[row]), kind, value, disabled,
                              self._table.until.get(entry_id), False, frames, features)

    def only(self, entry_ids: Iterable[int]) -> "Matcher":
        """A matcher with every bank of this one and only these entries (those held): what a
        retro-scan looks for. PDQ entries are copied as arrays, never one object each."""
        ids = np.unique(np.fromiter(entry_ids, np.int64))
        out = Matcher()
        with self._lock:
            for bank in self._banks.values():
                out.put_bank(bank)
            pos = self._table.find(ids)
            ids, pos = ids[pos >= 0], pos[pos >= 0]
            t = self._table
            kinds = t.kind[pos]
            exact: dict[str, tuple[list[int], list[str]]] = {}
            for stype in ("sha256", "md5", "sha1"):
                these = ids[kinds == KIND_CODE[stype]].tolist()
                if these:
                    exact[stype] = (these, [self._exact[stype].value_of(i) for i in these])
            videos = {i: self._videos[i] for i in ids[kinds == KIND_CODE["vpdq"]].tolist()}
            orb = [(i, *self._orb[i]) for i in ids[kinds == KIND_CODE["orb"]].tolist()
                   if i in self._orb]
            out.put_columns(ids, t.bank[pos], kinds, t.flags[pos],
                            {i: t.until[i] for i in ids.tolist() if i in t.until} if t.until else {},
                            pdq=self._images.get(ids[np.isin(kinds, _IMAGE_KINDS)]),
                            exact=exact, videos=videos, orb=orb)
        return out

    # -- snapshots (format: rempart.matching.persist, version 2) ----------------------------

    def capture(self) -> Callable[[], dict[str, np.ndarray]]:
        """Take a consistent picture of the entries, briefly under the lock (copies of the
        entry arrays and the index's tombstone masks; the index segments are immutable), and
        return a function that builds the snapshot arrays from it WITHOUT the lock: writing a
        snapshot of millions of entries does not hold up queries or updates."""
        with self._lock:
            cols = self._table.columns()
            until = dict(self._table.until)
            pdq = self._images.freeze()
            exact = {t: idx.items() for t, idx in self._exact.items()}
            videos = dict(self._videos)

        def build() -> dict[str, np.ndarray]:
            return _snapshot_arrays(cols, until, pdq(), exact, videos)
        return build

    @classmethod
    def from_snapshot(cls, arrays: dict[str, np.ndarray]) -> "Matcher":
        """A matcher holding the entries of snapshot ``arrays`` (banks: ``put_bank`` after).
        ``InvalidInput`` when the arrays do not agree with each other (a snapshot is checked,
        never trusted)."""
        a = arrays
        ids, kinds = a["entry_ids"], a["entry_kind"]
        n = ids.shape[0]
        if any(a[k].shape[0] != n for k in ("entry_bank", "entry_kind", "entry_flags")):
            raise InvalidInput("snapshot: entry columns differ in length")
        if n > 1 and not np.all(ids[1:] > ids[:-1]):
            raise InvalidInput("snapshot: entry ids are not strictly increasing")
        if n and int(kinds.max()) >= len(KINDS):
            raise InvalidInput("snapshot: unknown entry kind")
        for name, codes in (("pdq_ids", _IMAGE_KINDS), ("video_ids", [KIND_CODE["vpdq"]])):
            if not np.array_equal(np.sort(a[name]), ids[np.isin(kinds, codes)]):
                raise InvalidInput(f"snapshot: {name} do not match their entries")
        exact_kinds = [KIND_CODE[t] for t in ("sha256", "md5", "sha1")]
        if not np.array_equal(np.sort(a["exact_ids"]), ids[np.isin(kinds, exact_kinds)]) or \
                a["exact_kind"].shape[0] != a["exact_ids"].shape[0] or \
                not np.array_equal(a["exact_kind"], kinds[np.searchsorted(ids, a["exact_ids"])]
                                   if n else a["exact_kind"]):
            raise InvalidInput("snapshot: exact values do not match the exact entries")
        if a["pdq_hashes"].shape != (a["pdq_ids"].shape[0], 32) or \
                a["exact_values"].shape != (a["exact_ids"].shape[0], 32) or \
                a["video_sha256"].shape != (a["video_ids"].shape[0], 32) or \
                a["video_frames"].shape != a["video_ids"].shape or \
                int(a["video_frames"].sum()) != a["frame_pdq"].shape[0] or \
                (a["video_frames"].shape[0] and int(a["video_frames"].min()) < 0) or \
                a["frame_pdq"].shape[1:] != (32,) or \
                a["frame_t"].shape[0] != a["frame_pdq"].shape[0] or \
                a["frame_quality"].shape[0] != a["frame_pdq"].shape[0] or \
                a["until_ids"].shape != a["until_us"].shape:
            raise InvalidInput("snapshot: value arrays have the wrong shapes")
        m = cls()
        until = {int(i): _EPOCH + dt.timedelta(microseconds=int(us))
                 for i, us in zip(a["until_ids"].tolist(), a["until_us"].tolist())}
        m._table = EntryTable.from_columns(ids.copy(), a["entry_bank"].copy(), kinds.copy(),
                                           a["entry_flags"].copy(), until)
        m._images.add(a["pdq_ids"], np.ascontiguousarray(a["pdq_hashes"]))
        sizes = {"sha256": 32, "md5": 16, "sha1": 20}
        for t, code in zip(("sha256", "md5", "sha1"), exact_kinds):
            sel = a["exact_kind"] == code
            if sel.any():
                vals = a["exact_values"][sel][:, :sizes[t]]
                m._exact_index(t).add(a["exact_ids"][sel].tolist(),
                                      [bytes(v).hex() for v in vals])
        videos = {}
        start = 0
        for vid, sha, count in zip(a["video_ids"].tolist(), a["video_sha256"], a["video_frames"].tolist()):
            frames = tuple(FrameHash(None if np.isnan(t) else float(t), h, int(q)) for t, h, q in zip(
                a["frame_t"][start:start + count].tolist(),
                hashes_to_hex(np.ascontiguousarray(a["frame_pdq"][start:start + count])),
                a["frame_quality"][start:start + count].tolist()))
            videos[vid] = (bytes(sha).hex(), frames)
            start += count
        if videos:
            m.put_columns(np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.uint8),
                          np.empty(0, np.uint8), videos=videos)
        return m

    def banks(self) -> list[BankPolicy]:
        with self._lock:
            return list(self._banks.values())

    def exact_values(self) -> dict[str, set[str]]:
        """Signal type -> values of the exact entries held (for finding past items by SQL)."""
        with self._lock:
            return {t: idx.values() for t, idx in self._exact.items() if len(idx)}

    def stats(self) -> dict:
        """Sizes for monitoring and benchmarks: entries, and the bytes of the arrays."""
        with self._lock:
            return {"entries": len(self._table), "videos": len(self._videos),
                    "exact": sum(len(i) for i in self._exact.values()),
                    "table_nbytes": self._table.nbytes, "pdq_nbytes": self._images.nbytes,
                    "frames_nbytes": self._frames.nbytes}

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
            blocking = [m for m in found.values()
                        if m.action == "block" and not m.safelist and not m.low_quality]
            blocked = bool(blocking) and bool(self._table.active(
                np.array([m.entry_id for m in blocking], np.int64), now).any())
            stage2 = None if blocked else self._feature_candidates(query)
        if stage2:
            verified = [confirm(item, banked, stage2[0]) for item, banked in stage2[1]]
            with self._lock:
                for m in self._feature_matches(v for v in verified if v is not None):
                    _keep_best(found, m)
        with self._lock:  # entries dropped while stage 2 verified are not held: not active
            cand = list(found.values())
            ok = self._table.active(np.array([m.entry_id for m in cand], np.int64), now)
            active = [m for m, keep in zip(cand, ok.tolist()) if keep]
        return _apply_safelists(sorted(active, key=lambda m: (m.distance, m.entry_id)))

    def _max_threshold(self) -> int:
        live = [b.threshold for b in self._banks.values() if b.enabled]
        return max(live, default=0)

    def _make(self, entry_id: int, signal: str, distance: int, **kw) -> Match | None:
        row = self._table.row(entry_id)
        bank = self._banks.get(int(self._table.bank[row])) if row >= 0 else None
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
                peeled = stage1 or self._table.kinds_of(
                    np.array([entry_id], np.int64))[0] == KIND_CODE["pdq-peeled"]
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
        verified, probe = query_sets(query.features, query.region_features)
        return verified, self._features.candidates(probe)

    def _feature_matches(self, verified: Iterable[FeatureMatch]) -> Iterable[Match]:
        for found in verified:
            m = self._make(found.item, "orb", 0, detail=(
                f"{found.inliers} inliers, {found.area:.0%} of the banked picture seen, "
                f"scale {found.scale:.2f}, rotation {found.rotation:.1f} degrees"),
                evidence=found.evidence())
            if m:
                yield m

    def _compare_video(self, entry_id: int, frames: Sequence[FrameHash], variant: str):
        row = self._table.row(entry_id)
        bank = self._banks.get(int(self._table.bank[row])) if row >= 0 else None
        if bank is None or entry_id not in self._videos:
            return
        cmp = compare_videos(frames, self._videos[entry_id][1], distance=bank.threshold)
        if cmp.matched:
            m = self._make(
                entry_id, "vpdq", cmp.median_distance, variant=variant,
                detail=f"{cmp.query_pct:.0f}% of frames matched, {cmp.target_pct:.0f}% of the banked video",
            )
            if m:
                yield m


_EPOCH = dt.datetime(1970, 1, 1)


def query_sets(features: bytes, region_features: bytes = b"") -> tuple[Features, Features]:
    """A query's stage 2 point sets from their stored forms (``Query.features``, ``.region_features``):
    the points verification uses (the picture's then its box's, up to ``VERIFY_POINTS``) and the
    probe the shortlist looks up (the first ``PROBE_POINTS`` of each)."""
    whole = Features.from_bytes(features)
    region = Features.from_bytes(region_features) if region_features else None
    probe = whole.head(PROBE_POINTS).joined(region.head(PROBE_POINTS) if region else None)
    return whole.joined(region).head(VERIFY_POINTS), probe


def _snapshot_arrays(cols, until, pdq, exact, videos) -> dict[str, np.ndarray]:
    ids, bank, kind, flags = cols
    until_ids = np.array(sorted(until), np.int64)
    until_us = np.array([(until[i] - _EPOCH) // dt.timedelta(microseconds=1)
                         for i in until_ids.tolist()], np.int64)
    ex_ids, ex_kind, ex_vals = [], [], []
    for t, (e_ids, raw) in exact.items():
        ex_ids += e_ids
        ex_kind += [KIND_CODE[t]] * len(e_ids)
        ex_vals += [v.ljust(32, b"\0") for v in raw]
    v_ids = sorted(videos)
    frames = [f for i in v_ids for f in videos[i][1]]
    return {
        "entry_ids": ids, "entry_bank": bank, "entry_kind": kind, "entry_flags": flags,
        "until_ids": until_ids, "until_us": until_us,
        "pdq_ids": pdq[0], "pdq_hashes": pdq[1],
        "exact_ids": np.array(ex_ids, np.int64), "exact_kind": np.array(ex_kind, np.uint8),
        "exact_values": (np.frombuffer(b"".join(ex_vals), np.uint8).reshape(-1, 32)
                         if ex_vals else np.empty((0, 32), np.uint8)),
        "video_ids": np.array(v_ids, np.int64),
        "video_sha256": (np.frombuffer(b"".join(bytes.fromhex(videos[i][0]) for i in v_ids),
                                       np.uint8).reshape(-1, 32)
                         if v_ids else np.empty((0, 32), np.uint8)),
        "video_frames": np.array([len(videos[i][1]) for i in v_ids], np.int64),
        "frame_pdq": hex_to_hashes([f.pdq for f in frames]) if frames else np.empty((0, 32), np.uint8),
        "frame_t": np.array([np.nan if f.t is None else f.t for f in frames], np.float64),
        "frame_quality": np.array([f.quality for f in frames], np.int32),
    }


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
