"""Second opinions (dual review), lead escalations, and appeals (DSA Art. 20).

Each is worked on the case page after a claim; these routes only record the outcome through the
moderation services, which check independence (a second reviewer, a lead or an appeal decider
who took no part in the decision).
"""

from __future__ import annotations

from fastapi import Depends, Form, Request

from rempart.authz import Permission as P
from rempart.moderation import (
    CaseStatus, decide_appeal, list_cases, resolve_escalation, second_review,
)
from rempart.store.db import RowId
from rempart.web.render import page, redirect
from rempart.web.security import Viewer, console_router, needs, runtime_of

router = console_router()


@router.post("/decisions/{decision_id}/second")
def second_opinion(request: Request, decision_id: RowId, agrees: str = Form(...),
                   note: str = Form(""), viewer: Viewer = Depends(needs(P.CASES_SECOND_REVIEW))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        d = second_review(s, viewer.actor, decision_id, agrees=agrees == "yes", note=note,
                          config=rt.moderation)
        case_id = d.case_id
    return redirect(request, f"/cases/{case_id}", done="agreed" if agrees == "yes" else "disagreed")


@router.get("/escalations")
def escalations(request: Request, viewer: Viewer = Depends(needs(P.ESCALATIONS_RESOLVE))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        rows = [(c, c.queue.name) for c in list_cases(
            s, viewer.actor, rt.moderation, statuses=(CaseStatus.ESCALATED,), limit=200)]
        return page(request, "list.html", viewer, rows=rows, title="Escalations",
                    intro="Reviewers disagreed on these decisions: claim one, read both "
                          "opinions on the case page, then uphold or return it.")


@router.post("/decisions/{decision_id}/resolve")
def resolve(request: Request, decision_id: RowId, uphold: str = Form(...), note: str = Form(""),
            viewer: Viewer = Depends(needs(P.ESCALATIONS_RESOLVE))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        d = resolve_escalation(s, viewer.actor, decision_id, uphold=uphold == "yes", note=note,
                               config=rt.moderation)
        case_id = d.case_id
    return redirect(request, f"/cases/{case_id}", done="upheld" if uphold == "yes" else "returned")


@router.get("/appeals")
def appeals(request: Request, viewer: Viewer = Depends(needs(P.APPEALS_DECIDE))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        rows = [(c, c.queue.name) for c in list_cases(s, viewer.actor, rt.moderation,
                                                      queue="appeals", limit=200)]
        return page(request, "list.html", viewer, rows=rows, title="Appeals",
                    intro="Appeals of final decisions (DSA Art. 20). Only someone who took no "
                          "part in the decision can decide its appeal.")


@router.post("/appeals/{appeal_id}/decide")
def appeal_decide(request: Request, appeal_id: RowId, overturn: str = Form(...),
                  note: str = Form(""), viewer: Viewer = Depends(needs(P.APPEALS_DECIDE))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        appeal = decide_appeal(s, viewer.actor, appeal_id, overturn=overturn == "yes", note=note,
                               config=rt.moderation)
        case_id = appeal.case_id
    return redirect(request, f"/cases/{case_id}", done="appeal")
