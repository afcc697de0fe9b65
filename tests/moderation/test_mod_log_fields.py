"""Which reviewer decisions become transparency-log leaves, and with which fields (pure)."""

from __future__ import annotations

from rempart.moderation.log_fields import decision_fields, decision_leaves
from rempart.transparency.leaves import VOCABULARY


def test_enforcement_decisions_are_named_by_their_most_severe_action():
    f = decision_fields("hash_review", ["bank_item", "remove_item", "ban_account"], True)
    assert f["decision"] == "account_terminated" and f["kind"] == "moderation_decision"
    assert f["target"] == "account"
    assert f["source_type"] == "own_initiative_hash_match" and f["automated_detection"] == "yes"
    assert decision_fields("trusted_flagger", ["remove_item"], True)["source_type"] == "trusted_flagger"
    assert decision_fields("public_report", ["ban_space"], True)["decision"] == "content_disabled"
    assert decision_fields("public_report", ["ban_space"], True)["target"] == "space"
    assert decision_fields("trusted_flagger", ["remove_item"], True)["target"] == "content"
    for name, value in f.items():
        assert value in VOCABULARY[name], name


def test_no_leaf_without_enforcement_but_reversals_always():
    assert decision_fields("hash_review", ["dismiss"], False) is None
    assert decision_fields("hash_review", ["preservation_hold", "refer_ncmec"], True) is None
    assert decision_fields("hash_block", ["overturn_block"], False)["decision"] == "reinstated"
    r = decision_fields("hash_review", ["remove_item"], True, reversal=True, appeal=True)
    assert (r["kind"], r["decision"]) == ("appeal_decision", "reinstated")


def _plan(*args, **kw):
    return [(scope, f["target"], f["decision"]) for scope, f in decision_leaves(*args, **kw)]


def test_targets_come_from_the_actions_one_leaf_per_space_or_account():
    assert _plan("public_report", ["ban_space"], True) == [("once", "space", "content_disabled")]
    assert _plan("hash_review", ["remove_item", "ban_account", "ban_space", "bank_item"], True) == [
        ("once", "space", "content_disabled"), ("once", "account", "account_terminated"),
        ("per_item", "content", "content_removed")]
    assert _plan("hash_review", ["restrict_account", "ban_account"], True) == [
        ("once", "account", "account_terminated")]  # the stronger account action only
    assert _plan("hash_review", ["restrict_account"], True) == [("once", "account", "account_suspended")]
    assert _plan("hash_review", ["bank_item"], True) == [("per_item", "content", "content_removed")]
    assert _plan("hash_block", ["overturn_block"], False) == [("per_item", "content", "reinstated")]
    assert _plan("hash_review", ["refer_ncmec", "preservation_hold"], True) == []
    assert _plan("hash_review", ["ban_space"], False) == []  # no violation: nothing enforced
    f = decision_fields("public_report", ["ban_space", "ban_account"], True)
    assert (f["target"], f["decision"]) == ("space", "content_disabled")  # the most severe effect
    for _, fields in decision_leaves("trusted_flagger", ["ban_space", "ban_account", "remove_item"], True):
        for name, value in fields.items():
            assert value in VOCABULARY[name], name


def test_a_reversal_reinstates_every_target_it_restricted():
    assert _plan("hash_review", ["ban_space", "remove_item"], True, reversal=True, appeal=True) == [
        ("once", "space", "reinstated"), ("per_item", "content", "reinstated")]
    assert {f["kind"] for _, f in decision_leaves("hash_review", ["ban_account"], True, reversal=True,
                                                  appeal=True)} == {"appeal_decision"}


def test_confirming_an_automatic_block_is_not_counted_twice():
    from rempart.moderation.log_fields import decision_leaves

    # the upload was blocked (one leaf already); the reviewer confirms and banks it
    assert decision_leaves("hash_block", ["bank_item", "remove_item"], True) == []
    # ...but an account ban in the same decision is a new enforcement
    leaves = decision_leaves("hash_block", ["remove_item", "ban_account"], True)
    assert [f["target"] for _, f in leaves] == ["account"]
    # and overturning the confirmation on appeal reinstates the content
    back = decision_leaves("hash_block", ["remove_item"], True, reversal=True, appeal=True)
    assert [(f["target"], f["decision"]) for _, f in back] == [("content", "reinstated")]
    # a review-list match removed by a reviewer is a new enforcement
    assert [f["decision"] for _, f in decision_leaves("hash_review", ["remove_item"], True)] \
        == ["content_removed"]
