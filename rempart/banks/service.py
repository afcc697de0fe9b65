"""Bank operations: create and configure banks, add, import, export and curate entries.

Every change also appends to ``bank_changes`` so that every matcher replica (this process, other
API nodes, scan workers) applies it before its next scan.

Concurrent curators: adding entries first takes the bank's row (an UPDATE of ``updated_at``), so
two imports of the same hash into one bank add it once; an entry is disabled, enabled or removed
by one conditional UPDATE that acts (and records a change) only when the entry was in the state
the step starts from; a bank name taken by a concurrent request is a ``Conflict``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.banks.bulk import BulkAdd, BulkResult, rows_to_stage, staged_rows
from rempart.banks.entries import ConfirmedItem, NewEntry, entries_for
from rempart.banks.entries import MAX_FEATURE_BYTES
from rempart.banks.formats import (
    STREAM_LIMITS, ExportEntry, Limits, StreamedImport, export_hash_list_stream, stream_rows,
)
from rempart.banks.models import ACTIONS, Bank, BankChange, BankEntry, EntryFeatures, EntryFrame
from rempart.errors import Conflict, InvalidInput, NotFound, shown
from rempart.signals import DEFAULT_THRESHOLD, Fingerprint, FrameHash, validate_signal
from rempart.signals.features import Features
from rempart.store.db import utcnow

BANK_NAME = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,99}$")
SOURCE = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,99}$")


@dataclass
class AddResult:
    added: list[BankEntry] = field(default_factory=list)
    already_present: int = 0
    #: human-readable notes on what was not banked and why (e.g. a low-quality PDQ)
    notes: list[str] = field(default_factory=list)

    @property
    def n_added(self) -> int:
        return len(self.added)

    def added_ids(self) -> list[int]:
        return [e.id for e in self.added]


def _record(session: Session, kind: str, ref_id: int) -> None:
    session.add(BankChange(kind=kind, ref_id=ref_id))


def validate_bank_settings(*, threshold: int | None = None, action: str | None = None,
                           source: str | None = None, feature_action: str | None = None) -> None:
    if feature_action is not None and feature_action not in ACTIONS:
        raise InvalidInput(f"feature_action must be one of {', '.join(ACTIONS)}, "
                           f"got {shown(feature_action)}")
    if threshold is not None and not 0 <= threshold <= 256:
        raise InvalidInput(f"threshold must be between 0 and 256, got {threshold}")
    if action is not None and action not in ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}, got {shown(action)}")
    if source is not None and not SOURCE.match(source):
        raise InvalidInput(f"invalid source {shown(source)} (e.g. ncmec, iwf, local, ngo:<org>)")


def create_bank(session: Session, name: str, *, source: str = "local", legal_basis: str = "",
                threshold: int = DEFAULT_THRESHOLD, action: str = "block",
                safelist: bool = False, enabled: bool = True,
                feature_action: str = "review") -> Bank:
    if not BANK_NAME.match(name or ""):
        raise InvalidInput(
            f"invalid bank name {shown(name)}: lowercase letters, digits and _ . : - (at most 100)"
        )
    validate_bank_settings(threshold=threshold, action=action, source=source,
                           feature_action=feature_action)
    if session.scalar(select(Bank.id).where(Bank.name == name)) is not None:
        raise Conflict(f"bank {shown(name)} already exists")
    bank = Bank(name=name, source=source, legal_basis=legal_basis, threshold=threshold,
                action=action, is_safelist=safelist, enabled=enabled,
                feature_action=feature_action)
    session.add(bank)
    try:
        session.flush()
    except IntegrityError:  # created by a concurrent request since the check above
        raise Conflict(f"bank {shown(name)} already exists") from None
    _record(session, "bank", bank.id)
    return bank


def ensure_bank(session: Session, name: str, **settings) -> Bank:
    """The bank ``name``, created with ``settings`` (see ``create_bank``) if it does not exist,
    also when a concurrent transaction creates it at the same moment."""
    found = session.scalar(select(Bank).where(Bank.name == name))
    if found is not None:
        return found
    try:
        with session.begin_nested():
            return create_bank(session, name, **settings)
    except Conflict:  # created meanwhile by the other transaction, now committed
        return get_bank(session, name)


def update_bank(session: Session, name: str, **changes) -> Bank:
    allowed = {"source", "legal_basis", "threshold", "action", "enabled", "is_safelist",
               "feature_action"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
    validate_bank_settings(threshold=changes.get("threshold"), action=changes.get("action"),
                           source=changes.get("source"),
                           feature_action=changes.get("feature_action"))
    bank = get_bank(session, name)
    for key, value in changes.items():
        if value is not None:
            setattr(bank, key, value)
    _record(session, "bank", bank.id)
    return bank


def get_bank(session: Session, name: str) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None:
        raise NotFound("bank", name)
    return bank


def list_banks(session: Session) -> list[tuple[Bank, int]]:
    """Every bank with its number of active (not removed, not disabled) entries."""
    now = utcnow()
    active = (
        select(BankEntry.bank_id, func.count().label("n"))
        .where(BankEntry.removed_at.is_(None))
        .where((BankEntry.disabled_at.is_(None)) | (BankEntry.disabled_until <= now))
        .group_by(BankEntry.bank_id)
        .subquery()
    )
    rows = session.execute(
        select(Bank, func.coalesce(active.c.n, 0)).outerjoin(active, active.c.bank_id == Bank.id)
        .order_by(Bank.name)
    )
    return [(b, int(n)) for b, n in rows]


def add_entries(session: Session, bank: Bank, entries: Iterable[NewEntry],
                added_by: str = "") -> AddResult:
    """Add entries to a bank. Values are validated first: one invalid value and nothing is added.

    An entry already in the bank (same type and value) is left as it is and counted, also when a
    concurrent request added it: the bank's row is held from the first lookup to the commit.
    """
    cleaned: list[NewEntry] = []
    for e in entries:
        if e.signal_type == "vpdq":
            stype, value = "vpdq", validate_signal("sha256", e.value)[1]
            frames = tuple(FrameHash(f.t, validate_signal("pdq", f.pdq)[1], f.quality)
                           for f in e.frames)
            if not frames:
                raise InvalidInput("a vpdq entry needs frame hashes")
        elif e.signal_type == "orb":
            stype, value = "orb", validate_signal("sha256", e.value)[1]
            if len(e.features) > MAX_FEATURE_BYTES:
                raise InvalidInput(f"orb features over {MAX_FEATURE_BYTES} bytes")
            Features.from_bytes(e.features)  # the stored form, checked
            frames = ()
        elif e.signal_type == "pdq-peeled":
            stype, value = "pdq-peeled", validate_signal("pdq", e.value)[1]
            frames = ()
        else:
            stype, value = validate_signal(e.signal_type, e.value)
            frames = ()
        cleaned.append(NewEntry(stype, value, e.external_id, dict(e.metadata), frames,
                                e.features if stype == "orb" else b""))

    session.execute(update(Bank).where(Bank.id == bank.id).values(updated_at=utcnow())
                    .execution_options(synchronize_session=False))
    existing = _existing_rows(session, bank.id, {(e.signal_type, e.value) for e in cleaned})
    result = AddResult()
    seen: set[tuple[str, str]] = set()
    restored: list[BankEntry] = []
    for e in cleaned:
        key = (e.signal_type, e.value)
        old = existing.get(key)
        if old is not None and old.removed_at is not None and key not in seen:
            # Banked again after a removal: the same row comes back, keeping its history.
            old.removed_at = None
            restored.append(old)
            result.added.append(old)
            seen.add(key)
            continue
        if old is not None or key in seen:
            result.already_present += 1
            continue
        seen.add(key)
        row = BankEntry(bank_id=bank.id, signal_type=e.signal_type, value=e.value,
                        external_id=e.external_id, meta=e.metadata, added_by=added_by)
        row.frames = [EntryFrame(idx=i, t=f.t, pdq=f.pdq, quality=f.quality)
                      for i, f in enumerate(e.frames)]
        if e.features:
            row.features = EntryFeatures(data=e.features)
        session.add(row)
        result.added.append(row)
    session.flush()
    for row in result.added:
        _record(session, "entry", row.id)
    return result


def _existing_rows(session: Session, bank_id: int,
                   keys: set[tuple[str, str]]) -> dict[tuple[str, str], BankEntry]:
    found: dict[tuple[str, str], BankEntry] = {}
    types = sorted({t for t, _ in keys})
    values = sorted({v for _, v in keys})
    for i in range(0, len(values), 500):  # stay under SQL parameter limits
        # All three columns, so the (bank, type, value) unique index answers it.
        rows = session.scalars(
            select(BankEntry)
            .where(BankEntry.bank_id == bank_id, BankEntry.signal_type.in_(types),
                   BankEntry.value.in_(values[i:i + 500]))
        )
        found.update(((r.signal_type, r.value), r) for r in rows)
    return {k: v for k, v in found.items() if k in keys}


def entries_by_key(session: Session, bank: Bank,
                   keys: set[tuple[str, str]]) -> dict[tuple[str, str], BankEntry]:
    """The bank's entries (removed ones too) for (signal type, canonical value) keys."""
    return _existing_rows(session, bank.id, keys)


