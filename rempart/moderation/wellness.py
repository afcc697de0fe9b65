"""Reviewer wellness: display preferences, explicit audited reveals, and the exposure budget.

Media are shown blurred and greyscale by default (``DisplaySettings``); videos never autoplay,
start muted and can be shown as a frame strip. Only ``MEDIA_REVEAL`` holders (child-safety
moderators) can reveal, one item at a time, while holding the case's claim; every reveal is
counted against the daily budget and written to the audit log. The budget is taken by one
conditional UPDATE of the reviewer's ``RevealBudget`` row for the day (``used < limit``), so
reveals sent in parallel can never exceed it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, require, require_person
from rempart.errors import InvalidInput, NotFound
from rempart.moderation.cases import load_case
from rempart.moderation.claims import require_claim
from rempart.moderation.config import ModerationConfig
from rempart.moderation.errors import ExposureLimitReached
from rempart.moderation.exposure import Exposure, day_bounds
from rempart.moderation.models import Case, CaseItem, RevealBudget, ReviewerPrefs, Reveal
from rempart.store.db import insert_missing, utcnow

#: the blur a reviewer may choose, in px: never too little to protect (0 only once revealed)
MIN_BLUR, MAX_BLUR = 8, 64


@dataclass(frozen=True)
class DisplaySettings:
    """How the web layer must show one item to one reviewer."""

    blur: int  # px; 0 only once revealed
    greyscale: bool
    thumbnails: bool
    frame_strip: bool
    autoplay: bool = False  # never
    muted: bool = True  # always, until the reviewer unmutes
    revealed: bool = False


def get_prefs(session: Session, actor: Actor) -> ReviewerPrefs:
    """The actor's preferences (protective defaults when never set)."""
    user_id = require_person(actor)
    prefs = session.get(ReviewerPrefs, user_id)
    if prefs is None:
        prefs = ReviewerPrefs(user_id=user_id, blur=24, greyscale=True, thumbnails=True,
                              frame_strip=True)
    return prefs


def set_prefs(session: Session, actor: Actor, *, blur: int | None = None,
              greyscale: bool | None = None, thumbnails: bool | None = None,
              frame_strip: bool | None = None) -> ReviewerPrefs:
    """Change one's own preferences. Blur must stay between ``MIN_BLUR`` and ``MAX_BLUR`` px:
    media are never shown unblurred before an explicit reveal."""
    require(actor, P.PREFERENCES_WRITE)
    if blur is not None and not MIN_BLUR <= blur <= MAX_BLUR:
        raise InvalidInput(f"blur must be between {MIN_BLUR} and {MAX_BLUR} px")
    prefs = get_prefs(session, actor)
    changes = {k: v for k, v in {"blur": blur, "greyscale": greyscale, "thumbnails": thumbnails,
                                 "frame_strip": frame_strip}.items() if v is not None}
    # a first save may race another (a double click): both start from the defaults' one row
    insert_missing(session, ReviewerPrefs, user_id=prefs.user_id, blur=prefs.blur,
                   greyscale=prefs.greyscale, thumbnails=prefs.thumbnails,
                   frame_strip=prefs.frame_strip, updated_at=utcnow())
    session.execute(update(ReviewerPrefs).where(ReviewerPrefs.user_id == prefs.user_id)
                    .values(**changes, updated_at=utcnow())
                    .execution_options(synchronize_session=False))
    record(session, actor, AuditEvent.PREFERENCES_CHANGED, subject=f"user:{actor.user_id}",
           detail=changes)
    return session.get(ReviewerPrefs, prefs.user_id, populate_existing=True)


