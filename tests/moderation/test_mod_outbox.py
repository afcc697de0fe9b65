"""Signed webhooks through the outbox, against a real local HTTP receiver."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from rempart.audit.models import AuditEntry
from rempart.errors import InvalidInput, PermissionDenied
from rempart.moderation import add_endpoint, deliver_pending, signing
from rempart.moderation.models import OutboxMessage, WebhookEndpoint
from rempart.moderation.outbox import enqueue
from tests.webhook_receiver import WebhookReceiver

SECRET = "receiver-secret"


def Receiver(fail_first: int = 0) -> WebhookReceiver:
    return WebhookReceiver(SECRET, fail_first)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _endpoint(rt, people, url, secret=SECRET):
    with rt.db.session() as s:
        add_endpoint(s, people["admin"], "platform", url, secret=secret)


def test_delivery_is_signed_and_idempotent(runtime, people, receiver):
    _endpoint(runtime, people, receiver.url)
    with runtime.db.session() as s:
        assert enqueue(s, "remove_item", "k-1", {"target": "7"}) == 1
        assert enqueue(s, "remove_item", "k-1", {"target": "7"}) == 0  # same key: nothing new
    report = deliver_pending(runtime.db)
    assert (report.delivered, report.retried) == (1, 0)
    assert receiver.applied["k-1"]["data"] == {"target": "7"}
    assert receiver.applied["k-1"]["type"] == "rempart.remove_item"
    assert deliver_pending(runtime.db).delivered == 0  # nothing sent twice
    with runtime.db.session() as s:
        assert s.scalar(select(OutboxMessage)).status == "delivered"
        assert s.scalar(select(AuditEntry).where(AuditEntry.event == "webhook.delivered"))


def test_failures_are_retried_with_backoff_and_the_same_key(runtime, people):
    r = Receiver(fail_first=2)
    try:
        _endpoint(runtime, people, r.url)
        with runtime.db.session() as s:
            enqueue(s, "ban_account", "k-2", {"target": "acct-a"})
        t = dt.datetime.utcnow()
        assert deliver_pending(runtime.db, now=lambda: t).retried == 1
        assert deliver_pending(runtime.db, now=lambda: t).retried == 0  # not due yet
        with runtime.db.session() as s:
            msg = s.scalar(select(OutboxMessage))
            assert msg.attempts == 1 and msg.last_error == "HTTP 503"
            assert msg.next_attempt_at == t + dt.timedelta(seconds=signing.backoff(1))
        t2 = t + dt.timedelta(seconds=signing.backoff(1))
        assert deliver_pending(runtime.db, now=lambda: t2).retried == 1
        t3 = t2 + dt.timedelta(seconds=signing.backoff(2))
        assert deliver_pending(runtime.db, now=lambda: t3).delivered == 1
        assert [q["key"] for q in r.requests] == ["k-2"] * 3
        assert list(r.applied) == ["k-2"]
    finally:
        r.close()


def test_a_wrong_secret_is_refused_by_the_receiver_and_kept_until_it_fails(runtime, people,
                                                                         receiver):
    _endpoint(runtime, people, receiver.url, secret="not-the-receivers")
    with runtime.db.session() as s:
        enqueue(s, "remove_item", "k-3", {})
    t = dt.datetime.utcnow()
    for _ in range(signing.MAX_ATTEMPTS):
        deliver_pending(runtime.db, now=lambda: t)
        t += dt.timedelta(seconds=signing.MAX_DELAY)
    with runtime.db.session() as s:
        msg = s.scalar(select(OutboxMessage))
        assert msg.status == "failed" and msg.attempts == signing.MAX_ATTEMPTS
        assert msg.last_error == "HTTP 401"
        assert s.scalar(select(AuditEntry).where(AuditEntry.event == "webhook.failed"))
    assert receiver.applied == {}
    with runtime.db.session() as s:
        from rempart.moderation import failed_messages, retry_message
        (failed,) = failed_messages(s, people["admin"])
        with pytest.raises(PermissionDenied):
            retry_message(s, people["lead"], failed.id)
        retry_message(s, people["admin"], failed.id)
    with runtime.db.session() as s:
        ep = s.scalar(select(WebhookEndpoint))
        ep.secret = SECRET  # the platform's secret, fixed by the admin
    assert deliver_pending(runtime.db).delivered == 1
    assert list(receiver.applied) == ["k-3"]


def test_an_unreachable_endpoint_is_retried(runtime, people):
    _endpoint(runtime, people, "http://127.0.0.1:9/hook")
    with runtime.db.session() as s:
        enqueue(s, "remove_item", "k-4", {})
    assert deliver_pending(runtime.db).retried == 1
    with runtime.db.session() as s:
        assert s.scalar(select(OutboxMessage)).last_error.startswith("ConnectError")


def test_endpoints_are_for_admins_and_checked(runtime, people):
    with runtime.db.session() as s:
        for who in ("mod", "cs", "lead"):
            with pytest.raises(PermissionDenied):
                add_endpoint(s, people[who], "x", "http://127.0.0.1/")
        with pytest.raises(InvalidInput):
            add_endpoint(s, people["admin"], "x", "file:///etc/passwd")
        _, secret = add_endpoint(s, people["admin"], "x", "https://platform.example/hook")
        assert len(secret) == 64
