"""Reveals raced against the real server: the daily exposure budget is never exceeded."""

from __future__ import annotations

import dataclasses

from sqlalchemy import func, select

from rempart.moderation.models import CaseItem, Reveal
from tests.concurrency.race import Racers, console, race, statuses

LIMIT = 5


def test_parallel_reveals_stay_within_the_budget(runtime, server, users, review_case):
    runtime.moderation = dataclasses.replace(runtime.moderation, daily_reveal_limit=LIMIT)
    with runtime.db.session() as s:
        items = list(s.scalars(select(CaseItem.item_id).where(CaseItem.case_id == review_case)))
    racers = Racers(server, console(server, users["cs"]), 3 * LIMIT)
    assert racers.post(0, f"/console/cases/{review_case}/claim").status_code == 303
    got = race(3 * LIMIT, lambda i: racers.post(
        i, f"/console/cases/{review_case}/items/{items[i % len(items)]}/reveal"))
    assert statuses(got) == [303] * LIMIT + [429] * (2 * LIMIT)
    with runtime.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Reveal)) == LIMIT
    racers.close()
