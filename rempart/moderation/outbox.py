"""Delivering actions to the platform: signed webhooks from an outbox table, with retries.

``enqueue`` writes one message per enabled endpoint in the transaction of the action it
announces (so an action and its announcement commit together or not at all). ``deliver_pending``
sends what is due: each message is first leased (a conditional UPDATE moves its next attempt
into the future, so two workers never send it at the same time), then POSTed with its signature
and ``Idempotency-Key`` (the same on every retry: the platform applies each action once).
A 2xx answer marks it delivered; anything else is retried with exponential backoff until
``MAX_ATTEMPTS``, then kept as ``failed`` for a person to look at (never dropped). The outcome
is written only while the lease still holds (a conditional UPDATE on the leased time), so a
worker whose lease ran out cannot overwrite the outcome of the one that took over; a failed
message is put back once however many people press "retry" at once.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, require, system_actor
from rempart.errors import Conflict, InvalidInput, NotFound, shown
from rempart.moderation import signing
from rempart.moderation.models import OutboxMessage, WebhookEndpoint
from rempart.store.db import Database, utcnow
from rempart.store.periodic import Periodic

LEASE = dt.timedelta(seconds=60)
TIMEOUT = 10.0

#: (url, body, headers) -> HTTP status; raises ``OSError``/``httpx.HTTPError`` when unreachable
Poster = Callable[[str, bytes, dict[str, str]], int]


def add_endpoint(session: Session, actor: Actor, name: str, url: str,
                 secret: str | None = None, *, org_id: int | None = None
                 ) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its signing secret (shown once). The platform's
    endpoints (``WEBHOOKS_ADMIN``) receive actions; an organisation's (``org_id``: its analysts
    with ``ORG_WEBHOOKS``, or an admin) receive only the outcomes of its own notices."""
    if org_id is not None and actor.org_id == org_id:
        require(actor, P.ORG_WEBHOOKS)
    else:
        require(actor, P.WEBHOOKS_ADMIN)
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInput("a webhook URL is http(s)://host/...")
    if session.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.name == name)):
        raise Conflict(f"endpoint {shown(name)} already exists")
    secret = secret or signing.new_secret()
    ep = WebhookEndpoint(name=name, url=url, secret=secret, enabled=True, org_id=org_id)
    session.add(ep)
    try:
        session.flush()
    except IntegrityError:  # added by a concurrent request since the check above
        raise Conflict(f"endpoint {shown(name)} already exists") from None
    record(session, actor, AuditEvent.WEBHOOK_ENDPOINT_ADDED, subject=f"endpoint:{ep.id}",
           detail={"name": name, "url": url})
    return ep, secret


def enqueue(session: Session, event: str, key: str, payload: dict, *,
            action_id: int | None = None, now: dt.datetime | None = None,
            org_id: int | None = None) -> int:
    """Queue one message per enabled endpoint: the platform's, or with ``org_id`` that
    organisation's only. The same ``key`` twice is a no-op (idempotent)."""
    now = now or utcnow()
    body = json.dumps({"id": key, "type": f"rempart.{event}", "created_at": now.isoformat() + "Z",
                       "data": payload}, sort_keys=True, separators=(",", ":"))
    n = 0
    audience = (WebhookEndpoint.org_id.is_(None) if org_id is None
                else WebhookEndpoint.org_id == org_id)
    for ep in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(True),
                                                            audience)):
        if session.scalar(select(OutboxMessage.id).where(OutboxMessage.endpoint_id == ep.id,
                                                         OutboxMessage.idempotency_key == key)):
            continue
        try:
            with session.begin_nested():
                session.add(OutboxMessage(endpoint_id=ep.id, action_id=action_id,
                                          idempotency_key=key, event=event, body=body,
                                          next_attempt_at=now, created_at=now))
                session.flush()
            n += 1
        except IntegrityError:
            continue
    return n


def http_poster(url: str, body: bytes, headers: dict[str, str]) -> int:
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        return client.post(url, content=body, headers=headers).status_code


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0


def deliver_pending(db: Database, *, post: Poster = http_poster, now: Callable[[], dt.datetime]
                    = utcnow, limit: int = 100, clock: Callable[[], float] = time.time
                    ) -> DeliveryReport:
    """Send every due message (at most ``limit``), each in its own transaction."""
    report = DeliveryReport()
    with db.session() as s:
        due = list(s.scalars(select(OutboxMessage.id)
                             .where(OutboxMessage.status == "pending",
                                    OutboxMessage.next_attempt_at <= now())
                             .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                             .limit(limit)))
    for msg_id in due:
        _deliver_one(db, msg_id, post, now(), clock, report)
    return report


