"""Targets and time to action of reviewers' leaves, end to end: a space ban is one ``target
space`` leaf, bucketed by the time from the flag to the final decision, counted as a banned
space in the day's report and page, and verified."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from rempart.moderation import ActionKind, ActionRequest, claim, decide, decide_appeal, file_appeal, second_review
from rempart.moderation.models import Case, CaseItem
from rempart.transparency import parse_decision_leaf, verify_published_report
from rempart.transparency.db import log_store
from rempart.transparency.db.publish import publish
from rempart.authz import system_actor
from tests.moderation.mod_helpers import upload

DAY = dt.date(2026, 11, 20)


def _decisions(rt) -> list:
    with rt.db.session() as s:
        return [parse_decision_leaf(e) for e in log_store.read_entries(s, 0, log_store.tree_size(s))
                if e.startswith(b"rempart/decision/")]


def _ban_space(rt, people, cfg, *, after: dt.timedelta) -> tuple[int, int]:
    """acct-a's two review items (one case, grouped by account): cs bans the space and the
    account and removes the items; cs2 agrees ``after`` the last item was flagged (the decision
    takes effect then). Returns (decision, case)."""
    upload(rt, 101, "acct-a", space="group-secret-9")
    upload(rt, 102, "acct-a", space="group-secret-9")
    with rt.db.session() as s:
        case = s.scalars(select(Case).where(Case.source == "hash_review")).one()
        flagged = max(s.scalars(select(CaseItem.added_at).where(CaseItem.case_id == case.id)).all())
        assert len(case.items) == 2
        claim(s, people["cs"], case.id, cfg, now=flagged)
        did = decide(s, people["cs"], case.id, config=cfg, policy="csam", facts="confirmed",
                     now=flagged + dt.timedelta(minutes=5),
                     actions=[ActionRequest(ActionKind.BAN_SPACE), ActionRequest(ActionKind.BAN_ACCOUNT),
                              ActionRequest(ActionKind.REMOVE_ITEM)]).id
        case_id = case.id
    with rt.db.session() as s:
        claim(s, people["cs2"], case_id, cfg, now=flagged + after - dt.timedelta(minutes=1))
        second_review(s, people["cs2"], did, agrees=True, note="", config=cfg, now=flagged + after)
    return did, case_id


def test_a_space_ban_is_one_space_leaf_with_its_time_to_action(banked, people, cfg):
    _ban_space(banked, people, cfg, after=dt.timedelta(hours=3))
    got = [(d.target, d.decision, d.time_to_action, d.kind) for d in _decisions(banked)]
    assert got == [("space", "content_disabled", "1h_to_24h", "moderation_decision"),
                   ("account", "account_terminated", "1h_to_24h", "moderation_decision"),
                   ("content", "content_removed", "1h_to_24h", "moderation_decision"),
                   ("content", "content_removed", "1h_to_24h", "moderation_decision")]  # one per item


def test_an_appeal_reversal_mirrors_the_targets_timed_from_the_appeal(banked, people, cfg):
    did, _ = _ban_space(banked, people, cfg, after=dt.timedelta(minutes=30))
    assert {d.time_to_action for d in _decisions(banked)} == {"under_1h"}
    with banked.db.session() as s:
        appeal = file_appeal(s, system_actor("platform"), did, appellant="acct-a", statement="mistake",
                             config=cfg)
        appeal_id, appeal_case = appeal.id, appeal.case_id
        filed = s.get(Case, appeal_case).created_at
    with banked.db.session() as s:
        claim(s, people["cs3"], appeal_case, cfg, now=filed + dt.timedelta(days=2, minutes=-1))
        decide_appeal(s, people["cs3"], appeal_id, overturn=True, note="benign", config=cfg,
                      now=filed + dt.timedelta(days=2))
    after = [(d.target, d.decision, d.time_to_action, d.kind) for d in _decisions(banked)][4:]
    assert after == [("space", "reinstated", "1d_to_7d", "appeal_decision"),
                     ("account", "reinstated", "1d_to_7d", "appeal_decision"),
                     ("content", "reinstated", "1d_to_7d", "appeal_decision"),
                     ("content", "reinstated", "1d_to_7d", "appeal_decision")]


def test_banned_spaces_and_median_reach_the_verified_report_and_page(banked, people, cfg, tmp_path):
    banked.transparency.clock = lambda: dt.datetime(DAY.year, DAY.month, DAY.day, 12)
    assert upload(banked, 201, "acct-b").verdict == "block"  # an automatic block: immediate
    _ban_space(banked, people, cfg, after=dt.timedelta(days=2))
    banked.transparency.clock = lambda: dt.datetime(DAY.year, DAY.month, DAY.day + 1, 12)
    with banked.db.session() as s:
        banked.transparency.close_day(s, DAY)
        publish(s, banked.transparency, tmp_path / "pub")
    pub = tmp_path / "pub"
    doc = json.loads((pub / "reports" / f"{DAY}.json").read_text())
    assert doc["banned"] == {"content": 3, "account": 1, "space": 1}
    assert doc["banned_by_source_type"]["own_initiative_hash_match"] == {"content": 3, "account": 1, "space": 1}
    assert doc["by_target"] == {"account": 1, "content": 3, "space": 1}
    # 1 immediate, 4 of 1d_to_7d: the lower median of five is the third fastest
    assert doc["time_to_action"] == {"median": "1d_to_7d", "distribution": {
        "immediate": 1, "under_1h": 0, "1h_to_24h": 0, "1d_to_7d": 4, "over_7d": 0}}
    page = (pub / "reports" / f"{DAY}.html").read_text()
    assert "<strong>1</strong> space(s)" in page and "Banned spaces per day" in page
    assert f"<title>{DAY}: 1</title>" in page  # the spaces chart's bar for the day
    assert "group-secret-9" not in page and "acct-a" not in page
    index = json.loads((pub / "reports" / "index.json").read_text())["reports"]
    assert index[-1]["banned_spaces"] == 1 and index[-1]["banned_items"] == 3
    sor = json.loads((pub / "reports" / f"{DAY}.sor.json").read_text())["statements"]
    assert [s.get("decision_provision") for s in sor].count("DECISION_PROVISION_PARTIAL_TERMINATION") == 1
    vkey = (pub / "vkey").read_text().strip()
    assert verify_published_report(pub, DAY.isoformat(), vkey).ok


def test_a_decision_is_logged_once_even_if_its_hook_runs_again(banked, people, cfg):
    from rempart.moderation.models import Decision
    from rempart.moderation.to_log import log_decision_hook

    did, case_id = _ban_space(banked, people, cfg, after=dt.timedelta(hours=3))
    hook = log_decision_hook(banked.transparency.record_decision)
    with banked.db.session() as s:
        size = log_store.tree_size(s)
        hook(s, s.get(Case, case_id), s.get(Decision, did), "final")  # a retry of the hook
        assert log_store.tree_size(s) == size
    assert len(_decisions(banked)) == 4
