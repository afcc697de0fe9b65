"""Decisions, second reviews, escalations, appeals and claims, raced against the real server:
exactly one of N identical submissions wins, the others get 409, and everything the decision
does (actions, webhooks, bank entries, log leaves) happens once."""

from __future__ import annotations

from sqlalchemy import func, select

from rempart.banks.models import BankEntry
from rempart.moderation import decisions
from rempart.moderation.models import Action, Appeal, Case, Decision, OutboxMessage
from rempart.transparency.db.models import LogOpening
from tests.concurrency.race import Racers, client, console, race, statuses, widen

N = 5
FACTS = "Matched a review list at distance 0; confirmed from metadata."


def count(runtime, model, *where) -> int:
    with runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _claim(server, user, case_id):
    c = console(server, user)
    racers = Racers(server, c, N)
    r = racers.post(0, f"/console/cases/{case_id}/claim")
    assert r.status_code == 303, r.text
    return racers


def _decide_form(*actions: str) -> dict:
    return {"policy": "csam", "actions": list(actions), "facts": FACTS}


def test_one_of_five_identical_decisions_wins(runtime, server, users, endpoint, review_case):
    racers = _claim(server, users["cs"], review_case)
    got = race(N, lambda i: racers.post(i, f"/console/cases/{review_case}/decide",
                                        _decide_form("remove_item")))
    assert statuses(got) == [303] + [409] * (N - 1)
    assert all("already decided" in r.text for r in got if r.status_code == 409)
    assert count(runtime, Decision, Decision.case_id == review_case) == 1
    assert count(runtime, Action, Action.case_id == review_case) == 2  # one per item
    assert count(runtime, OutboxMessage) == 2  # one webhook per action
    assert count(runtime, LogOpening, LogOpening.ref_kind == "decision") == 2  # one per item
    racers.close()


def _pending(runtime, server, users, review_case) -> int:
    """A decision awaiting a second review (banking needs one), and the case claimed by cs2."""
    racers = _claim(server, users["cs"], review_case)
    r = racers.post(0, f"/console/cases/{review_case}/decide",
                    _decide_form("remove_item", "bank_item"))
    assert r.status_code == 303, r.text
    racers.close()
    with runtime.db.session() as s:
        return s.scalar(select(Decision.id).where(Decision.case_id == review_case))


def test_one_of_five_second_reviews_wins(runtime, server, users, endpoint, review_case):
    decision = _pending(runtime, server, users, review_case)
    racers = _claim(server, users["cs2"], review_case)
    got = race(N, lambda i: racers.post(i, f"/console/decisions/{decision}/second",
                                        {"agrees": "yes", "note": "agreed"}))
    assert statuses(got) == [303] + [409] * (N - 1)
    with runtime.db.session() as s:
        assert s.get(Decision, decision).status == "final"
    assert count(runtime, Action, Action.case_id == review_case) == 4  # 2 kinds x 2 items
    assert count(runtime, OutboxMessage) == 2
    assert count(runtime, LogOpening, LogOpening.ref_kind == "decision") == 2
    banked_now = count(runtime, BankEntry)
    assert banked_now > 0
    racers.close()


def test_one_of_five_escalation_rulings_wins(runtime, server, users, endpoint, review_case,
                                             monkeypatch):
    decision = _pending(runtime, server, users, review_case)
    widen(monkeypatch, decisions, "record")  # between the ruling's checks and its commit
    second = _claim(server, users["cs2"], review_case)
    r = second.post(0, f"/console/decisions/{decision}/second", {"agrees": "no", "note": "no"})
    assert r.status_code == 303, r.text
    racers = _claim(server, users["lead"], review_case)
    got = race(N, lambda i: racers.post(i, f"/console/decisions/{decision}/resolve",
                                        {"uphold": "yes", "note": "upheld"}))
    assert statuses(got) == [303] + [409] * (N - 1)
    assert count(runtime, Action, Action.case_id == review_case) == 4
    assert count(runtime, OutboxMessage) == 2
    assert count(runtime, LogOpening, LogOpening.ref_kind == "decision") == 2
    second.close()
    racers.close()


def test_an_appeal_is_filed_once_and_decided_once(runtime, server, users, api_tokens, endpoint,
                                                  review_case):
    racers = _claim(server, users["cs"], review_case)
    assert racers.post(0, f"/console/cases/{review_case}/decide",
                       _decide_form("remove_item")).status_code == 303
    with runtime.db.session() as s:
        decision = s.scalar(select(Decision.id).where(Decision.case_id == review_case))
    platform = [client(server) for _ in range(N)]
    body = {"decision": decision, "appellant": "acct-a", "statement": "It was my own picture."}
    got = race(N, lambda i: platform[i].post(
        "/v1/appeals", json=body, headers={"Authorization": f"Bearer {api_tokens['platform']}"}))
    assert statuses(got) == [201] + [409] * (N - 1)
    assert count(runtime, Appeal) == 1
    assert count(runtime, Case, Case.source == "appeal") == 1

    with runtime.db.session() as s:
        appeal = s.scalar(select(Appeal))
        appeal_id, appeal_case = appeal.id, appeal.case_id
    lead = _claim(server, users["lead"], appeal_case)
    got = race(N, lambda i: lead.post(i, f"/console/appeals/{appeal_id}/decide",
                                      {"overturn": "yes", "note": "The picture is benign."}))
    assert statuses(got) == [303] + [409] * (N - 1)
    assert count(runtime, Action, Action.status == "reversed") == 2
    assert count(runtime, OutboxMessage) == 4  # two removals, two restorations
    assert count(runtime, LogOpening) == 4  # two removals, two reinstatements
    for c in [racers, lead]:
        c.close()
    for c in platform:
        c.close()


def test_one_of_three_reviewers_claims_a_case(runtime, server, users, review_case):
    people = ["cs", "cs2", "cs3"]
    racers = [Racers(server, console(server, users[p]), 1) for p in people]
    got = race(len(people), lambda i: racers[i].post(0, f"/console/cases/{review_case}/claim"))
    assert statuses(got) == [303, 409, 409]
    with runtime.db.session() as s:
        winner = s.get(Case, review_case).claimed_by
    assert winner in {users[p].actor.user_id for p in people}
    for r in racers:
        r.close()