def _lease(db: Database, msg_id: int, at: dt.datetime):
    """Lease a due message until ``at + LEASE``; None if it is not due or another worker has it."""
    with db.session() as s:
        got = s.execute(update(OutboxMessage)
                        .where(OutboxMessage.id == msg_id, OutboxMessage.status == "pending",
                               OutboxMessage.next_attempt_at <= at)
                        .values(next_attempt_at=at + LEASE)
                        .execution_options(synchronize_session=False)).rowcount
        if got != 1:
            return None
        msg = s.get(OutboxMessage, msg_id)
        ep = s.get(WebhookEndpoint, msg.endpoint_id)
        return msg.body, msg.idempotency_key, ep.url, ep.secret, msg.attempts


def _deliver_one(db: Database, msg_id: int, post: Poster, at: dt.datetime,
                 clock: Callable[[], float], report: DeliveryReport) -> None:
    leased = _lease(db, msg_id, at)
    if leased is None:
        return
    body, key, url, secret, attempts = leased
    ts = int(clock())
    headers = {"Content-Type": "application/json", signing.TIMESTAMP_HEADER: str(ts),
               signing.SIGNATURE_HEADER: signing.sign(secret, ts, body.encode()),
               signing.IDEMPOTENCY_HEADER: key}
    try:
        status, error = post(url, body.encode(), headers), ""
    except (OSError, httpx.HTTPError) as exc:
        status, error = 0, f"{type(exc).__name__}: {exc}"[:500]
    actor = system_actor("outbox")
    tries = attempts + 1
    if 200 <= status < 300:
        outcome = {"status": "delivered", "delivered_at": utcnow(), "last_error": ""}
    else:
        error = error or f"HTTP {status}"
        outcome = ({"status": "failed"} if tries >= signing.MAX_ATTEMPTS else
                   {"next_attempt_at": at + dt.timedelta(seconds=signing.backoff(tries))})
        outcome["last_error"] = error
    with db.session() as s:
        kept = s.execute(update(OutboxMessage)
                         .where(OutboxMessage.id == msg_id, OutboxMessage.status == "pending",
                                OutboxMessage.next_attempt_at == at + LEASE)
                         .values(attempts=tries, **outcome)
                         .execution_options(synchronize_session=False)).rowcount
        if kept != 1:
            return  # the lease ran out and another worker took the message over
        if outcome.get("status") == "delivered":
            report.delivered += 1
            record(s, actor, AuditEvent.WEBHOOK_DELIVERED, subject=f"outbox:{msg_id}",
                   detail={"key": key, "attempts": tries})
        elif outcome.get("status") == "failed":
            report.failed += 1
            record(s, actor, AuditEvent.WEBHOOK_FAILED, subject=f"outbox:{msg_id}",
                   detail={"key": key, "attempts": tries, "error": error})
        else:
            report.retried += 1


def outbox_status(session: Session, actor: Actor) -> dict[str, int]:
    """Messages per status (for the admin page)."""
    require(actor, P.WEBHOOKS_ADMIN)
    return {st: n for st, n in session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))}


def failed_messages(session: Session, actor: Actor, limit: int = 100) -> list[OutboxMessage]:
    """Messages that exhausted their retries (kept for a person to look at)."""
    require(actor, P.WEBHOOKS_ADMIN)
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")
                                .order_by(OutboxMessage.id).limit(limit)))


def retry_message(session: Session, actor: Actor, message_id: int) -> OutboxMessage:
    """Send a failed message again from scratch (same body, same idempotency key)."""
    require(actor, P.WEBHOOKS_ADMIN)
    msg = session.get(OutboxMessage, message_id)
    if msg is None:
        raise NotFound("outbox message", message_id)
    put_back = session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(msg)
    if put_back != 1:
        raise Conflict(f"message {message_id} is {msg.status}")
    record(session, actor, AuditEvent.WEBHOOK_RETRIED, subject=f"outbox:{msg.id}",
           detail={"key": msg.idempotency_key})
    return msg


class OutboxWorker(Periodic):
    """Runs ``deliver_pending`` every ``interval`` seconds in a daemon thread (in-process)."""

    def __init__(self, db: Database, interval: float = 2.0, post: Poster = http_poster) -> None:
        self.db, self.post = db, post
        super().__init__("rempart-outbox", interval, lambda: deliver_pending(self.db, post=self.post),
                         "rempart.outbox", "outbox delivery round failed")
