"""Bulk actions, preservation holds and webhook delivery, raced: each acts once.

Bulk actions go through the real console; holds and the outbox are driven by their services,
each thread with a session (a connection, a transaction) of its own on the run's database.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from rempart.audit.models import AuditEntry
from rempart.errors import Conflict
from rempart.moderation import (
    ActionKind, ActionRequest, claim, decide, deliver_pending, release_hold, retry_message,
)
from rempart.moderation.models import Case, Decision, Hold, OutboxMessage
from rempart.moderation import holds, outbox
from tests.concurrency.race import Racers, console, race, statuses, widen
from tests.web.web_helpers import upload

N = 5


def count(runtime, model, *where) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _decided(runtime, users, case_id: int, *kinds: ActionKind) -> int:
    cs = users["cs"].actor
    with runtime.db.session() as s:
        claim(s, cs, case_id, runtime.moderation)
        return decide(s, cs, case_id, actions=[ActionRequest(k) for k in kinds], policy="csam",
                      facts="Confirmed against the list.", config=runtime.moderation).id


def test_one_bulk_action_per_entity(runtime, server, users, banked):
    src = upload(runtime, 101, "acct-a", "group-1").item_id
    upload(runtime, 101, "acct-b", "group-2", edit="resized")
    with runtime.db.session() as s:
        case_id = s.scalar(select(Case.id).where(Case.account == "acct-a"))
    _decided(runtime, users, case_id, ActionKind.REMOVE_ITEM)
    racers = Racers(server, console(server, users["lead"]), N)
    form = {"entities": ["account:acct-b"], "policy": "csam", "actions": ["remove_item"],
            "facts": "Shared a confirmed item."}
    got = race(N, lambda i: racers.post(i, f"/console/items/{src}/blast-radius/act", form))
    assert statuses(got) == [303] + [409] * (N - 1)
    assert count(runtime, Case, Case.source == "investigation") == 1
    assert count(runtime, Decision, Decision.case_id != case_id) == 1
    racers.close()


def test_a_hold_is_released_once(runtime, users, review_case, monkeypatch):
    _decided(runtime, users, review_case, ActionKind.PRESERVATION_HOLD)
    widen(monkeypatch, holds, "record")
    with runtime.db.session() as s:
        hold = s.scalar(select(Hold.id))

    def release(_i: int):
        with runtime.db.session() as s:
            return release_hold(s, users["lead"].actor, hold, "request withdrawn").released_by

    got = race(N, release)
    assert all(isinstance(r, str) for r in got), got
    assert count(runtime, AuditEntry, AuditEntry.event == "hold.released") == 1


def test_each_webhook_is_posted_once_by_racing_workers(runtime, users, endpoint, review_case):
    _decided(runtime, users, review_case, ActionKind.REMOVE_ITEM)
    posted: list[str] = []
    lock = threading.Lock()

    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        with lock:
            posted.append(headers["Idempotency-Key"])
        return 200

    got = race(N, lambda i: deliver_pending(runtime.db, post=post))
    assert sum(r.delivered for r in got) == 2
    assert sorted(posted) == sorted(set(posted)) and len(posted) == 2
    assert count(runtime, OutboxMessage, OutboxMessage.status == "delivered") == 2


def test_a_failed_webhook_is_retried_once(runtime, users, endpoint, review_case, monkeypatch):
    _decided(runtime, users, review_case, ActionKind.REMOVE_ITEM)
    widen(monkeypatch, outbox, "record")
    with runtime.db.session() as s:
        msg = s.scalar(select(OutboxMessage).order_by(OutboxMessage.id).limit(1))
        msg.status = "failed"
        msg_id = msg.id

    def retry(_i: int):
        with runtime.db.session() as s:
            return retry_message(s, users["admin"].actor, msg_id).status

    got = race(N, retry)
    assert sorted(map(str, got)).count("pending") == 1
    assert all(r == "pending" or isinstance(r, Conflict) for r in got), got
    assert count(runtime, AuditEntry, AuditEntry.event == "webhook.retried") == 1
