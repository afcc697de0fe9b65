"""Time from receipt to answer, per order type and agency: on the desk, and in the daily
transparency report (``answers`` lines of ``rempart/report/v2``: counts and times only)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from rempart.legal.db.models import Agency, LegalOrder
from rempart.transparency.leaves import answer_stats


def agency_label(agency: Agency) -> str:
    """How public reports name an agency: country, kind and number, never a person."""
    return f"{agency.country}-{agency.kind}-{agency.id}"


def _samples(session: Session, since: dt.datetime | None = None, until: dt.datetime | None = None,
             label=agency_label):
    q = select(LegalOrder, Agency).join(Agency, Agency.id == LegalOrder.agency_id).where(
        LegalOrder.answered_at.is_not(None))
    if since is not None:
        q = q.where(LegalOrder.answered_at >= since)
    if until is not None:
        q = q.where(LegalOrder.answered_at < until)
    for row, agency in session.execute(q):
        yield row.clock_kind, label(agency), (row.answered_at - row.received_at).total_seconds()


def answers_of_day(session: Session, day: dt.date) -> dict:
    """The report's answer lines of ``day``: orders answered that UTC day."""
    start = dt.datetime.combine(day, dt.time())
    return answer_stats(_samples(session, start, start + dt.timedelta(days=1)))


def desk_stats(session: Session) -> list[dict]:
    """Every answered order so far, per order type and agency (by name: the desk is internal)."""
    stats = answer_stats(_samples(session, label=lambda a: a.name))
    return [{"order": o, "agency": a, "answered": n, "median": dt.timedelta(seconds=m),
             "p95": dt.timedelta(seconds=p)} for (o, a), (n, m, p) in sorted(stats.items())]
