"""Database models of the hotline: organisations, notices, their locations and fingerprints,
idempotency records and rate windows.

Nothing acknowledged is deleted: a notice only changes status. ``hotline_batches`` holds each
organisation's ``Idempotency-Key`` with the digest of the body it came with and the answer given
(unique per organisation and key: two identical submissions at once create one batch).
Fingerprints (``hotline_hashes``) are not bank entries: they match nothing until a reviewer
confirms them, and then enter a real bank through ``rempart.banks``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rempart.store.db import Base, utcnow


class Organisation(Base):
    __tablename__ = "hotline_orgs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    #: DSA Art. 22(6): notices of a suspended organisation are refused until it is reinstated
    suspended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    suspended_reason: Mapped[str] = mapped_column(Text, default="")


class Batch(Base):
    """One ``POST /v1/notices``: its idempotency key, the body's digest and the answer given."""

    __tablename__ = "hotline_batches"
    __table_args__ = (UniqueConstraint("org_id", "idem_key", name="uq_hotline_batches_org_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("hotline_orgs.id"))
    idem_key: Mapped[str] = mapped_column(String(200))
    body_sha256: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Notice(Base):
    __tablename__ = "hotline_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: NULL for the public (the form, on-device hashes)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_orgs.id"), nullable=True,
                                               index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_batches.id"), nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    #: who sent it, in the log's words: hotline, ngo, trusted_flagger, public, on_device
    source_kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    category: Mapped[str] = mapped_column(String(64))
    explanation: Mapped[str] = mapped_column(Text, default="")
    good_faith: Mapped[bool] = mapped_column(Boolean, default=False)
    contact: Mapped[str | None] = mapped_column(String(300), nullable=True)
    classification: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="received")
    #: SHA-256 (hex) of the canonical JSON of what was received
    digest: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    leaf_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outcome_leaf: Mapped[int | None] = mapped_column(Integer, nullable=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("mod_cases.id"), nullable=True,
                                                index=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    removed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    banked: Mapped[bool] = mapped_column(Boolean, default=False)
    referred: Mapped[bool] = mapped_column(Boolean, default=False)
    #: SHA-256 of the receipt code a public reporter follows the notice with (the code is shown once)
    receipt_sha256: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)

    locations: Mapped[list[Location]] = relationship(back_populates="notice",
                                                     order_by="Location.id")
    hashes: Mapped[list[NoticeHash]] = relationship(back_populates="notice",
                                                    order_by="NoticeHash.id")


class Location(Base):
    """Where the reported content is: the platform's account, space and message ids, and the
    ledger item they resolved to (NULL when the notice names an account or space only)."""

    __tablename__ = "hotline_locations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("hotline_notices.id"), index=True)
    account: Mapped[str | None] = mapped_column(String(200), nullable=True)
    space: Mapped[str | None] = mapped_column(String(200), nullable=True)
    message: Mapped[str | None] = mapped_column(String(200), nullable=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("scanned_items.id"), nullable=True)

    notice: Mapped[Notice] = relationship(back_populates="locations")


class NoticeHash(Base):
    """A fingerprint sent with a notice (pending until a reviewer confirms the notice)."""

    __tablename__ = "hotline_hashes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("hotline_notices.id"), index=True)
    signal_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    #: ledger items it matched when it arrived (shown, blurred, to the reviewer)
    matched_items: Mapped[list] = mapped_column(JSON, default=list)
    #: the bank entries made when it was confirmed
    entry_ids: Mapped[list] = mapped_column(JSON, default=list)
    #: when the retro-scan for those entries ran (NULL: still to run)
    retro_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    notice: Mapped[Notice] = relationship(back_populates="hashes")


class RateWindow(Base):
    """Submissions per source (an organisation, or a salted digest of a public client's address)
    in the current window, taken by one conditional UPDATE, as the login throttle does."""

    __tablename__ = "hotline_rate"

    source: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime)
    used: Mapped[int] = mapped_column(Integer, default=0)


class UsedChallenge(Base):
    """A public form's challenge, once used (each is accepted once)."""

    __tablename__ = "hotline_challenges"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
