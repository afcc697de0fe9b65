"""Database models of the law-enforcement desk.

Nothing acknowledged is deleted: an order, its clock events, its deliveries, approvals and
callbacks only accumulate. An order's legal clock is the pure fold of ``rempart.legal.clocks``
over its rows in ``legal_order_events``; ``status`` and ``deadline`` on the order are a cache of
that fold, refreshed on every change, for listing and sorting.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rempart.store.db import Base, utcnow


class Agency(Base):
    """A law-enforcement or judicial authority, with the contact the desk calls back."""

    __tablename__ = "legal_agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(16))  # police | prosecutor | court
    #: the registered contact (verified out of band when the agency was added)
    contact_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    contact_phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    verified_by: Mapped[str] = mapped_column(String(100))
    verified_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Officer(Base):
    """A person (``console_users``, role ``officer``) of one agency, and their API key (only a
    SHA-256 of it is kept)."""

    __tablename__ = "legal_officers"

    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("legal_agencies.id"), index=True)
    key_prefix: Mapped[str] = mapped_column(String(12))
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    key_revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class LegalOrder(Base):
    """One order or emergency request as received (``body``: its canonical JSON)."""

    __tablename__ = "legal_orders"
    __table_args__ = (UniqueConstraint("agency_id", "reference", name="uq_legal_orders_agency_reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("legal_agencies.id"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(24))  # epoc | epoc_pr | emergency_request
    clock_kind: Mapped[str] = mapped_column(String(24))
    reference: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    confidential: Mapped[bool] = mapped_column(Boolean, default=True)
    #: when the "do not inform the user" was lifted (the authority informed the person)
    gag_lifted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    #: cache of the clock's fold (``status``, ``deadline``), refreshed on every change
    status: Mapped[str] = mapped_column(String(32))
    deadline: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    #: first answer (``produced``, ``declined``, non-execution): time-to-answer is measured to it
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    #: the preservation hold (``mod_holds``) placed for it, if any
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("mod_holds.id"), nullable=True)
    #: the order's transparency leaf (a commitment; revealed when it lapses if confidential)
    leaf_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    revealed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class OrderEvent(Base):
    """One event of an order's legal clock (``rempart.legal.clocks.Event``), in order."""

    __tablename__ = "legal_order_events"
    __table_args__ = (UniqueConstraint("order_id", "seq", name="uq_legal_order_events_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("legal_orders.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")


class Delivery(Base):
    """One signed disclosure package answering an order, numbered from 1; a later delivery
    names the manifest digest of the one before."""

    __tablename__ = "legal_deliveries"
    __table_args__ = (UniqueConstraint("order_id", "number", name="uq_legal_deliveries_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("legal_orders.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    manifest_digest: Mapped[str] = mapped_column(String(80))
    previous_digest: Mapped[str | None] = mapped_column(String(80), nullable=True)
    files: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Approval(Base):
    """One person's approval of an emergency disclosure (two different people are needed)."""

    __tablename__ = "legal_approvals"
    __table_args__ = (UniqueConstraint("order_id", "user_id", name="uq_legal_approvals_person"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("legal_orders.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Callback(Base):
    """The out-of-band check of a request: who called which registered contact, and the answer."""

    __tablename__ = "legal_callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("legal_orders.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"))
    actor: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str] = mapped_column(String(254))  # the registered contact that was called
    confirmed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class TiplineReport(Base):
    """A CyberTipline report of one referral (one account): its submission state as the client
    keeps it (``rempart.legal.cybertipline.state``), NCMEC's report id and acknowledgements."""

    __tablename__ = "legal_tipline_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("mod_referrals.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mod_cases.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), default="pending")
    report_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("mod_holds.id"), nullable=True)
    leaf_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
