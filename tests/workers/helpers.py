"""Shared by the scale-out tests: benign pictures, a block bank holding some, counts of effects."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from rempart.authz import Actor, Role
from rempart.banks import service as banks
from rempart.moderation.models import Case, OutboxMessage
from rempart.moderation.outbox import add_endpoint
from rempart.scanning.models import ScannedItem
from rempart.signals import fingerprint
from rempart.transparency.db.models import LogLeaf
from rempart.workers.models import ScanRequest
from tests.testdata import TESTDATA

PICTURES = sorted((TESTDATA / "images" / "pdq" / "labelme-subset").glob("*"))
ADMIN = Actor(None, "test-admin", Role.ADMIN)


def pictures(n: int) -> list[bytes]:
    return [p.read_bytes() for p in PICTURES[:n]]


def bank_pictures(rt, name: str, data: list[bytes]) -> None:
    with rt.db.session() as s:
        banks.create_bank(s, name)
    for item in data:
        rt.bank_media(name, fingerprint(item))


def add_webhook(rt, url: str = "http://127.0.0.1:9/hook") -> str:
    with rt.db.session() as s:
        return add_endpoint(s, ADMIN, "platform", url, secret="s" * 32)[1]


def effects(db) -> dict[str, int]:
    """How many of each effect of scanning exist."""
    with db.session() as s:
        count = lambda model: s.scalar(select(func.count()).select_from(model))  # noqa: E731
        return {"items": count(ScannedItem), "cases": count(Case), "leaves": count(LogLeaf),
                "webhooks": s.scalar(select(func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.event.like("scan.%"))),
                "done": s.scalar(select(func.count()).select_from(ScanRequest)
                                 .where(ScanRequest.status == "done"))}
