from __future__ import annotations

import pytest

from rempart.api.app import create_app
from rempart.api.permissions import Scope
from rempart.api.tokens import issue_token
from tests.openapi_check import checked_client


@pytest.fixture
def client(runtime):
    """A client of the API whose every response is checked against /openapi.json."""
    with checked_client(create_app(runtime), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def tokens(runtime) -> dict[str, str]:
    out = {}
    with runtime.db.session() as s:
        for scope in Scope:
            out[scope.value] = issue_token(s, f"test-{scope.value}", frozenset({scope}))[1]
    return out


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
