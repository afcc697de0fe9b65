"""What a reviewer's decision looks like in the public transparency log (pure).

Every *enforcement* decision (a violation with a restrictive action) and every reversal (an
overturned automatic block, an appeal overturned) gets leaves; dismissals without enforcement
and non-restrictive steps alone (a hold, a referral) are not enforcement decisions and get none.
Values are ``rempart.transparency.leaves`` vocabulary.

Which leaves (``decision_leaves``), in this order:

- ``ban_space``            one leaf, ``target space``, ``decision content_disabled``
- ``ban_account``          one leaf, ``target account``, ``decision account_terminated``
  (else ``restrict_account``: ``account_suspended``)
- ``remove_item``/``bank_item``  one leaf per content item, ``target content``, ``content_removed``
- ``overturn_block``       one leaf per content item, ``target content``, ``reinstated``

A space or account leaf is written once per decision, not once per item, so counting
``target space`` leaves counts banned spaces; it commits to the case's first logged item (the
evidence). A reversal (appeal overturned) writes the same leaves with ``decision reinstated``.
``decision_fields`` is the first of them: the decision's most severe effect.

``time_to_action`` is bucketed (``rempart.transparency.bucket_time_to_action``) by the hook
(``to_log``) from when the platform learned of the content to when the decision took effect.
"""

from __future__ import annotations

from collections.abc import Iterable

from rempart.moderation.vocab import ActionKind, CaseSource

#: actions on a space or an account, broadest first: (action, target, leaf decision); one leaf
#: per target kind, from the first matching action
_TARGET_ACTIONS: tuple[tuple[ActionKind, str, str], ...] = (
    (ActionKind.BAN_SPACE, "space", "content_disabled"),
    (ActionKind.BAN_ACCOUNT, "account", "account_terminated"),
    (ActionKind.RESTRICT_ACCOUNT, "account", "account_suspended"),
)
#: actions on the items themselves
_ITEM_ACTIONS = frozenset({ActionKind.REMOVE_ITEM, ActionKind.BANK_ITEM})

_SOURCE_TYPES = {
    CaseSource.HASH_REVIEW: "own_initiative_hash_match",
    CaseSource.HASH_BLOCK: "own_initiative_hash_match",
    CaseSource.TRUSTED_FLAGGER: "trusted_flagger",
    CaseSource.PUBLIC_REPORT: "article_16_notice",
    CaseSource.LAW_ENFORCEMENT: "authority_order",
}

CSAM_FIELDS = {"ground": "illegal_content", "category": "protection_of_minors",
               "keyword": "child_sexual_abuse_material"}

#: a leaf written once per decision, or once per content item of the case
ONCE, PER_ITEM = "once", "per_item"


def decision_leaves(source: str, actions: Iterable[str], violation: bool, *, reversal: bool = False,
                    appeal: bool = False) -> list[tuple[str, dict[str, str]]]:
    """The leaves of one decision: (``ONCE`` or ``PER_ITEM``, leaf fields without day, region,
    content type, time to action and commitment), in the order of the module docstring; empty
    when the decision is not an enforcement decision or a reversal."""
    kinds = {ActionKind(a) for a in actions}
    plan: list[tuple[str, str, str]] = []  # (scope, target, decision)
    if ActionKind.OVERTURN_BLOCK in kinds:
        plan.append((PER_ITEM, "content", "reinstated"))
    elif violation:
        seen: set[str] = set()
        for kind, target, decision in _TARGET_ACTIONS:
            if kind in kinds and target not in seen:
                seen.add(target)
                plan.append((ONCE, target, decision))
        # Confirming an automatic block removes nothing new: the block already has its leaf
        # (a reversal of the confirmation does reinstate the content, below).
        confirms_block = source == CaseSource.HASH_BLOCK.value and not reversal
        if kinds & _ITEM_ACTIONS and not confirms_block:
            plan.append((PER_ITEM, "content", "content_removed"))
    if reversal:
        plan = [(scope, target, "reinstated") for scope, target, _ in plan]
    common = _common(source, appeal)
    return [(scope, {**common, "decision": decision, "target": target}) for scope, target, decision in plan]


def decision_fields(source: str, actions: Iterable[str], violation: bool, *,
                    reversal: bool = False, appeal: bool = False) -> dict[str, str] | None:
    """The fields of the decision's first leaf (its most severe effect), or None when the
    decision is not an enforcement decision or a reversal."""
    plan = decision_leaves(source, actions, violation, reversal=reversal, appeal=appeal)
    return plan[0][1] if plan else None


def _common(source: str, appeal: bool) -> dict[str, str]:
    try:
        src = CaseSource(source)
    except ValueError:
        src = None
    hash_match = src in (CaseSource.HASH_REVIEW, CaseSource.HASH_BLOCK)
    return {
        "kind": "appeal_decision" if appeal or src is CaseSource.APPEAL else "moderation_decision",
        **CSAM_FIELDS,
        "source_type": _SOURCE_TYPES.get(src, "own_initiative_other"),
        "automated_detection": "yes" if hash_match else "no",
        "automated_decision": "not_automated",
    }
