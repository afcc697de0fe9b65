"""Closed vocabularies of the moderation domain (pure: no database, no HTTP)."""

from __future__ import annotations

import enum


class CaseSource(str, enum.Enum):
    """Where a case comes from; drives routing and priority."""

    EMERGENCY = "emergency"  # imminent risk to a child (any channel)
    TRUSTED_FLAGGER = "trusted_flagger"  # DSA Art. 22 notice (INHOPE hotline, NGO)
    LAW_ENFORCEMENT = "law_enforcement"
    HASH_REVIEW = "hash_review"  # a match in a bank whose action is ``review``
    HASH_BLOCK = "hash_block"  # an automatic block, to confirm or overturn
    INVESTIGATION = "investigation"  # an entity confirmed from a blast radius
    APPEAL = "appeal"  # DSA Art. 20
    PUBLIC_REPORT = "public_report"  # DSA Art. 16 notice from anyone
    ORG_NOTICE = "org_notice"  # a notice from an organisation that is not a trusted flagger


class CaseStatus(str, enum.Enum):
    OPEN = "open"  # waiting for a (first) decision
    AWAITING_SECOND = "awaiting_second"  # a decision needs a second reviewer
    ESCALATED = "escalated"  # reviewers disagreed: a lead decides
    DECIDED = "decided"


#: statuses in which a case can be claimed, and by whom (see ``rempart.moderation.rules``)
CLAIMABLE = (CaseStatus.OPEN, CaseStatus.AWAITING_SECOND, CaseStatus.ESCALATED)


class ActionKind(str, enum.Enum):
    REMOVE_ITEM = "remove_item"
    RESTRICT_ACCOUNT = "restrict_account"  # temporary, with an end date
    BAN_ACCOUNT = "ban_account"  # permanent
    BAN_SPACE = "ban_space"
    BANK_ITEM = "bank_item"  # the item's hashes go into the platform's own bank
    PRESERVATION_HOLD = "preservation_hold"
    REFER_NCMEC = "refer_ncmec"  # mandatory reporting
    OVERTURN_BLOCK = "overturn_block"  # an automatic block was wrong: restore the item
    DISMISS = "dismiss"


#: actions that reach the platform by webhook, and the event that reverses each one
PLATFORM_ACTIONS: dict[ActionKind, str] = {
    ActionKind.REMOVE_ITEM: "restore_item",
    ActionKind.RESTRICT_ACCOUNT: "unrestrict_account",
    ActionKind.BAN_ACCOUNT: "unban_account",
    ActionKind.BAN_SPACE: "unban_space",
    ActionKind.OVERTURN_BLOCK: "remove_item",
}

#: actions that state a violation (a decision with one of them is a "violation" decision)
VIOLATION_ACTIONS = frozenset({
    ActionKind.REMOVE_ITEM, ActionKind.RESTRICT_ACCOUNT, ActionKind.BAN_ACCOUNT,
    ActionKind.BAN_SPACE, ActionKind.BANK_ITEM, ActionKind.REFER_NCMEC,
})


class TargetType(str, enum.Enum):
    ITEM = "item"
    ACCOUNT = "account"
    SPACE = "space"
    CASE = "case"


#: the target each action applies to
ACTION_TARGET: dict[ActionKind, TargetType] = {
    ActionKind.REMOVE_ITEM: TargetType.ITEM,
    ActionKind.RESTRICT_ACCOUNT: TargetType.ACCOUNT,
    ActionKind.BAN_ACCOUNT: TargetType.ACCOUNT,
    ActionKind.BAN_SPACE: TargetType.SPACE,
    ActionKind.BANK_ITEM: TargetType.ITEM,
    ActionKind.PRESERVATION_HOLD: TargetType.CASE,
    ActionKind.REFER_NCMEC: TargetType.CASE,
    ActionKind.OVERTURN_BLOCK: TargetType.ITEM,
    ActionKind.DISMISS: TargetType.CASE,
}


class DecisionStatus(str, enum.Enum):
    PENDING_SECOND = "pending_second"
    ESCALATED = "escalated"
    FINAL = "final"  # actions applied
    RETURNED = "returned"  # a lead sent it back; the case is open again
    REVERSED = "reversed"  # overturned on appeal; actions reversed
