"""Database models of hash-sharing exchanges: sources, checkpoints, upstream ids, runs, feedback
and the partners a rempart feed is shared with."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rempart.store.db import Base, utcnow


class Exchange(Base):
    """One source a bank is kept in sync with (``rempart exchange add``)."""

    __tablename__ = "exchanges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: ncmec | threatexchange | stopncii | rempart (``rempart.exchanges.vocab.KINDS``)
    kind: Mapped[str] = mapped_column(String(16))
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    url: Mapped[str] = mapped_column(String(2000))
    #: where the credential is: "file:<path>", "env:<VARIABLE>" or "stored" (``credential_enc``)
    credential_ref: Mapped[str] = mapped_column(String(1000), default="")
    #: the credential encrypted with the key in REMPART_HOME/keys (only when "stored")
    credential_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: filters and protocol options (member ids, categories, privacy group, page size)
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: how often ``rempart serve`` syncs it
    interval_seconds: Mapped[float] = mapped_column(Float, default=900.0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)


class ExchangeCheckpoint(Base):
    """Where the next fetch starts: committed with the effects of the page that moved it."""

    __tablename__ = "exchange_checkpoints"

    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id"), primary_key=True,
                                             autoincrement=False)
    #: the protocol's own cursor (``rempart.exchanges.clients``): a window, a page token...
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    #: bumped by every page applied: a conditional UPDATE on it keeps two syncers apart
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ExchangeEntry(Base):
    """An upstream record's hash, as the bank entry it became (one row per hash of a record)."""

    __tablename__ = "exchange_entries"
    __table_args__ = (
        UniqueConstraint("exchange_id", "upstream_id", "entry_id",
                         name="uq_exchange_entries_exchange_upstream_entry"),
        Index("ix_exchange_entries_entry_id", "entry_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id"))
    upstream_id: Mapped[str] = mapped_column(String(200))
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id"))
    labels: Mapped[list] = mapped_column(JSON, default=list)
    #: what feedback needs to name the record upstream (NCMEC media, ThreatExchange descriptors)
    extra: Mapped[dict] = mapped_column(JSON, default=dict)
    #: False once withdrawn upstream (or dropped from the record by an update)
    live: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ExchangeRun(Base):
    """One sync of one exchange: what it did and how it ended."""

    __tablename__ = "exchange_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    #: running | ok | failed | interrupted (its process stopped: ``service.STALE_SECONDS``)
    status: Mapped[str] = mapped_column(String(16), default="running")
    #: moved by every page a running sync applies: a run quiet for too long was interrupted
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)


class ExchangeError(Base):
    """A record that was reported and skipped (never half-applied), with its reason."""

    __tablename__ = "exchange_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_runs.id"), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    upstream_id: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(String(500))


class ExchangeFeedback(Base):
    """A reviewer's opinion on a match against an exchange entry, queued back to the exchange."""

    __tablename__ = "exchange_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: what the opinion is about ("<case>:<exchange>:<upstream id>:<opinion>"): queued once
    key: Mapped[str] = mapped_column(String(400), unique=True)
    exchange_id: Mapped[int] = mapped_column(ForeignKey("exchanges.id"), index=True)
    upstream_id: Mapped[str] = mapped_column(String(200))
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id"))
    #: confirmed | false_positive
    opinion: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    #: queued | sent | failed (gave up after ``attempts``)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class ExchangePartner(Base):
    """Another rempart that may read this one's feed (``GET /v1/exchange/feed``)."""

    __tablename__ = "exchange_partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: SHA-256 (hex) of the partner's key: how a request is recognised
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the key, encrypted with the key in REMPART_HOME/keys: each page is signed with it
    key_enc: Mapped[str] = mapped_column(Text)
    #: the banks shared with this partner (the sharing rule)
    banks: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
