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

What each action does (``ACTION_EFFECTS``), where the case came from (``source_fields``) and what
the decision found (``classification``: ground, category, keyword) are the same words the
action's statement of reasons is built from (``rempart.moderation.policy``), so the published
statement of a leaf says what the stored one says.

``time_to_action`` is bucketed (``rempart.transparency.bucket_time_to_action``) by the hook
(``to_log``) from when the platform learned of the content to when the decision took effect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rempart.moderation.vocab import ActionKind, CaseSource
from rempart.transparency import HASH_LIST_CLASSIFICATION

#: what each restrictive action does, in the log's words: (target, decision); actions on a space
#: or an account broadest first. The other actions (dismiss, a hold, a referral, overturning a
#: block) restrict nothing of the user's: no leaf of their own, no statement of reasons.
ACTION_EFFECTS: dict[ActionKind, tuple[str, str]] = {
    ActionKind.BAN_SPACE: ("space", "content_disabled"),
    ActionKind.BAN_ACCOUNT: ("account", "account_terminated"),
    ActionKind.RESTRICT_ACCOUNT: ("account", "account_suspended"),
    ActionKind.REMOVE_ITEM: ("content", "content_removed"),
    ActionKind.BANK_ITEM: ("content", "content_removed"),
}
#: actions on a space or an account, broadest first: one leaf per target kind, from the first
_TARGET_ACTIONS = tuple((k, t, d) for k, (t, d) in ACTION_EFFECTS.items() if t != "content")
#: actions on the items themselves
_ITEM_ACTIONS = frozenset(k for k, (t, _) in ACTION_EFFECTS.items() if t == "content")

SOURCE_TYPES = {
    CaseSource.HASH_REVIEW: "own_initiative_hash_match",
    CaseSource.HASH_BLOCK: "own_initiative_hash_match",
    CaseSource.TRUSTED_FLAGGER: "trusted_flagger",
    CaseSource.PUBLIC_REPORT: "article_16_notice",
    CaseSource.ORG_NOTICE: "article_16_notice",
    CaseSource.LAW_ENFORCEMENT: "authority_order",
}

#: cases opened by a notice (DSA Art. 16 / 22): their decisions are ``notice_decision`` leaves
NOTICE_SOURCES = frozenset(s.value for s in (CaseSource.TRUSTED_FLAGGER, CaseSource.PUBLIC_REPORT,
                                             CaseSource.ORG_NOTICE))

#: what a decision found when nothing else says so: the hash lists' own classification (an
#: overturned automatic block is reinstated under the block's terms)
CSAM_FIELDS = HASH_LIST_CLASSIFICATION

#: a leaf written once per decision, or once per content item of the case
ONCE, PER_ITEM = "once", "per_item"


def decision_leaves(source: str, actions: Iterable[str], violation: bool, *, reversal: bool = False,
                    appeal: bool = False, classification: Mapping[str, str] = CSAM_FIELDS,
                    ) -> list[tuple[str, dict[str, str]]]:
    """The leaves of one decision: (``ONCE`` or ``PER_ITEM``, leaf fields without day, region,
    content type, time to action and commitment), in the order of the module docstring; empty
    when the decision is not an enforcement decision or a reversal. ``classification`` is the
    decision's ground, category and keyword (``rempart.transparency.dsa.leaf_classification``
    of its statement of reasons)."""
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
    if appeal or source == CaseSource.APPEAL.value:
        kind = "appeal_decision"
    elif source in NOTICE_SOURCES:
        kind = "notice_decision"
    else:
        kind = "moderation_decision"
    common = {"kind": kind, **{k: classification[k] for k in CSAM_FIELDS}, **source_fields(source)}
    return [(scope, {**common, "decision": decision, "target": target}) for scope, target, decision in plan]


def decision_fields(source: str, actions: Iterable[str], violation: bool, *,
                    reversal: bool = False, appeal: bool = False,
                    classification: Mapping[str, str] = CSAM_FIELDS) -> dict[str, str] | None:
    """The fields of the decision's first leaf (its most severe effect), or None when the
    decision is not an enforcement decision or a reversal."""
    plan = decision_leaves(source, actions, violation, reversal=reversal, appeal=appeal,
                           classification=classification)
    return plan[0][1] if plan else None


def content_type(kind: str | None) -> str:
    """The log's content type of a ledger item of ``kind`` (image, video, or None)."""
    return kind if kind in ("image", "video") else "other"


def source_fields(source: str) -> dict[str, str]:
    """``source_type``, ``automated_detection`` and ``automated_decision`` of a reviewer's
    decision on a case from ``source``: a machine found it when a hash list matched; a person
    always decides."""
    try:
        src = CaseSource(source)
    except ValueError:
        src = None
    hash_match = src in (CaseSource.HASH_REVIEW, CaseSource.HASH_BLOCK)
    return {
        "source_type": SOURCE_TYPES.get(src, "own_initiative_other"),
        "automated_detection": "yes" if hash_match else "no",
        "automated_decision": "not_automated",
    }
