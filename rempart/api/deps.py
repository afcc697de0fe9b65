"""Request dependencies: the runtime, and the caller's principal checked against a permission."""

from __future__ import annotations

from fastapi import Request

from rempart.api.permissions import Permission
from rempart.api.tokens import Principal, authenticate
from rempart.errors import PermissionDenied
from rempart.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def require(permission: Permission):
    """A dependency that authenticates the bearer token and checks one permission."""

    def dependency(request: Request) -> Principal:
        runtime = get_runtime(request)
        with runtime.db.session() as s:
            principal = authenticate(s, _bearer(request))
        if permission not in principal.permissions:
            raise PermissionDenied(f"this token lacks the {permission.value!r} permission")
        return principal

    dependency.permission = permission  # read by the route-table test
    return dependency
