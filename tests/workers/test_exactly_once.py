"""An upload event takes effect once however often, and however concurrently, it is delivered
(``rempart.workers.service.process``): on SQLite and on PostgreSQL, without NATS."""

from __future__ import annotations

import threading
import time

from rempart.scanning.service import answer_json
from rempart.workers.events import ScanEvent, new_scan_id
from rempart.workers.service import process, submit_request
from tests.workers.helpers import add_webhook, bank_pictures, effects, pictures

CONTEXT = {"account": "acct-1", "space": None, "message": "m1", "uploaded_at": None}


def _event(rt, mode="async") -> ScanEvent:
    event = ScanEvent(new_scan_id(), mode, "upload", CONTEXT, at=time.time())
    with rt.db.session() as s:
        submit_request(s, event)
    return event


def test_a_redelivered_event_changes_nothing(runtime):
    banked, other = pictures(2)
    bank_pictures(runtime, "known", [banked])
    add_webhook(runtime)
    before = effects(runtime.db)
    event = _event(runtime)
    first = process(runtime, event, banked, answer=answer_json)
    assert (first.status, first.verdict) == ("done", "block")
    after_one = effects(runtime.db)
    assert after_one == {"items": before["items"] + 1, "cases": before["cases"] + 1,
                         "leaves": before["leaves"] + 1, "webhooks": 1, "done": 1}
    for _ in range(3):
        assert process(runtime, event, banked, answer=answer_json).status == "duplicate"
    assert effects(runtime.db) == after_one


def test_two_workers_given_the_same_event_at_once_act_once(runtime):
    banked, = pictures(1)
    bank_pictures(runtime, "known", [banked])
    add_webhook(runtime)
    events = [_event(runtime) for _ in range(3)]
    before = effects(runtime.db)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def deliver(event):
        barrier.wait()
        try:
            results.append(process(runtime, event, banked, answer=answer_json).status)
        except Exception as exc:  # SQLite may refuse the loser's write: redelivered later
            errors.append(exc)

    for event in events:
        barrier.reset()
        threads = [threading.Thread(target=deliver, args=(event,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for event in events:  # whatever failed is delivered again, as the stream would
        process(runtime, event, banked, answer=answer_json)
    after = effects(runtime.db)
    assert results.count("done") <= 3
    assert after["items"] - before["items"] == 3
    assert after["cases"] - before["cases"] >= 1  # grouped by account: one case, three items
    assert after["leaves"] - before["leaves"] == 3
    assert after["webhooks"] == 3 and after["done"] == 3


def test_bad_media_fails_the_request_once_and_records_nothing(runtime):
    add_webhook(runtime)
    before = effects(runtime.db)
    event = _event(runtime)
    assert process(runtime, event, b"not a picture", answer=answer_json).status == "failed"
    assert process(runtime, event, b"not a picture", answer=answer_json).status == "duplicate"
    after = effects(runtime.db)
    assert after["items"] == before["items"] and after["done"] == 0
    assert after["webhooks"] == 1  # scan.failed, once
