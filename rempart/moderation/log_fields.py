"""What a reviewer's decision looks like in the public transparency log (pure).

One leaf per content item of the case, for every *enforcement* decision (a violation with a
restrictive action) and every reversal (an overturned automatic block, an appeal overturned).
Dismissals without enforcement and non-restrictive steps alone (a hold, a referral) are not
enforcement decisions and get no leaf. Values are ``rempart.transparency.leaves`` vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable

from rempart.moderation.vocab import ActionKind, CaseSource

#: the most severe restrictive action names the decision (first match wins)
_SEVERITY: tuple[tuple[ActionKind, str], ...] = (
    (ActionKind.BAN_ACCOUNT, "account_terminated"),
    (ActionKind.RESTRICT_ACCOUNT, "account_suspended"),
    (ActionKind.REMOVE_ITEM, "content_removed"),
    (ActionKind.BAN_SPACE, "content_disabled"),
    (ActionKind.BANK_ITEM, "content_removed"),
)

_SOURCE_TYPES = {
    CaseSource.HASH_REVIEW: "own_initiative_hash_match",
    CaseSource.HASH_BLOCK: "own_initiative_hash_match",
    CaseSource.TRUSTED_FLAGGER: "trusted_flagger",
    CaseSource.PUBLIC_REPORT: "article_16_notice",
    CaseSource.LAW_ENFORCEMENT: "authority_order",
}

CSAM_FIELDS = {"ground": "illegal_content", "category": "protection_of_minors",
               "keyword": "child_sexual_abuse_material"}


def decision_fields(source: str, actions: Iterable[str], violation: bool, *,
                    reversal: bool = False, appeal: bool = False) -> dict[str, str] | None:
    """The leaf fields (without day, region, content type and commitment) of one decision, or
    None when the decision is not an enforcement decision or a reversal."""
    kinds = {ActionKind(a) for a in actions}
    if reversal or ActionKind.OVERTURN_BLOCK in kinds:
        decision = "reinstated"
    elif violation:
        decision = next((name for kind, name in _SEVERITY if kind in kinds), None)
        if decision is None:
            return None
    else:
        return None
    try:
        src = CaseSource(source)
    except ValueError:
        src = None
    hash_match = src in (CaseSource.HASH_REVIEW, CaseSource.HASH_BLOCK)
    return {
        "kind": "appeal_decision" if appeal or src is CaseSource.APPEAL else "moderation_decision",
        "decision": decision,
        **CSAM_FIELDS,
        "source_type": _SOURCE_TYPES.get(src, "own_initiative_other"),
        "automated_detection": "yes" if hash_match else "no",
        "automated_decision": "not_automated",
    }
