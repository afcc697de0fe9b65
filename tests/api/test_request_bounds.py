"""Integers in requests fit the database: every int path, query, form and body field of the API
and of the console is bounded (at most 2^63 - 1), so a larger one is a 422, never an
OverflowError (500) in the database driver; and every route checks its caller before its body."""

from __future__ import annotations

import typing

import annotated_types
import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from rempart.api.app import create_app
from rempart.web import create_console
from tests.api.conftest import auth
from tests.api.test_routes import _api_routes as _routes

MAX_INT = 2**63 - 1  # BIGINT
TOO_BIG = 2**63


def _upper_bound(metadata) -> int | None:
    for m in metadata:
        for attr in ("le", "lt"):
            value = getattr(m, attr, None)
            if isinstance(m, (annotated_types.Le, annotated_types.Lt, annotated_types.Interval)) \
                    and value is not None:
                return value
    return None


def _unbounded_ints(where: str, annotation, metadata=()) -> list[str]:
    """Names of int fields under ``annotation`` without an upper bound <= MAX_INT."""
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        return _unbounded_ints(where, inner, [*metadata, *extra])
    if annotation is int:
        bound = _upper_bound(metadata)
        return [] if bound is not None and bound <= MAX_INT else [where]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [name for field, info in annotation.model_fields.items()
                for name in _unbounded_ints(f"{where}.{field}", info.annotation, info.metadata)]
    return [name for arg in typing.get_args(annotation)
            for name in _unbounded_ints(where, arg, metadata)]


def _params(route: APIRoute):
    d = route.dependant
    return d.path_params + d.query_params + d.header_params + d.cookie_params + d.body_params


@pytest.fixture
def apps(runtime):
    return {"api": create_app(runtime, outbox_worker=False), "console": create_console(runtime)}


def test_every_int_in_every_route_is_bounded(apps):
    from rempart.store.db import MAX_INT as STORED
    assert STORED == MAX_INT
    unbounded, checked = [], 0
    for name, app in apps.items():
        for route in _routes(app.routes):
            for param in _params(route):
                checked += 1
                unbounded += _unbounded_ints(f"{name} {route.path} {param.name}",
                                             param.field_info.annotation,
                                             param.field_info.metadata)
    assert checked > 50 and unbounded == []


def test_every_route_checks_its_caller_before_reading_a_body(apps):
    from rempart.api.deps import ApiRoute
    from rempart.web.security import ConsoleRoute

    assert all(isinstance(r, ApiRoute) for r in _routes(apps["api"].routes))
    assert all(isinstance(r, ConsoleRoute) for r in _routes(apps["console"].routes))


@pytest.mark.parametrize("method, path, body", [
    ("DELETE", f"/v1/entries/{TOO_BIG}", None),
    ("POST", f"/v1/entries/{TOO_BIG}/disable", {}),
    ("POST", f"/v1/entries/{TOO_BIG}/enable", None),
    ("GET", f"/v1/banks/list/entries?offset={TOO_BIG}", None),
    ("GET", f"/v1/matches?offset={TOO_BIG}", None),
    ("DELETE", f"/v1/tokens/{TOO_BIG}", None),
    ("POST", "/v1/appeals", {"decision": TOO_BIG, "appellant": "acct-1"}),
])
def test_integers_past_a_bigint_are_malformed_requests(client, tokens, method, path, body):
    r = client.request(method, path, json=body, headers=auth(tokens["admin"]))
    assert r.status_code == 422 and r.json()["type"] == "invalid-request", r.text


def test_the_largest_bigint_is_a_plain_miss(client, tokens):
    admin = auth(tokens["admin"])
    client.post("/v1/banks", json={"name": "list"}, headers=admin)
    assert client.delete(f"/v1/entries/{MAX_INT}", headers=admin).status_code == 404
    assert client.delete(f"/v1/tokens/{MAX_INT}", headers=admin).status_code == 404
    r = client.get(f"/v1/banks/list/entries?offset={MAX_INT}", headers=admin)
    assert r.status_code == 200 and r.json()["entries"] == []
    assert client.get(f"/v1/matches?offset={MAX_INT}", headers=admin).json()["matches"] == []
