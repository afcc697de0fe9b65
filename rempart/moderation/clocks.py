"""Service-level clocks, claim expiry and the appeal window (pure).

Every timestamp is naive UTC (the database convention, ``rempart.store.db.utcnow``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from dataclasses import dataclass

from rempart.errors import InvalidInput


class SlaState(str, enum.Enum):
    OK = "ok"
    WARNING = "warning"  # the deadline is close: within the warning window
    BREACHED = "breached"  # past the deadline undecided, or decided late
    MET = "met"  # decided in time


@dataclass(frozen=True)
class Sla:
    """A queue's service-level target and when to warn before it (a fraction of the target)."""

    target: dt.timedelta
    warn_fraction: float = 0.8

    def __post_init__(self) -> None:
        if self.target <= dt.timedelta(0):
            raise InvalidInput("an SLA target must be positive")
        if not 0 < self.warn_fraction < 1:
            raise InvalidInput("warn_fraction must be between 0 and 1")

    def due(self, created_at: dt.datetime) -> dt.datetime:
        return created_at + self.target

    def warn_at(self, created_at: dt.datetime) -> dt.datetime:
        return created_at + self.target * self.warn_fraction


def sla_state(*, due_at: dt.datetime, warn_at: dt.datetime, now: dt.datetime,
              decided_at: dt.datetime | None = None) -> SlaState:
    if decided_at is not None:
        return SlaState.MET if decided_at <= due_at else SlaState.BREACHED
    if now > due_at:
        return SlaState.BREACHED
    if now >= warn_at:
        return SlaState.WARNING
    return SlaState.OK


def claim_live(claimed_by: int | None, expires_at: dt.datetime | None, now: dt.datetime) -> bool:
    """A claim holds while it has an owner and has not expired (expiry is exclusive)."""
    return claimed_by is not None and expires_at is not None and now < expires_at


def add_months(when: dt.datetime, months: int) -> dt.datetime:
    """``when`` plus calendar months, clamped to the month's last day (31 Aug + 6 = 28/29 Feb)."""
    y, m = divmod(when.month - 1 + months, 12)
    year, month = when.year + y, m + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


APPEAL_MONTHS = 6  # DSA Art. 20(1): at least six months from the information on the decision


def appeal_deadline(decided_at: dt.datetime) -> dt.datetime:
    return add_months(decided_at, APPEAL_MONTHS)


def appeal_open(decided_at: dt.datetime, now: dt.datetime) -> bool:
    return now <= appeal_deadline(decided_at)
