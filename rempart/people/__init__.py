"""Console people: accounts, password (argon2) + TOTP login, server-side sessions, CSRF tokens.

Roles, permissions and the acting principal live in ``rempart.authz`` (re-exported here);
services elsewhere receive an ``Actor`` (``actor_of(user)`` or ``SessionInfo.actor``).
"""

from rempart.authz.permissions import GRANTS, PERSON_ROLES, Permission, Role
from rempart.authz.principal import Actor, require, require_person, system_actor
from rempart.people.service import (
    IDLE_TTL, LOCKOUT_WINDOW, MAX_FAILURES, SESSION_TTL, LoginResult, NewUser, SessionInfo,
    actor_of, attempt_login, authenticate_session, bootstrap_user, change_password, check_csrf,
    create_user, disable_user, get_user, list_users, login, logout, parse_role, revoke_sessions,
)

__all__ = [
    "GRANTS", "IDLE_TTL", "LOCKOUT_WINDOW", "MAX_FAILURES", "PERSON_ROLES", "SESSION_TTL",
    "Actor", "Permission", "LoginResult", "NewUser", "Role", "SessionInfo", "actor_of",
    "attempt_login", "authenticate_session", "bootstrap_user", "change_password", "check_csrf",
    "create_user", "disable_user", "get_user", "list_users", "login", "logout", "parse_role",
    "require", "require_person", "revoke_sessions", "system_actor",
]
