"""Snapshot cold starts give the same verdicts as a replica loaded from the database, and a
snapshot that cannot be trusted is rejected (then rebuilt), never used."""

from __future__ import annotations

import datetime as dt
import json
import random

import numpy as np
import pytest
from sqlalchemy import select

from bench import edits
from rempart.banks import replica as replica_module
from rempart.banks import service
from rempart.banks.models import BankEntry
from rempart.banks.replica import Replica
from rempart.banks.snapshots import Identity, SnapshotRejected, SnapshotStore, load_or_rebuild
from rempart.matching import persist
from rempart.matching.codec import hashes_to_hex
from rempart.matching.matcher import Query
from rempart.scanning.signals import query_from_rows, signal_rows
from rempart.signals import FrameHash
from rempart.store.db import utcnow


def _pdq(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(64))


def _near(value: str, bits: int, rng: random.Random) -> str:
    raw = bytearray(bytes.fromhex(value))
    for b in rng.sample(range(256), bits):
        raw[b // 8] ^= 1 << (b % 8)
    return raw.hex()


class World:
    """Random bank changes through the service, remembering what was banked."""

    def __init__(self, runtime, seed: int) -> None:
        self.rt, self.rng = runtime, random.Random(seed)
        self.values: list[tuple[str, str]] = []
        self.media: list = []
        self.media_ids: list[int] = []  # kept out of the random churn: the queries' targets
        self.ids: list[int] = []
        with runtime.db.session() as s:
            self.banks = [service.create_bank(s, "a").name,
                          service.create_bank(s, "b", threshold=20, action="review").name,
                          service.create_bank(s, "safe", safelist=True).name]

    def add(self, n: int) -> None:
        entries = []
        for _ in range(n):
            kind = self.rng.choice(["pdq", "pdq", "pdq", "md5", "vpdq"])
            if kind == "vpdq":
                frames = tuple(FrameHash(float(t), _pdq(self.rng), 90) for t in range(3))
                entries.append(service.NewEntry("vpdq", "%064x" % self.rng.getrandbits(256),
                                                frames=frames))
            else:
                value = _pdq(self.rng) if kind == "pdq" else "%032x" % self.rng.getrandbits(128)
                entries.append(service.NewEntry(kind, value))
        with self.rt.db.session() as s:
            bank = service.get_bank(s, self.rng.choice(self.banks))
            r = service.add_entries(s, bank, entries)
            self.ids += r.added_ids()
            self.values += [(e.signal_type, e.value) for e in r.added]

    def bulk(self, n: int, again: int = 0, bank: str | None = None) -> None:
        """A bulk add (one range change for its new entries) of ``n`` new hashes and
        ``again`` already banked ones (a removed one listed again comes back: its own change)."""
        bank = bank or self.rng.choice(self.banks)
        with self.rt.db.session() as s:
            b = service.get_bank(s, bank)
            mine = list(s.scalars(select(BankEntry).where(
                BankEntry.bank_id == b.id, BankEntry.signal_type.in_(("pdq", "md5")))))
            old = [service.NewEntry(e.signal_type, e.value)
                   for e in self.rng.sample(mine, min(again, len(mine)))]
            new = [service.NewEntry("pdq", _pdq(self.rng)) if self.rng.random() < 0.7
                   else service.NewEntry("md5", "%032x" % self.rng.getrandbits(128))
                   for _ in range(n)]
            r = service.apply_entry_batches(s, b, [new[:n // 2] + old, new[n // 2:]])
            fresh = set(self.ids)
            self.ids += [i for i in r.added_ids() if i not in fresh]
            self.values += [(e.signal_type, e.value) for e in new]

    def bank_media(self) -> None:
        """Bank two pictures from their media: each brings its "pdq-peeled" (stage 1) and
        "orb" (stage 2, features in EntryFeatures) entries; the queries are edited copies."""
        bridge = edits.load(edits.IMAGES / "bridge-mods/aaa-orig.jpg")
        rng = np.random.default_rng(7)
        captioned = edits.caption(bridge, rng, "bottom", dark=True)
        for bank, rgb in (("a", captioned), ("b", bridge)):
            out = self.rt.bank_media(bank, self.rt.fingerprint(edits.encode(rgb, 92)))
            self.media_ids += out.result.added_ids()
        self.media = [self.rt.fingerprint(edits.encode(bridge)),  # the bare captioned picture
                      self.rt.fingerprint(edits.encode(edits.crop(bridge, 0.10)))]  # stage 2

    def toggle_stages(self, enable: bool) -> None:
        """Disable (or enable again) the "pdq-peeled" and "orb" entries banked from media."""
        with self.rt.db.session() as s:
            for entry_id in self.media_ids:
                if service.get_entry(s, entry_id).signal_type in ("pdq-peeled", "orb"):
                    if enable:
                        service.enable_entry(s, entry_id)
                    else:
                        service.disable_entry(s, entry_id, reason="fp")

    def churn(self, n: int) -> None:
        """Disables (some until a past-soon date), removals, re-enables and re-adds."""
        for _ in range(n):
            entry_id = self.rng.choice(self.ids)
            op = self.rng.choice(["disable", "disable_until", "remove", "enable", "readd"])
            with self.rt.db.session() as s:
                entry = service.get_entry(s, entry_id)
                if entry.removed_at is not None:
                    if op == "readd" and entry.signal_type not in ("vpdq", "orb"):
                        service.add_entries(s, entry.bank, [service.NewEntry(entry.signal_type,
                                                                             entry.value)])
                    continue
                if op == "disable":
                    service.disable_entry(s, entry_id, reason="fp")
                elif op == "disable_until":
                    service.disable_entry(s, entry_id, until=utcnow() + dt.timedelta(days=1))
                elif op == "remove":
                    service.remove_entry(s, entry_id)
                else:
                    service.enable_entry(s, entry_id)
        if self.rng.random() < 0.5:
            with self.rt.db.session() as s:
                service.update_bank(s, "b", threshold=self.rng.choice([10, 31, 40]))

    def queries(self) -> list[Query]:
        out = []
        for t, v in self.values:
            if t == "pdq":
                out.append(Query(pdq=(("original", v, 90), ("near", _near(v, 15, self.rng), 90))))
            elif t == "md5":
                out.append(Query(exact={"md5": v}))
        return out + [query_from_rows(signal_rows(fp), fp.kind, fp) for fp in self.media]


def verdicts(replica: Replica, queries: list[Query]) -> list:
    now = utcnow()
    return [replica.matcher.match(q, now) for q in queries]


def _store(runtime, tmp_path, schema="0012") -> SnapshotStore:
    return SnapshotStore(tmp_path / "snaps", Identity.of(runtime.settings.database_url, schema))


@pytest.mark.parametrize("seed", [1, 2])
def test_a_snapshot_started_replica_gives_the_verdicts_of_a_fresh_one(runtime, tmp_path, seed,
                                                                      monkeypatch):
    world = World(runtime, seed)
    world.bank_media()
    world.add(60)
    world.bulk(80)
    world.add(60)
    world.churn(40)
    world.bulk(30, again=20)  # removed ones among them come back
    store = _store(runtime, tmp_path)
    with runtime.db.session() as s:
        node = Replica.load(s)
    # The snapshot is captured, then changes land (and the live node applies them) while it is
    # being written: the file holds the captured state and its sequence number only. It is
    # captured in the middle of a bulk add's range (pages of 7): the range is not in its
    # sequence number, though part of its entries is in the file.
    world.toggle_stages(enable=False)  # the snapshot holds them disabled; the feed enables them
    world.churn(10)
    world.bulk(50, again=10)
    monkeypatch.setattr(replica_module, "PAGE", 7)
    with runtime.db.session() as s:
        node.sync(s, pages=3)
    assert node.behind and node.partial
    seq, gaps, build = node.capture()
    world.add(30)
    world.bulk(40, again=10)
    world.churn(40)
    with runtime.db.session() as s:
        node.sync(s)
    monkeypatch.setattr(replica_module, "PAGE", 20_000)
    arrays = build()
    path = store.directory / f"replica-{seq:012d}.snap"
    store.directory.mkdir(parents=True)
    persist.write_snapshot(path, {"kind": "rempart-replica", "seq": seq, "gaps": sorted(gaps),
                                  "schema": "0012", "database": store.identity.database,
                                  "entries": int(arrays["entry_ids"].shape[0])}, arrays)
    world.add(20)
    world.bulk(25, again=15)
    world.churn(30)
    world.toggle_stages(enable=True)
    with runtime.db.session() as s:
        started = store.load(s)
        fresh = Replica.load(s)
        node.sync(s)
    assert started.seq == fresh.seq == node.seq
    assert len(started.matcher) == len(fresh.matcher) == len(node.matcher)
    queries = world.queries()
    assert any(r.matches for r in verdicts(fresh, queries))
    signals = {m.signal for r in verdicts(fresh, queries[-2:]) for m in r.matches}
    held = {started.matcher.entry(i).signal_type for i in world.media_ids}
    assert {"pdq-peeled", "orb"} <= held and {"pdq-peeled", "orb"} <= signals
    assert verdicts(started, queries) == verdicts(fresh, queries) == verdicts(node, queries)
    # written by the store (the background writer's path), it gives the same again
    written = store.write(node)
    with runtime.db.session() as s:
        again = store.load(s, written.path)
    assert verdicts(again, queries) == verdicts(fresh, queries)
    for entry_id in world.ids[:50] + world.media_ids:
        assert again.matcher.entry(entry_id) == fresh.matcher.entry(entry_id)


def test_an_untrustworthy_snapshot_is_rejected_and_rebuilt(runtime, tmp_path):
    world = World(runtime, 3)
    world.add(40)
    store = _store(runtime, tmp_path)
    with runtime.db.session() as s:
        written = store.write(Replica.load(s))
    data = bytearray(written.path.read_bytes())

    def rejected(blob: bytes, store=store, match: str = "") -> None:
        written.path.write_bytes(blob)
        with runtime.db.session() as s, pytest.raises(SnapshotRejected, match=match):
            store.load(s, written.path)

    for at in (10, 40, len(data) // 2, len(data) - 5):  # any flipped byte: checksum
        bad = bytearray(data)
        bad[at] ^= 0x40
        rejected(bytes(bad), match="checksum|magic|version|metadata")
    rejected(bytes(data[:-100]), match="checksum|short")
    rejected(bytes(data), store=_store(runtime, tmp_path, schema="0011"), match="schema")

    def with_meta(**changes) -> None:
        meta, arrays = persist.read_snapshot(tmp_path / "orig.snap")
        persist.write_snapshot(written.path, {**meta, **changes}, dict(arrays))

    (tmp_path / "orig.snap").write_bytes(bytes(data))
    with_meta(seq=10**9)  # ahead of the database (a restored older database)
    with runtime.db.session() as s, pytest.raises(SnapshotRejected, match="feed ends"):
        store.load(s, written.path)
    with_meta(database="0" * 16)
    with runtime.db.session() as s, pytest.raises(SnapshotRejected, match="database"):
        store.load(s, written.path)
    meta, arrays = persist.read_snapshot(tmp_path / "orig.snap")
    arrays = dict(arrays)
    arrays["pdq_ids"] = arrays["pdq_ids"][:-1].copy()  # arrays that disagree
    persist.write_snapshot(written.path, meta, arrays)
    with runtime.db.session() as s, pytest.raises(SnapshotRejected, match="pdq_ids"):
        store.load(s, written.path)
    with runtime.db.session() as s:  # the caller's path: rebuilt from the database
        replica, how = load_or_rebuild(s, store)
        fresh = Replica.load(s)
    assert how.startswith("database (") and "pdq_ids" in how
    assert verdicts(replica, world.queries()) == verdicts(fresh, world.queries())


def test_the_entry_table_holds_no_object_per_entry(runtime):
    world = World(runtime, 4)
    world.add(200)
    with runtime.db.session() as s:
        m = Replica.load(s).matcher
    stats = m.stats()
    assert stats["entries"] == len(m) == 200
    assert not hasattr(m, "_entries")  # state is in arrays: ids, bank, kind, flags
    assert stats["table_nbytes"] < 64 * 1024
    pdq_id = next(i for i, (t, _) in zip(world.ids, world.values) if t == "pdq")
    only = m.only([pdq_id])
    assert len(only) == 1 and only.entry(pdq_id) == m.entry(pdq_id)
    ids, hashes = m._images.get([pdq_id])
    assert ids.tolist() == [pdq_id] and hashes_to_hex(hashes)[0] == m.entry(pdq_id).value
    assert np.asarray(m._table.ids).dtype == np.int64
    json.dumps(stats)
