from __future__ import annotations

import pytest

from rempart.api.app import create_app
from rempart.api.permissions import ORG_SCOPES, Scope
from rempart.hotline.orgs import create_org
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
            if scope in ORG_SCOPES:  # an organisation's key (rempart org add)
                out[scope.value] = create_org(s, f"test-{scope.value}", "ngo").key
            else:
                out[scope.value] = issue_token(s, f"test-{scope.value}", frozenset({scope}))[1]
    return out


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
