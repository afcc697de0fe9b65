"""Database models of the scan ledger: every scanned item, its signals, and what it matched.

The ledger is what makes retro-scan possible: when a bank gains entries, past items are found
by their stored signals without the media being kept.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rempart.store.db import Base, utcnow

VERDICTS = ("block", "review", "allow")


class ScannedItem(Base):
    __tablename__ = "scanned_items"
    __table_args__ = (
        Index("ix_scanned_items_account", "account"),
        Index("ix_scanned_items_space", "space"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scanned_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # Platform context: opaque identifiers chosen by the platform.
    account: Mapped[str | None] = mapped_column(String(200), nullable=True)
    space: Mapped[str | None] = mapped_column(String(200), nullable=True)
    message: Mapped[str | None] = mapped_column(String(200), nullable=True)
    uploaded_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="upload")  # upload | signals
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)  # image | video | None
    media_format: Mapped[str | None] = mapped_column(String(16), nullable=True)
    size_bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    verdict: Mapped[str] = mapped_column(String(16))

    signals: Mapped[list[ItemSignal]] = relationship(back_populates="item")
    matches: Mapped[list[ItemMatch]] = relationship(back_populates="item")


class ItemSignal(Base):
    """One signal of a scanned item. For videos, one ``pdq`` row per sampled frame (``t`` set)."""

    __tablename__ = "item_signals"
    __table_args__ = (Index("ix_item_signals_type_value", "signal_type", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("scanned_items.id"), index=True)
    signal_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(128))
    variant: Mapped[str] = mapped_column(String(32), default="original")
    t: Mapped[float | None] = mapped_column(Float, nullable=True)
    quality: Mapped[int | None] = mapped_column(Integer, nullable=True)

    item: Mapped[ScannedItem] = relationship(back_populates="signals")


class ItemMatch(Base):
    """A match between a scanned item and a bank entry, found at upload or by a retro-scan."""

    __tablename__ = "item_matches"
    __table_args__ = (UniqueConstraint("item_id", "entry_id", name="uq_item_matches_item_entry"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("scanned_items.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id"))
    signal_type: Mapped[str] = mapped_column(String(16))
    distance: Mapped[int] = mapped_column(Integer)
    variant: Mapped[str] = mapped_column(String(64), default="original")
    low_quality: Mapped[bool] = mapped_column(Boolean, default=False)
    #: "cancelled" when a safelist match cancelled it, "safelist" for the safelist match itself
    status: Mapped[str] = mapped_column(String(16), default="counted")
    found_by: Mapped[str] = mapped_column(String(16), default="upload")  # upload | retro
    found_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    item: Mapped[ScannedItem] = relationship(back_populates="matches")
