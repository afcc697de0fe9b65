"""The Transparency Database's schema as rempart writes it down (``dsa_schema``): each rule
refuses what the database refuses, and the builder never produces a statement it would refuse."""

from __future__ import annotations

import itertools

import pytest

from rempart.errors import InvalidInput
from rempart.transparency import (
    Decision, StatementInput, build_statement, check_statement, statement_of_reasons,
    statement_problems,
)
from rempart.transparency.dsa_schema import (
    CATEGORIES, EEA_COUNTRIES, EU_COUNTRIES, KEYWORDS, KEYWORDS_BY_CATEGORY,
)
from rempart.transparency.leaves import DECISIONS_BY_TARGET, VOCABULARY

GOOD = {
    "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
    "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
    "illegal_content_legal_ground": "Directive 2011/93/EU, Article 5",
    "illegal_content_explanation": "Known material.",
    "category": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "category_specification": ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"],
    "content_type": ["CONTENT_TYPE_IMAGE"],
    "content_date": "2026-11-29", "application_date": "2026-11-29",
    "territorial_scope": ["DE", "FR"],
    "decision_facts": "Matched a list of known material.",
    "source_type": "SOURCE_VOLUNTARY", "automated_detection": "Yes",
    "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED", "puid": "rempart-case-1-remove_item",
}


def test_the_vocabulary_is_the_databases():
    assert len(CATEGORIES) == 16 and len(KEYWORDS) == 69  # Statement.php at 69e80a0
    assert len(EU_COUNTRIES) == 27 and len(EEA_COUNTRIES) == 30
    assert "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS" in KEYWORDS_BY_CATEGORY[
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"]
    placed = [k for ks in KEYWORDS_BY_CATEGORY.values() for k in ks]
    assert len(placed) == len(set(placed))  # each keyword under one category


def test_a_good_statement_passes():
    assert statement_problems(GOOD) == []
    check_statement(GOOD)


REFUSED = [
    ("an unknown attribute", {"account_id": "acct-1"}),
    ("a category retired in 2025", {"category": "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR"}),
    ("the grooming keyword misspelled",
     {"category_specification": ["KEYWORD_GROOMING_SEXUAL_ENTICEMENT_OF_MINORS"]}),
    ("a keyword of another category", {"category_specification": ["KEYWORD_PHISHING"]}),
    ("a PUID with a colon", {"puid": "item:7"}),
    ("a PUID with a slash and dots", {"puid": "rempart.local/log/7"}),
    ("an empty territorial scope", {"territorial_scope": []}),
    ("a country outside the EEA", {"territorial_scope": ["DE", "US"]}),
    ("no restriction at all", {"decision_visibility": None}),
    ("an unknown restriction", {"decision_account": "DECISION_ACCOUNT_BANNED"}),
    ("'other' visibility without its text", {"decision_visibility": ["DECISION_VISIBILITY_OTHER"]}),
    ("visibility text without 'other'", {"decision_visibility_other": "restricted"}),
    ("'other' content type without its text", {"content_type": ["CONTENT_TYPE_OTHER"]}),
    ("an illegal ground without the law", {"illegal_content_legal_ground": ""}),
    ("contractual fields on an illegal ground", {"incompatible_content_ground": "ToS 4.2"}),
    ("facts over 5000 characters", {"decision_facts": "x" * 5001}),
    ("a date before 2020 as application date", {"application_date": "2019-12-31"}),
    ("a date that is not YYYY-MM-DD", {"content_date": "29/11/2026"}),
    ("an account restriction ending before it applies", {"end_date_account_restriction": "2026-11-28"}),
    ("a notifier named on an own-initiative decision", {"source_identity": "an NGO"}),
    ("a missing PUID", {"puid": None}),
    ("automated detection as a boolean", {"automated_detection": True}),
]


@pytest.mark.parametrize(("why", "change"), REFUSED, ids=[r[0] for r in REFUSED])
def test_each_rule_refuses(why, change):
    bad = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    assert statement_problems(bad), why
    with pytest.raises(InvalidInput, match="Transparency Database schema"):
        check_statement(bad)


LEAF = dict(kind="moderation_decision", day="2026-11-29", ground="illegal_content",
            category="protection_of_minors", keyword="child_sexual_abuse_material",
            content_type="image", source_type="own_initiative_hash_match", automated_detection="yes",
            automated_decision="not_automated", time_to_action="under_1h", region="EU",
            commitment=bytes(32))
_MINORS = ("child_sexual_abuse_material", "grooming_sexual_enticement_of_minors",
           "age_specific_restrictions_minors", "unsafe_challenges")


def _leaves():
    for target, decisions in DECISIONS_BY_TARGET.items():
        for decision, ground, category, keyword, content_type, source, region in itertools.product(
                decisions, VOCABULARY["ground"], VOCABULARY["category"], VOCABULARY["keyword"],
                ("image", "other"), VOCABULARY["source_type"], ("EU", "GLOBAL", "NO")):
            if keyword in _MINORS and category != "protection_of_minors":
                continue  # rempart never writes a minors keyword under another category
            yield Decision(**{**LEAF, "target": target, "decision": decision, "ground": ground,
                              "category": category, "keyword": keyword, "content_type": content_type,
                              "source_type": source, "region": region})


def test_every_published_statement_a_leaf_can_give_passes_the_schema():
    n = 0
    for d in _leaves():
        sor = statement_of_reasons(d, 12, "rempart.local/log")
        if sor is not None:
            assert statement_problems(sor) == [], d
            n += 1
    assert n > 1000


def test_the_builder_refuses_what_the_database_would():
    base = dict(target="content", decision="content_removed", ground="illegal_content",
                category="STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
                keywords=("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",), legal_ground="law",
                explanation="why", content_types=("image",), source_type="trusted_flagger",
                automated_detection="no", automated_decision="not_automated", facts="facts",
                content_date="2026-11-29", application_date="2026-11-29", region="EU", puid="p-1")
    assert build_statement(StatementInput(**base))["source_type"] == "SOURCE_TRUSTED_FLAGGER"
    for change in ({"puid": "item:1"}, {"legal_ground": ""}, {"keywords": ("KEYWORD_NUDITY",)},
                   {"target": "account", "decision": "content_removed"}):
        with pytest.raises(InvalidInput):
            build_statement(StatementInput(**{**base, **change}))
    with pytest.raises(InvalidInput):
        build_statement(StatementInput(**{**base, "region": "US"}))
