"""The closed vocabularies of access: token scopes and the permissions each one grants.

Routes declare the ``Permission`` they need; handlers never test scopes themselves.
"""

from __future__ import annotations

import enum


class Permission(str, enum.Enum):
    SCAN = "scan:write"
    MATCHES_READ = "matches:read"
    BANKS_READ = "banks:read"
    BANKS_WRITE = "banks:write"
    BANKS_EXPORT = "banks:export"
    TOKENS_ADMIN = "tokens:admin"
    APPEALS_FILE = "appeals:file"  # the platform forwards an affected user's appeal


class Scope(str, enum.Enum):
    PLATFORM = "platform"  # the host platform's upload path
    CURATOR = "curator"  # people who maintain the hash banks
    ADMIN = "admin"  # everything


GRANTS: dict[Scope, frozenset[Permission]] = {
    Scope.PLATFORM: frozenset({Permission.SCAN, Permission.APPEALS_FILE}),
    Scope.CURATOR: frozenset({
        Permission.BANKS_READ, Permission.BANKS_WRITE, Permission.BANKS_EXPORT,
        Permission.MATCHES_READ,
    }),
    Scope.ADMIN: frozenset(Permission),
}


def permissions_of(scopes: frozenset[Scope]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for s in scopes:
        granted |= GRANTS[s]
    return frozenset(granted)
