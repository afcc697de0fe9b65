"""Taking notices in: organisations' batches (idempotent), the public form and on-device hashes.

Accepted means durable: a notice, its locations and fingerprints, its case, its transparency-log
leaf and the signed checkpoint its receipt is proved against are written in one transaction,
and the answer is given only after it commits. Bad input (``notices.read_*``, a location the
ledger does not know, a suspended organisation, a flood) raises before anything is written.

Idempotency (``submit_batch``): an organisation's ``Idempotency-Key`` is inserted with the
digest of the body as the batch's first row (unique per organisation and key). Of N identical
requests at once, one inserts it and creates the notices; the others fail on the unique key,
roll back, and answer what the first stored (same body) or 409 (another body).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.authz import Actor, system_actor
from rempart.errors import AuthError, Conflict, NotFound, PermissionDenied
from rempart.hotline.desk import Desk
from rempart.hotline.errors import InvalidNotice, TooManyNotices
from rempart.hotline.models import Batch, Location, Notice, NoticeHash, Organisation, RateWindow
from rempart.hotline.notices import NoticeIn, read_batch
from rempart.hotline.vocab import Channel, OrgKind, Status, case_source, source_kind
from rempart.matching.matcher import BankPolicy, EntryState, Matcher
from rempart.moderation import FlaggedItem, NewCase, open_case
from rempart.moderation.models import Case
from rempart.scanning.models import ScannedItem
from rempart.scanning.retro import ledger_candidates
from rempart.signals.pdq import DEFAULT_THRESHOLD
from rempart.store.db import insert_missing, utcnow
from rempart.transparency.db.receipts import make_receipt
from rempart.transparency.dsa import LEAF_CATEGORY

RATE_WINDOW = dt.timedelta(hours=1)
RECEIPT_PREFIX = "rc_"
INTAKE = system_actor("hotline")


@dataclass(frozen=True)
class Accepted:
    notice: Notice
    receipt: dict
    #: the receipt code a public reporter follows the notice with (shown once; None for orgs)
    code: str | None = None

    def to_json(self) -> dict:
        return {"id": self.notice.id, "status": self.notice.status, "receipt": self.receipt}


def canonical_digest(body: object) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


# -- organisations' batches -------------------------------------------------------------------

def submit_batch(desk: Desk, org_id: int, idem_key: str | None, body: object) -> tuple[int, dict]:
    """``POST /v1/notices``: (HTTP status, answer). 201 for new notices; with an
    ``Idempotency-Key`` already used, 200 and the same answer for the same body, 409 otherwise."""
    if idem_key is not None and not 1 <= len(idem_key) <= 200:
        raise InvalidNotice("Idempotency-Key", "1 to 200 characters")
    body_sha = canonical_digest(body)
    if idem_key is not None:
        replay = _replay(desk, org_id, idem_key, body_sha)
        if replay is not None:
            return replay
    try:
        with desk.db.session() as s:
            org = _live_org(s, org_id)
            notices = read_batch(body, desk.moderation().taxonomy.keys(), desk.config.message_link,
                                 max_batch=desk.config.max_batch)
            take_rate(s, f"org:{org.id}", len(notices), desk.config.org_notices_per_hour,
                       "notices")
            batch = None
            if idem_key is not None:
                batch = Batch(org_id=org.id, idem_key=idem_key, body_sha256=body_sha, response={})
                s.add(batch)
                s.flush()  # the unique key: a concurrent twin fails here, or at its commit
            taken = [accept(s, desk, n, org, Channel.API, f"notices[{i}]",
                            batch_id=batch.id if batch else None)
                     for i, n in enumerate(notices)]
            answer = {"notices": [a.to_json() for a in with_receipts(s, desk, taken)]}
            if batch is not None:
                batch.response = answer
        return 201, answer
    except IntegrityError:
        if idem_key is None:
            raise
        replay = _replay(desk, org_id, idem_key, body_sha)
        if replay is None:
            raise
        return replay


def _replay(desk: Desk, org_id: int, idem_key: str, body_sha: str) -> tuple[int, dict] | None:
    with desk.db.session() as s:
        batch = s.scalar(select(Batch).where(Batch.org_id == org_id, Batch.idem_key == idem_key))
        if batch is None:
            return None
        if batch.body_sha256 != body_sha:
            raise Conflict("this Idempotency-Key was used with another body")
        return 200, batch.response


def _live_org(session: Session, org_id: int) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise AuthError("unknown organisation")
    if org.suspended_at is not None:
        raise PermissionDenied("this organisation's notices are suspended (DSA Art. 22(6)); "
                               "contact the platform")
    return org


def take_rate(session: Session, source: str, n: int, limit: int, field: str,
               now: dt.datetime | None = None) -> None:
    """Count ``n`` submissions of ``source`` in its window, or raise ``TooManyNotices``: one
    conditional UPDATE, so parallel requests never pass the limit together."""
    now = now or utcnow()
    insert_missing(session, RateWindow, source=source, window_start=now, used=0)
    session.execute(update(RateWindow).where(RateWindow.source == source,
                                             RateWindow.window_start <= now - RATE_WINDOW)
                    .values(window_start=now, used=0).execution_options(synchronize_session=False))
    taken = session.execute(update(RateWindow)
                            .where(RateWindow.source == source, RateWindow.used + n <= limit)
                            .values(used=RateWindow.used + n)
                            .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        start = session.scalar(select(RateWindow.window_start).where(RateWindow.source == source))
        wait = max(1, int((start + RATE_WINDOW - now).total_seconds()))
        raise TooManyNotices(field, f"more than {limit} per hour from this source; nothing was "
                                    f"accepted from this request", wait)


# -- the public ---------------------------------------------------------------------------------

def notice_by_code(session: Session, code: str) -> Notice:
    """The notice a receipt code follows (``NotFound`` for any other code)."""
    digest = hashlib.sha256((code or "").strip().encode()).hexdigest()
    notice = session.scalar(select(Notice).where(Notice.receipt_sha256 == digest))
    if notice is None:
        raise NotFound("report with this receipt code", "")
    return notice


# -- accepting one notice -------------------------------------------------------------------

def accept(session: Session, desk: Desk, n: NoticeIn, org: Organisation | None,
            channel: Channel, where: str, batch_id: int | None = None) -> Accepted:
    """Take one notice in (its rows, case and log leaf); ``with_receipts`` then proves it."""
    now = utcnow()
    org_kind = OrgKind(org.kind) if org is not None else None
    locations = _resolve(session, n, where)
    code = None if org is not None else RECEIPT_PREFIX + secrets.token_urlsafe(18)
    notice = Notice(org_id=org.id if org else None, batch_id=batch_id, channel=channel.value,
                    source_kind=source_kind(channel, org_kind), reference=n.reference,
                    category=n.category, explanation=n.explanation, good_faith=n.good_faith,
                    contact=n.contact, classification=n.classification,
                    status=Status.RECEIVED.value, digest=n.digest(), received_at=now,
                    receipt_sha256=hashlib.sha256(code.encode()).hexdigest() if code else None)
    session.add(notice)
    session.flush()
    for loc, item_id in locations:
        session.add(Location(notice_id=notice.id, account=loc.account, space=loc.space,
                             message=loc.message, item_id=item_id))
    hashes = [NoticeHash(notice_id=notice.id, signal_type=h.type, value=h.value)
              for h in n.hashes]
    session.add_all(hashes)
    session.flush()
    if hashes:
        matched = sorted(ledger_matches(session, [(h.signal_type, h.value) for h in hashes]))
        for h in hashes:
            h.matched_items = matched
    notice.case_id = _open_case(session, desk, notice, org_kind, locations, hashes).id
    policy = desk.moderation().taxonomy.get(n.category)
    notice.leaf_index = desk.log.record_notice(
        session, {"event": "received", "source": notice.source_kind,
                  "category": LEAF_CATEGORY.get(policy.dsa_category, "other"),
                  "outcome": "pending", "time_to_action": "none"},
        notice.digest, ("notice", notice.id), event=f"notice:{notice.id}:received")
    return Accepted(notice, {}, code)


def with_receipts(session: Session, desk: Desk, taken: list[Accepted]) -> list[Accepted]:
    """Each accepted notice with its receipt, proved against one checkpoint signed after all
    of them were appended (in the same transaction)."""
    desk.log.sign_checkpoint(session)
    return [Accepted(a.notice, {"received_at": a.notice.received_at.isoformat(),
                                "digest": a.notice.digest,
                                **make_receipt(session, desk.log, a.notice.leaf_index)}, a.code)
            for a in taken]


def _resolve(session: Session, n: NoticeIn, where: str) -> list[tuple[object, int | None]]:
    """Each location against the scan ledger: a message names its items; an account or space
    alone must have been seen. ``InvalidNotice`` for one the platform has never seen."""
    out: list[tuple[object, int | None]] = []
    for i, loc in enumerate(n.locations):
        q = select(ScannedItem.id)
        for column, value in ((ScannedItem.account, loc.account), (ScannedItem.space, loc.space),
                              (ScannedItem.message, loc.message)):
            if value is not None:
                q = q.where(column == value)
        if loc.message is not None:
            ids = list(session.scalars(q.order_by(ScannedItem.id).limit(50)))
            if not ids:
                raise InvalidNotice(f"{where}.locations[{i}]", "no such message on the platform")
            out += [(loc, item_id) for item_id in ids]
        else:
            if session.scalar(q.limit(1)) is None:
                raise InvalidNotice(f"{where}.locations[{i}]",
                                    "no such account or space on the platform")
            out.append((loc, None))
    return out


def ledger_matches(session: Session, hashes: list[tuple[str, str]]) -> set[int]:
    """Ledger items a set of (not yet banked) fingerprints would match, at the default PDQ
    threshold: what a reviewer sees, blurred, before confirming them."""
    matcher = Matcher()
    matcher.put_bank(BankPolicy(-1, "pending", DEFAULT_THRESHOLD, "review", False, True))
    matcher.put_entries(EntryState(-(i + 1), -1, t, v) for i, (t, v) in enumerate(hashes))
    return ledger_candidates(session, matcher)


def _open_case(session: Session, desk: Desk, notice: Notice, org_kind: OrgKind | None,
               locations: list[tuple[object, int | None]], hashes: list[NoticeHash]) -> Case:
    """Join the live case about the same account (whatever brought it), or open one."""
    config = desk.moderation()
    account = next((loc.account for loc, _ in locations if loc.account), None)
    space = next((loc.space for loc, _ in locations if loc.space), None)
    subject = None
    if account is not None:
        subject = session.scalar(select(Case.open_key).where(Case.account == account,
                                                             Case.open_key.is_not(None)).limit(1))
        subject = subject or f"notice:account:{account}"
    elif space is not None:
        subject = f"notice:space:{space}"
    else:
        subject = f"notice:{notice.id}"
    items = [FlaggedItem(item_id=item_id, verdict="notice") for _, item_id in locations
             if item_id is not None]
    items += [FlaggedItem(external_ref=f"notice:{notice.id}:{loc.account or ''}/{loc.space or ''}",
                          verdict="notice") for loc, item_id in locations if item_id is None]
    items += [FlaggedItem(item_id=i, verdict="notice-hash") for i in
              sorted({i for h in hashes for i in h.matched_items})]
    items += [FlaggedItem(external_ref=f"notice:{notice.id}:hash:{h.id}", verdict="pending")
              for h in hashes]
    policy = config.taxonomy.get(notice.category)
    new = NewCase(source=case_source(org_kind), subject=subject,
                  title=f"Notice {notice.id}: {policy.title}", account=account, space=space,
                  items=tuple(items), has_media=any(i.item_id is not None for i in items),
                  child_safety=policy.child_safety, detail={"notice": notice.id})
    return open_case(session, INTAKE, new, config).case


def actor_for_org(actor: Actor) -> int:
    """The organisation an analyst acts for (``PermissionDenied`` for anyone else)."""
    if actor.org_id is None:
        raise PermissionDenied(f"{actor.label} acts for no organisation")
    return actor.org_id
