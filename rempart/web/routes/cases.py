"""The review loop: home, my queue, next case, claim and release, the case page, flagged media,
reveal, the statement-of-reasons preview, and deciding.

Media never leave the server unblurred before a reveal: ``review_media`` renders them blurred
and greyscale per the reviewer's settings (the page blurs them in CSS as well), and the media
route needs ``MEDIA_REVEAL``, which only child-safety moderators hold.
"""

from __future__ import annotations

import datetime as dt

from fastapi import Depends, Form, Query, Request
from fastapi.responses import Response

from rempart.authz import Permission as P
from rempart.errors import InvalidInput
from rempart.moderation import (
    ActionKind, ActionRequest, DecisionStatus, claim, decide, list_cases, my_exposure, next_case,
    preview_decision, release, review_media, reveal,
)
from rempart.moderation.facts import record_public_availability
from rempart.scanning.models import ScannedItem
from rempart.store.db import RowId
from rempart.web.casepage import case_context, preview_rows
from rempart.web.frames import frame_strip
from rempart.web.render import page, redirect
from rempart.web.security import Viewer, console_router, needs, runtime_of, signed_in

router = console_router()


@router.get("/")
def home(request: Request, viewer: Viewer = Depends(signed_in())):
    rt = runtime_of(request)
    exposure = None
    with rt.db.session() as s:
        if viewer.can(P.MEDIA_REVEAL):
            exposure = my_exposure(s, viewer.actor, rt.moderation)
    return page(request, "home.html", viewer, exposure=exposure)


