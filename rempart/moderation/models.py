"""Database models of the moderation domain.

Nothing acknowledged is deleted: cases, decisions, actions, appeals, holds, referrals, reveals and
outbox messages only change status. ``Case.open_key`` holds the subject while the case is
undecided and is unique, so concurrent scans can never open two live cases for one subject.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rempart.audit import models as _audit  # noqa: F401  (one schema: imported with these)
from rempart.hotline import models as _hotline  # noqa: F401
from rempart.people import models as _people  # noqa: F401
from rempart.store.db import Base, utcnow


class Queue(Base):
    __tablename__ = "mod_queues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    sla_seconds: Mapped[int] = mapped_column(Integer)
    warn_fraction: Mapped[float] = mapped_column(Float, default=0.8)
    child_safety: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Case(Base):
    __tablename__ = "mod_cases"
    __table_args__ = (
        Index("ix_mod_cases_serve", "queue_id", "status", "priority", "due_at"),
        Index("ix_mod_cases_account", "account"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("mod_queues.id"))
    source: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default="open")
    #: what the case is about: ``account:<id>``, ``item:<id>``, ``notice:<ref>``, ``appeal:<id>``...
    subject: Mapped[str] = mapped_column(String(250))
    #: = subject while the case is undecided, NULL after (unique: one live case per subject)
    open_key: Mapped[str | None] = mapped_column(String(250), unique=True, nullable=True)
    account: Mapped[str | None] = mapped_column(String(200), nullable=True)
    space: Mapped[str | None] = mapped_column(String(200), nullable=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    priority: Mapped[int] = mapped_column(Integer)
    #: the case shows media (reveals count against the exposure budget)
    has_media: Mapped[bool] = mapped_column(Boolean, default=True)
    #: hash-match evidence is enough to decide without revealing anything
    metadata_decidable: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_case_id: Mapped[int | None] = mapped_column(ForeignKey("mod_cases.id"), nullable=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime)
    warn_at: Mapped[dt.datetime] = mapped_column(DateTime)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"), nullable=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    claim_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"), nullable=True)

    queue: Mapped[Queue] = relationship()
    items: Mapped[list[CaseItem]] = relationship(back_populates="case", order_by="CaseItem.id")


class CaseItem(Base):
    """One flagged item of a case (a ledger item, or an external reference for notices)."""

    __tablename__ = "mod_case_items"
    __table_args__ = (UniqueConstraint("case_id", "item_id", name="uq_mod_case_items_case_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mod_cases.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("scanned_items.id"), nullable=True,
                                                index=True)
    external_ref: Mapped[str | None] = mapped_column(String(300), nullable=True)
    verdict: Mapped[str] = mapped_column(String(16), default="")
    best_bank: Mapped[str | None] = mapped_column(String(100), nullable=True)
    best_distance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="items")


class Decision(Base):
    __tablename__ = "mod_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mod_cases.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"))
    policy: Mapped[str | None] = mapped_column(String(64), nullable=True)
    violation: Mapped[bool] = mapped_column(Boolean)
    #: the requested actions: [{"kind", "target_type", "target", "end_date"}]
    actions: Mapped[list] = mapped_column(JSON, default=list)
    facts: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    second_reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"),
                                                           nullable=True)
    second_agrees: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    second_note: Mapped[str] = mapped_column(Text, default="")
    second_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"), nullable=True)
    lead_note: Mapped[str] = mapped_column(Text, default="")
    lead_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    final_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    reversed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Action(Base):
    """One applied action with its own statement of reasons. ``idempotency_key`` is what the
    platform sees on every delivery of it."""

    __tablename__ = "mod_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("mod_decisions.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mod_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    target_type: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(16), default="applied")  # applied | reversed
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    statement: Mapped[dict] = mapped_column(JSON, default=dict)
    #: effects to undo on reversal, e.g. {"bank_entry_ids": [...]}
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    reversed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class WebhookEndpoint(Base):
    __tablename__ = "mod_webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    #: an organisation's endpoint (notice outcomes); NULL: the platform's (actions)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_orgs.id"), nullable=True,
                                               index=True)


class OutboxMessage(Base):
    """A webhook to deliver. Written in the transaction of the action it announces."""

    __tablename__ = "mod_outbox"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "idempotency_key", name="uq_mod_outbox_endpoint_key"),
        Index("ix_mod_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("mod_webhook_endpoints.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("mod_actions.id"), nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(120))
    event: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Hold(Base):
    """A preservation hold: while ``released_at`` is NULL no data of the case (or, for a hold
    on an account, none of the account's items) may be deleted. ``expires_at``: released
    automatically (and audited) once passed; NULL holds until released."""

    __tablename__ = "mod_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("mod_cases.id"), index=True, nullable=True)
    #: a hold on every item of a platform account (a preservation order), instead of a case
    account: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("mod_decisions.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    placed_by: Mapped[str] = mapped_column(String(100))
    placed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Gag(Base):
    """"Do not inform the user" about ``account`` (an authority's confidentiality order): while
    ``lifted_at`` is NULL, no notification to the user (a statement of reasons) is produced for
    the account; ``source`` names what imposed it (``order:<id>``)."""

    __tablename__ = "mod_gags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(200), index=True)
    source: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    lifted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Referral(Base):
    """A referral to mandatory reporting (NCMEC). Submission itself is the legal desk's work."""

    __tablename__ = "mod_referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mod_cases.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("mod_decisions.id"))
    target: Mapped[str] = mapped_column(String(32), default="ncmec")
    status: Mapped[str] = mapped_column(String(32), default="pending_submission")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Appeal(Base):
    __tablename__ = "mod_appeals"
    #: at most one open appeal per decision, even when two are filed at the same moment
    __table_args__ = (Index("uq_mod_appeals_open", "decision_id", unique=True,
                            sqlite_where=text("status = 'open'"),
                            postgresql_where=text("status = 'open'")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("mod_decisions.id"), index=True)
    #: the appeal's own case (source ``appeal``), where it is claimed and decided
    case_id: Mapped[int] = mapped_column(ForeignKey("mod_cases.id"))
    appellant: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text, default="")
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|upheld|overturned
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class Reveal(Base):
    """One explicit reveal of one item by one reviewer (the exposure budget counts these)."""

    __tablename__ = "mod_reveals"
    __table_args__ = (Index("ix_mod_reveals_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("mod_cases.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("scanned_items.id"), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class RevealBudget(Base):
    """The exposure budget's gate: reveals taken per reviewer and UTC day. A reveal is taken by
    one conditional UPDATE (``used < limit``), so parallel reveals never exceed the budget; the
    ``Reveal`` rows remain the record of each one."""

    __tablename__ = "mod_reveal_budget"

    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # UTC, YYYY-MM-DD
    used: Mapped[int] = mapped_column(Integer, default=0)


class ReviewerPrefs(Base):
    __tablename__ = "mod_reviewer_prefs"

    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), primary_key=True)
    blur: Mapped[int] = mapped_column(Integer, default=24)  # blur radius in px, 0..64
    greyscale: Mapped[bool] = mapped_column(Boolean, default=True)
    thumbnails: Mapped[bool] = mapped_column(Boolean, default=True)
    frame_strip: Mapped[bool] = mapped_column(Boolean, default=True)  # videos as a frame strip
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
