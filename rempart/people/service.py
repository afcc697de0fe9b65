"""Console accounts and logins: create users, log in with password + TOTP, server-side sessions
that expire and can be revoked, and CSRF tokens bound to a session.

Session tokens are ``rs_`` + 43 url-safe characters (256 bits): only their SHA-256 is stored.
A CSRF token is HMAC-SHA256(session's csrf_secret, purpose) in hex: stable for the session, so
every form of one session carries the same token, and worthless for any other session.

Each check that guards a write is one conditional UPDATE with it: a TOTP step is taken only if
it is later than the last one taken (one code, one session, however many logins carry it at
once); a password is replaced only if it is still the one checked. Changing one's password or
being disabled ends the user's other sessions. Every login attempt pays one argon2
verification, against a stand-in hash when the user does not exist, so its time tells nothing
about who has an account; the lockout is ``throttle``'s.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.errors import AuthError, Conflict, InvalidInput, NotFound, shown
from rempart.people import credentials, throttle
from rempart.people.models import ConsoleSession, ConsoleUser
from rempart.people.throttle import LOCKOUT_WINDOW, MAX_FAILURES
from rempart.authz.permissions import ORG_ROLES, PERSON_ROLES, Audience, Permission, Role, may_sign_into
from rempart.authz.principal import Actor, require, system_actor
from rempart.store.db import Database, utcnow

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
SESSION_PREFIX = "rs_"
SESSION_TTL = dt.timedelta(hours=8)
IDLE_TTL = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class NewUser:
    """What ``create_user`` returns once: the one-time password and the TOTP enrolment."""

    user: ConsoleUser
    one_time_password: str
    totp_secret: str
    totp_uri: str


@dataclass(frozen=True)
class LoginResult:
    token: str  # the session cookie value, shown once
    actor: Actor
    csrf_token: str
    expires_at: dt.datetime
    must_change_password: bool


def parse_role(name: str) -> Role:
    try:
        role = Role(name.strip().lower())
    except ValueError:
        role = None
    if role not in PERSON_ROLES:
        raise InvalidInput(
            f"unknown role {shown(name)}; one of {', '.join(r.value for r in PERSON_ROLES)}")
    return role


def actor_of(user: ConsoleUser) -> Actor:
    return Actor(user.id, user.username, Role(user.role), org_id=user.org_id)


def create_user(session: Session, actor: Actor, username: str, role: Role) -> NewUser:
    """Create a person with a random one-time password and a TOTP secret. Needs ``USERS_ADMIN``."""
    require(actor, Permission.USERS_ADMIN)
    return _create_user(session, username, role, created_by=actor)


def bootstrap_user(session: Session, username: str, role: Role, *,
                   org_id: int | None = None) -> NewUser:
    """Create a user from the operator's shell (``rempart user add``, ``rempart org analyst
    add``): the machine's operator is the root of trust, so no console permission is checked.
    Audited as ``system:cli``. ``org_id``: the organisation of an analyst."""
    return _create_user(session, username, role, created_by=system_actor("cli"), org_id=org_id)


def _create_user(session: Session, username: str, role: Role, created_by: Actor,
                 org_id: int | None = None) -> NewUser:
    username = (username or "").strip().lower()
    if not USERNAME.match(username):
        raise InvalidInput("a username is 2-64 lowercase letters, digits, '_', '.' or '-'")
    if role not in PERSON_ROLES:
        raise InvalidInput(f"role {shown(role)} cannot be given to a person")
    if (role in ORG_ROLES) != (org_id is not None):
        raise InvalidInput(f"a {role.value} {'belongs to' if role in ORG_ROLES else 'has no'} "
                           "organisation")
    if session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == username)):
        raise Conflict(f"user {shown(username)} already exists")
    password = credentials.one_time_password()
    secret = credentials.new_totp_secret()
    user = ConsoleUser(username=username, role=role.value,
                       password_hash=credentials.hash_password(password),
                       totp_secret=secret, must_change_password=True, org_id=org_id)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # created by a concurrent request since the check above
        raise Conflict(f"user {shown(username)} already exists") from None
    record(session, created_by, AuditEvent.USER_CREATED, subject=f"user:{user.id}",
           detail={"username": username, "role": role.value})
    return NewUser(user, password, secret, credentials.totp_uri(secret, username))


def list_users(session: Session) -> list[ConsoleUser]:
    return list(session.scalars(select(ConsoleUser).order_by(ConsoleUser.username)))


def get_user(session: Session, user_id: int) -> ConsoleUser:
    user = session.get(ConsoleUser, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def disable_user(session: Session, actor: Actor, user_id: int) -> ConsoleUser:
    """End a person's access: disabled, and every session revoked. Needs ``USERS_ADMIN``."""
    require(actor, Permission.USERS_ADMIN)
    user = get_user(session, user_id)
    now = utcnow()
    session.execute(update(ConsoleUser)
                    .where(ConsoleUser.id == user.id, ConsoleUser.disabled_at.is_(None))
                    .values(disabled_at=now).execution_options(synchronize_session=False))
    session.refresh(user)
    ended = _end_sessions(session, user.id, now)
    record(session, actor, AuditEvent.USER_DISABLED, subject=f"user:{user.id}",
           detail={"sessions_ended": ended})
    return user


