"""Wellness: protective display defaults, explicit audited reveals, the exposure budget."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rempart.errors import InvalidInput, NotFound, PermissionDenied
from rempart.moderation import (
    ActionKind, ActionRequest, ExposureLimitReached, NotClaimed, claim, decide,
    display_settings, get_prefs, my_exposure, next_case, release, reveal, set_prefs,
    team_exposure,
)
from rempart.moderation.models import Case
from tests.moderation.mod_helpers import set_config, upload


@pytest.fixture
def case(banked):
    upload(banked, 101, "acct-a")
    upload(banked, 102, "acct-a")
    with banked.db.session() as s:
        c = s.scalar(select(Case))
        return c.id, [i.item_id for i in c.items]


def test_media_is_blurred_and_greyscale_until_revealed(banked, people, cfg, case):
    case_id, items = case
    with banked.db.session() as s:
        claim(s, people["cs"], case_id, cfg)
        shown = display_settings(s, people["cs"], case_id, items[0])
        assert shown.blur > 0 and shown.greyscale and not shown.revealed
        assert not shown.autoplay and shown.muted
        reveal(s, people["cs"], case_id, items[0], cfg)
    with banked.db.session() as s:
        shown = display_settings(s, people["cs"], case_id, items[0])
        assert shown.revealed and shown.blur == 0 and not shown.greyscale
        other = display_settings(s, people["cs"], case_id, items[1])
        assert not other.revealed  # a reveal is per item


def test_only_child_safety_moderators_reveal_and_only_under_a_claim(banked, people, cfg, case):
    case_id, items = case
    with banked.db.session() as s:
        with pytest.raises(NotClaimed):
            reveal(s, people["cs"], case_id, items[0], cfg)
        claim(s, people["lead"], case_id, cfg)
        for who in ("lead", "mod", "admin"):
            with pytest.raises(PermissionDenied):
                reveal(s, people[who], case_id, items[0], cfg)
        release(s, people["lead"], case_id)
        claim(s, people["cs"], case_id, cfg)
        with pytest.raises(NotFound):
            reveal(s, people["cs"], case_id, 999_999, cfg)


def test_past_the_budget_no_media_case_is_served_and_a_break_is_suggested(banked, people, case):
    cfg = set_config(banked, daily_reveal_limit=2)
    case_id, items = case
    with banked.db.session() as s:
        claim(s, people["cs"], case_id, cfg)
        assert reveal(s, people["cs"], case_id, items[0], cfg).remaining == 1
        after = reveal(s, people["cs"], case_id, items[1], cfg)
        assert after.exhausted and after.suggest_break
        with pytest.raises(ExposureLimitReached):
            reveal(s, people["cs"], case_id, items[0], cfg)
        # deciding from metadata alone still works on the claimed case
        decide(s, people["cs"], case_id, actions=[ActionRequest(ActionKind.REMOVE_ITEM)],
               policy="csam", facts="Exact match of a listed item.", config=cfg)
    upload(banked, 101, "acct-b")
    with banked.db.session() as s:
        assert next_case(s, people["cs"], cfg) is None
        new_case = s.scalar(select(Case.id).where(Case.account == "acct-b"))
        with pytest.raises(ExposureLimitReached):
            claim(s, people["cs"], new_case, cfg)
        assert next_case(s, people["cs2"], cfg).id == new_case  # others are still served
        assert my_exposure(s, people["cs"], cfg).to_json()["exhausted"]
        team = team_exposure(s, people["lead"], cfg)
        assert team[people["cs"].user_id].reveals_today == 2
        with pytest.raises(PermissionDenied):
            team_exposure(s, people["cs"], cfg)


def test_preferences_are_personal_and_never_unblurred(runtime, people):
    with runtime.db.session() as s:
        assert get_prefs(s, people["cs"]).greyscale
        set_prefs(s, people["cs"], blur=40, greyscale=False, thumbnails=False)
        with pytest.raises(InvalidInput):
            set_prefs(s, people["cs"], blur=0)
    with runtime.db.session() as s:
        p = get_prefs(s, people["cs"])
        assert (p.blur, p.greyscale, p.thumbnails) == (40, False, False)
        assert get_prefs(s, people["cs2"]).blur == 24
