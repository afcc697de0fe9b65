"""For leads: every queue's backlog, ages and breaches, and the team's exposure today."""

from __future__ import annotations

from fastapi import Depends, Request

from rempart.authz import Permission as P
from rempart.moderation import Exposure, queue_stats, sla_warnings, team_exposure
from rempart.people import list_users
from rempart.web.render import page
from rempart.web.security import Viewer, console_router, needs, runtime_of

router = console_router()


@router.get("/queues")
def queues(request: Request, viewer: Viewer = Depends(needs(P.QUEUES_STATS))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        stats = queue_stats(s, viewer.actor, rt.moderation)
        warnings = sla_warnings(s, viewer.actor, rt.moderation)[:50]
    return page(request, "queues.html", viewer, stats=stats, warnings=warnings)


@router.get("/exposure")
def exposure(request: Request, viewer: Viewer = Depends(needs(P.EXPOSURE_READ))):
    rt = runtime_of(request)
    limit = rt.moderation.daily_reveal_limit
    with rt.db.session() as s:
        today = team_exposure(s, viewer.actor, rt.moderation)
        people = [(u, today.get(u.id, Exposure(0, limit))) for u in list_users(s)
                  if u.id in today or u.role == "child-safety-moderator"]
    people.sort(key=lambda p: (-p[1].reveals_today, p[0].username))
    return page(request, "exposure.html", viewer, people=people, limit=limit)
