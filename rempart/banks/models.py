"""Database models of banks (named hash lists) and their entries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Integer, LargeBinary, String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rempart.signals import DEFAULT_THRESHOLD
from rempart.store.db import Base, utcnow

ACTIONS = ("block", "review")


class Bank(Base):
    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: provenance: "ncmec", "iwf", "local", "ngo:<org>", ...
    source: Mapped[str] = mapped_column(String(100), default="local")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    threshold: Mapped[int] = mapped_column(Integer, default=DEFAULT_THRESHOLD)
    action: Mapped[str] = mapped_column(String(16), default="block")
    is_safelist: Mapped[bool] = mapped_column(Boolean, default=False)
    #: what a match found by local features alone (stage 2, signal "orb") does: "review"
    #: (the default: a person looks first) or "block"
    feature_action: Mapped[str] = mapped_column(String(16), default="review",
                                                server_default="review")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    entries: Mapped[list[BankEntry]] = relationship(back_populates="bank")


class BankEntry(Base):
    """One hash in a bank. Never deleted: disabling or removing keeps its history.

    ``signal_type`` is a name from ``rempart.signals.types``, ``"vpdq"`` for a banked video (its
    ``value`` is the video's SHA-256, its frame hashes are in ``entry_frames``), ``"pdq-peeled"``
    for a banked picture's peeled hash, or ``"orb"`` for its local features (``value``: the file's
    SHA-256; the features in ``entry_features``).
    """

    __tablename__ = "bank_entries"
    __table_args__ = (
        # the only (type, value) index: every lookup by value names the bank (migration 0015)
        UniqueConstraint("bank_id", "signal_type", "value", name="uq_bank_entries_bank_signal_value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    signal_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(128))
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    meta: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    added_by: Mapped[str] = mapped_column(String(100), default="")
    #: set while the entry is disabled (a false positive); ``disabled_until`` None means indefinitely
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    disabled_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    disabled_reason: Mapped[str] = mapped_column(Text, default="")
    #: set when the entry was taken out of the bank for good; the row stays for history
    removed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    bank: Mapped[Bank] = relationship(back_populates="entries")
    frames: Mapped[list[EntryFrame]] = relationship(order_by="EntryFrame.idx")
    features: Mapped[EntryFeatures | None] = relationship(uselist=False)


class EntryFeatures(Base):
    """The ORB features of a banked picture (``rempart.signals.features`` stored form)."""

    __tablename__ = "entry_features"

    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class EntryFrame(Base):
    """Per-second PDQ of a banked video (one row per sampled frame)."""

    __tablename__ = "entry_frames"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id"), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    t: Mapped[float | None] = mapped_column(Float, nullable=True)
    pdq: Mapped[str] = mapped_column(String(64))
    quality: Mapped[int] = mapped_column(Integer)


class BankChange(Base):
    """Append-only change feed: every bank or entry change gets a sequence number.

    Matchers in any process apply the changes after the last sequence they saw, so an added or
    disabled entry takes effect for the very next scan without rebuilding the index.
    """

    __tablename__ = "bank_changes"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: "entry" (added, disabled, enabled, removed) or "bank" (settings changed)
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[int] = mapped_column(Integer)
    #: an "entry" change of a range: every entry with ``ref_id <= id <= ref_to`` (a bulk
    #: import's new entries; read through ``rempart.banks.changes``); None for one entry
    ref_to: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


RETRO_STATES = ("pending", "running", "done", "failed")


class RetroJob(Base):
    """A retro-scan of a big banking change, run in the background (``rempart.banks.retro_jobs``).

    The entries to look for are those of the ``entry`` changes numbered ``first_seq`` to
    ``last_seq`` in the feed that belong to ``bank_id``: a job row is all it takes to resume
    after a restart. ``examined``/``total`` count ledger signals, for progress.
    """

    __tablename__ = "retro_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    first_seq: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(Integer)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    examined: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    matches: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    #: when the runner last claimed it or reported progress (a stale running job is taken over)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
