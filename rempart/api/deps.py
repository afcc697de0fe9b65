"""Request dependencies: the runtime, and the caller's principal checked against a permission.

Every API route is an ``ApiRoute``: its permission is checked before its body is read (see
``rempart.httpgate``); the ``require`` dependency then finds the principal already in the scope.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.routing import APIRoute

from rempart.api.permissions import Permission
from rempart.api.tokens import Principal, authenticate
from rempart.errors import PermissionDenied, shown
from rempart.httpgate import Check, gated_route
from rempart.runtime import Runtime

_PRINCIPAL = "rempart.principal"


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def bearer_token(request: Request) -> str | None:
    """The request's bearer credential, if any (an API token, or a partner's feed key)."""
    return _bearer(request)


def authorize(request: Request, permission: Permission) -> Principal:
    """The caller's principal if it holds ``permission`` (authenticated once per request)."""
    principal = request.scope.get(_PRINCIPAL)
    if principal is None:
        with get_runtime(request).db.session() as s:
            principal = authenticate(s, _bearer(request))
        request.scope[_PRINCIPAL] = principal
    if permission not in principal.permissions:
        raise PermissionDenied(f"this token lacks the {shown(permission)} permission")
    return principal


def require(permission: Permission):
    """A dependency that authenticates the bearer token and checks one permission."""

    def dependency(request: Request) -> Principal:
        return authorize(request, permission)

    dependency.permission = permission  # read by the route-table test and by ApiRoute
    return dependency


def _permission_check(route: APIRoute) -> Check | None:
    for dep in route.dependant.dependencies:
        if hasattr(dep.call, "permission"):
            return dep.call
    return None


#: the route class of every API router: the permission is checked before the body is read
ApiRoute = gated_route(_permission_check)