def _end_sessions(session: Session, user_id: int, now: dt.datetime, *,
                  keep: int | None = None) -> int:
    """Revoke every live session of the user but ``keep``; how many were ended."""
    q = update(ConsoleSession).where(ConsoleSession.user_id == user_id,
                                     ConsoleSession.revoked_at.is_(None))
    if keep is not None:
        q = q.where(ConsoleSession.id != keep)
    return session.execute(q.values(revoked_at=now)
                           .execution_options(synchronize_session=False)).rowcount


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(session: Session, username: str, password: str, totp_code: str, *,
          now: dt.datetime | None = None, ttl: dt.timedelta = SESSION_TTL,
          audience: Audience | None = None) -> LoginResult:
    """Check password and TOTP code; open a server-side session.

    Every failure raises the same ``AuthError`` (no hint which factor failed) after the same
    work (one argon2 verification, even for a user that does not exist). A TOTP code is accepted
    once: its time step is taken by a conditional UPDATE, so a replay fails even when it races
    the first use. Failures are not recorded here (the caller's transaction rolls back): the web
    layer calls ``attempt_login``, which records them and applies the lockout. ``audience``: the
    site being signed into; a person whose role belongs to another site fails like a wrong
    password (``rempart.authz.may_sign_into``).
    """
    now = now or utcnow()
    user = session.scalar(select(ConsoleUser).where(ConsoleUser.username == (username or "").lower()))
    stored = user.password_hash if user is not None else credentials.stand_in_hash()
    ok = credentials.verify_password(stored, password or "") and user is not None \
        and user.disabled_at is None \
        and (audience is None or may_sign_into(Role(user.role), audience))
    step = credentials.verify_totp(user.totp_secret, totp_code,
                                   at=now.replace(tzinfo=dt.timezone.utc).timestamp()) if ok else None
    if step is None or not _take_totp_step(session, user, step, now):
        raise AuthError("wrong username, password or code")
    if credentials.needs_rehash(user.password_hash):
        user.password_hash = credentials.hash_password(password)
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    row = ConsoleSession(user_id=user.id, token_sha256=_digest(token),
                         csrf_secret=secrets.token_hex(32), created_at=now, last_seen_at=now,
                         expires_at=now + ttl)
    session.add(row)
    session.flush()
    actor = actor_of(user)
    record(session, actor, AuditEvent.LOGIN_SUCCEEDED, subject=f"session:{row.id}", at=now)
    return LoginResult(token, actor, csrf_token(row), row.expires_at, user.must_change_password)