@dataclass
class Ensured:
    #: (signal type, canonical value) -> entry id, for every key asked
    ids: dict[tuple[str, str], int] = field(default_factory=dict)
    #: entries this call added or restored (their changes are recorded)
    added: list[int] = field(default_factory=list)
    #: entry id -> (disabled_at, disabled_reason) of the entries that were already there
    disabled: dict[int, tuple[dt.datetime | None, str]] = field(default_factory=dict)


def ensure_entries(session: Session, bank: Bank, keys: Iterable[tuple[str, str]], *,
                   metadata: dict[str, str] | None = None, added_by: str = "") -> Ensured:
    """Make every (signal type, canonical value) an entry of ``bank``, in bulk: the batch path of
    an exchange sync, where ``add_entries`` would build an ORM object per row.

    Values must already be canonical (``validate_signal``); no vpdq. Missing entries are
    inserted with one multi-row INSERT per chunk, removed ones restored (their history kept),
    and one change is recorded per entry added or restored; entries already there are left as
    they are (a disabled one stays disabled: ``disabled`` says which). Holds the bank's row like
    ``add_entries``, so concurrent adders of one hash add it once.
    """
    wanted = sorted(set(keys))
    out = Ensured()
    if not wanted:
        return out
    session.execute(update(Bank).where(Bank.id == bank.id).values(updated_at=utcnow())
                    .execution_options(synchronize_session=False))
    found = _entry_rows(session, bank.id, wanted)
    restore = [row.id for row in found.values() if row.removed_at is not None]
    missing = [k for k in wanted if k not in found]
    now = utcnow()
    for i in range(0, len(missing), 500):
        session.execute(BankEntry.__table__.insert(), [
            {"bank_id": bank.id, "signal_type": t, "value": v, "external_id": None,
             "metadata": dict(metadata or {}), "added_at": now, "added_by": added_by,
             "disabled_reason": ""} for t, v in missing[i:i + 500]])
    if restore:
        session.execute(update(BankEntry).where(BankEntry.id.in_(restore)).values(removed_at=None)
                        .execution_options(synchronize_session=False))
    fresh = _entry_rows(session, bank.id, missing) if missing else {}
    out.ids = {k: r.id for k, r in {**found, **fresh}.items()}
    out.added = sorted(restore + [r.id for r in fresh.values()])
    out.disabled = {r.id: (r.disabled_at, r.disabled_reason) for r in found.values()}
    for i in range(0, len(out.added), 500):
        session.execute(BankChange.__table__.insert(),
                        [{"kind": "entry", "ref_id": ref, "at": now} for ref in out.added[i:i + 500]])
    return out


