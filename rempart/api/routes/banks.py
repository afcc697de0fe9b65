"""Bank and entry management (curator scope), and the report of matches (incl. retro-scan)."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import select

from rempart.api.deps import ApiRoute, get_runtime, require
from rempart.api.permissions import Permission
from rempart.api import schemas
from rempart.api.schemas import AUTHENTICATED, EXPORT_CONTENT, problems
from rempart.api.tokens import Principal
from rempart.api.uploads import UPLOAD_BODY_BYTES, read_upload
from rempart.banks import retro_jobs
from rempart.banks import service as banks
from rempart.banks.formats import FORMATS
from rempart.banks.models import Bank, BankEntry
from rempart.errors import InvalidInput
from rempart.httpgate import max_body
from rempart.runtime import BankingOutcome, Runtime
from rempart.scanning.models import ItemMatch, ScannedItem
from rempart.store.db import MAX_INT, RowId
from rempart.signals import DEFAULT_THRESHOLD

router = APIRouter(prefix="/v1", tags=["banks"], responses=AUTHENTICATED, route_class=ApiRoute)
#: a hash list sent to the import route: spooled to a temporary file as it arrives (memory
#: holds one piece), then imported in batches; 10M PDQ hashes in te format are about 700 MB
MAX_IMPORT_BYTES = 4 * 1024**3
_SPOOL_IN_MEMORY = 8 * 1024 * 1024
#: up to 100,000 entries with their metadata
MAX_ENTRIES_BODY = 64 * 1024 * 1024


class BankIn(BaseModel):
    name: str = Field(max_length=100)
    source: str = "local"
    legal_basis: str = Field("", max_length=2000)
    threshold: int = Field(DEFAULT_THRESHOLD, ge=0, le=256)
    action: Literal["block", "review"] = "block"
    safelist: bool = False
    enabled: bool = True
    feature_action: Literal["block", "review"] = Field(
        "review", description="what a match by local features alone (signal orb) does")


class BankPatch(BaseModel):
    source: str | None = None
    legal_basis: str | None = Field(None, max_length=2000)
    threshold: int | None = Field(None, ge=0, le=256)
    action: Literal["block", "review"] | None = None
    enabled: bool | None = None
    feature_action: Literal["block", "review"] | None = None


class EntryIn(BaseModel):
    type: str = Field(max_length=16)
    value: str = Field(max_length=128)
    external_id: str | None = Field(None, max_length=200)
    metadata: dict[str, str] = Field(default_factory=dict, max_length=50)


class EntriesIn(BaseModel):
    entries: list[EntryIn] = Field(min_length=1, max_length=100_000)


class DisableIn(BaseModel):
    until: dt.datetime | None = None
    reason: str = Field("", max_length=2000)


def bank_json(bank: Bank, active: int | None = None) -> dict:
    out = {"name": bank.name, "source": bank.source, "legal_basis": bank.legal_basis,
           "threshold": bank.threshold, "action": bank.action, "safelist": bank.is_safelist,
           "enabled": bank.enabled, "created_at": bank.created_at.isoformat(),
           "feature_action": bank.feature_action}
    if active is not None:
        out["active_entries"] = active
    return out


def entry_json(e: BankEntry) -> dict:
    return {"id": e.id, "type": e.signal_type, "value": e.value, "external_id": e.external_id,
            "metadata": e.meta or {}, "added_at": e.added_at.isoformat(), "added_by": e.added_by,
            "disabled": e.disabled_at is not None,
            "disabled_until": e.disabled_until.isoformat() if e.disabled_until else None,
            "disabled_reason": e.disabled_reason, "removed": e.removed_at is not None,
            "frames": len(e.frames)}


def banking_json(outcome: BankingOutcome) -> dict:
    r = outcome.result
    return {"added": r.n_added, "already_present": r.already_present, "notes": r.notes,
            "entries": r.added_ids(),
            "retro_matches": [m.to_json() for m in outcome.retro],
            "retro_job": outcome.retro_job}


def _utc(at: dt.datetime | None) -> dt.datetime | None:
    if at is not None and at.tzinfo is not None:
        at = at.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return at


@router.get("/banks", response_model=list[schemas.BankListed])
def list_banks(runtime: Runtime = Depends(get_runtime),
               _=Depends(require(Permission.BANKS_READ))) -> list[dict]:
    with runtime.db.session() as s:
        return [bank_json(b, n) for b, n in banks.list_banks(s)]


@router.post("/banks", status_code=201, response_model=schemas.Bank, responses=problems(400, 409))
def create_bank(body: BankIn, runtime: Runtime = Depends(get_runtime),
                _=Depends(require(Permission.BANKS_WRITE))) -> dict:
    with runtime.db.session() as s:
        bank = banks.create_bank(s, body.name, source=body.source, legal_basis=body.legal_basis,
                                 threshold=body.threshold, action=body.action,
                                 safelist=body.safelist, enabled=body.enabled,
                                 feature_action=body.feature_action)
        return bank_json(bank)


@router.get("/banks/{name}", response_model=schemas.BankListed, responses=problems(404))
def get_bank(name: str, runtime: Runtime = Depends(get_runtime),
             _=Depends(require(Permission.BANKS_READ))) -> dict:
    with runtime.db.session() as s:
        counts = dict((b.name, n) for b, n in banks.list_banks(s))
        return bank_json(banks.get_bank(s, name), counts.get(name, 0))


@router.patch("/banks/{name}", response_model=schemas.Bank, responses=problems(400, 404))
def update_bank(name: str, body: BankPatch, runtime: Runtime = Depends(get_runtime),
                _=Depends(require(Permission.BANKS_WRITE))) -> dict:
    with runtime.db.session() as s:
        return bank_json(banks.update_bank(s, name, **body.model_dump(exclude_none=True)))


@router.get("/banks/{name}/entries", response_model=schemas.EntriesPage, responses=problems(404))
def list_entries(name: str, offset: int = Query(0, ge=0, le=MAX_INT),
                 limit: int = Query(100, ge=1, le=1000),
                 runtime: Runtime = Depends(get_runtime),
                 _=Depends(require(Permission.BANKS_READ))) -> dict:
    with runtime.db.session() as s:
        bank = banks.get_bank(s, name)
        rows = s.scalars(select(BankEntry).where(BankEntry.bank_id == bank.id)
                         .order_by(BankEntry.id).offset(offset).limit(limit)).all()
        return {"bank": name, "offset": offset, "entries": [entry_json(e) for e in rows]}


@router.post("/banks/{name}/entries", response_model=schemas.Banking,
             responses=problems(400, 404, 413))
@max_body(MAX_ENTRIES_BODY)
def add_entries(name: str, body: EntriesIn, runtime: Runtime = Depends(get_runtime),
                who: Principal = Depends(require(Permission.BANKS_WRITE))) -> dict:
    entries = [banks.NewEntry(e.type, e.value, e.external_id, e.metadata) for e in body.entries]
    return banking_json(runtime.add_entries(name, entries, added_by=who.label))


@router.post("/banks/{name}/media", response_model=schemas.Banking,
             responses=problems(400, 404, 413, 415, 503))
@max_body(UPLOAD_BODY_BYTES)
async def bank_media(name: str, request: Request, runtime: Runtime = Depends(get_runtime),
                     who: Principal = Depends(require(Permission.BANKS_WRITE))) -> dict:
    """Bank a confirmed item: its hashes go into the bank, so re-uploads match from now on."""
    data, fields = await read_upload(request, runtime.max_upload_bytes)
    external_id = fields.get("external_id") or None
    if external_id is not None and len(external_id) > 200:
        raise InvalidInput("external_id is longer than 200 characters")
    fp = await run_in_threadpool(runtime.fingerprint, data, exact=True)
    outcome = await run_in_threadpool(runtime.bank_media, name, fp, external_id=external_id,
                                      added_by=who.label)
    return banking_json(outcome)


@router.post("/banks/{name}/import", response_model=schemas.Banking,
             responses=problems(400, 404, 413))
@max_body(MAX_IMPORT_BYTES)
async def import_list(name: str, request: Request,
                      format: Literal["te", "csv", "ncmec"] = Query(...),
                      runtime: Runtime = Depends(get_runtime),
                      who: Principal = Depends(require(Permission.BANKS_WRITE))) -> dict:
    """Import a hash list (the raw file as the body). All or nothing, with line-numbered errors.
    The body is spooled to a temporary file as it arrives, then imported in batches."""
    with tempfile.SpooledTemporaryFile(_SPOOL_IN_MEMORY) as spool:
        async for piece in request.stream():
            spool.write(piece)  # a local file: cheap enough for the event loop
        spool.seek(0)
        outcome = await run_in_threadpool(runtime.import_list, name, spool, format,
                                          added_by=who.label)
    return banking_json(outcome)


@router.get("/banks/{name}/export", response_class=Response,
            responses={200: EXPORT_CONTENT, **problems(404)})
def export_bank(name: str, format: Literal["te", "csv", "ncmec"] = Query("te"),
                runtime: Runtime = Depends(get_runtime),
                _=Depends(require(Permission.BANKS_EXPORT))) -> Response:
    def pieces() -> Iterator[bytes]:
        with runtime.db.session() as s:
            yield from banks.export_stream(s, banks.get_bank(s, name), format)

    with runtime.db.session() as s:
        banks.get_bank(s, name)  # a missing bank is a 404 before the answer starts
    media = {"te": "text/plain", "csv": "text/csv", "ncmec": "application/xml"}[format]
    return StreamingResponse(iterate_in_threadpool(pieces()), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}.{format if format != "ncmec" else "xml"}"',
        "Cache-Control": "no-store"})


@router.post("/entries/{entry_id}/disable", response_model=schemas.Entry,
             responses=problems(400, 404, 409))
def disable_entry(entry_id: RowId, body: DisableIn, runtime: Runtime = Depends(get_runtime),
                  _=Depends(require(Permission.BANKS_WRITE))) -> dict:
    with runtime.db.session() as s:
        return entry_json(banks.disable_entry(s, entry_id, until=_utc(body.until),
                                              reason=body.reason))


@router.post("/entries/{entry_id}/enable", response_model=schemas.EntryEnabled,
             responses=problems(404, 409))
def enable_entry(entry_id: RowId, runtime: Runtime = Depends(get_runtime),
                 _=Depends(require(Permission.BANKS_WRITE))) -> dict:
    """Let a disabled entry match again; past uploads it now matches are reported."""
    outcome = runtime.enable_entry(entry_id)
    with runtime.db.session() as s:
        return {**entry_json(banks.get_entry(s, entry_id)),
                "retro_matches": [m.to_json() for m in outcome.retro]}


@router.delete("/entries/{entry_id}", response_model=schemas.Entry, responses=problems(404, 409))
def remove_entry(entry_id: RowId, runtime: Runtime = Depends(get_runtime),
                 _=Depends(require(Permission.BANKS_WRITE))) -> dict:
    with runtime.db.session() as s:
        return entry_json(banks.remove_entry(s, entry_id))


@router.get("/retro-scans/{job_id}", response_model=schemas.RetroScanJob, responses=problems(404))
def get_retro_scan(job_id: RowId, runtime: Runtime = Depends(get_runtime),
                   _=Depends(require(Permission.BANKS_READ))) -> dict:
    """How far a big import's background retro-scan went (its matches: ``/v1/matches``)."""
    with runtime.db.session() as s:
        return retro_jobs.job_json(*retro_jobs.get_job(s, job_id))


@router.get("/matches", response_model=schemas.MatchesPage)
def list_matches(found_by: Literal["upload", "retro"] | None = None,
                 offset: int = Query(0, ge=0, le=MAX_INT),
                 limit: int = Query(100, ge=1, le=1000),
                 runtime: Runtime = Depends(get_runtime),
                 _=Depends(require(Permission.MATCHES_READ))) -> dict:
    """Matches, newest first; ``found_by=retro`` lists what retro-scans found in past uploads."""
    with runtime.db.session() as s:
        q = (select(ItemMatch, ScannedItem, Bank)
             .join(ScannedItem, ScannedItem.id == ItemMatch.item_id)
             .join(Bank, Bank.id == ItemMatch.bank_id)
             .order_by(ItemMatch.id.desc()).offset(offset).limit(limit))
        if found_by:
            q = q.where(ItemMatch.found_by == found_by)
        return {"matches": [
            {"item": it.id, "account": it.account, "space": it.space, "message": it.message,
             "bank": b.name, "entry": m.entry_id, "signal": m.signal_type,
             "distance": m.distance, "variant": m.variant, "status": m.status,
             "found_by": m.found_by, "found_at": m.found_at.isoformat()}
            for m, it, b in s.execute(q)]}
