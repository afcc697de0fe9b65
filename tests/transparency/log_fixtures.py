"""Shared helpers of the DB-backed log tests: a runtime with a pinned clock, blocked uploads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rempart.banks import service as banks
from rempart.runtime import Runtime
from rempart.scanning.service import ScanContext
from tests.factories import image_bytes

DAY1 = dt.date(2026, 11, 20)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour)


def set_day(rt: Runtime, day: dt.date, hour: int = 12) -> None:
    """Pin the log's clock (the day decisions are logged on and 'today' for close-day)."""
    rt.transparency.clock = lambda: at(day, hour)


@dataclass
class Uploads:
    """What the tests uploaded: the blocked files' bytes and the context strings that must stay private."""

    blocked: list[bytes] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)
    fingerprints: list = field(default_factory=list)


def bank_known(rt: Runtime, seeds=(1, 2)) -> None:
    with rt.db.session() as s:
        banks.create_bank(s, "known", source="ngo:test")
        banks.create_bank(s, "maybe", action="review")
    for seed in seeds:
        rt.bank_media("known", rt.fingerprint(image_bytes(seed)))
    rt.bank_media("maybe", rt.fingerprint(image_bytes(50)))


def upload(rt: Runtime, seed: int, edit: str, n: int, uploads: Uploads) -> str:
    data = image_bytes(seed, edit)
    ctx = ScanContext(account=f"acct-secret-{n}", space=f"space-secret-{n}", message=f"msg-secret-{n}")
    out = rt.scan_media(data, ctx)
    if out.verdict == "block":
        uploads.blocked.append(data)
        uploads.fingerprints.append(out.fingerprint)
    uploads.contexts += [ctx.account, ctx.space, ctx.message]
    return out.verdict
