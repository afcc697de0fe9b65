"""Password hashing (argon2id via ``argon2-cffi``) and TOTP second factor (RFC 6238 via ``pyotp``).

The only module that imports either library; their errors become rempart's (``AuthError``).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets as _secrets
import time

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from rempart.errors import InvalidInput

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
ISSUER = "rempart"
MIN_PASSWORD = 12


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """True when ``password`` matches ``stored``; never raises for a wrong or malformed hash."""
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_stand_in: tuple[PasswordHasher, str] | None = None


def stand_in_hash() -> str:
    """The hash of a random password nobody knows, made with the current parameters: checking a
    password against it costs what checking a real user's costs (for logins of unknown users)."""
    global _stand_in
    if _stand_in is None or _stand_in[0] is not _hasher:
        _stand_in = (_hasher, _hasher.hash(_secrets.token_urlsafe(24)))
    return _stand_in[1]


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


def one_time_password() -> str:
    """A random initial password (20 url-safe characters), shown once."""
    return _secrets.token_urlsafe(15)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def totp_now(secret: str) -> str:
    """The current code (for tests and the demo)."""
    return pyotp.TOTP(secret).now()


def verify_totp(secret: str, code: str, at: float | None = None) -> int | None:
    """The RFC 6238 time step (30 s) that ``code`` is valid for, allowing one step of clock drift
    either way, or None. Callers refuse a step already used (replay)."""
    code = (code or "").strip()
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    for drift in (0, -1, 1):
        t = now + drift * totp.interval
        if hmac.compare_digest(totp.at(t), code):
            return totp.timecode(dt.datetime.fromtimestamp(t, dt.timezone.utc))
    return None
