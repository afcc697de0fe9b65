"""Fixtures for the concurrency suite: the real server (uvicorn on 127.0.0.1) over the real
database of the run (a SQLite file, or PostgreSQL), people with known credentials, API tokens,
benign stand-ins banked in review and block lists, and a flagged case.

Every race here releases its threads together with a ``threading.Barrier`` (``race``), so that
the requests reach the server at the same moment, the way a double click, a retry or a busy
team does.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rempart.api.permissions import ORG_SCOPES, Scope
from rempart.api.tokens import issue_token
from rempart.authz import Role
from rempart.banks import service as banks
from rempart.moderation import add_endpoint
from rempart.moderation.models import Case
from tests.factories import image_bytes
from tests.served import Served
from tests.web.web_helpers import make_users, upload

ROLES = {"cs": Role.CHILD_SAFETY_MODERATOR, "cs2": Role.CHILD_SAFETY_MODERATOR,
         "cs3": Role.CHILD_SAFETY_MODERATOR, "lead": Role.LEAD, "lead2": Role.LEAD,
         "admin": Role.ADMIN}


@pytest.fixture
def server(runtime):
    """The whole app (API and console) served on 127.0.0.1; the outbox worker is off so that
    the tests count what was queued."""
    with Served(runtime, outbox_worker=False) as served:
        yield served


@pytest.fixture
def users(runtime):
    return make_users(runtime, ROLES)


@pytest.fixture
def api_tokens(runtime) -> dict[str, str]:
    with runtime.db.session() as s:
        return {scope.value: issue_token(s, f"race-{scope.value}", frozenset({scope}))[1]
                for scope in Scope if scope not in ORG_SCOPES}


@pytest.fixture
def banked(runtime):
    with runtime.db.session() as s:
        banks.create_bank(s, "review-list", action="review")
    for seed in (101, 102):
        runtime.bank_media("review-list", runtime.fingerprint(image_bytes(seed)))
    return runtime


@pytest.fixture
def endpoint(runtime, users):
    """A platform webhook endpoint, so that every platform action queues one message."""
    with runtime.db.session() as s:
        add_endpoint(s, users["admin"].actor, "platform", "http://127.0.0.1:9/hook",
                     secret="race-secret")


@pytest.fixture
def review_case(banked) -> int:
    """A child-safety case: two stand-ins of the review list uploaded by one account."""
    upload(banked, 101, "acct-a", "group-1")
    upload(banked, 102, "acct-a", "group-1")
    with banked.db.session() as s:
        return s.scalar(select(Case.id).where(Case.source == "hash_review"))
