"""Claims: never two reviewers on one case (at the database), expiry, serving order."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from rempart.errors import PermissionDenied
from rempart.moderation import (
    ClaimConflict, NotClaimed, claim, list_cases, next_case, queue_stats, release, sla_warnings,
)
from rempart.moderation.models import Case
from tests.moderation.mod_helpers import upload


@pytest.fixture
def case_id(banked):
    upload(banked, 101, "acct-a")
    with banked.db.session() as s:
        return s.scalar(select(Case.id))


def test_two_sessions_cannot_both_claim(banked, people, cfg, case_id):
    s1 = banked.db._factory()
    s2 = banked.db._factory()
    try:
        # both sessions have read the case unclaimed before either claims
        assert s1.get(Case, case_id).claimed_by is None
        assert s2.get(Case, case_id).claimed_by is None
        claim(s1, people["cs"], case_id, cfg)
        s1.commit()
        with pytest.raises(ClaimConflict):
            claim(s2, people["cs2"], case_id, cfg)
        s2.rollback()
    finally:
        s1.close()
        s2.close()
    with banked.db.session() as s:
        assert s.get(Case, case_id).claimed_by == people["cs"].user_id


def test_concurrent_claims_have_exactly_one_winner(banked, people, cfg, case_id):
    actors = [people["cs"], people["cs2"], people["cs3"], people["lead"]]
    barrier = threading.Barrier(len(actors))
    results = []

    def attempt(actor):
        barrier.wait()
        try:
            with banked.db.session() as s:
                claim(s, actor, case_id, cfg)
            results.append(actor.user_id)
        except ClaimConflict:
            results.append(None)

    threads = [threading.Thread(target=attempt, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    with banked.db.session() as s:
        assert s.get(Case, case_id).claimed_by == winners[0]


def test_an_expired_claim_can_be_taken_over(banked, people, cfg, case_id):
    t0 = dt.datetime.utcnow()
    with banked.db.session() as s:
        claim(s, people["cs"], case_id, cfg, now=t0)
    with banked.db.session() as s, pytest.raises(ClaimConflict):
        claim(s, people["cs2"], case_id, cfg, now=t0 + cfg.claim_ttl - dt.timedelta(seconds=1))
    with banked.db.session() as s:
        claim(s, people["cs2"], case_id, cfg, now=t0 + cfg.claim_ttl)
        assert s.get(Case, case_id).claimed_by == people["cs2"].user_id


def test_release_only_by_the_claimant(banked, people, cfg, case_id):
    with banked.db.session() as s:
        claim(s, people["cs"], case_id, cfg)
    with banked.db.session() as s, pytest.raises(NotClaimed):
        release(s, people["cs2"], case_id)
    with banked.db.session() as s:
        release(s, people["cs"], case_id)
    with banked.db.session() as s:
        claim(s, people["cs2"], case_id, cfg)


def test_next_case_serves_by_priority_and_skips_claimed(banked, people, cfg):
    upload(banked, 201, "acct-block")  # hash-block: lower priority than review
    upload(banked, 101, "acct-review")
    with banked.db.session() as s:
        first = next_case(s, people["cs"], cfg)
        assert first.source == "hash_review"
    with banked.db.session() as s:
        second = next_case(s, people["cs2"], cfg)
        assert second.source == "hash_block"
    with banked.db.session() as s:
        assert next_case(s, people["cs3"], cfg) is None
        # the claimant renews its own claim
        assert next_case(s, people["cs"], cfg).id == first.id


def test_child_safety_cases_are_invisible_to_plain_moderators_and_admins(banked, people, cfg,
                                                                         case_id):
    with banked.db.session() as s:
        assert list_cases(s, people["mod"], cfg) == []
        assert next_case(s, people["mod"], cfg) is None
        with pytest.raises(PermissionDenied):
            claim(s, people["mod"], case_id, cfg)
        with pytest.raises(PermissionDenied):
            list_cases(s, people["admin"], cfg)
        assert [c.id for c in list_cases(s, people["cs"], cfg)] == [case_id]


def test_lead_statistics_and_breach_warnings(banked, people, cfg):
    upload(banked, 101, "acct-a")
    upload(banked, 201, "acct-b")
    with banked.db.session() as s:
        case = s.scalar(select(Case).where(Case.source == "hash_review"))
        created = case.created_at
        claim(s, people["cs"], case.id, cfg)
    later = created + dt.timedelta(hours=23)  # hash-review: 24 h target, warned from 19.2 h
    with banked.db.session() as s:
        stats = {q.queue: q for q in queue_stats(s, people["lead"], cfg, now=later)}
        assert stats["hash-review"].backlog == 1 and stats["hash-review"].warning == 1
        assert stats["hash-review"].breached == 0
        assert stats["hash-block"].backlog == 1 and stats["hash-block"].warning == 0
        assert stats["hash-review"].oldest_age_seconds == pytest.approx(23 * 3600, abs=5)
        assert stats["urgent"].backlog == 0
        warnings = sla_warnings(s, people["cs"], cfg, now=later + dt.timedelta(hours=2))
        assert [(w.queue, w.state.value) for w in warnings] == [("hash-review", "breached")]
        assert warnings[0].seconds_left < 0
        stats = {q.queue: q for q in queue_stats(s, people["lead"], cfg,
                                                 now=later + dt.timedelta(hours=2))}
        assert stats["hash-review"].breached == 1
        for who in ("mod", "cs", "admin"):
            with pytest.raises(PermissionDenied):
                queue_stats(s, people[who], cfg)
