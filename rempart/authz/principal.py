"""The acting principal that every console service receives explicitly, and the one check."""

from __future__ import annotations

from dataclasses import dataclass

from rempart.errors import PermissionDenied, shown
from rempart.authz.permissions import GRANTS, Permission, Role


@dataclass(frozen=True)
class Actor:
    """Who acts: a console user (``user_id`` set) or rempart itself (``Role.SYSTEM``)."""

    user_id: int | None
    name: str
    role: Role
    #: the organisation of an analyst (``Role.ANALYST``); None for everyone else
    org_id: int | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        return GRANTS[self.role]

    @property
    def label(self) -> str:
        """How the audit log names the actor: ``user:<name>`` or ``system:<name>``."""
        if self.role is Role.SYSTEM:
            return f"system:{self.name}"
        return f"user:{self.name}" if self.user_id is not None else f"operator:{self.name}"

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


def system_actor(name: str) -> Actor:
    """rempart acting on its own (hooks, workers, platform intake). Grants only ``Role.SYSTEM``."""
    return Actor(None, name, Role.SYSTEM)


def shell_operator_as_lead(name: str = "cli") -> Actor:
    """The operator at the machine's shell (the CLI), acting with a lead's permissions.

    Whoever runs the CLI can read the database already; this names that fact loudly and audits
    it as ``operator:<name>``. Never use it for anything reachable over the network.
    """
    return Actor(None, name, Role.LEAD)


def shell_operator_as_legal(name: str = "cli") -> Actor:
    """The operator at the machine's shell acting as the legal team (``rempart legal``): as
    ``shell_operator_as_lead``, never for anything reachable over the network."""
    return Actor(None, name, Role.LEGAL)


def require(actor: Actor, permission: Permission) -> None:
    """Raise ``PermissionDenied`` unless ``actor`` holds ``permission``."""
    if permission not in actor.permissions:
        raise PermissionDenied(
            f"{actor.label} ({actor.role.value}) lacks {shown(permission.value)}")


def require_person(actor: Actor) -> int:
    """The user id of a person; rempart itself cannot do what needs a human (decide, review)."""
    if actor.user_id is None:
        raise PermissionDenied(f"{actor.label} is not a person")
    return actor.user_id
