"""Orders from law-enforcement officers (their API key, ``rempart officer add``):
``POST /v1/legal/orders`` and ``GET /v1/legal/orders/{id}``. The legal desk's services decide;
this only authenticates, reads and answers. Officers see only their own agency's orders."""

from __future__ import annotations

import datetime as dt
import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from rempart.api.deps import ApiRoute, get_runtime
from rempart.api.schemas import Out, problems
from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission, require as require_permission
from rempart.errors import AuthError, InvalidInput
from rempart.httpgate import max_body
from rempart.legal.config import LegalConfig
from rempart.legal.db import answer, orders
from rempart.legal.db.agencies import authenticate_officer
from rempart.legal.db.orders import decode_attachments
from rempart.runtime import Runtime
from rempart.store.db import RowId

router = APIRouter(prefix="/v1/legal", tags=["legal"], responses=problems(401, 403, 422, 500),
                   route_class=ApiRoute)
#: an order with the largest attachments the default ``[legal]`` settings allow
MAX_BODY = LegalConfig().max_order_body
_ACTOR = "rempart.officer"


def officer(permission: Permission):
    """A dependency authenticating the officer's API key (before the body is read)."""

    def dependency(request: Request) -> Actor:
        actor = request.scope.get(_ACTOR)
        if actor is None:
            header = request.headers.get("authorization", "")
            scheme, _, key = header.partition(" ")
            runtime = get_runtime(request)
            with runtime.db.session() as s:
                try:
                    actor = authenticate_officer(s, key.strip() if scheme.lower() == "bearer" else None)
                except AuthError:
                    record(s, None, AuditEvent.ORDER_REFUSED, actor_label="anonymous",
                           detail={"reason": "invalid officer credentials", "path": request.url.path})
                    raise
            request.scope[_ACTOR] = actor
        require_permission(actor, permission)
        return actor

    dependency.permission = permission  # read by the route-table test and by ApiRoute
    return dependency


class AttachmentIn(Out):
    name: str = Field(max_length=100)
    content_type: str = Field("application/pdf", max_length=100)
    content_base64: str


class OrderIn(Out):
    """The body of ``POST /v1/legal/orders``: the order (EPOC, EPOC-PR or emergency request, in
    the JSON of ``rempart.legal.orders``) and its attachments (the signed certificate...)."""

    order: dict
    attachments: list[AttachmentIn] = []


class Delivered(Out):
    delivery: int
    manifest: str
    previous: str | None
    created_at: dt.datetime


class ClockEvent(Out):
    event: str
    at: dt.datetime
    reasons: list[str]
    status: str


class OrderStatus(Out):
    id: int
    reference: str
    type: str = Field(description="epoc | epoc_pr | emergency_request")
    clock: str = Field(description="production | emergency_production | preservation | emergency_request")
    status: str
    sla: str = Field(description="ok | warning | breached | met | late")
    received_at: dt.datetime
    deadline: dt.datetime | None = Field(description="due time, preservation expiry, or null while paused")
    paused: bool
    clarification_reply_due: dt.datetime | None
    deliveries: list[Delivered]
    history: list[ClockEvent]


def status_of(s, row) -> dict:
    state = orders.refresh(s, row)
    return {"id": row.id, "reference": row.reference, "type": row.kind, "clock": row.clock_kind,
            "status": state.status.value, "sla": state.sla.value, "received_at": row.received_at,
            "deadline": state.deadline, "paused": state.paused_since is not None,
            "clarification_reply_due": state.clarification_reply_due,
            "deliveries": [{"delivery": d.number, "manifest": d.manifest_digest, "previous": d.previous_digest,
                            "created_at": d.created_at} for d in answer.deliveries_of(s, row.id)],
            "history": [{"event": h.event.kind.value, "at": h.event.at,
                         "reasons": [r.value for r in h.event.reasons], "status": h.status.value}
                        for h in state.history]}


@router.post("/orders", status_code=201, response_model=OrderStatus,
             responses=problems(400, 404, 409, 413),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"$ref": "#/components/schemas/OrderIn"}}}}})
@max_body(MAX_BODY)
async def post_order(request: Request, runtime: Runtime = Depends(get_runtime),
                     actor: Actor = Depends(officer(Permission.ORDERS_SUBMIT))):
    """Send an order. Every problem is named (``errors``: [field, message]) and nothing is
    created: malformed orders (422 ``invalid-order``), identifiers the platform does not hold
    or a scope too broad (422 ``order-not-executable``), attachments too large (413)."""
    raw = await request.body()
    try:
        body = OrderIn.model_validate(json.loads(raw))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the body is not {{'order': {{...}}, 'attachments': [...]}}: {str(exc)[:300]}") from None
    attachments = decode_attachments([a.model_dump() for a in body.attachments], runtime.legal.config)
    with runtime.db.session() as s:
        row = runtime.legal.receive(s, actor, body.order, attachments)
        out = OrderStatus.model_validate(status_of(s, row)).model_dump(mode="json")
    return JSONResponse(out, status_code=201)


@router.get("/orders/{order_id}", response_model=OrderStatus, responses=problems(404))
def get_order(order_id: RowId, runtime: Runtime = Depends(get_runtime),
              actor: Actor = Depends(officer(Permission.ORDERS_READ_OWN))) -> dict:
    """An order of the officer's own agency: its status, deadline, history and deliveries."""
    with runtime.db.session() as s:
        return status_of(s, orders.get_order(s, actor, order_id))
