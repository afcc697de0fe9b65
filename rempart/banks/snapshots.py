"""Replica snapshots: start from the newest one and apply only the changes after it.

A snapshot (``rempart.matching.persist`` format version 2) holds a replica's entries (arrays and
values) and metadata::

    {"kind": "rempart-replica", "seq": 1234, "gaps": [1201], "schema": "0012",
     "database": "<16 hex: a digest of the database's address, without password>",
     "entries": 1000000, "written_at": "2026-12-01T18:00:00"}

``seq`` is the last change-feed sequence number the entries include, and ``gaps`` the lower
numbers not seen yet (``Replica.gaps``). Banks are always read afresh from the database (a few
rows). A snapshot is used only when every check passes, otherwise it is rejected with the reason
(``SnapshotRejected``) and the caller loads from the database and writes a new one:

- the file: magic, version, SHA-256 of the whole file, array headers and shapes, and the arrays'
  agreement with each other (``Matcher.from_snapshot``);
- ``kind``, ``database`` and ``schema`` equal to the database being served (a snapshot of another
  database, or from before a migration, is never used);
- ``seq`` not ahead of the database's change feed (a restored older database).

Files are named ``replica-<seq, 12 digits>.snap`` in the snapshot folder, so the newest is the
last name; ``write`` keeps the newest ``keep`` files.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from rempart.banks.models import Bank, BankChange
from rempart.banks.replica import Replica, bank_policy, load_features
from rempart.errors import InvalidInput, NotFound, shown
from rempart.matching import persist
from rempart.matching.matcher import Matcher
from rempart.store.db import utcnow

log = logging.getLogger("rempart.snapshots")
KIND = "rempart-replica"
_NAME = re.compile(r"^replica-(\d{12})\.snap$")


class SnapshotRejected(InvalidInput):
    """A snapshot that cannot be used as it is (the reason says why); it is rebuilt."""


@dataclass(frozen=True)
class Identity:
    """What a snapshot must have been taken from: this database, at this schema."""

    database: str
    schema: str

    @classmethod
    def of(cls, url: str, schema: str) -> "Identity":
        u = make_url(url)
        where = u.set(password=None).render_as_string(hide_password=False)
        if u.get_backend_name() == "sqlite" and u.database:
            where = "sqlite:///" + str(Path(u.database).resolve())
        return cls(hashlib.sha256(where.encode()).hexdigest()[:16], schema)


@dataclass(frozen=True)
class Written:
    path: Path
    seq: int
    entries: int
    bytes: int
    seconds: float


class SnapshotStore:
    """The snapshot folder of one database."""

    def __init__(self, directory: Path, identity: Identity, keep: int = 2) -> None:
        self.directory, self.identity, self.keep = Path(directory), identity, max(1, keep)

    def files(self) -> list[Path]:
        """Snapshot files, newest first."""
        if not self.directory.is_dir():
            return []
        return sorted((p for p in self.directory.iterdir() if _NAME.match(p.name)), reverse=True)

    def newest(self) -> Path | None:
        files = self.files()
        return files[0] if files else None

    def write(self, replica: Replica) -> Written:
        """Capture ``replica`` (briefly holding its feed cursor and its matcher's lock) and write
        the snapshot without holding either; then keep only the newest ``keep`` files."""
        started = time.monotonic()
        seq, gaps, build = replica.capture()
        arrays = build()
        meta = {"kind": KIND, "seq": seq, "gaps": sorted(gaps), "schema": self.identity.schema,
                "database": self.identity.database, "entries": int(arrays["entry_ids"].shape[0]),
                "written_at": utcnow().isoformat(timespec="seconds")}
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"replica-{seq:012d}.snap"
        size = persist.write_snapshot(path, meta, arrays)
        for old in self.files()[self.keep:]:
            old.unlink(missing_ok=True)
        return Written(path, seq, meta["entries"], size, time.monotonic() - started)

    def load(self, session: Session, path: Path | None = None) -> Replica:
        """The replica of snapshot ``path`` (default: the newest), checked (module doc), with
        the banks read afresh and every later change applied. ``SnapshotRejected`` says why a
        snapshot cannot be used; ``NotFound`` when there is none."""
        path = path or self.newest()
        if path is None:
            raise NotFound("snapshot", str(self.directory))
        try:
            meta, arrays = persist.read_snapshot(path)
        except InvalidInput as e:
            raise SnapshotRejected(str(e)) from None
        top = session.scalar(select(func.coalesce(func.max(BankChange.seq), 0))) or 0
        expected = {"kind": KIND, "database": self.identity.database,
                    "schema": self.identity.schema}
        for key, want in expected.items():
            if meta.get(key) != want:
                raise SnapshotRejected(f"snapshot {path.name}: {key} is {shown(meta.get(key))}, "
                                       f"expected {shown(want)}")
        seq, gaps = meta.get("seq"), meta.get("gaps")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0 or \
                not isinstance(gaps, list) or not all(isinstance(g, int) and 0 < g < seq for g in gaps):
            raise SnapshotRejected(f"snapshot {path.name}: bad seq or gaps")
        if seq > top:
            raise SnapshotRejected(f"snapshot {path.name} includes change {seq} but the "
                                   f"database's feed ends at {top}")
        try:
            matcher = Matcher.from_snapshot(arrays)
        except InvalidInput as e:
            raise SnapshotRejected(f"snapshot {path.name}: {e}") from None
        del arrays
        for bank in session.scalars(select(Bank)):
            matcher.put_bank(bank_policy(bank))
        load_features(session, matcher)  # ORB features: not in the snapshot, immutable per entry
        replica = Replica(matcher, seq)
        now = time.monotonic()
        replica.gaps = {g: now for g in gaps}
        replica.sync(session)
        return replica


def load_or_rebuild(session: Session, store: SnapshotStore) -> tuple[Replica, str]:
    """The replica from the newest usable snapshot, else from the database; and how
    (``"snapshot <name> (seq N)"`` or ``"database (<why no snapshot>)"``)."""
    path = store.newest()
    if path is not None:
        try:
            replica = store.load(session, path)
            return replica, f"snapshot {path.name} (seq {replica_seq(path)})"
        except SnapshotRejected as e:
            log.warning("snapshot not used, loading from the database: %s", e)
            why = str(e)
    else:
        why = "no snapshot yet"
    return Replica.load(session), f"database ({why})"


def replica_seq(path: Path) -> int:
    m = _NAME.match(path.name)
    return int(m.group(1)) if m else 0