@router.get("/cases")
def my_queue(request: Request, queue: str | None = Query(None, max_length=64),
             viewer: Viewer = Depends(needs(P.CASES_READ))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        cases = list_cases(s, viewer.actor, rt.moderation, queue=queue or None, limit=200)
        rows = [(c, c.queue.name) for c in cases]
        queues = sorted({q for _, q in rows})
        exposure = (my_exposure(s, viewer.actor, rt.moderation)
                    if viewer.can(P.MEDIA_REVEAL) else None)
    return page(request, "queue.html", viewer, rows=rows, queue=queue, queues=queues,
                exposure=exposure)


@router.post("/cases/next")
def serve_next(request: Request, queue: str = Form(""),
               viewer: Viewer = Depends(needs(P.CASES_CLAIM))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        case = next_case(s, viewer.actor, rt.moderation, queue=queue or None)
        exhausted = viewer.can(P.MEDIA_REVEAL) and my_exposure(s, viewer.actor,
                                                               rt.moderation).exhausted
        case_id = case.id if case else None
    if case_id is None:
        if exhausted:  # media cases are held back: say why, and suggest the break
            return page(request, "break.html", viewer, status=200,
                        title="Time for a break",
                        message="Your exposure budget for today is spent, so no media cases "
                                "are served to you until tomorrow.")
        return redirect(request, "/cases", done="empty")
    return redirect(request, f"/cases/{case_id}", done="claimed")


@router.post("/cases/{case_id}/claim")
def claim_case(request: Request, case_id: RowId, viewer: Viewer = Depends(needs(P.CASES_CLAIM))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        claim(s, viewer.actor, case_id, rt.moderation)
    return redirect(request, f"/cases/{case_id}", done="claimed")


@router.post("/cases/{case_id}/release")
def release_case(request: Request, case_id: RowId, viewer: Viewer = Depends(needs(P.CASES_CLAIM))):
    with runtime_of(request).db.session() as s:
        release(s, viewer.actor, case_id)
    return redirect(request, "/cases", done="released")


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: RowId, viewer: Viewer = Depends(needs(P.CASES_READ))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        ctx = case_context(s, viewer, case_id, rt.moderation)
        return page(request, "case.html", viewer, **ctx)


@router.get("/cases/{case_id}/items/{item_id}/media")
def case_media(request: Request, case_id: RowId, item_id: RowId, thumb: bool = False,
               viewer: Viewer = Depends(needs(P.MEDIA_REVEAL))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        media = review_media(s, viewer.actor, case_id, item_id, rt.evidence, rt.moderation,
                             thumbnail=thumb, limits=rt.limits, budget=rt.decode_budget)
    if media.data is None:
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    return Response(media.data, media_type=media.content_type,
                    headers={"Cache-Control": "no-store",
                             "X-Rempart-Revealed": "1" if media.display.revealed else "0"})


@router.get("/cases/{case_id}/items/{item_id}/frames")
def case_frames(request: Request, case_id: RowId, item_id: RowId,
                viewer: Viewer = Depends(needs(P.MEDIA_REVEAL))):
    """A revealed video as a strip of stills (204 until revealed: nothing to show)."""
    rt = runtime_of(request)
    with rt.db.session() as s:
        media = review_media(s, viewer.actor, case_id, item_id, rt.evidence, rt.moderation,
                             limits=rt.limits, budget=rt.decode_budget)
        fmt = s.get(ScannedItem, item_id).media_format
    if media.kind != "video" or media.data is None or not media.display.revealed:
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    return Response(frame_strip(media.data, fmt or "", rt.limits, rt.decode_budget),
                    media_type="image/jpeg",
                    headers={"Cache-Control": "no-store"})


@router.post("/cases/{case_id}/items/{item_id}/reveal")
def reveal_item(request: Request, case_id: RowId, item_id: RowId,
                viewer: Viewer = Depends(needs(P.MEDIA_REVEAL))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        reveal(s, viewer.actor, case_id, item_id, rt.moderation)
    return redirect(request, f"/cases/{case_id}?done=revealed#item-{item_id}")


def _action_requests(actions: list[str], end_date: str) -> list[ActionRequest]:
    """The form's actions (the end date goes with restrict_account only)."""
    try:
        kinds = [ActionKind(a) for a in actions]
        until = dt.date.fromisoformat(end_date) if end_date else None
    except ValueError:
        raise InvalidInput("unknown action or malformed end date") from None
    return [ActionRequest(k, end_date=until if k is ActionKind.RESTRICT_ACCOUNT else None)
            for k in kinds]


@router.post("/cases/{case_id}/reasons")
def reasons(request: Request, case_id: RowId, policy: str = Form(""),
            actions: list[str] = Form([]), facts: str = Form(""), end_date: str = Form(""),
            viewer: Viewer = Depends(needs(P.CASES_DECIDE))):
    """A fragment: the statements of reasons the chosen actions would carry (nothing saved).
    A POST so that the facts never appear in a URL or an access log."""
    rt = runtime_of(request)
    requests = _action_requests(actions, end_date)
    rows, problem = [], None
    if requests:
        with rt.db.session() as s:
            try:
                rows = preview_rows(preview_decision(
                    s, viewer.actor, case_id, actions=requests, policy=policy or None,
                    facts=facts, config=rt.moderation))
            except InvalidInput as exc:  # what deciding would refuse, said at once
                problem = str(exc)
    return page(request, "_reasons.html", viewer, preview=rows, problem=problem)


@router.post("/cases/{case_id}/decide")
def decide_case(request: Request, case_id: RowId, policy: str = Form(""),
                actions: list[str] = Form([]), facts: str = Form(""), end_date: str = Form(""),
                viewer: Viewer = Depends(needs(P.CASES_DECIDE))):
    rt = runtime_of(request)
    requests = _action_requests(actions, end_date)
    with rt.db.session() as s:
        decision = decide(s, viewer.actor, case_id, actions=requests, policy=policy or None,
                          facts=facts, config=rt.moderation)
        final = decision.status == DecisionStatus.FINAL.value
    return redirect(request, f"/cases/{case_id}", done="decided" if final else "pending")


@router.post("/cases/{case_id}/publicly-available")
def public_availability(request: Request, case_id: RowId, publicly_available: str = Form(""),
                        viewer: Viewer = Depends(needs(P.CASES_DECIDE))):
    """Record whether the case's content was publicly available (CyberTipline
    ``publiclyAvailable``); audited, refused once the case was reported."""
    if publicly_available not in ("yes", "no"):
        raise InvalidInput("publicly_available must be yes or no")
    rt = runtime_of(request)
    with rt.db.session() as s:
        record_public_availability(s, viewer.actor, case_id, publicly_available == "yes")
    return redirect(request, f"/cases/{case_id}", done="fact-recorded")
