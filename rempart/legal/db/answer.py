"""Answering an order: collect the authorised records and media, write a signed, numbered
delivery (``rempart.legal.package``), record it and the clock's ``produced`` event.

What is collected, for the targets (accounts and spaces the platform knows) and the time range:

- ``subscriber``: per account, what the platform holds of it here (first and last activity,
  number of items);
- ``ip_identification``: nothing is held by rempart (the platform's own systems hold it); the
  record says so;
- ``traffic``: per item, its metadata (when, where, which message, kind, format, size);
- ``content``: the original media files kept as evidence, byte for byte, and their hashes.

The chain of custody is read from the audit log (who received, verified, approved, collected,
packaged and signed, when). The transparency receipt is the order's leaf's tlog-proof.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.audit.models import AuditEntry
from rempart.authz import Actor, Permission as P, require
from rempart.errors import Conflict
from rempart.legal import (
    CustodyAction, CustodyEvent, DataCategory, EventKind, MediaFile, Order, OrderKind, TargetType,
    build_package,
)
from rempart.legal._common import format_time
from rempart.legal.db import emergency
from rempart.legal.db.models import Delivery, LegalOrder
from rempart.legal.db.orders import add_event, loaded
from rempart.scanning.models import ItemSignal, ScannedItem
from rempart.store.db import utcnow

#: audit events of an order, as chain-of-custody actions
CUSTODY = {
    AuditEvent.ORDER_RECEIVED.value: CustodyAction.RECEIVED,
    AuditEvent.CALLBACK_RECORDED.value: CustodyAction.VERIFIED,
    AuditEvent.EMERGENCY_APPROVED.value: CustodyAction.APPROVED,
    AuditEvent.RECORDS_COLLECTED.value: CustodyAction.COLLECTED,
    AuditEvent.PACKAGE_SIGNED.value: CustodyAction.SIGNED,
}


@dataclass(frozen=True)
class Collected:
    records: dict[str, object]
    media: list[MediaFile]
    items: int


def _items(session: Session, order: Order) -> list[ScannedItem]:
    accounts = [t.value for t in order.targets if t.type is TargetType.ACCOUNT]
    spaces = [t.value for t in order.targets if t.type is TargetType.SPACE]
    if not accounts and not spaces:
        return []
    q = select(ScannedItem).where(or_(ScannedItem.account.in_(accounts), ScannedItem.space.in_(spaces)))
    if order.time_range is not None:
        q = q.where(ScannedItem.scanned_at >= order.time_range.start, ScannedItem.scanned_at < order.time_range.end)
    return list(session.scalars(q.order_by(ScannedItem.id)))


def collect(session: Session, order: Order, media_file: Callable[[str], Path | None]) -> Collected:
    """The records of the authorised categories, and the media files for ``content``."""
    items = _items(session, order)
    cats = set(order.categories)
    records: dict[str, object] = {}
    if DataCategory.SUBSCRIBER in cats:
        subs = []
        for t in order.targets:
            if t.type is not TargetType.ACCOUNT:
                continue
            mine = [i for i in items if i.account == t.value]
            subs.append({"account": t.value, "items": len(mine),
                         "first_activity": format_time(mine[0].scanned_at) if mine else None,
                         "last_activity": format_time(mine[-1].scanned_at) if mine else None})
        records["subscriber"] = subs
    if DataCategory.IP_IDENTIFICATION in cats:
        records["ip_identification"] = {"held": False, "note": "rempart holds no IP data; the "
                                        "platform's own systems answer this category"}
    if DataCategory.TRAFFIC in cats:
        records["traffic"] = [{"item": i.id, "account": i.account, "space": i.space, "message": i.message,
                               "scanned_at": format_time(i.scanned_at),
                               "uploaded_at": format_time(i.uploaded_at) if i.uploaded_at else None,
                               "kind": i.kind, "format": i.media_format, "size": i.size_bytes} for i in items]
    media: list[MediaFile] = []
    if DataCategory.CONTENT in cats and items:
        shas = dict(session.execute(select(ItemSignal.item_id, ItemSignal.value).where(
            ItemSignal.item_id.in_([i.id for i in items]), ItemSignal.signal_type == "sha256",
            ItemSignal.variant == "original")).all())
        content = []
        for i in items:
            sha = shas.get(i.id)
            path = media_file(sha) if sha else None
            name = f"item-{i.id}.{(i.media_format or 'bin').lower()}"
            if path is not None:
                media.append(MediaFile(name, path))
            content.append({"item": i.id, "sha256": sha, "file": f"media/{name}" if path else None,
                            "held": path is not None})
        records["content"] = content
    return Collected(records, media, len(items))


def custody(session: Session, row: LegalOrder) -> list[CustodyEvent]:
    out = []
    for e in session.scalars(select(AuditEntry).where(AuditEntry.subject == f"order:{row.id}",
                                                      AuditEntry.event.in_(list(CUSTODY)))
                             .order_by(AuditEntry.at, AuditEntry.id)):
        out.append(CustodyEvent(e.at, e.actor, CUSTODY[e.event], "order" if e.event != AuditEvent.RECORDS_COLLECTED.value
                                else "package", json.dumps(e.detail, sort_keys=True)[:500]))
    return out


def deliveries_of(session: Session, order_id: int) -> list[Delivery]:
    return list(session.scalars(select(Delivery).where(Delivery.order_id == order_id).order_by(Delivery.number)))


def produce(session: Session, actor: Actor, row: LegalOrder, dest: Path, *, signer, receipt: Callable[[Session, int], bytes],
            media_file: Callable[[str], Path | None], now: dt.datetime | None = None) -> Delivery:
    """Write the next delivery answering ``row`` at ``dest`` (a .zip or a directory) and record it."""
    require(actor, P.LEGAL_DESK)
    now = now or utcnow()
    order = loaded(row)
    if order.kind is OrderKind.EPOC_PR:
        raise Conflict("a preservation order is answered by preserving, not by disclosing: wait "
                       "for the production order that follows it")
    if order.kind is OrderKind.EMERGENCY_REQUEST:
        missing = emergency.readiness(session, row).missing
        if missing:
            raise Conflict("not yet: this emergency request needs " + "; ".join(missing))
    if row.leaf_index is None:
        raise Conflict("the order has no transparency leaf to prove")
    got = collect(session, order, media_file)
    record(session, actor, AuditEvent.RECORDS_COLLECTED, subject=f"order:{row.id}",
           detail={"items": got.items, "media": len(got.media), "categories": sorted(got.records)}, at=now)
    session.flush()
    previous = deliveries_of(session, row.id)
    number = len(previous) + 1
    prev_digest = previous[-1].manifest_digest if previous else None
    events = custody(session, row) + [CustodyEvent(now, actor.label, CustodyAction.SIGNED, "package",
                                                   f"delivery {number}")]
    info = build_package(dest, order=order, delivery=number, previous=prev_digest, records=got.records,
                         media=got.media, custody=events, receipt=receipt(session, row.leaf_index),
                         signer=signer, created_at=now)
    d = Delivery(order_id=row.id, number=number, manifest_digest=info.manifest_digest,
                 previous_digest=prev_digest, files=len(info.files), path=str(dest),
                 created_by=actor.label, created_at=now)
    session.add(d)
    session.flush()
    record(session, actor, AuditEvent.PACKAGE_SIGNED, subject=f"order:{row.id}",
           detail={"delivery": number, "manifest": info.manifest_digest}, at=now)
    add_event(session, actor, row, EventKind.PRODUCED, note=f"delivery {number}", now=now)
    return d
