"""The law-enforcement part of the demo: a demo agency and officer, a preservation order, a
production order answered with a signed package (verified offline), an emergency request
verified by a callback and awaiting its second approval, and a CyberTipline report of a
referred case sent to the local CyberTipline test server (NCMEC's documented protocol).

Orders target the demo stream's busiest account; everything is benign stand-in data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from rempart.authz import Role
from rempart.errors import Conflict
from rempart.legal import verify_package
from rempart.legal._common import format_time
from rempart.legal.cybertipline.client import CyberTiplineClient
from rempart.legal.cybertipline.testserver import CyberTiplineTestServer
from rempart.legal.db import emergency, tipline
from rempart.legal.db.agencies import add_agency, add_officer, get_agency
from rempart.legal.db.models import Agency, LegalOrder
from rempart.moderation import ActionKind, ActionRequest, claim, decide, second_review
from rempart.moderation.facts import record_public_availability
from rempart.moderation.models import Case, CaseItem
from rempart.moderation.vocab import CaseStatus
from rempart.people import actor_of, bootstrap_user
from rempart.people.models import ConsoleUser
from rempart.runtime import Runtime
from rempart.scanning.models import ScannedItem
from rempart.store.db import utcnow

AGENCY = "Demo Prosecutor's Office, Paris"
CONTACT = "+33100000000"
LEGAL_TEAM = ("demo-legal1", "demo-legal2")
OFFICER = "demo-officer"


@dataclass
class LegalDemo:
    orders: dict[str, str] = field(default_factory=dict)  # reference -> status
    package: str | None = None
    package_verified: bool = False
    vkey: str = ""
    tipline_report: str | None = None
    credentials: dict[str, dict] = field(default_factory=dict)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    def render(self) -> list[str]:
        lines = ["  legal desk (console role legal; officers' portal /officers/):"]
        lines += [f"    {ref:16} {status}" for ref, status in self.orders.items()]
        if self.package:
            lines.append(f"    signed package {self.package} "
                         f"({'verifies' if self.package_verified else 'DOES NOT VERIFY'}; "
                         f"rempart verify package PATH --vkey '{self.vkey}')")
        if self.tipline_report:
            lines.append(f"    CyberTipline report {self.tipline_report} acknowledged by the local test "
                         "server; its case is held for a year")
        if self.credentials:
            lines.append("    legal team and officer (one-time passwords, TOTP secrets, API key; demo only):")
            lines += [f"      {u:13} {c['role']:8} {c['one_time_password']}  totp {c['totp_secret']}"
                      + (f"  key {c['api_key']}" if c.get("api_key") else "") for u, c in self.credentials.items()]
        return lines


def _people(rt: Runtime, out: LegalDemo):
    with rt.db.session() as s:
        try:
            agency = get_agency(s, AGENCY)
        except Exception:
            agency = add_agency(s, AGENCY, "FR", "prosecutor", email="duty@parquet.example", phone=CONTACT,
                                verified_by="demo")
        officer = s.scalar(select(ConsoleUser).where(ConsoleUser.username == OFFICER))
        if officer is None:
            new = add_officer(s, OFFICER, agency)
            officer = new.person.user
            out.credentials[OFFICER] = {"role": "officer", "one_time_password": new.person.one_time_password,
                                        "totp_secret": new.person.totp_secret, "api_key": new.key}
        team = []
        for name in LEGAL_TEAM:
            user = s.scalar(select(ConsoleUser).where(ConsoleUser.username == name))
            if user is None:
                new = bootstrap_user(s, name, Role.LEGAL)
                user = new.user
                out.credentials[name] = {"role": "legal", "one_time_password": new.one_time_password,
                                         "totp_secret": new.totp_secret}
            team.append(actor_of(user))
        return agency, actor_of(officer), team


def _busiest_account(rt: Runtime) -> tuple[str, dt.datetime, dt.datetime] | None:
    with rt.db.session() as s:
        row = s.execute(select(ScannedItem.account, func.min(ScannedItem.scanned_at), func.max(ScannedItem.scanned_at))
                        .where(ScannedItem.account.is_not(None)).group_by(ScannedItem.account)
                        .order_by(func.count().desc(), ScannedItem.account).limit(1)).first()
        return tuple(row) if row else None


def _authority() -> dict:
    return {"name": AGENCY, "country": "FR", "kind": "prosecutor", "file_number": "DEMO-1",
            "contact": {"name": "Duty prosecutor", "phone": CONTACT}}


def _orders(now: dt.datetime, account: str, first: dt.datetime, last: dt.datetime) -> dict[str, dict]:
    window = {"start": format_time(first - dt.timedelta(days=1)), "end": format_time(last + dt.timedelta(days=1))}
    offence = {"legal_classification": "distribution of child sexual abuse material (demo)",
               "statutory_provision": "Code pénal, art. 227-23", "max_custodial_years": 7,
               "listed_offence": "child_sexual_abuse", "by_information_system": True,
               "summary": "Demo: files shared through the platform by the target account."}
    court = {"name": "Tribunal judiciaire de Paris (demo)", "country": "FR", "kind": "judge"}
    issued = format_time(now - dt.timedelta(minutes=20))
    base = {"issued_at": issued, "issuing_authority": _authority(), "offence": offence,
            "targets": [{"type": "account", "value": account}], "time_range": window}
    return {
        "DEMO-PR-1": {**base, "kind": "epoc_pr", "reference": "DEMO-PR-1",
                      "data_categories": ["subscriber", "traffic", "content"]},
        "DEMO-EPOC-1": {**base, "kind": "epoc", "reference": "DEMO-EPOC-1", "validating_authority": court,
                        "data_categories": ["subscriber", "traffic", "content"],
                        "related": [{"kind": "epoc_pr", "reference": "DEMO-PR-1"}]},
        "DEMO-EMR-1": {"kind": "emergency_request", "reference": "DEMO-EMR-1", "issued_at": issued,
                       "issuing_authority": _authority(), "data_categories": ["subscriber"],
                       "targets": [{"type": "account", "value": account}],
                       "threat": {"kind": "child_at_risk", "description": "Demo: a child may be at risk."}},
    }


def _referral_case(rt: Runtime) -> int | None:
    """Refer one still-open child-safety case with evidence to NCMEC (two reviewers)."""
    with rt.db.session() as s:
        case_id = s.scalar(select(Case.id).join(CaseItem, CaseItem.case_id == Case.id).where(
            Case.status == CaseStatus.OPEN.value, Case.claimed_by.is_(None), Case.source == "hash_block")
            .order_by(Case.id).limit(1))
        people = [s.scalar(select(ConsoleUser).where(ConsoleUser.username == n)) for n in ("demo-cs1", "demo-cs2")]
    if case_id is None or None in people:
        return None
    cs1, cs2 = (actor_of(p) for p in people)
    cfg = rt.moderation
    with rt.db.session() as s:
        claim(s, cs1, case_id, cfg)
        # the fact the report carries as publiclyAvailable (audited): shared in a private group
        record_public_availability(s, cs1, case_id, False)
        d = decide(s, cs1, case_id, actions=[ActionRequest(ActionKind.REMOVE_ITEM), ActionRequest(ActionKind.REFER_NCMEC)],
                   policy="csam", facts="Demo: a confirmed stand-in of a known item; referred to NCMEC.", config=cfg)
        status, did = d.status, d.id
    if status != "final":
        with rt.db.session() as s:
            claim(s, cs2, case_id, cfg)
            second_review(s, cs2, did, agrees=True, note="agree", config=cfg)
    return case_id


def run_legal_demo(rt: Runtime, log: Callable[[str], None] = print) -> LegalDemo:
    out = LegalDemo(vkey=rt.legal.vkey())
    agency, officer, (ana, ben) = _people(rt, out)
    target = _busiest_account(rt)
    if target is None:
        return out
    account, first, last = target
    now = utcnow()
    log("legal desk: a preservation order, a production order and an emergency request ...")
    ids = {}
    for ref, body in _orders(now, account, first, last).items():
        with rt.db.session() as s:
            existing = s.scalar(select(LegalOrder).where(LegalOrder.agency_id == agency.id, LegalOrder.reference == ref))
            row = existing or rt.legal.receive(s, officer, body, [])
            ids[ref] = row.id
    with rt.db.session() as s:
        epoc = s.get(LegalOrder, ids["DEMO-EPOC-1"])
        if epoc.answered_at is None:
            d = rt.legal.produce(s, ana, epoc)
            out.package = d.path
        else:
            out.package = rt.legal.package_path(epoc, 1).as_posix()
    out.package_verified = verify_package(out.package, out.vkey).ok
    with rt.db.session() as s:
        emr = s.get(LegalOrder, ids["DEMO-EMR-1"])
        if not emergency.readiness(s, emr).callbacks:
            emergency.record_callback(s, ana, emr, CONTACT, True, "Demo: the duty prosecutor confirmed the request")
            try:
                emergency.approve(s, ben, emr)
            except Conflict:
                pass
    log("CyberTipline: a referred case reported to the local test server ...")
    if _referral_case(rt) is not None or tipline.pending(rt.db):
        with CyberTiplineTestServer() as server:
            config = dataclasses.replace(rt.legal.config, cybertipline_url=server.url,
                                         cybertipline_username=server.username, cybertipline_password=server.password)
            with CyberTiplineClient(server.url, server.username, server.password, backoff=0.05) as client:
                sent = tipline.send_pending(rt.db, config, rt.legal.media_file, rt.transparency, client=client)
            out.tipline_report = next((r.report_id for r in sent if r.status == "finished"), None)
    with rt.db.session() as s:
        for ref, order_id in ids.items():
            row = s.get(LegalOrder, order_id)
            out.orders[ref] = f"{row.kind:17} {row.status}" + (f", due {row.deadline:%Y-%m-%d %H:%M} UTC" if row.deadline else "")
    return out


__all__ = ["LegalDemo", "run_legal_demo"]
