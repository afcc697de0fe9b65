"""Reviewer exposure budget (pure): reveals per UTC day against a limit.

Past the limit, no media case is served to the reviewer and a break is suggested; cases that
can be decided from metadata alone still are. Leads see every reviewer's exposure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DEFAULT_DAILY_LIMIT = 40
BREAK_SUGGESTED_AT = 0.75  # suggest a break from 75% of the budget on


@dataclass(frozen=True)
class Exposure:
    reveals_today: int
    limit: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.reveals_today)

    @property
    def exhausted(self) -> bool:
        return self.reveals_today >= self.limit

    @property
    def suggest_break(self) -> bool:
        return self.reveals_today >= self.limit * BREAK_SUGGESTED_AT

    def to_json(self) -> dict:
        return {"reveals_today": self.reveals_today, "limit": self.limit,
                "remaining": self.remaining, "exhausted": self.exhausted,
                "suggest_break": self.suggest_break}


def day_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The UTC day containing ``now``: [start, end)."""
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=1)
