"""The platform's upload path: ``POST /v1/scan`` with the media, or with precomputed signals."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from rempart.api.deps import ApiRoute, get_runtime, require
from rempart.api.permissions import Permission
from rempart.api.problems import request_id
from rempart.api.schemas import AUTHENTICATED, ScanAccepted, ScanResult, ScanStatus, problems
from rempart.api.uploads import UPLOAD_BODY_BYTES, read_body, read_upload
from rempart.errors import InvalidInput
from rempart.httpgate import max_body
from rempart.runtime import Runtime
from rempart.scanning.service import ScanContext, ScanOutcome, answer_json
from rempart.scanning.signals import rows_from_signals
from rempart.workers.events import context_fields
from rempart.workers.service import get_request, status_json

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
    return answer_json(outcome)


@router.post("/scan", openapi_extra=SCAN_BODY, response_model=ScanResult,
             response_model_exclude_unset=True, responses={
                 **problems(400, 413, 415, 503),
                 202: {"model": ScanAccepted, "description": "``mode=async``: queued"}})
@max_body(UPLOAD_BODY_BYTES)
async def scan(request: Request, mode: Literal["sync", "async"] = Query("sync"),
               runtime: Runtime = Depends(get_runtime),
               _=Depends(require(Permission.SCAN))):
    """Scan one upload. Multipart: the media as ``file`` plus context fields. JSON: signals.

    ``mode=sync`` (default): the verdict in the response. ``mode=async``: ``202`` with a
    ``scan_id``; the verdict comes by webhook and at ``GET /v1/scans/{scan_id}``. In scale-out
    mode both go through the scan workers; when they are behind, ``503`` with ``Retry-After``."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            body = ScanSignalsIn.model_validate_json(
                await read_body(request, MAX_SIGNALS_BODY))
        except ValidationError as exc:
            raise InvalidInput(f"malformed scan request: {exc.error_count()} error(s): "
                               f"{exc.errors()[0]['msg']}") from None
        signals = [(s.type, s.value) for s in body.signals]
        context = body.context.to_context()
        if mode == "sync" and runtime.bus is None:
            outcome = await run_in_threadpool(runtime.scan_signals, signals, context)
            return outcome_json(outcome)
        rows_from_signals(signals)  # refused now, not later, when malformed
        return await _queued(request, runtime, mode, "signals", context, signals=signals)
    data, fields = await read_upload(request, runtime.max_upload_bytes)
    try:
        context = ContextIn.model_validate(fields).to_context()
    except ValidationError as exc:
        raise InvalidInput(f"malformed context: {exc.errors()[0]['msg']}") from None
    if mode == "sync" and runtime.bus is None:
        outcome = await run_in_threadpool(runtime.scan_media, data, context)
        return outcome_json(outcome)
    return await _queued(request, runtime, mode, "upload", context, media=data)


async def _queued(request: Request, runtime: Runtime, mode: str, source: str,
                  context: ScanContext, *, media: bytes = b"", signals=()):
    """A scan through ``runtime.scans``: the stream's workers, or this node's own threads."""
    args = dict(media=media, signals=signals, request_id=request_id(request))
    if mode == "async":
        scan_id = await run_in_threadpool(runtime.scans.submit, source, context_fields(context),
                                          **args)
        return JSONResponse({"scan_id": scan_id}, status_code=202,
                            headers={"Location": f"/v1/scans/{scan_id}"})
    return await run_in_threadpool(runtime.scans.scan, source, context_fields(context), **args)


@router.get("/scans/{scan_id}", response_model=ScanStatus, response_model_exclude_unset=True,
            responses=problems(404))
def scan_status(scan_id: str, runtime: Runtime = Depends(get_runtime),
                _=Depends(require(Permission.SCAN))) -> dict:
    """Where a scan is: ``queued``, ``done`` (with its answer) or ``failed`` (with the problem)."""
    with runtime.db.session() as s:
        return status_json(get_request(s, scan_id))
