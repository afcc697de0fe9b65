"""Integers in requests fit the database: every int path, query, form and body field of the API
and of the console is bounded (ids by 2^31 - 1, INTEGER columns; offsets and counts by 2^63 - 1),
so a larger one is a 422, never an overflow (500) in the database driver; and every route checks
its caller before its body."""

from __future__ import annotations

import typing

import annotated_types
import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel

from rempart.api.app import create_app
from rempart.web import create_console
from rempart.web.officers import create_officers_portal
from rempart.web.portal import create_portal
from rempart.web.public import create_public
from tests.api.conftest import auth
from tests.api.test_routes import _api_routes as _routes

MAX_ID = 2**31 - 1  # INTEGER ids (PostgreSQL's int4)
MAX_INT = 2**63 - 1  # BIGINT offsets
TOO_BIG = 2**63
#: the int fields that name a row by its id
IDS = ("entry_id", "token_id", "case_id", "item_id", "decision_id", "appeal_id", "user_id",
       "case", "after", "decision")


def _upper_bound(metadata) -> int | None:
    for m in metadata:
        for attr in ("le", "lt"):
            value = getattr(m, attr, None)
            if isinstance(m, (annotated_types.Le, annotated_types.Lt, annotated_types.Interval)) \
                    and value is not None:
                return value
    return None


def _unbounded_ints(where: str, annotation, metadata=()) -> list[str]:
    """Names of int fields under ``annotation`` without an upper bound the database can compare
    (MAX_ID for ids, MAX_INT for the others)."""
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        return _unbounded_ints(where, inner, [*metadata, *extra])
    if annotation is int:
        bound = _upper_bound(metadata)
        most = MAX_ID if where.rpartition(" ")[2].rpartition(".")[2] in IDS else MAX_INT
        return [] if bound is not None and bound <= most else [where]
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
    return {"api": create_app(runtime, outbox_worker=False), "console": create_console(runtime),
            "portal": create_portal(runtime), "public": create_public(runtime),
            "officers": create_officers_portal(runtime)}


def test_every_int_in_every_route_is_bounded(apps):
    from rempart.store import db

    assert (db.MAX_ID, db.MAX_INT) == (MAX_ID, MAX_INT)
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
    for site in ("console", "portal", "public", "officers"):
        assert all(isinstance(r, ConsoleRoute) for r in _routes(apps[site].routes)), site


@pytest.mark.parametrize("method, path, body", [
    *(case for big in (MAX_ID + 1, TOO_BIG) for case in (
        ("DELETE", f"/v1/entries/{big}", None),
        ("POST", f"/v1/entries/{big}/disable", {}),
        ("POST", f"/v1/entries/{big}/enable", None),
        ("DELETE", f"/v1/tokens/{big}", None),
        ("POST", "/v1/appeals", {"decision": big, "appellant": "acct-1"}))),
    ("GET", f"/v1/banks/list/entries?offset={TOO_BIG}", None),
    ("GET", f"/v1/matches?offset={TOO_BIG}", None),
])
def test_integers_past_the_columns_are_malformed_requests(client, tokens, method, path, body):
    r = client.request(method, path, json=body, headers=auth(tokens["admin"]))
    assert r.status_code == 422 and r.json()["type"] == "invalid-request", r.text


def test_the_largest_values_are_plain_misses(client, tokens):
    admin = auth(tokens["admin"])
    client.post("/v1/banks", json={"name": "list"}, headers=admin)
    assert client.delete(f"/v1/entries/{MAX_ID}", headers=admin).status_code == 404
    assert client.delete(f"/v1/tokens/{MAX_ID}", headers=admin).status_code == 404
    r = client.get(f"/v1/banks/list/entries?offset={MAX_INT}", headers=admin)
    assert r.status_code == 200 and r.json()["entries"] == []
    assert client.get(f"/v1/matches?offset={MAX_INT}", headers=admin).json()["matches"] == []
