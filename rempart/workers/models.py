"""The scan requests of scale-out mode (and of asynchronous scans): one row per upload event.

The row is written by the API node before the event is published, and completed by the worker in
the transaction that writes the scan (ledger row, case, log leaf, webhook): a conditional UPDATE
``status = 'queued' -> 'done'`` is that transaction's first write, so an event delivered twice,
or to two workers at once, takes effect once (the second finds no queued row and rolls back).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rempart.store.db import Base, utcnow

STATUSES = ("queued", "done", "failed")


class ScanRequest(Base):
    __tablename__ = "scan_requests"
    __table_args__ = (Index("ix_scan_requests_status", "status", "submitted_at"),)

    #: the event id (32 hex): the stream's de-duplication id and the platform's handle
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))  # sync | async
    source: Mapped[str] = mapped_column(String(16))  # upload | signals
    status: Mapped[str] = mapped_column(String(16), default="queued")
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("scanned_items.id"), nullable=True,
                                                unique=True)
    #: the scan's answer as ``POST /v1/scan`` gives it, or the problem of a failed scan
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    #: how many times a worker took the event (redeliveries after a crash count)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
