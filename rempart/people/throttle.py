"""The login lockout: at most ``MAX_FAILURES`` password checks per username in ``LOCKOUT_WINDOW``.

An attempt takes a slot *before* its password is checked, with one conditional UPDATE of the
username's ``login_throttle`` row: a slot is free while fewer than ``MAX_FAILURES`` were taken in
the window, or once the window has passed (which starts a new one). A successful login gives its
slot back. So parallel attempts can never check more passwords than the lockout allows, and an
unknown username locks exactly like a known one (the lockout tells nothing about who exists).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, or_, update
from sqlalchemy.orm import Session

from rempart.people.models import LoginThrottle
from rempart.store.db import insert_missing

MAX_FAILURES = 10
LOCKOUT_WINDOW = dt.timedelta(minutes=15)


def take_attempt(session: Session, username: str, now: dt.datetime) -> bool:
    """Take one attempt for ``username``; False when the lockout is on (check no password)."""
    insert_missing(session, LoginThrottle, username=username, window_start=now, attempts=0)
    stale = LoginThrottle.window_start <= now - LOCKOUT_WINDOW
    return session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.username == username,
               or_(stale, LoginThrottle.attempts < MAX_FAILURES))
        .values(attempts=case((stale, 1), else_=LoginThrottle.attempts + 1),
                window_start=case((stale, now), else_=LoginThrottle.window_start))
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def give_back(session: Session, username: str) -> None:
    """A successful login does not count against the lockout."""
    session.execute(update(LoginThrottle)
                    .where(LoginThrottle.username == username, LoginThrottle.attempts > 0)
                    .values(attempts=LoginThrottle.attempts - 1)
                    .execution_options(synchronize_session=False))
