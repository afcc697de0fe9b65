"""The console's whole route table, asserted: every route unique and declaring its access,
every state-changing route behind a permission and the CSRF check, no development routes."""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.routing import Mount

from rempart.api.app import create_app
from rempart.api.publication import LOG_PATH, REPORTS_PATH
from rempart.authz import Permission as P
from rempart.web import MOUNT_PATH, create_console
from rempart.web.security import PUBLIC, SIGNED_IN, skips_csrf

EXPECTED = {
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): SIGNED_IN,
    ("GET", "/password"): SIGNED_IN,
    ("POST", "/password"): SIGNED_IN,
    ("GET", "/"): SIGNED_IN,
    ("GET", "/cases"): P.CASES_READ,
    ("POST", "/cases/next"): P.CASES_CLAIM,
    ("POST", "/cases/{case_id}/claim"): P.CASES_CLAIM,
    ("POST", "/cases/{case_id}/release"): P.CASES_CLAIM,
    ("GET", "/cases/{case_id}"): P.CASES_READ,
    ("GET", "/cases/{case_id}/items/{item_id}/media"): P.MEDIA_REVEAL,
    ("GET", "/cases/{case_id}/items/{item_id}/frames"): P.MEDIA_REVEAL,
    ("POST", "/cases/{case_id}/items/{item_id}/reveal"): P.MEDIA_REVEAL,
    ("POST", "/cases/{case_id}/reasons"): P.CASES_DECIDE,
    ("POST", "/cases/{case_id}/decide"): P.CASES_DECIDE,
    ("POST", "/cases/{case_id}/publicly-available"): P.CASES_DECIDE,
    ("POST", "/decisions/{decision_id}/second"): P.CASES_SECOND_REVIEW,
    ("GET", "/escalations"): P.ESCALATIONS_RESOLVE,
    ("POST", "/decisions/{decision_id}/resolve"): P.ESCALATIONS_RESOLVE,
    ("GET", "/appeals"): P.APPEALS_DECIDE,
    ("POST", "/appeals/{appeal_id}/decide"): P.APPEALS_DECIDE,
    ("GET", "/queues"): P.QUEUES_STATS,
    ("GET", "/exposure"): P.EXPOSURE_READ,
    ("GET", "/audit"): P.AUDIT_READ,
    ("GET", "/audit/export"): P.AUDIT_EXPORT,
    ("GET", "/items/{item_id}/blast-radius"): P.INVESTIGATE,
    ("POST", "/items/{item_id}/blast-radius/act"): P.BULK_ACTION,
    ("GET", "/preferences"): P.PREFERENCES_WRITE,
    ("POST", "/preferences"): P.PREFERENCES_WRITE,
    ("GET", "/users"): P.USERS_ADMIN,
    ("POST", "/users"): P.USERS_ADMIN,
    ("POST", "/users/{user_id}/disable"): P.USERS_ADMIN,
    ("GET", "/webhooks"): P.WEBHOOKS_ADMIN,
    ("POST", "/webhooks"): P.WEBHOOKS_ADMIN,
    ("GET", "/organisations"): P.ORGS_STATS,
    ("POST", "/organisations/{org_id}/suspend"): P.ORGS_SUSPEND,
    ("POST", "/organisations/{org_id}/reinstate"): P.ORGS_SUSPEND,
    ("GET", "/legal"): P.LEGAL_DESK,
    ("GET", "/legal/orders/{order_id}"): P.LEGAL_DESK,
    ("POST", "/legal/orders/{order_id}/clarify"): P.LEGAL_DESK,
    ("POST", "/legal/orders/{order_id}/event"): P.LEGAL_DESK,
    ("POST", "/legal/orders/{order_id}/answer"): P.LEGAL_DESK,
    ("POST", "/legal/orders/{order_id}/callback"): P.LEGAL_DESK,
    ("POST", "/legal/orders/{order_id}/approve"): P.LEGAL_APPROVE,
    ("POST", "/legal/orders/{order_id}/lift"): P.LEGAL_DESK,
    ("GET", "/legal/orders/{order_id}/deliveries/{number}"): P.LEGAL_DESK,
    ("POST", "/legal/tipline/send"): P.LEGAL_DESK,
    ("POST", "/legal/tipline/{tipline_id}/reconcile"): P.LEGAL_DESK,
}

