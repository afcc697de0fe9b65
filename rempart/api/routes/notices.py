"""Notices from organisations (their key: scope ``reporter``): ``POST /v1/notices`` and
``GET /v1/notices/{id}``. The hotline's services decide; this only reads and answers."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from rempart.api.deps import ApiRoute, get_runtime, require
from rempart.api.permissions import Permission
from rempart.api.schemas import AUTHENTICATED, NoticesAccepted, NoticesIn, NoticeStatus, problems
from rempart.api.tokens import Principal
from rempart.errors import PermissionDenied
from rempart.hotline.errors import InvalidNotice
from rempart.hotline.orgs import notice_json, own_notice
from rempart.hotline.service import submit_batch
from rempart.httpgate import max_body
from rempart.runtime import Runtime
from rempart.store.db import RowId

router = APIRouter(prefix="/v1/notices", tags=["notices"], responses=AUTHENTICATED,
                   route_class=ApiRoute)
MAX_BODY = 2 * 1024 * 1024
_SCHEMA = NoticesIn.model_json_schema(ref_template="#/components/schemas/{model}")


def _org(principal: Principal) -> int:
    if principal.org_id is None:
        raise PermissionDenied("only an organisation's key sends or reads notices")
    return principal.org_id


@router.post("", status_code=201, response_model=NoticesAccepted,
             responses=problems(400, 404, 409, 413, 429),
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {k: v for k, v in _SCHEMA.items() if k != "$defs"}}}},
                 "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                 "schema": {"type": "string", "maxLength": 200}}]})
@max_body(MAX_BODY)
async def post_notices(request: Request, runtime: Runtime = Depends(get_runtime),
                       principal: Principal = Depends(require(Permission.NOTICES_SUBMIT))):
    """One notice or a batch. With an ``Idempotency-Key``, the same key and body give the same
    answer and create nothing new; the same key with another body is a 409."""
    org_id = _org(principal)
    raw = await request.body()  # at most MAX_BODY: counted as it streams (httpgate)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidNotice("notices", "the body is not JSON") from None
    _, answer = submit_batch(runtime.hotline, org_id, request.headers.get("idempotency-key"),
                             body)
    return JSONResponse(NoticesAccepted.model_validate(answer).model_dump(mode="json"),
                        status_code=201)


@router.get("/{notice_id}", response_model=NoticeStatus, responses=problems(404))
def get_notice(notice_id: RowId, runtime: Runtime = Depends(get_runtime),
               principal: Principal = Depends(require(Permission.NOTICES_READ_OWN))) -> dict:
    """One of the organisation's own notices (any other is 404, whether or not it exists)."""
    with runtime.db.session() as s:
        return notice_json(s, own_notice(s, _org(principal), notice_id))
