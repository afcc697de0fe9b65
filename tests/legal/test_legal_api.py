"""``/v1/legal/orders`` over HTTP (responses checked against /openapi.json): officers' keys,
clear errors that create nothing, their own agency's orders only, and a gagged order that
withholds the user's statement of reasons where webhooks are produced."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from sqlalchemy import func, select

from rempart.api.app import create_app
from rempart.authz import Role
from rempart.legal.db.models import LegalOrder
from rempart.moderation.models import Hold, OutboxMessage
from rempart.store.db import utcnow
from tests.legal.desk_helpers import agency_with_officer, epoc, epoc_pr, items_of
from tests.openapi_check import checked_client


@pytest.fixture
def client(runtime):
    with checked_client(create_app(runtime, outbox_worker=False, witness_worker=False),
                        raise_server_exceptions=False) as c:
        yield c


def auth(key):
    return {"Authorization": f"Bearer {key}"}


def nothing_created(runtime):
    with runtime.db.session() as s:
        return not s.scalar(select(func.count()).select_from(LegalOrder)) and \
            not s.scalar(select(func.count()).select_from(Hold))


def test_orders_through_the_api(runtime, client):
    _, _, key, _ = agency_with_officer(runtime)
    _, _, other_key, _ = agency_with_officer(runtime, "Polizei Berlin", "DE", "police", "officer-2")
    items_of(runtime, "u-123")
    now = utcnow()
    # forged credentials
    for bad in ("rl_" + "A" * 43, "rp_" + "A" * 43, "nonsense"):
        r = client.post("/v1/legal/orders", json={"order": epoc_pr(now)}, headers=auth(bad))
        assert r.status_code == 401 and "invalid officer credentials" in r.json()["title"]
    # malformed orders: every field named
    r = client.post("/v1/legal/orders", json={"order": epoc_pr(now) | {"kind": "x", "targets": []}},
                    headers=auth(key))
    assert r.status_code == 422 and r.json()["type"] == "invalid-order"
    assert {e[0] for e in r.json()["errors"]} >= {"kind", "targets"}
    r = client.post("/v1/legal/orders", content=b"{not json", headers=auth(key))
    assert r.status_code == 400 and "not JSON" not in r.json()["title"] and "body" in r.json()["title"]
    # identifiers the platform does not hold
    r = client.post("/v1/legal/orders", json={"order": epoc_pr(now, account="nobody")}, headers=auth(key))
    assert r.status_code == 422 and r.json()["type"] == "order-not-executable"
    assert "unknown account" in r.json()["errors"][0][1]
    # an oversized attachment
    big = base64.b64encode(b"x" * (runtime.legal.config.max_attachment_bytes + 1)).decode()
    r = client.post("/v1/legal/orders", headers=auth(key), json={
        "order": epoc_pr(now), "attachments": [{"name": "form2.pdf", "content_base64": big}]})
    assert r.status_code == 413 and r.json()["type"] == "attachment-too-large"
    assert nothing_created(runtime)
    # a good one, with its signed form attached
    r = client.post("/v1/legal/orders", headers=auth(key), json={
        "order": epoc_pr(now), "attachments": [{"name": "form2.pdf", "content_base64": "JVBERi0xLjQK"}]})
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["type"] == "epoc_pr" and order["status"] == "preserving" and order["deadline"]
    assert client.get(f"/v1/legal/orders/{order['id']}", headers=auth(key)).json()["id"] == order["id"]
    # the same reference twice
    assert client.post("/v1/legal/orders", json={"order": epoc_pr(now)}, headers=auth(key)).status_code == 409
    # another agency's officer sees nothing
    assert client.get(f"/v1/legal/orders/{order['id']}", headers=auth(other_key)).status_code == 404
    assert client.get(f"/v1/legal/orders/{order['id']}", headers=auth("rl_" + "B" * 43)).status_code == 401


def test_a_gagged_order_sends_no_user_notification(runtime, client):
    from rempart.moderation import add_endpoint, claim, decide
    from rempart.moderation.models import Case
    from tests.web.web_helpers import make_users

    _, _, key, _ = agency_with_officer(runtime)
    with runtime.db.session() as s:
        add_endpoint(s, make_users(runtime, {"adm": Role.ADMIN})["adm"].actor, "platform", "http://127.0.0.1:9/")
    items_of(runtime, "u-123", 1)
    now = utcnow()
    r = client.post("/v1/legal/orders", json={"order": epoc(now, confidential=True)}, headers=auth(key))
    assert r.status_code == 201, r.text
    # a reviewer suspends the account: the platform's webhook carries no statement of reasons
    users = make_users(runtime, {"lead": Role.LEAD})
    from rempart.moderation import NewCase, open_case
    from rempart.moderation.vocab import CaseSource
    from rempart.authz import system_actor
    with runtime.db.session() as s:
        case = open_case(s, system_actor("t"), NewCase(CaseSource.LAW_ENFORCEMENT, "account:u-123",
                                                      account="u-123", has_media=False, metadata_decidable=True),
                         runtime.moderation).case
        case_id = case.id
    with runtime.db.session() as s:
        claim(s, users["lead"].actor, case_id, runtime.moderation)
    with runtime.db.session() as s:
        from rempart.moderation import ActionRequest
        from rempart.moderation.vocab import ActionKind
        decide(s, users["lead"].actor, case_id, actions=[ActionRequest(ActionKind.RESTRICT_ACCOUNT, end_date=now.date() + dt.timedelta(days=30))],
               policy="csam", facts="banned for what the order shows", config=runtime.moderation)
    with runtime.db.session() as s:
        bodies = [m.body for m in s.scalars(select(OutboxMessage))]
    assert bodies and all('"notify_user":false' in b and '"statement_of_reasons":null' in b for b in bodies)
    # the authority lifts it: the withheld statement is sent, and the next one carries it again
    from rempart.legal.db import orders
    with runtime.db.session() as s:
        row = s.scalars(select(LegalOrder)).one()
        assert orders.lift_confidentiality(s, users["lead"].actor.__class__(None, "desk", Role.LEGAL), row) == ["u-123"]
        case_id = open_case(s, system_actor("t"), NewCase(CaseSource.LAW_ENFORCEMENT, "account:u-123",
                                                          account="u-123", has_media=False, metadata_decidable=True),
                            runtime.moderation).case.id
    with runtime.db.session() as s:
        released = [m for m in s.scalars(select(OutboxMessage)) if m.event == "notification_released"]
        assert len(released) == 1 and '"statement_of_reasons":{' in released[0].body
        claim(s, users["lead"].actor, case_id, runtime.moderation)
    with runtime.db.session() as s:
        decide(s, users["lead"].actor, case_id, actions=[ActionRequest(ActionKind.RESTRICT_ACCOUNT,
               end_date=now.date() + dt.timedelta(days=60))], policy="csam", facts="again", config=runtime.moderation)
    with runtime.db.session() as s:
        last = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first().body
    assert '"notify_user":true' in last and '"statement_of_reasons":{' in last
