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


def test_the_order_page_says_what_the_platform_holds_for_each_target(runtime):
    """Accounts and spaces are checked against the ledger; rempart holds no email, phone,
    username or IP identifiers: such targets are accepted and the desk says to answer them
    with Form 3 "data not held" (a non-execution, not a paused clock)."""
    from rempart.legal import EventKind, Form3Reason
    from rempart.legal.db import orders, views

    _, officer, _, _ = agency_with_officer(runtime)
    items_of(runtime, "u-123", 2)
    users = make_users(runtime, {"ana": Role.LEGAL})
    now = utcnow()
    targets = [{"type": "account", "value": "u-123"}, {"type": "email", "value": "x@example.org"},
               {"type": "phone", "value": "+33612345678"}, {"type": "username", "value": "xx"},
               {"type": "ip", "value": "203.0.113.7", "at": "2026-08-20T10:00:00Z"}]
    with runtime.db.session() as s:
        row = runtime.legal.receive(s, officer, epoc(now, targets=targets), [], now=now)
        order_id = row.id
        coverage = views.detail(s, row, internal=True)["coverage"]
    assert [c["held"] for c in coverage] == [True, None, None, None, None]
    assert coverage[0]["count"] == 2 and coverage[0]["first"] <= coverage[0]["last"]
    app = create_app(runtime, outbox_worker=False, witness_worker=False)
    with TestClient(app) as client:
        login(client, users["ana"])
        page = client.get(f"/console/legal/orders/{order_id}")
        assert page.status_code == 200 and "account u-123:\n2 item(s)" in page.text
        assert "rempart holds no email identifiers" in page.text and "data not held" in page.text
    with runtime.db.session() as s:
        row = orders.get_order(s, users["ana"].actor, order_id)
        state = orders.add_event(s, users["ana"].actor, row, EventKind.NON_EXECUTION_NOTIFIED,
                                 reasons=[Form3Reason.DATA_NOT_HELD], note="no email data", now=now)
        assert state.status.value == "not_executed"  # reported, not paused
