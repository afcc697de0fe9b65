"""Database model of API tokens. Only a SHA-256 of each token is stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rempart.hotline import models as _hotline  # noqa: F401  (organisations' keys)
from rempart.store.db import Base, utcnow


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: space-separated scope names
    scopes: Mapped[str] = mapped_column(String(200))
    #: the first characters of the token, shown in listings to tell tokens apart
    prefix: Mapped[str] = mapped_column(String(16))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    #: the organisation a ``reporter`` token speaks for (NULL for every other token)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_orgs.id"), nullable=True,
                                               index=True)
