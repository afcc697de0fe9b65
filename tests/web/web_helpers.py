"""Helpers for the console tests: log in through the form, find CSRF tokens, upload stand-ins."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyotp

from rempart.authz import Actor, Role
from rempart.people import actor_of, bootstrap_user
from rempart.scanning.service import ScanContext
from tests.factories import image_bytes

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class WebUser:
    username: str
    password: str
    totp_secret: str
    actor: Actor


def make_users(runtime, roles: dict[str, Role]) -> dict[str, WebUser]:
    """One person per key (username ``<key>-user``), past their first login's password change."""
    out = {}
    with runtime.db.session() as s:
        for key, role in roles.items():
            new = bootstrap_user(s, f"{key}-user", role)
            new.user.must_change_password = False
            out[key] = WebUser(new.user.username, new.one_time_password, new.totp_secret,
                               actor_of(new.user))
    return out


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    if m is None:
        raise LookupError("no CSRF field on the page")
    return m.group(1)


def login(client, user: WebUser, code: str | None = None):
    """Log ``client`` in through the login form; returns the client (raises if it failed)."""
    page = client.get("/console/login")
    r = client.post("/console/login", data={
        "csrf_token": csrf_of(page.text), "username": user.username, "password": user.password,
        "code": code or pyotp.TOTP(user.totp_secret).now()}, follow_redirects=False)
    if r.status_code != 303:
        raise AssertionError(f"login of {user.username} failed: {r.status_code}")
    return client


def token(client) -> str:
    """The CSRF token of the client's session (from any console page)."""
    return csrf_of(client.get("/console/password").text)


def upload(runtime, seed: int, account: str, space: str = "group-1", edit: str = "exact"):
    return runtime.scan_media(image_bytes(seed, edit), ScanContext(account=account, space=space))
