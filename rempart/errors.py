"""Every error rempart raises on purpose, in one tree.

    RempartError                      base of everything below; never raised itself
    +-- InvalidInput                  the caller sent something malformed (safe to show)
    |   +-- InvalidSignal             a hash value that is not valid for its signal type
    |   +-- UnsupportedMedia          bytes that are not a media type rempart can fingerprint
    |   +-- CorruptMedia              a known media type that fails to decode
    |   +-- MediaLimitExceeded        too many bytes / pixels / frames / seconds (``limit``, ``value``)
    |   +-- ImportFormatError         a hash list that does not parse (``errors``: [(line, message)])
    |   +-- BodyTooLarge              a request body over its route's limit (``limit``, HTTP 413)
    +-- NotFound                      a named thing does not exist (``kind``, ``key``)
    +-- Conflict                      the thing already exists / state forbids the change
    +-- Overloaded                    busy now (the decode memory budget is spent): retry after
                                      ``retry_after`` seconds (HTTP 503 + Retry-After)
    +-- AuthError                     missing or wrong credentials
    |   +-- PermissionDenied          credentials are fine but lack the needed scope
    +-- InvalidConfig                 a bad setting at start-up (``key``: the variable or file key)
    +-- SchemaNotCurrent              the database schema is empty or not this version's: migrate
    +-- InvariantViolation            a broken internal invariant: a bug, never bad input

Messages quote what the caller sent with ``shown`` (never ``{value!r}``: a Python repr is not
for users). Errors subclassing ``InvalidInput``, ``NotFound``, ``Conflict``, ``Overloaded`` and
``AuthError`` are "safe to show": the HTTP layer turns them into a JSON problem with a stable
``type``; anything else becomes a generic 500 with the details only in the logs. Third-party
errors are translated in the one module that imports the library (Pillow's in ``rempart.signals.decode``, PyAV's in
``rempart.signals.video``).
"""

from __future__ import annotations

import enum
import os
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def shown(value: object, limit: int = 80) -> str:
    """``value`` as an error message shows it, never as a Python repr: text in single quotes with
    control characters escaped (``\\x0a``) and cut at ``limit`` characters, a path as text, bytes
    in hex, an enum member by its value, anything else as ``str`` gives it."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value[:limit]).hex()
    if not isinstance(value, str):
        return str(value)
    text = value if len(value) <= limit else value[:limit] + "..."
    return "'" + _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text) + "'"


class RempartError(Exception):
    """Base class of every deliberate rempart error."""

    #: stable machine-readable type, used in HTTP problem responses and JSON CLI output
    type: str = "error"
    #: HTTP status for errors that are safe to show
    status: int = 500
    safe_to_show: bool = False


class InvalidInput(RempartError):
    type = "invalid-input"
    status = 400
    safe_to_show = True


class InvalidSignal(InvalidInput):
    type = "invalid-signal"


class UnsupportedMedia(InvalidInput):
    type = "unsupported-media"
    status = 415


class CorruptMedia(InvalidInput):
    type = "corrupt-media"
    status = 422


class MediaLimitExceeded(InvalidInput):
    """A safety limit was hit; ``limit`` names it, ``value`` and ``maximum`` say by how much."""

    type = "media-limit-exceeded"
    status = 413

    def __init__(self, limit: str, value: float | int, maximum: float | int) -> None:
        super().__init__(f"{limit} {value} exceeds the limit of {maximum}")
        self.limit = limit
        self.value = value
        self.maximum = maximum


class ImportFormatError(InvalidInput):
    """A hash list failed to parse. ``errors`` lists every (line number, message); nothing was imported."""

    type = "import-format-error"
    status = 422

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        shown = "; ".join(f"line {line}: {msg}" for line, msg in errors[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        super().__init__(f"{len(errors)} error(s), nothing imported: {shown}{more}")
        self.errors = errors


class BodyTooLarge(InvalidInput):
    """A request body larger than the route accepts; refused while it streams."""

    type = "body-too-large"
    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than {limit} bytes")
        self.limit = limit


class NotFound(RempartError):
    type = "not-found"
    status = 404
    safe_to_show = True

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"no {kind} {shown(key)}")
        self.kind = kind
        self.key = key


class Conflict(RempartError):
    type = "conflict"
    status = 409
    safe_to_show = True


class Overloaded(RempartError):
    """The work cannot start now (a shared budget is spent); the same request may succeed later."""

    type = "overloaded"
    status = 503
    safe_to_show = True

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthError(RempartError):
    type = "unauthorized"
    status = 401
    safe_to_show = True


class PermissionDenied(AuthError):
    type = "forbidden"
    status = 403


class InvalidConfig(RempartError):
    """A setting is wrong: ``key`` names the environment variable or the config file's key."""

    type = "invalid-config"

    def __init__(self, key: str, reason: str, file: object | None = None) -> None:
        where = ": ".join(str(x) for x in (file, key) if x)
        super().__init__(f"{where}: {reason}" if where else reason)
        self.key = key
        self.file = file


class SchemaNotCurrent(RempartError):
    """The database has no schema yet, or an older (or newer) one than this code needs."""

    type = "schema-not-current"


class InvariantViolation(RempartError):
    """An internal invariant does not hold. Raised instead of ``assert`` (which ``-O`` strips)."""

    type = "internal-error"
