"""The platform-facing moderation API, and the server's in-process outbox worker."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from rempart.api.app import create_app
from rempart.api.permissions import ORG_SCOPES, Scope
from rempart.api.tokens import issue_token
from rempart.moderation import ActionKind, ActionRequest, add_endpoint, claim, decide
from rempart.moderation.models import Case
from tests.moderation.mod_helpers import upload
from tests.moderation.test_mod_outbox import Receiver
from tests.openapi_check import checked_client


@pytest.fixture
def tokens(runtime):
    with runtime.db.session() as s:
        return {sc.value: issue_token(s, f"t-{sc.value}", frozenset({sc}))[1] for sc in Scope
                if sc not in ORG_SCOPES}


@pytest.fixture
def decided(banked, people, cfg):
    upload(banked, 101, "acct-a")
    with banked.db.session() as s:
        case_id = s.scalar(select(Case.id))
        claim(s, people["cs"], case_id, cfg)
        return decide(s, people["cs"], case_id, actions=[ActionRequest(ActionKind.REMOVE_ITEM)],
                      policy="csam", facts="confirmed", config=cfg).id


def test_the_platform_files_appeals(banked, tokens, decided):
    with checked_client(create_app(banked, outbox_worker=False)) as c:
        body = {"decision": decided, "appellant": "acct-a", "statement": "mistake"}
        r = c.post("/v1/appeals", json=body,
                   headers={"Authorization": f"Bearer {tokens['platform']}"})
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "open" and r.json()["window_closes_at"]
        again = c.post("/v1/appeals", json=body,
                       headers={"Authorization": f"Bearer {tokens['platform']}"})
        assert again.status_code == 409
        other = c.post("/v1/appeals", json={**body, "appellant": "acct-b"},
                       headers={"Authorization": f"Bearer {tokens['platform']}"})
        assert other.status_code == 400
        assert c.post("/v1/appeals", json=body, headers={
            "Authorization": f"Bearer {tokens['curator']}"}).status_code == 403
        assert c.post("/v1/appeals", json=body).status_code == 401


def test_the_server_delivers_the_outbox_in_process(banked, people, cfg):
    receiver = Receiver()
    try:
        with banked.db.session() as s:
            add_endpoint(s, people["admin"], "platform", receiver.url,
                         secret="receiver-secret")
        upload(banked, 101, "acct-a")
        with banked.db.session() as s:
            case_id = s.scalar(select(Case.id))
            claim(s, people["cs"], case_id, cfg)
            decide(s, people["cs"], case_id, actions=[ActionRequest(ActionKind.REMOVE_ITEM)],
                   policy="csam", facts="confirmed", config=cfg)
        with TestClient(create_app(banked)):
            deadline = time.monotonic() + 15
            while not receiver.applied and time.monotonic() < deadline:
                time.sleep(0.1)
        (sent,) = receiver.applied.values()
        assert sent["type"] == "rempart.remove_item"
        assert sent["data"]["platform_item"]["account"] == "acct-a"
        assert sent["data"]["statement_of_reasons"]["category"] == \
            "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    finally:
        receiver.close()
