"""Organisations: creating them and their keys, analysts, suspension (DSA Art. 22(6)), their
webhook endpoints, and what an organisation may read: its own notices and statistics, never
another's (another organisation's notice is ``NotFound``, exactly like one that does not exist).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rempart.api.models import ApiToken
from rempart.api.permissions import Scope
from rempart.api.tokens import issue_token
from rempart.audit import AuditEvent, record
from rempart.authz import Actor, Permission as P, Role, require
from rempart.errors import Conflict, InvalidInput, NotFound, shown
from rempart.hotline.models import Notice, Organisation
from rempart.hotline.stats import OrgStats, org_stats
from rempart.hotline.vocab import OrgKind, Status
from rempart.moderation.models import Case, WebhookEndpoint
from rempart.moderation.outbox import add_endpoint
from rempart.moderation.vocab import CaseStatus
from rempart.people import NewUser, bootstrap_user
from rempart.store.db import utcnow

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.&'()-]{1,99}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class NewOrg:
    org: Organisation
    key: str  # the API key, shown once


def create_org(session: Session, name: str, kind: str, country: str | None = None) -> NewOrg:
    """An organisation and its first API key (scope ``reporter``), from the operator's shell."""
    name = (name or "").strip()
    if not NAME.match(name):
        raise InvalidInput("an organisation's name is 2-100 letters, digits, spaces and _.&'()-")
    try:
        org_kind = OrgKind(kind)
    except ValueError:
        raise InvalidInput(f"kind is one of {', '.join(k.value for k in OrgKind)}") from None
    if country is not None and not COUNTRY.match(country.strip().upper()):
        raise InvalidInput("country is a two-letter ISO 3166 code")
    if session.scalar(select(Organisation.id).where(Organisation.name == name)):
        raise Conflict(f"organisation {shown(name)} already exists")
    org = Organisation(name=name, kind=org_kind.value,
                       country=country.strip().upper() if country else None)
    session.add(org)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"organisation {shown(name)} already exists") from None
    record(session, None, AuditEvent.ORG_CREATED, actor_label="system:cli",
           subject=f"org:{org.id}", detail={"name": name, "kind": org_kind.value})
    return NewOrg(org, new_key(session, org))


def new_key(session: Session, org: Organisation) -> str:
    """Another API key for ``org`` (scope ``reporter``); the secret is shown once."""
    row, secret = issue_token(session, f"org:{org.name}", frozenset({Scope.REPORTER}), org_id=org.id)
    record(session, None, AuditEvent.ORG_KEY_ISSUED, actor_label="system:cli",
           subject=f"org:{org.id}", detail={"token": row.id})
    return secret


def revoke_keys(session: Session, org: Organisation) -> int:
    """Revoke every live key of ``org``; how many were revoked."""
    n = session.execute(update(ApiToken).where(ApiToken.org_id == org.id,
                                               ApiToken.revoked_at.is_(None))
                        .values(revoked_at=utcnow())
                        .execution_options(synchronize_session=False)).rowcount
    record(session, None, AuditEvent.ORG_KEY_REVOKED, actor_label="system:cli",
           subject=f"org:{org.id}", detail={"revoked": n})
    return n


def get_org(session: Session, name_or_id: str | int) -> Organisation:
    q = select(Organisation)
    if isinstance(name_or_id, int) or str(name_or_id).isdigit():
        org = session.get(Organisation, int(name_or_id))
    else:
        org = session.scalar(q.where(Organisation.name == str(name_or_id).strip()))
    if org is None:
        raise NotFound("organisation", name_or_id)
    return org


