"""Dual review (pure): which decisions need a second reviewer, and what a second opinion does.

A decision whose actions include a configured irreversible action needs a second, different
person to agree before anything is applied. Agreement makes it final; disagreement escalates it
to a lead, who upholds it (applied) or returns it (the case is decided afresh).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from rempart.errors import PermissionDenied
from rempart.moderation.vocab import ActionKind

DEFAULT_DUAL_REVIEW = frozenset({
    ActionKind.BANK_ITEM, ActionKind.BAN_ACCOUNT, ActionKind.BAN_SPACE, ActionKind.REFER_NCMEC,
    ActionKind.OVERTURN_BLOCK,
})


class Outcome(str, enum.Enum):
    FINAL = "final"
    ESCALATE = "escalate"


def needs_second_review(actions: Iterable[ActionKind], dual: frozenset[ActionKind]) -> bool:
    return any(a in dual for a in actions)


def second_opinion(first_reviewer: int, second_reviewer: int, agrees: bool) -> Outcome:
    """What a second opinion does. The second reviewer must be a different person."""
    if first_reviewer == second_reviewer:
        raise PermissionDenied("a second review must be by a different reviewer")
    return Outcome.FINAL if agrees else Outcome.ESCALATE


def check_independent(reviewer: int, involved: Iterable[int | None], what: str) -> None:
    """Raise ``PermissionDenied`` when ``reviewer`` already took part (appeals, escalations)."""
    if reviewer in set(involved):
        raise PermissionDenied(f"{what} must be decided by someone not involved in the decision")
