"""Console authorisation: roles, the permission vocabulary, and the acting principal.

Below every console domain (people, audit, moderation): it imports none of them.
"""

from rempart.authz.permissions import (
    AUDIENCE, GRANTS, ORG_ROLES, PERSON_ROLES, Audience, Permission, Role, may_sign_into,
)
from rempart.authz.principal import (
    Actor, require, require_person, shell_operator_as_lead, shell_operator_as_legal, system_actor,
)

__all__ = ["AUDIENCE", "GRANTS", "ORG_ROLES", "PERSON_ROLES", "Actor", "Audience", "Permission",
           "Role", "may_sign_into", "require",
           "require_person", "shell_operator_as_lead", "shell_operator_as_legal", "system_actor"]
