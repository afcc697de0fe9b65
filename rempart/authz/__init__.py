"""Console authorisation: roles, the permission vocabulary, and the acting principal.

Below every console domain (people, audit, moderation): it imports none of them.
"""

from rempart.authz.permissions import GRANTS, PERSON_ROLES, Permission, Role
from rempart.authz.principal import (
    Actor, require, require_person, shell_operator_as_lead, system_actor,
)

__all__ = ["GRANTS", "PERSON_ROLES", "Actor", "Permission", "Role", "require",
           "require_person", "shell_operator_as_lead", "system_actor"]
