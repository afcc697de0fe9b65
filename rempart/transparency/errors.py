"""Errors of the transparency package, all children of ``rempart.errors.InvalidInput``.

    InvalidInput                 (rempart.errors) malformed text or bytes: a parse failure
    +-- VerificationError        well-formed input whose proof or signature does not check out
        +-- InvalidSignature     a signature by a *known* key failed (``name``, ``key_id``)
        +-- UnverifiedNote       a note carries no valid signature from any known key

    RempartError                 (rempart.errors)
    +-- LogUnavailable           a remote log could not be read (network, HTTP 5xx): retry later

Parse failures raise plain ``InvalidInput`` with a message naming the bad field.
"""

from __future__ import annotations

from rempart.errors import InvalidInput, RempartError


class VerificationError(InvalidInput):
    """A proof, root hash, signature or trust policy did not verify."""

    type = "verification-failed"
    status = 422


class InvalidSignature(VerificationError):
    """A signature from a known key (``name``, ``key_id``) does not verify."""

    type = "invalid-signature"

    def __init__(self, name: str, key_id: int) -> None:
        super().__init__(f"invalid signature for key {name}+{key_id:08x}")
        self.name = name
        self.key_id = key_id


class UnverifiedNote(VerificationError):
    """No signature in the note comes from a known key."""

    type = "unverified-note"


class LogUnavailable(RempartError):
    """Fetching from a remote log failed for a reason other than "not found"; not bad input."""

    type = "log-unavailable"
    status = 502
