"""Receiving an order, its legal clock, and reading orders as each principal may.

``receive_order`` takes an officer's order with its attachments and either creates everything
in one transaction (the order, its clock, its preservation holds, its "do not inform" gags, its
transparency leaf, the audit entry) or raises before anything is written:

- ``OrderFormatError`` (422): the body is not a valid EPOC / EPOC-PR / emergency request
  (``rempart.legal.orders.parse_order``, every field named);
- ``OrderNotExecutable`` (422): the issuing authority is not the officer's agency, a target
  account or space is unknown to the platform, the time range lies outside what the platform
  holds for the targets, or the data categories are broader than the authority may order;
- ``AttachmentTooLarge`` (413), ``Conflict`` (409: the agency already sent this reference).

An order's clock is ``rempart.legal.clocks.replay`` over its stored events; ``add_event``
checks a new event with ``clocks.apply`` first, then keeps the holds in step with what the
clock requires (placed, moved, ended) and refreshes the order's cached status and deadline.
Officers see only their own agency's orders; anyone else's is "not found".
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, Role, require
from rempart.errors import Conflict, InvalidInput, NotFound, shown
from rempart.legal import (
    ClockSpec, ClockState, DataCategory, Event, EventKind, Form3Reason, Order, OrderKind, TargetType,
    apply, order_bytes, parse_order, replay,
)
from rempart.legal.config import LegalConfig
from rempart.legal.db.agencies import officer_agency
from rempart.legal.db.models import Agency, LegalOrder, OrderEvent
from rempart.legal.errors import AttachmentTooLarge, OrderNotExecutable
from rempart.legal.vocab import IDENTIFYING, JUDICIAL_COURTS, AuthorityKind
from rempart.moderation.gags import lift_gags, place_gag, release_withheld
from rempart.moderation.holds import end_hold, place_account_hold, set_hold_expiry
from rempart.moderation.models import Hold
from rempart.scanning.models import ScannedItem
from rempart.store.db import utcnow

#: which issuing-authority kinds each registered agency kind may send
AGENCY_ISSUERS = {
    "police": {AuthorityKind.POLICE, AuthorityKind.OTHER_COMPETENT_AUTHORITY},
    "prosecutor": {AuthorityKind.PROSECUTOR},
    "court": {AuthorityKind.JUDGE, AuthorityKind.COURT, AuthorityKind.INVESTIGATING_JUDGE},
}
#: what a voluntary emergency request may ask for (no court has authorised anything)
EMERGENCY_REQUEST_CATEGORIES = IDENTIFYING | {DataCategory.TRAFFIC}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    data: bytes


def decode_attachments(raw: Sequence[dict], config: LegalConfig) -> list[Attachment]:
    """Attachments as sent (``name``, ``content_type``, ``content_base64``), checked."""
    if len(raw) > config.max_attachments:
        raise InvalidInput(f"at most {config.max_attachments} attachments")
    out, names = [], set()
    for i, a in enumerate(raw):
        if not _NAME.fullmatch(a.get("name") or "") or a["name"] in names:
            raise InvalidInput(f"attachments[{i}].name: want a unique file name (letters, digits, . _ -)")
        names.add(a["name"])
        encoded = a.get("content_base64") or ""
        if len(encoded) * 3 // 4 > config.max_attachment_bytes + 3:
            raise AttachmentTooLarge(f"attachments[{i}] ({shown(a['name'])}) is larger than "
                                     f"{config.max_attachment_bytes} bytes")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(f"attachments[{i}].content_base64 is not base64") from None
        if len(data) > config.max_attachment_bytes:
            raise AttachmentTooLarge(f"attachments[{i}] ({shown(a['name'])}) is larger than "
                                     f"{config.max_attachment_bytes} bytes")
        out.append(Attachment(a["name"], str(a.get("content_type") or "application/octet-stream")[:100], data))
    return out


def loaded(row: LegalOrder) -> Order:
    return parse_order(row.body)


def spec_of(row: LegalOrder) -> ClockSpec:
    return ClockSpec.for_order(loaded(row), row.received_at)


def events_of(session: Session, order_id: int) -> list[Event]:
    rows = session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.seq))
    return [Event(EventKind(r.kind), r.at, tuple(Form3Reason(x) for x in r.reasons), r.actor, r.note)
            for r in rows]


def clock_of(session: Session, row: LegalOrder, now: dt.datetime | None = None) -> ClockState:
    """The clock at ``now`` (never before its last event: a clock is not read in its past)."""
    events = events_of(session, row.id)
    now = now or utcnow()
    if events and events[-1].at > now:
        now = events[-1].at
    return replay(spec_of(row), events, now)


#: the target types whose identifiers the platform's data held by rempart can be checked
#: against (the ledger of scanned items). rempart stores no username, email, phone or IP
#: address of the platform's users: such targets are accepted unchecked, and unless the
#: platform's own systems hold them the answer is a Form 3 with the reason ``data_not_held``.
HELD_TARGETS = {TargetType.ACCOUNT: ScannedItem.account, TargetType.SPACE: ScannedItem.space}


def _held(session: Session, t) -> tuple[dt.datetime | None, dt.datetime | None, int]:
    column = HELD_TARGETS[t.type]
    first, last, n = session.execute(select(func.min(ScannedItem.scanned_at), func.max(ScannedItem.scanned_at),
                                            func.count()).where(column == t.value)).one()
    return first, last, n


def target_coverage(session: Session, order: Order) -> list[dict]:
    """What the platform holds for each target, for the desk: ``held`` True (with the count and
    the time span of the items), False (unknown: refused at receipt), or None (rempart holds
    no identifiers of this type: ``data_not_held`` unless the platform's own systems do)."""
    out = []
    for t in order.targets:
        row = {"type": t.type.value, "value": t.value, "held": None, "count": 0, "first": None, "last": None}
        if t.type in HELD_TARGETS:
            first, last, n = _held(session, t)
            row.update(held=bool(n), count=n, first=first, last=last)
        out.append(row)
    return out


def _check_against_data(session: Session, order: Order, agency: Agency) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if order.issuing.country != agency.country:
        errors.append(("issuing_authority.country", f"{order.issuing.country} is not the country of "
                       f"your agency ({agency.country})"))
    if order.issuing.kind not in AGENCY_ISSUERS[agency.kind]:
        errors.append(("issuing_authority.kind", f"a {agency.kind} agency cannot issue as "
                       f"{order.issuing.kind.value}"))
    if order.kind is OrderKind.EMERGENCY_REQUEST:
        broader = [c.value for c in order.categories if c not in EMERGENCY_REQUEST_CATEGORIES]
        if broader:
            errors.append(("data_categories", f"{', '.join(broader)}: broader than a voluntary "
                           "emergency request may ask for; send an emergency EPOC validated by a court"))
    elif order.kind is OrderKind.EPOC and order.validating is None and order.issuing.kind not in JUDICIAL_COURTS:
        broader = [c.value for c in order.categories if c not in IDENTIFYING]
        if broader:
            errors.append(("data_categories", f"{', '.join(broader)}: broader than the categories "
                           f"a {order.issuing.kind.value} may authorise"))
    held: list[tuple[dt.datetime, dt.datetime]] = []
    for i, t in enumerate(order.targets):
        if t.type not in HELD_TARGETS:
            continue
        first, last, n = _held(session, t)
        if not n:
            errors.append((f"targets[{i}].value", f"unknown {t.type.value}: the platform holds no "
                           f"data for {shown(t.value)}; check the identifier"))
        else:
            held.append((first, last))
    if order.time_range is not None and held:
        first, last = min(h[0] for h in held), max(h[1] for h in held)
        if order.time_range.end < first or order.time_range.start > last:
            errors.append(("time_range", f"outside what the platform holds for these targets "
                           f"({first:%Y-%m-%dT%H:%M}Z to {last:%Y-%m-%dT%H:%M}Z)"))
    return errors


def accounts_of(order: Order) -> list[str]:
    return sorted({t.value for t in order.targets if t.type is TargetType.ACCOUNT})


def receive_order(session: Session, actor: Actor, body: object, attachments: Sequence[Attachment], *,
                  attachments_dir: Path, log_order: Callable[[Session, LegalOrder, Order], int] | None = None,
                  now: dt.datetime | None = None) -> LegalOrder:
    """Create an order sent by an officer (see the module docstring for what is refused)."""
    require(actor, P.ORDERS_SUBMIT)
    now = now or utcnow()
    agency = officer_agency(session, actor)
    order = parse_order(body, received_at=now)
    errors = _check_against_data(session, order, agency)
    if errors:
        raise OrderNotExecutable(errors)
    if session.scalar(select(LegalOrder.id).where(LegalOrder.agency_id == agency.id,
                                                  LegalOrder.reference == order.reference)):
        raise Conflict(f"your agency already sent order {shown(order.reference)}")
    raw = order_bytes(order)
    spec = ClockSpec.for_order(order, now)
    state = replay(spec, [], now)
    row = LegalOrder(agency_id=agency.id, officer_id=actor.user_id, kind=order.kind.value,
                     clock_kind=spec.kind.value, reference=order.reference, body=raw.decode(),
                     body_sha256=hashlib.sha256(raw).hexdigest(), received_at=now,
                     confidential=order.confidential, status=state.status.value, deadline=state.deadline)
    session.add(row)
    session.flush()
    record(session, actor, AuditEvent.ORDER_RECEIVED, subject=f"order:{row.id}",
           detail={"kind": row.kind, "clock": spec.kind.value, "attachments": len(attachments),
                   "sha256": row.body_sha256}, at=now)
    if order.confidential:
        for account in accounts_of(order):
            place_gag(session, actor, account, f"order:{row.id}", now)
    _sync_holds(session, actor, row, order, state, now)
    if log_order is not None:
        row.leaf_index = log_order(session, row, order)
    if attachments:  # last: once everything else of the order is written
        folder = attachments_dir / str(row.id)
        folder.mkdir(parents=True, exist_ok=True)
        for a in attachments:
            (folder / a.name).write_bytes(a.data)
    return row


def holds_of(session: Session, row: LegalOrder) -> list[Hold]:
    return list(session.scalars(select(Hold).where(Hold.reason == f"order:{row.id}").order_by(Hold.id)))


def _sync_holds(session: Session, actor: Actor, row: LegalOrder, order: Order, state: ClockState,
                now: dt.datetime) -> None:
    """Place, move or end the order's holds so that they are what its clock requires."""
    active = [h for h in holds_of(session, row) if h.released_at is None]
    if state.hold_required:
        held = {h.account for h in active}
        for account in accounts_of(order):
            if account not in held:
                hold = place_account_hold(session, actor, account, f"order:{row.id}",
                                          expires_at=state.hold_until, now=now)
                row.hold_id = row.hold_id or hold.id
        for h in active:
            set_hold_expiry(session, actor, h.id, state.hold_until)
    else:
        for h in active:
            end_hold(session, actor, h.id, f"order {row.id}: {state.status.value}")


def answer_clarification(session: Session, actor: Actor, row: LegalOrder, text: str, *,
                         now: dt.datetime | None = None) -> ClockState:
    """The issuing agency's officer answers a Form 3 request for clarification: the clock
    resumes (``clarification_received``, the answer as its note)."""
    require(actor, P.ORDERS_SUBMIT)
    if row.agency_id != officer_agency(session, actor).id:
        raise NotFound("order", row.id)
    if not text.strip():
        raise InvalidInput("write the clarification")
    return _add_event(session, actor, row, EventKind.CLARIFICATION_RECEIVED, (), text.strip(), now)


def add_event(session: Session, actor: Actor, row: LegalOrder, kind: EventKind, *,
              reasons: Sequence[Form3Reason] = (), note: str = "", now: dt.datetime | None = None) -> ClockState:
    """Record one clock event (checked against the rules first) and keep holds in step."""
    require(actor, P.LEGAL_DESK)
    return _add_event(session, actor, row, kind, reasons, note, now)


def _add_event(session: Session, actor: Actor, row: LegalOrder, kind: EventKind,
               reasons: Sequence[Form3Reason], note: str, now: dt.datetime | None) -> ClockState:
    now = now or utcnow()
    if len(note) > 4000:
        raise InvalidInput("a note is at most 4000 characters")
    events = events_of(session, row.id)
    event = Event(kind, now, tuple(reasons), actor.label, note)
    state = apply(spec_of(row), events, event, now)
    try:
        with session.begin_nested():  # (order, seq) is unique: of two concurrent events, one wins
            session.add(OrderEvent(order_id=row.id, seq=len(events) + 1, kind=kind.value, at=now,
                                   reasons=[r.value for r in reasons], actor=actor.label, note=note))
            session.flush()
    except IntegrityError:
        raise Conflict("the order's clock changed meanwhile: reload it and try again") from None
    row.status, row.deadline = state.status.value, state.deadline
    if row.answered_at is None and kind in (EventKind.PRODUCED, EventKind.DECLINED,
                                            EventKind.NON_EXECUTION_NOTIFIED):
        row.answered_at = now
    record(session, actor, AuditEvent.ORDER_EVENT, subject=f"order:{row.id}",
           detail={"event": kind.value, "reasons": [r.value for r in reasons]}, at=now)
    _sync_holds(session, actor, row, loaded(row), state, now)
    session.flush()
    return state


def refresh(session: Session, row: LegalOrder, now: dt.datetime | None = None) -> ClockState:
    """Re-fold the clock at ``now`` (time passes: a breach, an expiry) and update the cache."""
    state = clock_of(session, row, now)
    row.status, row.deadline = state.status.value, state.deadline
    return state


def lift_confidentiality(session: Session, actor: Actor, row: LegalOrder, now: dt.datetime | None = None) -> list[str]:
    """The authority lifted "do not inform the user" (or informed the person itself)."""
    require(actor, P.LEGAL_DESK)
    now = now or utcnow()
    if row.gag_lifted_at is None:
        row.gag_lifted_at = now
    freed = lift_gags(session, actor, f"order:{row.id}", now)
    release_withheld(session, now)
    return freed


def list_orders(session: Session, actor: Actor) -> list[LegalOrder]:
    """Every order for the legal desk; an officer's own agency's orders only."""
    q = select(LegalOrder).order_by(LegalOrder.received_at.desc(), LegalOrder.id.desc())
    if actor.role is Role.OFFICER:
        require(actor, P.ORDERS_READ_OWN)
        q = q.where(LegalOrder.agency_id == officer_agency(session, actor).id)
    else:
        require(actor, P.LEGAL_DESK)
    return list(session.scalars(q))


def get_order(session: Session, actor: Actor, order_id: int) -> LegalOrder:
    """One order; another agency's is "not found" for an officer (its existence is not shown)."""
    row = session.get(LegalOrder, order_id)
    if actor.role is Role.OFFICER:
        require(actor, P.ORDERS_READ_OWN)
        if row is None or row.agency_id != officer_agency(session, actor).id:
            raise NotFound("order", order_id)
    else:
        require(actor, P.LEGAL_DESK)
        if row is None:
            raise NotFound("order", order_id)
    return row
