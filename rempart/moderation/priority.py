"""Queue ordering (pure): who is served first.

Tiers, lowest first: emergencies and trusted-flagger notices; law-enforcement requests; hash
matches (review before block-confirmation), ordered inside by the list's rank and the match
distance (an exact or near-exact match of a high-rank list first); investigation follow-ups;
appeals; public reports. Within one priority value, the earliest deadline, then the oldest case.

A priority is one integer ``tier * 100_000 + list_rank * 1_000 + distance`` (lower is sooner),
so the database orders by it directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from rempart.errors import InvalidInput
from rempart.moderation.vocab import CaseSource

TIERS: dict[CaseSource, int] = {
    CaseSource.EMERGENCY: 0,
    CaseSource.TRUSTED_FLAGGER: 1,
    CaseSource.LAW_ENFORCEMENT: 2,
    CaseSource.HASH_REVIEW: 3,
    CaseSource.HASH_BLOCK: 4,
    CaseSource.INVESTIGATION: 5,
    CaseSource.APPEAL: 6,
    CaseSource.ORG_NOTICE: 7,
    CaseSource.PUBLIC_REPORT: 7,
}
MAX_RANK = 99
MAX_DISTANCE = 256
UNRANKED = 50  # lists with no configured rank


@dataclass(frozen=True)
class MatchSignal:
    """The strongest evidence of a hash-match case: the list it matched and how closely."""

    bank: str
    distance: int


def priority(source: CaseSource, match: MatchSignal | None = None,
             list_ranks: Mapping[str, int] | None = None) -> int:
    """The priority value of a case (lower is served sooner)."""
    tier = TIERS[source]
    if match is None:
        return tier * 100_000
    if not 0 <= match.distance <= MAX_DISTANCE:
        raise InvalidInput(f"distance must be 0..{MAX_DISTANCE}")
    rank = (list_ranks or {}).get(match.bank, UNRANKED)
    if not 0 <= rank <= MAX_RANK:
        raise InvalidInput(f"list rank must be 0..{MAX_RANK}")
    return tier * 100_000 + rank * 1_000 + match.distance


def best_match(matches: list[MatchSignal], list_ranks: Mapping[str, int] | None = None
               ) -> MatchSignal | None:
    """The match that gives a case its priority: best-ranked list, then smallest distance."""
    ranks = list_ranks or {}
    return min(matches, key=lambda m: (ranks.get(m.bank, UNRANKED), m.distance), default=None)


def order_key(priority_value: int, due_at: dt.datetime, created_at: dt.datetime, case_id: int):
    """The sort key of the queue order (the same as the SQL ORDER BY of ``queues.next_cases``)."""
    return (priority_value, due_at, created_at, case_id)
