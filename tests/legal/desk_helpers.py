"""Helpers of the legal desk's tests: an agency and its officer, platform items, orders."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib

from rempart.legal._common import format_time
from rempart.legal.db.agencies import add_agency, add_officer, get_agency
from rempart.people import actor_of
from rempart.scanning.service import ScanContext
from tests.factories import image_bytes
from tests.legal.legal_helpers import EMERGENCY_REQUEST, EPOC, EPOC_PR


def agency_with_officer(runtime, name="Parquet de Paris", country="FR", kind="prosecutor", officer="officer-1"):
    """(agency id, officer actor, officer API key, NewUser)"""
    with runtime.db.session() as s:
        try:
            agency = get_agency(s, name)
        except Exception:
            agency = add_agency(s, name, country, kind, email="duty@justice.example", phone="+33100000000")
        new = add_officer(s, officer, agency)
        return agency.id, actor_of(new.person.user), new.key, new.person


def items_of(runtime, account: str, n: int = 3, seed: int = 10, keep_media: bool = True) -> list[int]:
    """``n`` benign uploads by ``account``; their media kept as evidence (as flagged ones are)."""
    ids = []
    for i in range(n):
        data = image_bytes(seed + i)
        out = runtime.scan_media(data, ScanContext(account=account, space="group-1", message=f"m-{seed + i}"))
        if keep_media:
            runtime.evidence.put(hashlib.sha256(data).hexdigest(), data)
        ids.append(out.item_id)
    return ids


def window(now: dt.datetime) -> dict:
    return {"start": format_time(now - dt.timedelta(days=30)), "end": format_time(now + dt.timedelta(days=1))}


def epoc(now: dt.datetime, account="u-123", reference="PAR-2026-0042", emergency=False, **changes) -> dict:
    body = copy.deepcopy(EPOC)
    body.update(reference=reference, issued_at=format_time(now - dt.timedelta(minutes=30)),
                targets=[{"type": "account", "value": account}], time_range=window(now), related=[])
    if emergency:
        body.update(emergency=True, emergency_reason="A child is in immediate danger.")
    body.update(changes)
    return body


def epoc_pr(now: dt.datetime, account="u-123", reference="PAR-2026-0040") -> dict:
    body = copy.deepcopy(EPOC_PR)
    body.update(reference=reference, issued_at=format_time(now - dt.timedelta(minutes=30)),
                targets=[{"type": "account", "value": account}], time_range=window(now))
    for key in ("issuing_authority", "validating_authority"):
        body[key] = copy.deepcopy(EPOC[key])
    return body


def emergency_request(now: dt.datetime, account="u-123", reference="PAR-EMR-1") -> dict:
    body = copy.deepcopy(EMERGENCY_REQUEST)
    body.update(reference=reference, issued_at=format_time(now - dt.timedelta(minutes=10)),
                targets=[{"type": "account", "value": account}])
    body["issuing_authority"] = {"name": "Parquet de Paris", "country": "FR", "kind": "prosecutor"}
    return body
