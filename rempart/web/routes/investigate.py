"""Investigation: the blast radius of one flagged item (list and picture), and bulk action on
the entities a reviewer confirms in it (each its own case and statement of reasons)."""

from __future__ import annotations

from fastapi import Depends, Form, Request
from markupsafe import Markup

from rempart.authz import Permission as P
from rempart.errors import InvalidInput
from rempart.moderation import (
    BULK_ACTIONS, ActionKind, Confirmation, actions_for_entity, blast_radius, bulk_act,
)
from rempart.store.db import RowId
from rempart.web.casepage import ACTION_LABELS
from rempart.web.graph import blast_svg
from rempart.web.render import page, redirect
from rempart.web.security import Viewer, console_router, needs, runtime_of

router = console_router()


@router.get("/items/{item_id}/blast-radius")
def radius_page(request: Request, item_id: RowId, viewer: Viewer = Depends(needs(P.INVESTIGATE))):
    rt = runtime_of(request)
    with rt.db.session() as s:
        radius = blast_radius(s, viewer.actor, item_id)
    return page(request, "blast.html", viewer, radius=radius,
                svg=Markup(blast_svg(radius.graph())), policies=rt.moderation.taxonomy.policies,
                bulk_actions=BULK_ACTIONS, labels=ACTION_LABELS)


@router.post("/items/{item_id}/blast-radius/act")
def radius_act(request: Request, item_id: RowId, entities: list[str] = Form([]),
               policy: str = Form(...), actions: list[str] = Form([]), facts: str = Form(""),
               viewer: Viewer = Depends(needs(P.BULK_ACTION))):
    rt = runtime_of(request)
    try:
        kinds = [ActionKind(a) for a in actions]
    except ValueError:
        raise InvalidInput("unknown action") from None
    confirmations = []
    for e in entities:
        kind, _, name = e.partition(":")
        confirmations.append(Confirmation(kind, name, policy, actions_for_entity(kind, kinds),
                                          facts))
    with rt.db.session() as s:
        bulk_act(s, viewer.actor, item_id, confirmations, rt.moderation)
    return redirect(request, f"/items/{item_id}/blast-radius", done="bulk")
