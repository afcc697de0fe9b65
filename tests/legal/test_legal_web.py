"""The Legal desk's pages over HTTP: clocks with their warnings, and who may see them."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from rempart.api.app import create_app
from rempart.authz import Role
from rempart.store.db import utcnow
from tests.legal.desk_helpers import agency_with_officer, epoc, items_of
from tests.web.web_helpers import login, make_users


def test_the_desk_warns_before_an_emergency_deadline_and_moderators_see_nothing(runtime):
    _, officer, _, _ = agency_with_officer(runtime)
    items_of(runtime, "u-123", 1)
    users = make_users(runtime, {"ana": Role.LEGAL, "mod": Role.MODERATOR, "cs": Role.CHILD_SAFETY_MODERATOR})
    received = utcnow() - dt.timedelta(hours=6, minutes=30)  # 1 h 30 left of 8 h
    with runtime.db.session() as s:
        order_id = runtime.legal.receive(s, officer, epoc(received, emergency=True), [], now=received).id
    app = create_app(runtime, outbox_worker=False, witness_worker=False)
    with TestClient(app) as client:
        login(client, users["ana"])
        desk = client.get("/console/legal")
        assert desk.status_code == 200 and "deadline near" in desk.text and "sla-warning" in desk.text
        page = client.get(f"/console/legal/orders/{order_id}")
        assert "emergency production" in page.text and "deadline near" in page.text
    for who in ("mod", "cs"):
        with TestClient(app) as client:
            login(client, users[who])
            home = client.get("/console/")
            assert "Legal desk" not in home.text
            assert client.get("/console/legal").status_code == 403
            assert client.get(f"/console/legal/orders/{order_id}").status_code == 403
