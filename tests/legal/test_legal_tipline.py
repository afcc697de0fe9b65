"""The console's "Refer to NCMEC" produces CyberTipline reports, submitted with the documented
sequence to the local test server (NCMEC's protocol and its failure answers): retries without a
duplicate report, report id and acknowledgements stored, a one-year hold, a log leaf."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from rempart.authz import Actor, Role
from rempart.banks import service as banks
from rempart.legal.config import LegalConfig
from rempart.legal.cybertipline.client import CyberTiplineClient
from rempart.legal.cybertipline.testserver import CyberTiplineTestServer
from rempart.legal.db import tipline
from rempart.legal.db.models import TiplineReport
from rempart.moderation import ActionRequest, HoldActive, claim, decide, second_review
from rempart.moderation.holds import delete_case_data
from rempart.moderation.models import Case, Hold, Referral
from rempart.moderation.vocab import ActionKind
from rempart.people import actor_of, bootstrap_user
from rempart.transparency.db.service import opening
from tests.factories import image_bytes
from tests.web.web_helpers import upload


@pytest.fixture
def referred(runtime):
    """A reviewed case (a benign stand-in matched a review list) referred to NCMEC."""
    return refer(runtime)


def refer(runtime, before=None):
    """Refer the case; ``before(session, reviewer, case_id)`` runs once the case is claimed."""
    with runtime.db.session() as s:
        banks.create_bank(s, "review-list", action="review")
    runtime.bank_media("review-list", runtime.fingerprint(image_bytes(101)))
    upload(runtime, 101, "acct-a", space="group-7")
    with runtime.db.session() as s:
        cs = actor_of(bootstrap_user(s, "cs-user", Role.CHILD_SAFETY_MODERATOR).user)
        cs2 = actor_of(bootstrap_user(s, "cs2-user", Role.CHILD_SAFETY_MODERATOR).user)
        case_id = s.scalar(select(Case.id).where(Case.source == "hash_review"))
    cfg = runtime.moderation
    with runtime.db.session() as s:
        claim(s, cs, case_id, cfg)
    if before is not None:
        with runtime.db.session() as s:
            before(s, cs, case_id)
    with runtime.db.session() as s:
        d = decide(s, cs, case_id, actions=[ActionRequest(ActionKind.REFER_NCMEC)], policy="csam",
                   facts="confirmed by a reviewer", config=cfg)
    if d.status != "final":
        with runtime.db.session() as s:
            claim(s, cs2, case_id, cfg)
            second_review(s, cs2, d.id, agrees=True, note="", config=cfg)
    return case_id


def client_for(server, **kw):
    return CyberTiplineClient(server.url, "usr123", "pswd123", backoff=0.01, sleep=lambda s: None, **kw)


def test_a_referral_becomes_one_report_despite_failures(runtime, referred):
    config = dataclasses.replace(LegalConfig(), reporter_email="legal@platform.example")
    with CyberTiplineTestServer(stall=0.5) as server:
        server.inject("upload", "server_error", times=2)  # retried by the client
        server.inject("finish", "http_503", times=10)  # this run gives up before the finish
        with client_for(server, retries=1) as c:
            (row,) = tipline.send_pending(runtime.db, config, runtime.legal.media_file, runtime.transparency, client=c)
        assert row.status != "finished" and row.last_error
        with client_for(server) as c:  # the next run resumes: no second /submit
            server._failures.clear()
            server.inject("finish", "lost_ack")  # finished, but the answer is lost: asked again
            (row,) = tipline.send_pending(runtime.db, config, runtime.legal.media_file, runtime.transparency, client=c)
        assert row.status == "finished" and row.report_id
        assert server.calls.count("submit") == 1 and len(server.finished_reports()) == 1
        with client_for(server) as c:  # nothing pending any more
            assert tipline.send_pending(runtime.db, config, runtime.legal.media_file, runtime.transparency, client=c) == []
        assert server.calls.count("submit") == 1
        (report,) = server.finished_reports()
    with runtime.db.session() as s:
        r = s.scalars(select(TiplineReport)).one()
        assert r.state["phase"] == "finished" and r.state["file_ids"]
        assert s.scalars(select(Referral)).one().status == "submitted"
        hold = s.get(Hold, r.hold_id)
        assert hold.case_id == referred and hold.released_at is None
        assert hold.expires_at - r.finished_at == dt.timedelta(days=365)
        assert opening(s, r.leaf_index).ref_kind == "cybertipline_report"
        with pytest.raises(HoldActive):
            delete_case_data(s, Actor(None, "retention", Role.ADMIN), referred)
    assert len(report.files) == 1


def _file_details(server):
    import xml.etree.ElementTree as ET
    (report,) = server.finished_reports()
    (f,) = report.files.values()
    return ET.fromstring(f.details)


def test_the_report_carries_the_facts_the_console_recorded(runtime):
    """publiclyAvailable: false until a reviewer records it (audited); fileViewedByEsp: true
    once an item was revealed (audited reveal)."""
    from rempart.audit.models import AuditEntry
    from rempart.moderation import reveal
    from rempart.moderation.facts import record_public_availability
    from rempart.moderation.models import CaseItem
    from rempart.errors import Conflict, PermissionDenied
    from rempart.people.models import ConsoleUser

    def the_reviewer_records(s, cs, case_id):
        legal = actor_of(bootstrap_user(s, "legal-1", Role.LEGAL).user)
        with pytest.raises(PermissionDenied):  # the legal team does not decide cases
            record_public_availability(s, legal, case_id, True)
        assert record_public_availability(s, cs, case_id, True) is True
        item_id = s.scalar(select(CaseItem.item_id).where(CaseItem.case_id == case_id))
        reveal(s, cs, case_id, item_id, runtime.moderation)

    referred = refer(runtime, the_reviewer_records)
    with runtime.db.session() as s:
        cs = actor_of(s.scalar(select(ConsoleUser).where(ConsoleUser.username == "cs-user")))
    with runtime.db.session() as s:
        e = s.scalars(select(AuditEntry).where(AuditEntry.event == "case.fact-recorded")).one()
        assert e.detail == {"fact": "publicly_available", "before": False, "after": True}
        assert e.case_id == referred and e.actor.endswith("cs-user")
    config = dataclasses.replace(LegalConfig(), reporter_email="legal@platform.example")
    with CyberTiplineTestServer() as server, client_for(server) as c:
        (row,) = tipline.send_pending(runtime.db, config, runtime.legal.media_file, runtime.transparency, client=c)
        assert row.status == "finished"
        details = _file_details(server)
    assert details.findtext("publiclyAvailable") == "true"
    assert details.findtext("fileViewedByEsp") == "true"
    with runtime.db.session() as s, pytest.raises(Conflict):  # reported: NCMEC's record now
        record_public_availability(s, cs, referred, False)


def test_unrecorded_facts_are_false(runtime, referred):
    config = dataclasses.replace(LegalConfig(), reporter_email="legal@platform.example")
    with CyberTiplineTestServer() as server, client_for(server) as c:
        tipline.send_pending(runtime.db, config, runtime.legal.media_file, runtime.transparency, client=c)
        details = _file_details(server)
    assert details.findtext("publiclyAvailable") == "false"
    assert details.findtext("fileViewedByEsp") == "false"


def _config():
    return dataclasses.replace(LegalConfig(), reporter_email="legal@platform.example")


def _send(runtime, server, **kw):
    with client_for(server, **kw) as c:
        return tipline.send_pending(runtime.db, _config(), runtime.legal.media_file, runtime.transparency, client=c)


def _reconcile(runtime, server, actor, row_id, how, **kw):
    with client_for(server) as c:
        return tipline.reconcile(runtime.db, actor, row_id, how, config=_config(), media_file=runtime.legal.media_file,
                                 log=runtime.transparency, client=c, **kw)


def _legal(runtime, name="lea"):
    with runtime.db.session() as s:
        return actor_of(bootstrap_user(s, name, Role.LEGAL).user)


def _uncertain(runtime, server, failure="lost_ack"):
    server.inject("submit", failure)
    (row,) = _send(runtime, server)
    assert row.status == "uncertain"
    assert _send(runtime, server) == []  # waits for a person: never sent again on its own
    assert server.calls.count("submit") == 1
    return row.id


def test_a_lost_submit_is_continued_under_the_report_id_ncmec_gives(runtime, referred):
    from rempart.audit.models import AuditEntry
    from rempart.errors import InvalidInput, PermissionDenied

    lea = _legal(runtime)
    with CyberTiplineTestServer(stall=0.3) as server:
        row_id = _uncertain(runtime, server)
        (opened,) = server.reports  # the lost /submit did open one
        with runtime.db.session() as s:
            mod = actor_of(bootstrap_user(s, "mod-1", Role.CHILD_SAFETY_MODERATOR).user)
            before = s.get(TiplineReport, row_id).state
        with pytest.raises(PermissionDenied):
            _reconcile(runtime, server, mod, row_id, "continue", report_id=opened, note="NCMEC support")
        with pytest.raises(InvalidInput, match="NCMEC told you"):
            _reconcile(runtime, server, lea, row_id, "continue", report_id=opened, note=" ")
        with pytest.raises(InvalidInput, match="knows no report 999"):  # a wrong id changes nothing
            _reconcile(runtime, server, lea, row_id, "continue", report_id="999", note="NCMEC support")
        with pytest.raises(InvalidInput, match="digits"):
            _reconcile(runtime, server, lea, row_id, "continue", report_id="12; drop", note="x")
        with runtime.db.session() as s:
            assert s.get(TiplineReport, row_id).state == before
        row = _reconcile(runtime, server, lea, row_id, "continue", report_id=opened,
                         note="NCMEC ESP support (J. Doe) confirmed the report id")
        assert row.status == "finished" and row.report_id == opened and row.hold_id
        assert server.calls.count("submit") == 1
        assert [r.report_id for r in server.finished_reports()] == [opened] and len(server.reports) == 1
        with pytest.raises(InvalidInput, match="finished"):  # nothing left to reconcile
            _reconcile(runtime, server, lea, row_id, "not_opened", note="again")
    with runtime.db.session() as s:
        (e,) = s.scalars(select(AuditEntry).where(AuditEntry.event == "legal.tipline-reconciled"))
        assert e.actor.endswith("lea") and e.detail["how"] == "continue" and e.detail["to"] == "finished"
        assert e.detail["from"] == "uncertain" and "J. Doe" in e.detail["note"]
        assert s.scalars(select(Referral)).one().status == "submitted"


def test_a_lost_submit_is_retracted_then_submitted_afresh(runtime, referred):
    lea = _legal(runtime)
    with CyberTiplineTestServer(stall=0.3) as server:
        row_id = _uncertain(runtime, server)
        (orphan,) = server.reports
        row = _reconcile(runtime, server, lea, row_id, "retract", report_id=orphan, note="NCMEC: report opened")
        assert row.status == "finished" and row.report_id != orphan
        assert server.reports[orphan].status == "retracted"
        assert [r.report_id for r in server.finished_reports()] == [row.report_id]  # one live report
        assert row.state["retracted"] == [orphan]


def test_a_submit_that_opened_nothing_is_sent_again_on_ncmecs_word(runtime, referred):
    lea = _legal(runtime)
    with CyberTiplineTestServer(stall=0.3) as server:
        row_id = _uncertain(runtime, server, "timeout")  # the server did nothing
        assert server.reports == {}
        row = _reconcile(runtime, server, lea, row_id, "not_opened", note="NCMEC: no report from us that day")
        assert row.status == "finished" and len(server.finished_reports()) == 1 == len(server.reports)


def test_a_refused_report_waits_retracted_until_a_person_resubmits_it(runtime, referred):
    lea = _legal(runtime)
    with CyberTiplineTestServer() as server:
        server.inject("fileinfo", "validation")
        (row,) = _send(runtime, server)
        assert row.status == "retracted" and row.state["retracted"]
        assert _send(runtime, server) == []  # not "finished" by a later run: it waits
        with runtime.db.session() as s:
            assert s.scalars(select(Referral)).one().status == "pending_submission"
        row = _reconcile(runtime, server, lea, row.id, "resubmit", note="file details fixed")
        assert row.status == "finished"
        assert len(server.finished_reports()) == 1 and len(server.reports) == 2
        assert sorted(r.status for r in server.reports.values()) == ["finished", "retracted"]
