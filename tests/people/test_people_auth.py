"""People: accounts, password + TOTP login, sessions, CSRF."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from sqlalchemy import select

from rempart.audit.models import AuditEntry
from rempart.authz import Role, system_actor
from rempart.errors import AuthError, Conflict, InvalidInput, PermissionDenied
from rempart.people import (
    LOCKOUT_WINDOW, MAX_FAILURES, actor_of, attempt_login, authenticate_session, bootstrap_user, change_password, check_csrf, create_user,
    disable_user, list_users, login, logout, parse_role, revoke_sessions,
)
from rempart.people import credentials
from rempart.people.models import ConsoleUser

T0 = dt.datetime(2026, 3, 1, 12, 0, 0)


def _code(secret: str, at: dt.datetime) -> str:
    return pyotp.TOTP(secret).at(at.replace(tzinfo=dt.timezone.utc))


@pytest.fixture
def alice(runtime):
    with runtime.db.session() as s:
        new = bootstrap_user(s, "Alice", Role.CHILD_SAFETY_MODERATOR)
        return new.user.id, new.one_time_password, new.totp_secret, new.totp_uri


def test_new_users_get_a_one_time_password_and_totp_enrolment(runtime, alice):
    uid, password, secret, uri = alice
    assert len(password) >= 20 and uri.startswith("otpauth://totp/rempart:alice?")
    assert f"secret={secret}" in uri
    with runtime.db.session() as s:
        user = s.get(ConsoleUser, uid)
        assert user.username == "alice" and user.must_change_password
        assert user.password_hash.startswith("$argon2id$") and password not in user.password_hash
        assert [u.username for u in list_users(s)] == ["alice"]
        with pytest.raises(Conflict):
            bootstrap_user(s, "alice", Role.LEAD)
        with pytest.raises(InvalidInput):
            bootstrap_user(s, "x", Role.LEAD)
        with pytest.raises(InvalidInput):
            bootstrap_user(s, "robot", Role.SYSTEM)


def test_only_admins_create_users(runtime, alice):
    with runtime.db.session() as s:
        alice_actor = actor_of(s.get(ConsoleUser, alice[0]))
        with pytest.raises(PermissionDenied):
            create_user(s, alice_actor, "bob", Role.LEAD)
        with pytest.raises(PermissionDenied):
            create_user(s, system_actor("x"), "bob", Role.LEAD)
        admin = actor_of(bootstrap_user(s, "root", Role.ADMIN).user)
        assert create_user(s, admin, "bob", Role.LEAD).user.role == "lead"


def test_login_needs_password_and_a_fresh_totp_code(runtime, alice):
    uid, password, secret, _ = alice
    with runtime.db.session() as s:
        for pw, code in [(password, "000000"), ("wrong-password-123", _code(secret, T0)),
                         (password, ""), (password, "12345a")]:
            with pytest.raises(AuthError, match="wrong username, password or code"):
                login(s, "alice", pw, code, now=T0)
        with pytest.raises(AuthError):
            login(s, "nobody", password, _code(secret, T0), now=T0)
    with runtime.db.session() as s:
        res = login(s, "ALICE", password, _code(secret, T0), now=T0)
        assert res.actor.role is Role.CHILD_SAFETY_MODERATOR and res.must_change_password
        assert res.token.startswith("rs_") and res.expires_at == T0 + dt.timedelta(hours=8)
    with runtime.db.session() as s, pytest.raises(AuthError):  # the same code again: replay
        login(s, "alice", password, _code(secret, T0), now=T0 + dt.timedelta(seconds=5))
    with runtime.db.session() as s:  # one step of drift is accepted
        login(s, "alice", password, _code(secret, T0 + dt.timedelta(seconds=60)),
              now=T0 + dt.timedelta(seconds=35))


def test_failed_logins_are_audited_and_lock_the_account_out(runtime, alice):
    uid, password, secret, _ = alice
    for i in range(MAX_FAILURES):
        with pytest.raises(AuthError):
            attempt_login(runtime.db, "alice", password, "000000",
                          now=T0 + dt.timedelta(seconds=i))
    with runtime.db.session() as s:
        failed = list(s.scalars(select(AuditEntry).where(
            AuditEntry.event == "session.login-failed")))
        assert len(failed) == MAX_FAILURES and failed[0].actor == "user:alice"
    locked_at = T0 + dt.timedelta(minutes=1)
    with pytest.raises(AuthError, match="too many"):  # even with the right code
        attempt_login(runtime.db, "alice", password, _code(secret, locked_at), now=locked_at)
    later = T0 + LOCKOUT_WINDOW + dt.timedelta(minutes=2)
    res = attempt_login(runtime.db, "alice", password, _code(secret, later), now=later)
    assert res.actor.user_id == uid


def test_sessions_expire_idle_out_and_can_be_revoked(runtime, alice):
    uid, password, secret, _ = alice
    with runtime.db.session() as s:
        res = login(s, "alice", password, _code(secret, T0), now=T0)
    with runtime.db.session() as s:
        info = authenticate_session(s, res.token, now=T0 + dt.timedelta(minutes=29))
        assert info.actor.user_id == uid and info.csrf_token == res.csrf_token
    with runtime.db.session() as s, pytest.raises(AuthError, match="expired"):
        authenticate_session(s, res.token, now=T0 + dt.timedelta(minutes=29 + 31))
    with runtime.db.session() as s, pytest.raises(AuthError, match="expired"):
        authenticate_session(s, res.token, now=T0 + dt.timedelta(hours=8))
    with runtime.db.session() as s:
        res2 = login(s, "alice", password, _code(secret, T0 + dt.timedelta(minutes=1)),
                     now=T0 + dt.timedelta(minutes=1))
    with runtime.db.session() as s:
        logout(s, res2.token)
    with runtime.db.session() as s, pytest.raises(AuthError, match="ended"):
        authenticate_session(s, res2.token, now=T0 + dt.timedelta(minutes=2))
    with runtime.db.session() as s:
        for bad in (None, "", "rs_nope", res.token + "x"):
            with pytest.raises(AuthError):
                authenticate_session(s, bad)


def test_disabling_a_user_ends_their_sessions(runtime, alice):
    uid, password, secret, _ = alice
    now = dt.datetime.utcnow()
    with runtime.db.session() as s:
        res = login(s, "alice", password, _code(secret, now), now=now)
        admin = actor_of(bootstrap_user(s, "root", Role.ADMIN).user)
    with runtime.db.session() as s:
        disable_user(s, admin, uid)
    with runtime.db.session() as s:
        with pytest.raises(AuthError):
            authenticate_session(s, res.token)
        with pytest.raises(AuthError):
            login(s, "alice", password, _code(secret, now + dt.timedelta(seconds=30)),
                  now=now + dt.timedelta(seconds=30))


def _two_sessions(runtime, password: str, secret: str):
    """Two logins of alice, at T0 and 30 s later (each with the code of its time step)."""
    with runtime.db.session() as s:
        return (login(s, "alice", password, _code(secret, T0), now=T0),
                login(s, "alice", password, _code(secret, T0 + dt.timedelta(seconds=30)),
                      now=T0 + dt.timedelta(seconds=30)))


def test_csrf_tokens_are_bound_to_their_session(runtime, alice):
    uid, password, secret, _ = alice
    a, b = _two_sessions(runtime, password, secret)
    with runtime.db.session() as s:
        check_csrf(s, a.token, a.csrf_token)
        for token, submitted in [(a.token, b.csrf_token), (a.token, None), (a.token, ""),
                                 (b.token, a.csrf_token), ("rs_unknown", a.csrf_token)]:
            with pytest.raises(AuthError):
                check_csrf(s, token, submitted)


def test_password_change_and_session_revocation(runtime, alice):
    uid, password, secret, _ = alice
    with runtime.db.session() as s:
        actor = actor_of(s.get(ConsoleUser, uid))
        with pytest.raises(AuthError):
            change_password(s, actor, "wrong", "a-new-long-password")
        with pytest.raises(InvalidInput):
            change_password(s, actor, password, "short")
        change_password(s, actor, password, "a-new-long-password")
        assert not s.get(ConsoleUser, uid).must_change_password
    with runtime.db.session() as s:
        res = login(s, "alice", "a-new-long-password", _code(secret, T0), now=T0)
        other = actor_of(bootstrap_user(s, "bob", Role.LEAD).user)
        with pytest.raises(PermissionDenied):
            revoke_sessions(s, other, uid)
        assert revoke_sessions(s, actor, uid) == 1
    with runtime.db.session() as s, pytest.raises(AuthError):
        authenticate_session(s, res.token, now=T0)


def test_roles_parse_and_credentials_never_raise_on_garbage():
    assert parse_role("Lead") is Role.LEAD
    for bad in ("system", "root", ""):
        with pytest.raises(InvalidInput):
            parse_role(bad)
    assert not credentials.verify_password("not-a-hash", "x")
    assert credentials.verify_totp(credentials.new_totp_secret(), "abcdef") is None


def test_changing_a_password_ends_the_other_sessions(runtime, alice):
    uid, password, secret, _ = alice
    here, elsewhere = _two_sessions(runtime, password, secret)
    with runtime.db.session() as s:
        current = authenticate_session(s, here.token, now=T0 + dt.timedelta(minutes=1))
        change_password(s, current.actor, password, "a-new-long-password",
                        keep_session=current.session_id)
    with runtime.db.session() as s:
        assert authenticate_session(s, here.token, now=T0 + dt.timedelta(minutes=2))
        with pytest.raises(AuthError, match="ended"):
            authenticate_session(s, elsewhere.token, now=T0 + dt.timedelta(minutes=2))


def test_an_unknown_user_costs_a_password_check_like_a_known_one(runtime, alice, monkeypatch):
    """No user enumeration by timing: the password is checked against a stand-in hash when
    the user does not exist (or is disabled), so every attempt pays one argon2 verification."""
    checked = []
    verify = credentials.verify_password

    def counting(stored: str, password: str) -> bool:
        checked.append(stored)
        return verify(stored, password)

    monkeypatch.setattr(credentials, "verify_password", counting)
    for name in ("alice", "nobody", "ghost"):
        with runtime.db.session() as s, pytest.raises(AuthError):
            login(s, name, "a-wrong-password", "000000", now=T0)
    assert len(checked) == 3
    assert all(h.startswith("$argon2id$") for h in checked)


def test_unknown_and_known_users_take_the_same_time(runtime, alice, monkeypatch):
    """The cost of a failed login does not tell whether the user exists (a ratio, not a time)."""
    import statistics
    import time

    from argon2 import PasswordHasher

    monkeypatch.setattr(credentials, "_hasher", PasswordHasher(time_cost=2, memory_cost=16384,
                                                               parallelism=1))
    with runtime.db.session() as s:
        bootstrap_user(s, "carol", Role.LEAD)  # hashed with these (costlier) parameters

    def cost(name: str) -> float:
        t = time.perf_counter()
        with runtime.db.session() as s, pytest.raises(AuthError):
            login(s, name, "a-wrong-password", "000000", now=T0)
        return time.perf_counter() - t

    cost("nobody")  # warm-up (the stand-in hash is made once)
    pairs = [(cost("carol"), cost("nobody")) for _ in range(9)]  # interleaved: same noise
    known = statistics.median(k for k, _ in pairs)
    unknown = statistics.median(u for _, u in pairs)
    assert 0.5 < unknown / known < 2.0