def list_orgs(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


def suspend(session: Session, actor: Actor, org: Organisation, reason: str) -> bool:
    """Suspend ``org``'s notices (Art. 22(6): after a warning, for a reasonable time): its keys
    and analysts are refused new notices until ``reinstate``. True if this call suspended it."""
    require(actor, P.ORGS_SUSPEND)
    if not (reason or "").strip():
        raise InvalidInput("a suspension states its reason")
    done = session.execute(update(Organisation).where(Organisation.id == org.id,
                                                      Organisation.suspended_at.is_(None))
                           .values(suspended_at=utcnow(), suspended_reason=reason.strip()[:2000])
                           .execution_options(synchronize_session=False)).rowcount
    session.refresh(org)
    record(session, actor, AuditEvent.ORG_SUSPENDED, subject=f"org:{org.id}",
           detail={"reason": org.suspended_reason, "changed": done == 1})
    return done == 1


def reinstate(session: Session, actor: Actor, org: Organisation) -> bool:
    require(actor, P.ORGS_SUSPEND)
    done = session.execute(update(Organisation).where(Organisation.id == org.id,
                                                      Organisation.suspended_at.is_not(None))
                           .values(suspended_at=None, suspended_reason="")
                           .execution_options(synchronize_session=False)).rowcount
    session.refresh(org)
    record(session, actor, AuditEvent.ORG_REINSTATED, subject=f"org:{org.id}",
           detail={"changed": done == 1})
    return done == 1


def add_analyst(session: Session, org: Organisation, username: str) -> NewUser:
    """A named analyst of ``org`` (role ``analyst``: the portal only), from the operator's shell."""
    return bootstrap_user(session, username, Role.ANALYST, org_id=org.id)


def set_endpoint(session: Session, actor: Actor, org: Organisation, url: str
                 ) -> tuple[WebhookEndpoint, str]:
    """The organisation's webhook endpoint for its notices' outcomes (the previous one stops);
    returns it and its signing secret, shown once."""
    for old in session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.org_id == org.id,
                                                             WebhookEndpoint.enabled.is_(True))):
        old.enabled = False
    n = session.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.org_id == org.id)
                       .order_by(WebhookEndpoint.id.desc()).limit(1)) or 0
    return add_endpoint(session, actor, f"org-{org.id}-{n + 1}", url, org_id=org.id)


def endpoints_of(session: Session, org_id: int) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.org_id == org_id)
                                .order_by(WebhookEndpoint.id.desc())))


# -- what an organisation reads ---------------------------------------------------------------

def own_notice(session: Session, org_id: int, notice_id: int) -> Notice:
    """Notice ``notice_id`` if it is ``org_id``'s; ``NotFound`` otherwise (no hint either way)."""
    notice = session.get(Notice, notice_id)
    if notice is None or notice.org_id is None or notice.org_id != org_id:
        raise NotFound("notice", notice_id)
    return notice


def own_notices(session: Session, org_id: int, limit: int = 200) -> list[Notice]:
    return list(session.scalars(select(Notice).where(Notice.org_id == org_id)
                                .order_by(Notice.id.desc()).limit(limit)))


def status_of(session: Session, notice: Notice) -> str:
    """received -> in_review (a reviewer has it, or a decision waits) -> the stored outcome."""
    if notice.status != Status.RECEIVED.value or notice.case_id is None:
        return notice.status
    case = session.get(Case, notice.case_id)
    if case is not None and (case.claimed_by is not None or case.status != CaseStatus.OPEN.value):
        return Status.IN_REVIEW.value
    return notice.status


def notice_json(session: Session, notice: Notice) -> dict:
    """A notice as its sender sees it (the API, the portal, the public status page)."""
    iso = lambda t: t.isoformat() if t else None  # noqa: E731
    return {"id": notice.id, "reference": notice.reference, "category": notice.category,
            "status": status_of(session, notice), "received_at": iso(notice.received_at),
            "decided_at": iso(notice.decided_at), "removed_at": iso(notice.removed_at),
            "banked": notice.banked, "referred": notice.referred, "digest": notice.digest,
            "log_index": notice.leaf_index}


def stats_of(session: Session, org_id: int) -> OrgStats:
    return org_stats(session.execute(select(Notice.status, Notice.received_at, Notice.decided_at)
                                     .where(Notice.org_id == org_id)).all())


def all_stats(session: Session, actor: Actor) -> list[tuple[Organisation, OrgStats]]:
    """Every organisation's statistics, for leads (``ORGS_STATS``)."""
    require(actor, P.ORGS_STATS)
    return [(org, stats_of(session, org.id)) for org in list_orgs(session)]


def notices_of_case(session: Session, case_id: int) -> list[dict]:
    """What a case's reviewer sees of its notices: who sent it (the kind, never a contact),
    what they say, where, and how many fingerprints wait for confirmation (never their values)."""
    out = []
    for n in session.scalars(select(Notice).where(Notice.case_id == case_id).order_by(Notice.id)):
        out.append({"id": n.id, "source": n.source_kind, "reference": n.reference,
                    "category": n.category, "classification": n.classification,
                    "explanation": n.explanation, "status": status_of(session, n),
                    "received_at": n.received_at,
                    "locations": [(loc.account, loc.space, loc.message) for loc in n.locations],
                    "hashes": [(h.id, h.signal_type, h.status, len(h.matched_items or ()))
                               for h in n.hashes]})
    return out