#: the officers' portal (role officer only): its whole route table
OFFICERS_EXPECTED = {
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): SIGNED_IN,
    ("GET", "/password"): SIGNED_IN,
    ("POST", "/password"): SIGNED_IN,
    ("GET", "/"): P.ORDERS_READ_OWN,
    ("GET", "/orders/new"): P.ORDERS_SUBMIT,
    ("POST", "/orders"): P.ORDERS_SUBMIT,
    ("GET", "/orders/{order_id}"): P.ORDERS_READ_OWN,
    ("GET", "/orders/{order_id}/deliveries/{number}"): P.ORDERS_READ_OWN,
    ("POST", "/orders/{order_id}/clarification"): P.ORDERS_SUBMIT,
}

#: state-changing routes that need no permission: logging in, out, and one's own password
NO_PERMISSION_POSTS = {("POST", "/login"), ("POST", "/logout"), ("POST", "/password")}
#: routes allowed to skip the CSRF check: none
CSRF_EXEMPT: set[tuple[str, str]] = set()
DEV_WORDS = ("debug", "dev", "test", "reset", "seed", "fixture", "impersonate", "_internal")


def _routes(routes):
    """Every route, looking inside included routers (FastAPI keeps them nested)."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from _routes(route.original_router.routes)
        else:
            yield route


def _access(route: APIRoute) -> list:
    return [d.call.access for d in route.dependant.dependencies if hasattr(d.call, "access")]


def _has_csrf(route: APIRoute) -> bool:
    return any(getattr(d.call, "csrf", False) for d in route.dependant.dependencies)


def _table(app) -> dict:
    seen = {}
    for route in _routes(app.routes):
        if isinstance(route, Mount):
            assert route.path == "/static", f"unexpected mount {route.path}"
            continue
        for method in route.methods:
            key = (method, route.path)
            assert key not in seen, f"duplicate route {key}"
            access = _access(route)
            assert len(access) == 1 and _has_csrf(route), key
            seen[key] = access[0]
            if method != "GET":
                assert isinstance(access[0], P) or key in NO_PERMISSION_POSTS, key
    return seen


def test_the_officers_portal_route_table(runtime):
    from rempart.web.officers import create_officers_portal

    assert _table(create_officers_portal(runtime)) == OFFICERS_EXPECTED


def test_only_the_legal_role_reaches_the_legal_desk():
    from rempart.authz import GRANTS, Role

    legal = {p for (m, path), p in EXPECTED.items() if path.startswith("/legal")}
    for role, grants in GRANTS.items():
        assert bool(legal & grants) == (role is Role.LEGAL), role
    assert not GRANTS[Role.LEGAL] & {P.CASES_READ, P.MEDIA_REVEAL, P.CASES_CHILD_SAFETY}


def test_route_table_is_exactly_the_expected_one(runtime):
    console = create_console(runtime)
    seen = {}
    for route in _routes(console.routes):
        if isinstance(route, Mount):
            assert route.path == "/static", f"unexpected mount {route.path}"
            continue
        assert isinstance(route, APIRoute), f"not an API route: {route!r}"
        for method in route.methods:
            key = (method, route.path)
            assert key not in seen, f"duplicate route {key}"
            access = _access(route)
            assert len(access) == 1, f"{key} declares {len(access)} access dependencies"
            seen[key] = access[0]
            assert _has_csrf(route), f"{key} is not behind the CSRF check"
            if method != "GET":
                assert isinstance(access[0], P) or key in NO_PERMISSION_POSTS, \
                    f"{key} changes state without a permission"
                assert not skips_csrf(route.endpoint) or key in CSRF_EXEMPT
    assert seen == EXPECTED


def test_no_development_routes(runtime):
    console = create_console(runtime)
    paths = [r.path for r in _routes(console.routes)]
    assert not [p for p in paths if any(w in p.lower() for w in DEV_WORDS)]
    assert console.docs_url is None and console.openapi_url is None


def test_nothing_can_change_the_audit_log():
    """Only GET exists under /audit: no route could edit or delete an entry."""
    assert {m for (m, path) in EXPECTED if path.startswith("/audit")} == {"GET"}


def test_the_console_is_mounted_by_create_app(runtime):
    app = create_app(runtime, outbox_worker=False)
    mounts = [r for r in app.routes if isinstance(r, Mount)]
    assert [m.path for m in mounts] == [MOUNT_PATH, "/portal", "/report", "/officers", LOG_PATH,
                                         REPORTS_PATH]


def test_the_published_log_and_reports_are_read_only(runtime):
    """/log/ and /transparency/ are public: they only ever answer GET and HEAD."""
    app = create_app(runtime, outbox_worker=False, witness_worker=False)
    for mount in (r for r in app.routes if isinstance(r, Mount) and r.path in (LOG_PATH, REPORTS_PATH)):
        routes = [r for r in mount.app.routes if hasattr(r, "methods")]
        assert routes and all(r.methods <= {"GET", "HEAD"} for r in routes), mount.path
