"""Statements of reasons: which Transparency Database restriction fields follow from ``target``."""

from __future__ import annotations

import pytest

from rempart.transparency import Decision, statement_of_reasons

BASE = dict(kind="moderation_decision", day="2026-11-29", decision="content_removed", target="content",
            ground="illegal_content", category="protection_of_minors", keyword="child_sexual_abuse_material",
            content_type="image", source_type="trusted_flagger", automated_detection="no",
            automated_decision="not_automated", time_to_action="under_1h", region="EU", commitment=bytes(32))
RESTRICTIONS = ("decision_visibility", "decision_visibility_other", "decision_account", "decision_provision",
                "decision_monetary")


@pytest.mark.parametrize(
    ("target", "decision", "want"),
    [
        ("content", "upload_blocked", {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]}),
        ("content", "content_removed", {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]}),
        ("content", "content_disabled", {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_DISABLED"]}),
        ("content", "content_restricted", {"decision_visibility": ["DECISION_VISIBILITY_OTHER"],
                                           "decision_visibility_other": "Access to the content was restricted."}),
        ("account", "account_suspended", {"decision_account": "DECISION_ACCOUNT_SUSPENDED"}),
        ("account", "account_terminated", {"decision_account": "DECISION_ACCOUNT_TERMINATED"}),
        ("space", "content_disabled", {"decision_provision": "DECISION_PROVISION_PARTIAL_TERMINATION",
                                       "decision_visibility": ["DECISION_VISIBILITY_CONTENT_DISABLED"]}),
        ("space", "content_restricted", {
            "decision_provision": "DECISION_PROVISION_PARTIAL_SUSPENSION",
            "decision_visibility": ["DECISION_VISIBILITY_OTHER"],
            "decision_visibility_other": "Access to the group or channel and its content was restricted."}),
    ],
)
def test_restriction_fields_follow_the_target(target: str, decision: str, want: dict) -> None:
    sor = statement_of_reasons(Decision(**{**BASE, "target": target, "decision": decision}), 7, "example.org/log")
    assert {k: sor[k] for k in RESTRICTIONS if k in sor} == want
    assert sor["puid"] == "example-org-log-7"  # the database takes letters, digits, - and _
    assert ("group or channel" in sor["decision_facts"]) == (target == "space")
    assert ("account" in sor["decision_facts"]) == (target == "account")
    assert "time_to_action" not in sor and "under_1h" not in str(sor)


@pytest.mark.parametrize("target", ["content", "account", "space"])
@pytest.mark.parametrize("decision", ["no_action", "reinstated"])
def test_nothing_restricted_no_statement(target: str, decision: str) -> None:
    assert statement_of_reasons(Decision(**{**BASE, "target": target, "decision": decision}), 1, "o") is None
