"""The whole route table, asserted: unique routes, and a permission on every route but health
and the landing page."""

from __future__ import annotations

from fastapi.routing import APIRoute

from rempart.api.app import create_app
from rempart.api.permissions import Permission

EXPECTED = {
    ("GET", "/"): None,  # the landing page (HTML)
    ("GET", "/healthz"): None,
    ("GET", "/readyz"): None,
    ("POST", "/v1/scan"): Permission.SCAN,
    ("GET", "/v1/scans/{scan_id}"): Permission.SCAN,
    ("GET", "/metrics"): None,
    ("GET", "/v1/banks"): Permission.BANKS_READ,
    ("POST", "/v1/banks"): Permission.BANKS_WRITE,
    ("GET", "/v1/banks/{name}"): Permission.BANKS_READ,
    ("PATCH", "/v1/banks/{name}"): Permission.BANKS_WRITE,
    ("GET", "/v1/banks/{name}/entries"): Permission.BANKS_READ,
    ("POST", "/v1/banks/{name}/entries"): Permission.BANKS_WRITE,
    ("POST", "/v1/banks/{name}/media"): Permission.BANKS_WRITE,
    ("POST", "/v1/banks/{name}/import"): Permission.BANKS_WRITE,
    ("GET", "/v1/banks/{name}/export"): Permission.BANKS_EXPORT,
    ("POST", "/v1/entries/{entry_id}/disable"): Permission.BANKS_WRITE,
    ("POST", "/v1/entries/{entry_id}/enable"): Permission.BANKS_WRITE,
    ("DELETE", "/v1/entries/{entry_id}"): Permission.BANKS_WRITE,
    ("GET", "/v1/retro-scans/{job_id}"): Permission.BANKS_READ,
    ("GET", "/v1/matches"): Permission.MATCHES_READ,
    ("GET", "/v1/exchange/feed"): Permission.EXCHANGE_FEED,  # a partner's key, not a token
    ("GET", "/v1/tokens"): Permission.TOKENS_ADMIN,
    ("POST", "/v1/tokens"): Permission.TOKENS_ADMIN,
    ("DELETE", "/v1/tokens/{token_id}"): Permission.TOKENS_ADMIN,
    ("POST", "/v1/appeals"): Permission.APPEALS_FILE,
    ("POST", "/v1/notices"): Permission.NOTICES_SUBMIT,
    ("GET", "/v1/notices/{notice_id}"): Permission.NOTICES_READ_OWN,
    ("POST", "/v1/legal/orders"): Permission.ORDERS_SUBMIT,
    ("GET", "/v1/legal/orders/{order_id}"): Permission.ORDERS_READ_OWN,
}


def _api_routes(routes):
    """Every APIRoute, looking inside included routers (FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)


def _permissions(route: APIRoute) -> list[Permission]:
    return [d.call.permission for d in route.dependant.dependencies
            if hasattr(d.call, "permission")]


def test_route_table_is_exactly_the_expected_one(runtime):
    app = create_app(runtime)
    seen = {}
    for route in _api_routes(app.routes):
        for method in route.methods:
            key = (method, route.path)
            assert key not in seen, f"duplicate route {key}"
            perms = _permissions(route)
            assert len(perms) <= 1
            seen[key] = perms[0] if perms else None
    assert seen == EXPECTED


def test_openapi_is_published(client):
    spec = client.get("/openapi.json").json()
    assert "/v1/scan" in spec["paths"]
    body = spec["paths"]["/v1/scan"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(body)


def test_token_scopes_grant_api_permissions_only():
    from rempart.api.permissions import Scope, permissions_of

    api = {p for p in EXPECTED.values() if p is not None}
    own = {Permission.NOTICES_SUBMIT, Permission.NOTICES_READ_OWN}  # an organisation's alone
    officers = {Permission.ORDERS_SUBMIT, Permission.ORDERS_READ_OWN}  # officers' keys, no token
    partner = {Permission.EXCHANGE_FEED}  # a partner rempart's key alone, never a token
    assert not (officers | partner) & permissions_of(frozenset(Scope))
    assert permissions_of(frozenset({Scope.ADMIN})) == api - own - officers - partner  # all the API offers the platform
    assert permissions_of(frozenset({Scope.REPORTER})) == own
    for scope in Scope:  # console permissions (media, cases, audit) belong to people only
        assert permissions_of(frozenset({scope})) <= api
    assert Permission.MEDIA_REVEAL not in permissions_of(frozenset(Scope))
