"""Issuing, checking and revoking API tokens.

A token is ``rp_`` + 43 base64url characters (32 random bytes). Tokens carry 256 bits of entropy,
so a plain SHA-256 is the right storage (a slow password hash adds nothing and costs every request).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rempart.api.models import ApiToken
from rempart.api.permissions import ORG_SCOPES, Permission, Scope, permissions_of
from rempart.errors import AuthError, InvalidInput, NotFound, shown
from rempart.store.db import utcnow

PREFIX = "rp_"
TOKEN_LENGTH = len(PREFIX) + 43


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id and name and what it may do."""

    token_id: int
    name: str
    scopes: frozenset[Scope]
    #: the organisation a ``reporter`` token speaks for
    org_id: int | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.scopes)

    @property
    def label(self) -> str:
        return f"token:{self.name}"


def parse_scopes(names: list[str] | str) -> frozenset[Scope]:
    if isinstance(names, str):
        names = names.replace(",", " ").split()
    try:
        scopes = frozenset(Scope(n.strip().lower()) for n in names)
    except ValueError:
        known = ", ".join(s.value for s in Scope)
        given = ", ".join(shown(n) for n in names)
        raise InvalidInput(f"unknown scope in {given}; known: {known}") from None
    if not scopes:
        raise InvalidInput("a token needs at least one scope")
    return scopes


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, name: str, scopes: frozenset[Scope], *,
                org_id: int | None = None) -> tuple[ApiToken, str]:
    """Create a token; returns the row and the secret, which is shown once and never stored.
    An organisation's token (``org_id``) has exactly the organisation scopes (``reporter``),
    and those scopes exist only on an organisation's token (``rempart org add``, ``org key``)."""
    if not name.strip():
        raise InvalidInput("a token needs a name")
    if (org_id is not None) != bool(scopes & ORG_SCOPES) or (org_id is not None
                                                              and scopes - ORG_SCOPES):
        raise InvalidInput("scope 'reporter' belongs to an organisation's key, alone "
                           "(rempart org add / rempart org key)")
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name.strip(),
        scopes=" ".join(sorted(s.value for s in scopes)),
        prefix=secret[:10],
        token_sha256=_digest(secret),
        org_id=org_id,
    )
    session.add(row)
    session.flush()
    return row, secret


def authenticate(session: Session, token: str | None) -> Principal:
    """The principal for a bearer token, or ``AuthError`` (missing, malformed, unknown, revoked)."""
    if not token:
        raise AuthError("missing API token (send 'Authorization: Bearer <token>')")
    if not token.startswith(PREFIX) or len(token) != TOKEN_LENGTH:
        raise AuthError("malformed API token")
    digest = _digest(token)
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == digest))
    # compare_digest keeps the final comparison constant-time; the lookup is by a hash anyway.
    if row is None or not hmac.compare_digest(row.token_sha256, digest):
        raise AuthError("unknown API token")
    if row.revoked_at is not None:
        raise AuthError("revoked API token")
    row.last_used_at = utcnow()
    return Principal(row.id, row.name, parse_scopes(row.scopes), row.org_id)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Revoke a token (idempotent: the first revocation's time stays, even under a race)."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound("token", token_id)
    session.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
    session.refresh(row)
    return row