def _take_totp_step(session: Session, user: ConsoleUser, step: int, now: dt.datetime) -> bool:
    """Record ``step`` as the last one used, only if it is later than the last one used."""
    taken = session.execute(
        update(ConsoleUser).where(ConsoleUser.id == user.id, ConsoleUser.totp_last_step < step)
        .values(totp_last_step=step, last_login_at=now)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(user)
    return taken == 1


def attempt_login(db: Database, username: str, password: str, totp_code: str, *,
                  now: dt.datetime | None = None, audience: Audience | None = None) -> LoginResult:
    """``login`` in its own transaction, for the login form. The attempt is first counted
    against the lockout (``throttle``: at most ``MAX_FAILURES`` per username in
    ``LOCKOUT_WINDOW``; past it no password is checked until the window has passed); a failure
    is recorded in another transaction (so it survives the rollback); a success gives the
    attempt back."""
    now = now or utcnow()
    name = (username or "").strip().lower()[:64]
    with db.session() as s:
        allowed = throttle.take_attempt(s, name, now)
    try:
        if not allowed:
            raise AuthError("too many failed attempts; try again later")
        with db.session() as s:
            result = login(s, name, password, totp_code, now=now, audience=audience)
            throttle.give_back(s, name)
            return result
    except AuthError:
        with db.session() as s:
            record(s, None, AuditEvent.LOGIN_FAILED, actor_label=f"user:{name}", at=now,
                   detail={"locked": not allowed})
        raise


def change_password(session: Session, actor: Actor, old: str, new: str, *,
                    keep_session: int | None = None) -> None:
    """A person changes their own password (required after the one-time password). Every other
    session of theirs ends (``keep_session``, the one they changed it from, goes on)."""
    if actor.user_id is None:
        raise AuthError("only a person has a password")
    user = get_user(session, actor.user_id)
    checked = user.password_hash
    if not credentials.verify_password(checked, old or ""):
        raise AuthError("wrong password")
    if old == new:
        raise InvalidInput("the new password must differ from the old one")
    changed = session.execute(
        update(ConsoleUser).where(ConsoleUser.id == user.id, ConsoleUser.password_hash == checked)
        .values(password_hash=credentials.hash_password(new), must_change_password=False)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(user)
    if changed != 1:
        raise AuthError("the password was changed meanwhile")
    ended = _end_sessions(session, user.id, utcnow(), keep=keep_session)
    record(session, actor, AuditEvent.PASSWORD_CHANGED, subject=f"user:{user.id}",
           detail={"sessions_ended": ended})


@dataclass(frozen=True)
class SessionInfo:
    session_id: int
    actor: Actor
    csrf_token: str
    expires_at: dt.datetime
    must_change_password: bool


def authenticate_session(session: Session, token: str | None, *,
                         now: dt.datetime | None = None) -> SessionInfo:
    """The principal behind a session cookie, or ``AuthError`` (missing, unknown, expired, idle,
    revoked, or the user disabled). Touches ``last_seen_at`` (idle timeout)."""
    now = now or utcnow()
    if not token or not token.startswith(SESSION_PREFIX):
        raise AuthError("not logged in")
    row = session.scalar(select(ConsoleSession).where(ConsoleSession.token_sha256 == _digest(token)))
    if row is None or row.revoked_at is not None:
        raise AuthError("session ended")
    if now >= row.expires_at or now - row.last_seen_at > IDLE_TTL:
        raise AuthError("session expired")
    user = get_user(session, row.user_id)
    if user.disabled_at is not None:
        raise AuthError("account disabled")
    row.last_seen_at = now
    return SessionInfo(row.id, actor_of(user), csrf_token(row), row.expires_at,
                       user.must_change_password)


def logout(session: Session, token: str) -> None:
    """Revoke the session behind ``token`` (idempotent; unknown tokens are ignored)."""
    row = session.scalar(select(ConsoleSession).where(ConsoleSession.token_sha256 == _digest(token or "")))
    if row is None:
        return
    ended = session.execute(update(ConsoleSession)
                            .where(ConsoleSession.id == row.id, ConsoleSession.revoked_at.is_(None))
                            .values(revoked_at=utcnow())
                            .execution_options(synchronize_session=False)).rowcount
    if ended == 1:
        record(session, None, AuditEvent.SESSION_REVOKED, actor_label=f"session:{row.id}",
               subject=f"user:{row.user_id}")


def revoke_sessions(session: Session, actor: Actor, user_id: int) -> int:
    """Revoke every live session of a user (their own, or anyone's with ``USERS_ADMIN``)."""
    if actor.user_id != user_id:
        require(actor, Permission.USERS_ADMIN)
    n = _end_sessions(session, user_id, utcnow())
    record(session, actor, AuditEvent.SESSION_REVOKED, subject=f"user:{user_id}", detail={"n": n})
    return n


def csrf_token(row: ConsoleSession, purpose: str = "form") -> str:
    return hmac.new(bytes.fromhex(row.csrf_secret), purpose.encode(), hashlib.sha256).hexdigest()


def check_csrf(session: Session, token: str, submitted: str | None, purpose: str = "form") -> None:
    """Raise ``AuthError`` unless ``submitted`` is the CSRF token of the session behind ``token``."""
    row = session.scalar(select(ConsoleSession).where(ConsoleSession.token_sha256 == _digest(token or "")))
    if row is None or not submitted or not hmac.compare_digest(csrf_token(row, purpose), submitted):
        raise AuthError("missing or wrong CSRF token")