def display_settings(session: Session, actor: Actor, case_id: int, item_id: int) -> DisplaySettings:
    """How to show the item now: revealed only if this actor revealed it during the live claim."""
    prefs = get_prefs(session, actor)
    case = session.get(Case, case_id)
    revealed = bool(case and case.claimed_by == actor.user_id and case.claimed_at and session.scalar(
        select(func.count()).select_from(Reveal).where(
            Reveal.user_id == actor.user_id, Reveal.case_id == case_id, Reveal.item_id == item_id,
            Reveal.at >= case.claimed_at)))
    return DisplaySettings(blur=0 if revealed else prefs.blur,
                           greyscale=prefs.greyscale and not revealed,
                           thumbnails=prefs.thumbnails, frame_strip=prefs.frame_strip,
                           revealed=revealed)


def exposure_of(session: Session, user_id: int, config: ModerationConfig,
                now: dt.datetime | None = None) -> Exposure:
    start, end = day_bounds(now or utcnow())
    n = session.scalar(select(func.count()).select_from(Reveal)
                       .where(Reveal.user_id == user_id, Reveal.at >= start, Reveal.at < end)) or 0
    return Exposure(int(n), config.daily_reveal_limit)


def my_exposure(session: Session, actor: Actor, config: ModerationConfig,
                now: dt.datetime | None = None) -> Exposure:
    return exposure_of(session, require_person(actor), config, now)


def team_exposure(session: Session, actor: Actor, config: ModerationConfig,
                  now: dt.datetime | None = None) -> dict[int, Exposure]:
    """Every reviewer's exposure today (user id -> Exposure). Needs ``EXPOSURE_READ``."""
    require(actor, P.EXPOSURE_READ)
    start, end = day_bounds(now or utcnow())
    rows = session.execute(select(Reveal.user_id, func.count()).where(
        Reveal.at >= start, Reveal.at < end).group_by(Reveal.user_id))
    return {uid: Exposure(int(n), config.daily_reveal_limit) for uid, n in rows}


def reveal(session: Session, actor: Actor, case_id: int, item_id: int, config: ModerationConfig,
           *, now: dt.datetime | None = None) -> Exposure:
    """Reveal one item of a claimed case: counted, audited, refused past the budget.

    Needs ``MEDIA_REVEAL`` and a live claim on the case. Returns the exposure after the reveal.
    """
    require(actor, P.MEDIA_REVEAL)
    user_id = require_person(actor)
    now = now or utcnow()
    case = load_case(session, actor, case_id)
    require_claim(session, actor, case, now)
    if not session.scalar(select(CaseItem.id).where(CaseItem.case_id == case_id,
                                                    CaseItem.item_id == item_id)):
        raise NotFound("item of the case", item_id)
    used = _take_reveal(session, user_id, config, now)
    if used is None:
        raise ExposureLimitReached(config.daily_reveal_limit, config.daily_reveal_limit)
    session.add(Reveal(user_id=user_id, case_id=case_id, item_id=item_id, at=now))
    after = Exposure(used, config.daily_reveal_limit)
    record(session, actor, AuditEvent.MEDIA_REVEALED, case_id=case_id, subject=f"item:{item_id}",
           detail={"reveals_today": after.reveals_today, "limit": after.limit}, at=now)
    return after


def _take_reveal(session: Session, user_id: int, config: ModerationConfig,
                 now: dt.datetime) -> int | None:
    """Take one reveal from the reviewer's budget for the day of ``now``: the reveals used
    with this one, or None when the budget is spent."""
    day = day_bounds(now)[0].date().isoformat()
    row = (RevealBudget.user_id == user_id, RevealBudget.day == day)
    if session.scalar(select(RevealBudget.used).where(*row)) is None:
        # the day's first reveal: count from those recorded before the budget row existed
        insert_missing(session, RevealBudget, user_id=user_id, day=day,
                       used=exposure_of(session, user_id, config, now).reveals_today)
    taken = session.execute(
        update(RevealBudget).where(*row, RevealBudget.used < config.daily_reveal_limit)
        .values(used=RevealBudget.used + 1).execution_options(synchronize_session=False)
    ).rowcount
    return session.scalar(select(RevealBudget.used).where(*row)) if taken == 1 else None
