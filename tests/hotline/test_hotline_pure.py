"""The hotline's pure rules: message links, reading notices, outcomes, statistics, who is
served first, and which site each role signs into."""

from __future__ import annotations

import datetime as dt

import pytest

from rempart.authz import AUDIENCE, PERSON_ROLES, Audience, Role, may_sign_into
from rempart.errors import InvalidInput
from rempart.hotline.errors import InvalidNotice
from rempart.hotline.links import LinkFormat
from rempart.hotline.notices import read_batch, read_notice
from rempart.hotline.outcomes import outcome_of
from rempart.hotline.stats import org_stats
from rempart.hotline.vocab import OrgKind, Status, case_source
from rempart.moderation.vocab import CaseSource

LINKS = LinkFormat("https://chat.example/c/{space}/m/{message}")
CATS = frozenset({"csam", "spam"})


def test_message_links_parse_in_the_configured_format_only():
    assert LINKS.parse("https://chat.example/c/g1/m/42") == {"space": "g1", "message": "42"}
    for bad in ("https://evil.example/c/g1/m/42", "https://chat.example/c/g1/m/42?x=1",
                "https://chat.example/c//m/42", "https://chat.example/c/a/b/m/42"):
        with pytest.raises(InvalidInput):
            LINKS.parse(bad)
    for bad in ("https://x/{space}", "https://x/{message}/{message}", "ftp://x/{message}",
                "https://x/{user}/{message}"):
        with pytest.raises(InvalidInput):
            LinkFormat(bad)


def test_a_notice_is_read_the_same_whatever_its_order_and_its_digest_is_stable():
    raw = {"category": "csam", "explanation": " why ", "good_faith": True,
           "locations": [{"link": "https://chat.example/c/g1/m/42"}],
           "hashes": [{"type": "MD5"[0:0] + "md5", "value": "A" * 32}]}
    n = read_notice(raw, CATS, LINKS)
    assert n.locations[0].space == "g1" and n.locations[0].message == "42"
    assert n.hashes[0].value == "a" * 32 and n.explanation == "why"
    again = read_notice(dict(reversed(list(raw.items()))), CATS, LINKS)
    assert again.digest() == n.digest() and len(n.digest()) == 64


@pytest.mark.parametrize("body, field", [
    ({}, "notices"), ({"notices": []}, "notices"), ({"notices": [1]}, "notices[0]"),
    ({"notices": [{"category": "csam", "explanation": "x", "good_faith": True,
                   "locations": [{"link": "https://chat.example/c/g/m/1", "account": "a"}]}]},
     "notices[0].locations[0].link"),
    ({"notices": [{"category": "csam", "explanation": "x", "good_faith": True,
                   "locations": [{"message": "1"}]}]}, "notices[0].locations[0]"),
    ({"notices": [{"category": "csam", "explanation": "x", "good_faith": True,
                   "hashes": [{"type": "pdq", "value": "0" * 64}] * 2}]}, "notices[0].hashes"),
    ({"notices": [{"category": "csam", "explanation": "x", "good_faith": True,
                   "classification": "bad", "hashes": [{"type": "md5", "value": "0" * 32}]}]},
     "notices[0].classification"),
    ({"notices": [{"category": "csam", "explanation": "", "good_faith": True,
                   "hashes": [{"type": "md5", "value": "0" * 32}]}]}, "notices[0].explanation"),
])
def test_every_bad_notice_names_its_field(body, field):
    with pytest.raises(InvalidNotice) as err:
        read_batch(body, CATS, LINKS)
    assert err.value.field == field


def test_outcomes_follow_the_decisions_actions():
    assert outcome_of({"remove_item", "bank_item"}) == (Status.ACTIONED, True, True, False)
    assert outcome_of({"ban_account", "refer_ncmec"}) == (Status.ACTIONED, True, False, True)
    assert outcome_of({"refer_ncmec", "preservation_hold"}) == (Status.FORWARDED, False, False, True)
    assert outcome_of({"dismiss"}) == (Status.NO_ACTION, False, False, False)


def test_statistics_and_the_unfounded_flag():
    t = dt.datetime(2026, 1, 1)
    rows = [("actioned", t, t + dt.timedelta(hours=2)), ("actioned", t, t + dt.timedelta(hours=4)),
            ("received", t, None)] + [("no_action", t, t)] * 4
    st = org_stats(rows)
    assert (st.notices, st.decided, st.actioned, st.unfounded) == (7, 6, 2, 4)
    assert st.median_hours_to_action == 3.0 and st.share_actioned == pytest.approx(1 / 3)
    assert st.flagged
    assert not org_stats(rows[:3]).flagged and org_stats([]).share_actioned is None


def test_trusted_flaggers_are_served_first():
    assert case_source(OrgKind.TRUSTED_FLAGGER) is CaseSource.TRUSTED_FLAGGER
    assert case_source(OrgKind.HOTLINE) is CaseSource.TRUSTED_FLAGGER
    assert case_source(OrgKind.NGO) is CaseSource.ORG_NOTICE
    assert case_source(None) is CaseSource.PUBLIC_REPORT


def test_each_role_signs_into_exactly_one_site():
    assert set(AUDIENCE) == set(PERSON_ROLES)
    assert may_sign_into(Role.ANALYST, Audience.PORTAL)
    assert not may_sign_into(Role.ANALYST, Audience.CONSOLE)
    for role in (Role.MODERATOR, Role.CHILD_SAFETY_MODERATOR, Role.LEAD, Role.ADMIN):
        assert may_sign_into(role, Audience.CONSOLE) and not may_sign_into(role, Audience.PORTAL)
    assert not any(may_sign_into(Role.SYSTEM, a) for a in Audience)
