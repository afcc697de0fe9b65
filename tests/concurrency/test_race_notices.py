"""Notices under concurrency, against the real server: N identical submissions with one
Idempotency-Key released together create one batch and one set of notices (one case, one log
leaf each), and every caller gets the same answer; a different body under the key is a 409."""

from __future__ import annotations

from sqlalchemy import func, select

from rempart.hotline.models import Batch, Notice
from rempart.transparency.db import log_store
from tests.concurrency.race import client, race
from tests.hotline.hotline_helpers import notice, org, posted

N = 8


def test_parallel_identical_submissions_create_one_notice(runtime, server):
    posted(runtime, 40, "acct-1", "m-1")
    _, key = org(runtime)
    body = {"notices": [notice()]}
    clients = [client(server) for _ in range(N)]
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "same-key"}
    with runtime.db.session() as s:
        size = log_store.tree_size(s)

    answers = race(N, lambda i: clients[i].post("/v1/notices", json=body, headers=headers))
    assert all(not isinstance(a, BaseException) for a in answers), answers
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Notice)) == 1
        assert s.scalar(select(func.count()).select_from(Batch)) == 1
        # one notice leaf (plus, at most, a day's report if the day rolled over meanwhile)
        assert log_store.tree_size(s) - size in (1, 2)

    other = {"notices": [notice(reference="other")]}
    answers = race(N, lambda i: clients[i].post("/v1/notices", json=other, headers=headers))
    assert {a.status_code for a in answers} == {409}
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Notice)) == 1
