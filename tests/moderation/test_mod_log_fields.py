"""Which reviewer decisions become transparency-log leaves, and with which fields (pure)."""

from __future__ import annotations

from rempart.moderation.log_fields import decision_fields
from rempart.transparency.leaves import VOCABULARY


def test_enforcement_decisions_are_named_by_their_most_severe_action():
    f = decision_fields("hash_review", ["bank_item", "remove_item", "ban_account"], True)
    assert f["decision"] == "account_terminated" and f["kind"] == "moderation_decision"
    assert f["source_type"] == "own_initiative_hash_match" and f["automated_detection"] == "yes"
    assert decision_fields("trusted_flagger", ["remove_item"], True)["source_type"] == "trusted_flagger"
    assert decision_fields("public_report", ["ban_space"], True)["decision"] == "content_disabled"
    for name, value in f.items():
        assert value in VOCABULARY[name], name


def test_no_leaf_without_enforcement_but_reversals_always():
    assert decision_fields("hash_review", ["dismiss"], False) is None
    assert decision_fields("hash_review", ["preservation_hold", "refer_ncmec"], True) is None
    assert decision_fields("hash_block", ["overturn_block"], False)["decision"] == "reinstated"
    r = decision_fields("hash_review", ["remove_item"], True, reversal=True, appeal=True)
    assert (r["kind"], r["decision"]) == ("appeal_decision", "reinstated")