def _entry_rows(session: Session, bank_id: int, keys: list[tuple[str, str]]) -> dict:
    found = {}
    wanted = set(keys)
    types = sorted({t for t, _ in keys})
    values = sorted({v for _, v in keys})
    for i in range(0, len(values), 500):
        rows = session.execute(
            select(BankEntry.id, BankEntry.signal_type, BankEntry.value, BankEntry.removed_at,
                   BankEntry.disabled_at, BankEntry.disabled_reason)
            .where(BankEntry.bank_id == bank_id, BankEntry.signal_type.in_(types),
                   BankEntry.value.in_(values[i:i + 500])))
        found.update(((r.signal_type, r.value), r) for r in rows if (r.signal_type, r.value) in wanted)
    return found


def add_items(session: Session, bank: Bank, items: Iterable[ConfirmedItem],
              added_by: str = "") -> AddResult:
    """Bank confirmed items (what each banks: ``rempart.banks.entries``), all in one change."""
    entries: list[NewEntry] = []
    notes: list[str] = []
    for item in items:
        new, why = entries_for(item)
        entries += new
        notes += why
    result = add_entries(session, bank, entries, added_by)
    result.notes.extend(notes)
    return result


def add_media(session: Session, bank: Bank, fp: Fingerprint, *, external_id: str | None = None,
              metadata: dict[str, str] | None = None, added_by: str = "") -> AddResult:
    """Bank a confirmed item straight from its fingerprint."""
    return add_items(session, bank, [ConfirmedItem.from_fingerprint(fp, external_id, metadata)],
                     added_by)


