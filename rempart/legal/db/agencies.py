"""Authorities (agencies) with their verified contact, and their officers.

An agency is registered from the operator's shell (``rempart agency add``) with the contact the
desk calls back to verify a request out of band; whoever registers it vouches for that contact
(``verified_by``). An officer is a person (role ``officer``, password + TOTP as every person,
signing into the officers' portal only) of exactly one agency, with an API key for
``/v1/legal/orders`` (``rl_`` + 43 base64url characters; only its SHA-256 is stored).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Role, system_actor
from rempart.errors import AuthError, Conflict, InvalidInput, NotFound, PermissionDenied, shown
from rempart.legal._common import is_email
from rempart.legal.db.models import Agency, Officer
from rempart.people import NewUser, bootstrap_user
from rempart.people.models import ConsoleUser
from rempart.store.db import utcnow

AGENCY_KINDS = ("police", "prosecutor", "court")
KEY_PREFIX = "rl_"
_COUNTRY = re.compile(r"[A-Z]{2}")
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")


@dataclass(frozen=True)
class NewOfficer:
    person: NewUser
    agency: Agency
    key: str  # the API key, shown once


def add_agency(session: Session, name: str, country: str, kind: str, *, email: str | None = None,
               phone: str | None = None, verified_by: str = "operator") -> Agency:
    """Register an authority with its verified contact (an email and/or an E.164 phone)."""
    name = (name or "").strip()
    if not 2 <= len(name) <= 200:
        raise InvalidInput("an agency name is 2 to 200 characters")
    country = (country or "").strip().upper()
    if not _COUNTRY.fullmatch(country):
        raise InvalidInput(f"country {shown(country)}: want an ISO 3166-1 alpha-2 code such as FR")
    if kind not in AGENCY_KINDS:
        raise InvalidInput(f"kind {shown(kind)}: one of {', '.join(AGENCY_KINDS)}")
    if email is None and phone is None:
        raise InvalidInput("an agency needs a verified contact (--email and/or --phone) for callbacks")
    if email is not None and not is_email(email):
        raise InvalidInput(f"{shown(email)} is not an email address")
    if phone is not None and not _PHONE.fullmatch(phone):
        raise InvalidInput(f"phone {shown(phone)}: want E.164, + and 7 to 15 digits")
    if session.scalar(select(Agency.id).where(Agency.name == name)):
        raise Conflict(f"agency {shown(name)} already exists")
    agency = Agency(name=name, country=country, kind=kind, contact_email=email, contact_phone=phone,
                    verified_by=verified_by, verified_at=utcnow())
    session.add(agency)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"agency {shown(name)} already exists") from None
    record(session, system_actor("cli"), AuditEvent.AGENCY_ADDED, subject=f"agency:{agency.id}",
           detail={"name": name, "country": country, "kind": kind})
    return agency


def get_agency(session: Session, name_or_id: str | int) -> Agency:
    text = str(name_or_id).strip()
    agency = session.get(Agency, int(text)) if text.isdigit() else None
    agency = agency or session.scalar(select(Agency).where(Agency.name == text))
    if agency is None:
        raise NotFound("agency", text)
    return agency


def list_agencies(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).order_by(Agency.name)))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_officer(session: Session, username: str, agency: Agency) -> NewOfficer:
    """An officer of ``agency``: a person with role ``officer`` (one-time password + TOTP) and an
    API key, from the operator's shell."""
    person = bootstrap_user(session, username, Role.OFFICER)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(Officer(user_id=person.user.id, agency_id=agency.id, key_prefix=key[:10],
                        key_sha256=_digest(key)))
    session.flush()
    record(session, system_actor("cli"), AuditEvent.OFFICER_ADDED, subject=f"user:{person.user.id}",
           detail={"agency": agency.id})
    return NewOfficer(person, agency, key)


def officer_agency(session: Session, actor: Actor) -> Agency:
    """The agency an officer acts for (``PermissionDenied`` for anyone else)."""
    if actor.role is not Role.OFFICER or actor.user_id is None:
        raise PermissionDenied(f"{actor.label} is not an officer")
    officer = session.get(Officer, actor.user_id)
    if officer is None:
        raise PermissionDenied(f"{actor.label} belongs to no agency")
    return session.get(Agency, officer.agency_id)


def authenticate_officer(session: Session, key: str | None) -> Actor:
    """The officer whose API key this is; ``AuthError`` (one message, whatever is wrong) for a
    missing, forged or revoked key or a disabled officer."""
    bad = AuthError("invalid officer credentials: send 'Authorization: Bearer rl_...', the key "
                    "`rempart officer add` printed")
    if not key or not key.startswith(KEY_PREFIX) or len(key) != len(KEY_PREFIX) + 43:
        raise bad
    officer = session.scalar(select(Officer).where(Officer.key_sha256 == _digest(key)))
    if officer is None or officer.key_revoked_at is not None:
        raise bad
    user = session.get(ConsoleUser, officer.user_id)
    if user is None or user.disabled_at is not None or user.role != Role.OFFICER.value:
        raise bad
    return Actor(user.id, user.username, Role.OFFICER)
