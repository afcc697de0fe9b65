"""API token scopes and the permissions each one grants (``rempart.authz.Permission``).

Routes declare the ``Permission`` they need; handlers never test scopes themselves.
"""

from __future__ import annotations

import enum

from rempart.authz.permissions import Permission


class Scope(str, enum.Enum):
    PLATFORM = "platform"  # the host platform's upload path
    CURATOR = "curator"  # people who maintain the hash banks
    ADMIN = "admin"  # everything
    REPORTER = "reporter"  # an organisation's key: its own notices only (``rempart org add``)


GRANTS: dict[Scope, frozenset[Permission]] = {
    Scope.PLATFORM: frozenset({Permission.SCAN, Permission.APPEALS_FILE}),
    Scope.CURATOR: frozenset({
        Permission.BANKS_READ, Permission.BANKS_WRITE, Permission.BANKS_EXPORT,
        Permission.MATCHES_READ,
    }),
}
#: an admin token may do everything the API offers for the platform (console permissions belong
#: to people; notices belong to organisations, so admin does not include ``reporter``)
GRANTS[Scope.ADMIN] = frozenset({Permission.TOKENS_ADMIN}).union(*GRANTS.values())
GRANTS[Scope.REPORTER] = frozenset({Permission.NOTICES_SUBMIT, Permission.NOTICES_READ_OWN})
#: scopes bound to an organisation (the token's ``org_id``), and only those
ORG_SCOPES = frozenset({Scope.REPORTER})


def permissions_of(scopes: frozenset[Scope]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for s in scopes:
        granted |= GRANTS[s]
    return frozenset(granted)