def import_hash_list(session: Session, bank: Bank, data: bytes, fmt: str,
                     added_by: str = "") -> BulkResult:
    """Import a whole hash list given as bytes (``import_stream`` over it)."""
    return import_stream(session, bank, io.BytesIO(data), fmt, added_by)


def import_stream(session: Session, bank: Bank, source: BinaryIO, fmt: str, added_by: str = "",
                  *, stats: StreamedImport | None = None,
                  limits: Limits = STREAM_LIMITS) -> BulkResult:
    """Import a hash list read from a binary file, in batches with bounded memory.

    All-or-nothing: rows go to a staging table in the caller's transaction, and an
    ``ImportFormatError`` listing every bad line (raised after the last batch) leaves the bank
    as it was once the caller rolls back (``Database.session`` does). ``stats`` follows the
    reading (entries, bytes) for a progress bar.
    """
    bulk = BulkAdd(session, bank, added_by)
    stats = stats if stats is not None else StreamedImport()
    for batch in stream_rows(source, fmt, stats=stats, limits=limits):
        bulk.stage(rows_to_stage(batch))
    result = bulk.finish()
    result.notes += [f"{n} {reason} record(s) skipped" for reason, n in sorted(stats.skipped.items())]
    return result


def apply_entry_batches(session: Session, bank: Bank, batches: Iterable[Sequence[NewEntry]],
                        added_by: str = "") -> BulkResult:
    """Add a stream of entries (exact and PDQ; videos go through ``add_entries``) to a bank in
    the caller's transaction, in batches with bounded memory: the entry point for syncing a
    large upstream list. Every value is validated; one invalid value raises ``InvalidSignal``
    naming its position, and the caller's rollback leaves the bank as it was. Entries already
    in the bank are counted; a removed one listed again comes back, as in ``add_entries``."""
    bulk = BulkAdd(session, bank, added_by)
    n = 0
    for batch in batches:
        rows = []
        for e in batch:
            n += 1
            if e.signal_type == "vpdq":
                raise InvalidInput(f"entry {n}: video entries are added with add_entries")
            try:
                stype, value = validate_signal(e.signal_type, e.value)
            except InvalidInput as err:
                raise type(err)(f"entry {n}: {err}") from None
            rows.append(NewEntry(stype, value, e.external_id, dict(e.metadata)))
        bulk.stage(staged_rows(rows, first_line=n - len(rows) + 1))
    return bulk.finish()


def active_entries(session: Session, bank: Bank) -> Sequence[BankEntry]:
    now = utcnow()
    return session.scalars(
        select(BankEntry)
        .where(BankEntry.bank_id == bank.id, BankEntry.removed_at.is_(None))
        .where((BankEntry.disabled_at.is_(None)) | (BankEntry.disabled_until <= now))
        .order_by(BankEntry.id)
    ).all()


#: rempart's own signal types: no exchange format carries them
NO_EXCHANGE_FORMAT = ("vpdq", "pdq-peeled", "orb")


def export_bank(session: Session, bank: Bank, fmt: str) -> bytes:
    """The bank's active entries in an exchange format (video entries, peeled hashes and local
    features are rempart's own: they have no such format)."""
    return b"".join(export_stream(session, bank, fmt))


