"""The platform's upload path: ``POST /v1/scan`` with the media, or with precomputed signals."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, ValidationError

from rempart.api.deps import ApiRoute, get_runtime, require
from rempart.api.permissions import Permission
from rempart.api.schemas import AUTHENTICATED, ScanResult, problems
from rempart.api.uploads import UPLOAD_BODY_BYTES, read_body, read_upload
from rempart.errors import InvalidInput
from rempart.httpgate import max_body
from rempart.runtime import Runtime
from rempart.scanning.service import ScanContext, ScanOutcome

router = APIRouter(prefix="/v1", tags=["scan"], responses=AUTHENTICATED, route_class=ApiRoute)
#: a JSON scan request: at most 1000 signals and a context
MAX_SIGNALS_BODY = 1 << 20


class SignalIn(BaseModel):
    type: str = Field(max_length=16)
    value: str = Field(max_length=128)


class ContextIn(BaseModel):
    account: str | None = Field(None, max_length=200)
    space: str | None = Field(None, max_length=200)
    message: str | None = Field(None, max_length=200)
    uploaded_at: dt.datetime | None = None

    def to_context(self) -> ScanContext:
        at = self.uploaded_at
        if at is not None and at.tzinfo is not None:
            at = at.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return ScanContext(self.account, self.space, self.message, at)


class ScanSignalsIn(BaseModel):
    signals: list[SignalIn] = Field(min_length=1, max_length=1000)
    context: ContextIn = ContextIn()


SCAN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "account": {"type": "string"}, "space": {"type": "string"},
                    "message": {"type": "string"},
                    "uploaded_at": {"type": "string", "format": "date-time"},
                },
            }},
            "application/json": {"schema": ScanSignalsIn.model_json_schema(
                ref_template="#/components/schemas/{model}")},
        },
    }
}


def outcome_json(outcome: ScanOutcome) -> dict:
    body = {"item": outcome.item_id, "verdict": outcome.verdict, "matches": outcome.match_json()}
    if outcome.fingerprint is not None:
        fp = outcome.fingerprint
        body["media"] = {"kind": fp.kind, "format": fp.format, "width": fp.width,
                         "height": fp.height, "sha256": fp.sha256}
    return body


@router.post("/scan", openapi_extra=SCAN_BODY, response_model=ScanResult,
             response_model_exclude_unset=True, responses=problems(400, 413, 415, 503))
@max_body(UPLOAD_BODY_BYTES)
async def scan(request: Request, runtime: Runtime = Depends(get_runtime),
               _=Depends(require(Permission.SCAN))) -> dict:
    """Scan one upload. Multipart: the media as ``file`` plus context fields. JSON: signals."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            body = ScanSignalsIn.model_validate_json(
                await read_body(request, MAX_SIGNALS_BODY))
        except ValidationError as exc:
            raise InvalidInput(f"malformed scan request: {exc.error_count()} error(s): "
                               f"{exc.errors()[0]['msg']}") from None
        outcome = await run_in_threadpool(
            runtime.scan_signals, [(s.type, s.value) for s in body.signals],
            body.context.to_context())
        return outcome_json(outcome)
    data, fields = await read_upload(request, runtime.max_upload_bytes)
    try:
        context = ContextIn.model_validate(fields).to_context()
    except ValidationError as exc:
        raise InvalidInput(f"malformed context: {exc.errors()[0]['msg']}") from None
    outcome = await run_in_threadpool(runtime.scan_media, data, context)
    return outcome_json(outcome)
