"""Database models of console users and their server-side sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rempart.hotline import models as _hotline  # noqa: F401  (organisations of analysts)
from rempart.store.db import Base, utcnow


class ConsoleUser(Base):
    """A person who uses the console. Never deleted: ``disabled_at`` ends access, history stays."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200))
    #: the initial one-time password must be changed at first login
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret: Mapped[str] = mapped_column(String(64))
    #: the last TOTP time step accepted (a code is never accepted twice)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    #: the organisation of an analyst (``rempart.authz.ORG_ROLES``); NULL for the platform's people
    org_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_orgs.id"), nullable=True,
                                               index=True)


class ConsoleSession(Base):
    """A login. Only a SHA-256 of the session token is stored; CSRF tokens derive from
    ``csrf_secret``."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class LoginThrottle(Base):
    """Login attempts per username (known or not) in the current lockout window. An attempt is
    counted *before* its password is checked, by one conditional UPDATE (``attempts <`` the
    limit, or a window that has passed), and given back when it succeeds: parallel attempts
    can never check more passwords than the lockout allows."""

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