def export_stream(session: Session, bank: Bank, fmt: str, batch: int = 20_000) -> Iterator[bytes]:
    """``export_bank`` in pieces, reading the entries in batches by id (memory does not grow
    with the bank; the pieces joined are exactly ``export_bank``'s bytes)."""
    now = utcnow()
    cols = (BankEntry.id, BankEntry.signal_type, BankEntry.value, BankEntry.external_id,
            BankEntry.meta)
    q = (select(*cols).where(BankEntry.bank_id == bank.id, BankEntry.removed_at.is_(None),
                             BankEntry.signal_type.not_in(NO_EXCHANGE_FORMAT))
         .where((BankEntry.disabled_at.is_(None)) | (BankEntry.disabled_until <= now))
         .order_by(BankEntry.id))

    def entries() -> Iterator[ExportEntry]:  # one pass; export_hash_list_stream may make several
        last = 0
        while True:
            rows = session.execute(q.where(BankEntry.id > last).limit(batch)).all()
            if not rows:
                return
            last = rows[-1][0]
            for _, t, v, ext, meta in rows:
                yield ExportEntry(t, v, ext, dict(meta or {}))

    return export_hash_list_stream(entries, fmt)


def get_entry(session: Session, entry_id: int) -> BankEntry:
    entry = session.get(BankEntry, entry_id)
    if entry is None:
        raise NotFound("entry", entry_id)
    return entry


def _change_entry(session: Session, entry_id: int, *when, **values) -> tuple[BankEntry, bool]:
    """Change a live (not removed) entry where ``when`` holds, in one conditional UPDATE;
    returns the fresh entry and whether it changed (a change is then recorded)."""
    changed = session.execute(
        update(BankEntry).where(BankEntry.id == entry_id, BankEntry.removed_at.is_(None), *when)
        .values(**values).execution_options(synchronize_session=False)).rowcount == 1
    entry = get_entry(session, entry_id)
    session.refresh(entry)
    if changed:
        _record(session, "entry", entry.id)
    return entry, changed


def disable_entry(session: Session, entry_id: int, *, until: dt.datetime | None = None,
                  reason: str = "") -> BankEntry:
    """Stop an entry matching (a false positive), indefinitely or until ``until`` (UTC)."""
    now = utcnow()
    if until is not None and until <= now:
        raise InvalidInput("'until' must be in the future")
    entry, changed = _change_entry(session, entry_id, disabled_at=now, disabled_until=until,
                                   disabled_reason=reason)
    if not changed:
        raise Conflict(f"entry {entry_id} was removed")
    return entry


def disable_entries(session: Session, entry_ids: Iterable[int], *, reason: str = "",
                    where=None) -> list[int]:
    """``disable_entry`` for many entries, set-based (an exchange's withdrawals): each live,
    enabled entry among ``entry_ids`` (and matching ``where``, a condition on ``BankEntry``) is
    disabled indefinitely with ``reason`` by one conditional UPDATE per chunk, and a change is
    recorded for each; returns the ids it disabled (the others are left as they were)."""
    ids, done = sorted(set(entry_ids)), []
    now = utcnow()
    for i in range(0, len(ids), 500):
        q = (update(BankEntry)
             .where(BankEntry.id.in_(ids[i:i + 500]), BankEntry.removed_at.is_(None),
                    BankEntry.disabled_at.is_(None), *(() if where is None else (where,)))
             .values(disabled_at=now, disabled_until=None, disabled_reason=reason)
             .returning(BankEntry.id).execution_options(synchronize_session=False))
        changed = sorted(session.scalars(q))
        if changed:
            session.execute(BankChange.__table__.insert(),
                            [{"kind": "entry", "ref_id": ref, "at": now} for ref in changed])
        done += changed
    return done


def enable_entry(session: Session, entry_id: int) -> tuple[BankEntry, bool]:
    """Let a disabled entry match again; returns it and whether it was disabled (only then is
    there anything for a retro-scan to find)."""
    entry, changed = _change_entry(session, entry_id, BankEntry.disabled_at.is_not(None),
                                   disabled_at=None, disabled_until=None, disabled_reason="")
    if entry.removed_at is not None:
        raise Conflict(f"entry {entry_id} was removed")
    return entry, changed


def remove_entry(session: Session, entry_id: int, reason: str = "") -> BankEntry:
    """Take an entry out of its bank for good. The row stays, so past matches keep their meaning."""
    entry = get_entry(session, entry_id)
    return _change_entry(session, entry_id, removed_at=utcnow(),
                         disabled_reason=reason or entry.disabled_reason)[0]
