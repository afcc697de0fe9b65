"""Logins raced against the real server: a TOTP code opens one session however many requests
carry it, and the lockout holds however many wrong passwords arrive at once."""

from __future__ import annotations

import threading

import pyotp
from sqlalchemy import func, select

from rempart.people import MAX_FAILURES, credentials
from rempart.people.models import ConsoleSession
from tests.concurrency.race import client, race, statuses, widen
from tests.web.web_helpers import csrf_of


def _login_forms(server, n: int):
    """``n`` clients, each holding the login form's CSRF value (its prelogin cookie)."""
    out = []
    for _ in range(n):
        c = client(server)
        out.append((c, csrf_of(c.get("/console/login").text)))
    return out


def _post_login(form, username: str, password: str, code: str):
    c, csrf = form
    return c.post("/console/login", data={"csrf_token": csrf, "username": username,
                                          "password": password, "code": code},
                  follow_redirects=False)


def test_one_totp_code_opens_one_session(runtime, server, users, monkeypatch):
    widen(monkeypatch, credentials, "verify_totp")  # between reading the last step and taking it
    cs = users["cs"]
    code = pyotp.TOTP(cs.totp_secret).now()
    forms = _login_forms(server, 5)
    got = race(5, lambda i: _post_login(forms[i], cs.username, cs.password, code))
    assert statuses(got) == [303, 401, 401, 401, 401]
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ConsoleSession)) == 1
    for c, _ in forms:
        c.close()


def test_the_lockout_checks_no_more_passwords_than_it_allows(runtime, server, users,
                                                             monkeypatch):
    checked = []
    lock = threading.Lock()
    verify = credentials.verify_password

    def counting(stored: str, password: str) -> bool:
        with lock:
            checked.append(password)
        return verify(stored, password)

    monkeypatch.setattr(credentials, "verify_password", counting)
    cs = users["cs"]
    n = 40
    forms = _login_forms(server, n)
    got = race(n, lambda i: _post_login(forms[i], cs.username, f"wrong-password-{i:04d}",
                                        pyotp.TOTP(cs.totp_secret).now()))
    assert statuses(got) == [401] * n
    assert len(checked) <= MAX_FAILURES
    # locked out: even the right password and a fresh code are refused now
    right = _post_login(_login_forms(server, 1)[0], cs.username, cs.password,
                        pyotp.TOTP(cs.totp_secret).now())
    assert right.status_code == 401
    assert len(checked) <= MAX_FAILURES
    for c, _ in forms:
        c.close()
