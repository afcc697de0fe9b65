"""Webhook signatures and retry schedule (pure).

Each request to a platform endpoint carries::

    Rempart-Timestamp: <unix seconds>
    Rempart-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>
    Idempotency-Key: <key of the action event; the same on every retry>

The receiver recomputes the HMAC over the timestamp, a full stop and the raw body bytes,
compares in constant time, and refuses timestamps older than its tolerance (replay).
Example: secret ``b"k"``, timestamp ``1700000000``, body ``b"{}"`` signs
``b"1700000000.{}"``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from rempart.errors import AuthError, InvalidInput

SIGNATURE_HEADER = "Rempart-Signature"
TIMESTAMP_HEADER = "Rempart-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TOLERANCE = 300
BASE_DELAY = 10.0  # seconds before the first retry
MAX_DELAY = 3600.0
MAX_ATTEMPTS = 12


def new_secret() -> str:
    return secrets.token_hex(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    if not secret:
        raise InvalidInput("a webhook endpoint needs a secret")
    mac = hmac.new(secret.encode(), str(int(timestamp)).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float,
           tolerance: int = DEFAULT_TOLERANCE) -> None:
    """Raise ``AuthError`` unless the signature is valid and the timestamp is recent."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        raise AuthError("bad webhook timestamp") from None
    if abs(now - ts) > tolerance:
        raise AuthError("webhook timestamp outside the tolerance")
    if not hmac.compare_digest(sign(secret, ts, body), signature or ""):
        raise AuthError("bad webhook signature")


def backoff(attempts: int, base: float = BASE_DELAY, cap: float = MAX_DELAY) -> float:
    """Seconds to wait after the ``attempts``-th failed delivery: base * 2^(attempts-1), capped."""
    if attempts < 1:
        raise InvalidInput("attempts starts at 1")
    return min(cap, base * 2 ** min(attempts - 1, 30))
